"""Synthetic "not a digit" pictures, in kinds: letters, words, shapes, grids, gradients, scribbles, ...

Used to train the strong model's extra "not a digit" class (TRAIN_KINDS) and
to measure how often non-digits are refused (EVAL_KINDS: kinds never drawn in
training, in fonts never used in training: `digitrec.synth.fonts`). Each picture is drawn
white-on-black on a 64x64 canvas and passed through the same
`preprocess.prepare` as a user's image, so the network sees what it would see
in use. Characters that look like digits (O, I, l, S, Z, B, g, q, ...) are
left out of every kind.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ..image.preprocess import prepare
from .fonts import LETTERS_EVAL, LETTERS_TRAIN, load_fonts

# Nothing here may be a digit as some writer draws it: no O/o/I/i/l/S/s/Z/z/B/b/g/q/G/D (0 1 5 2 8 9 6 0), no
# T/J/Y/y (a flagged 1, a 7, a 4), no closed ovals or rings (a 0), no single straight stroke (a 1).
LETTERS = "ACEFHKLMNPRUVWXacdefhkmnprtuvwx"
PUNCTUATION = "?@&%#*+=<>{}~^"  # no / | ( ) - . , : beside digits, no ! " [ ] $ ; (a 1, an 11, a flagged 1, an S, a
# comma alone once cropped)
SYMBOLS = "∑∫√∞≠±÷∂∇∏≈≤≥♠♣♥♦★☆☺☹✓♪♫→←↑↓⇒"  # evaluation only: kinds the network never sees
GREEK = "αβγδλμπφψωΓΔΘΛΞΠΣΦΨΩ"  # evaluation only
CANVAS = 64
UPRIGHT_DEG = 40  # a bar this close to vertical is a 1
REDRAWS = 20  # tries to draw a training non-digit that is no 0 or 1 once cropped
ACCENTED = "ÆŒÐÞæœðþ©®ŁÇçÑñ¿&"  # Latin letters beyond ASCII that no writer takes for a digit
Draw = Callable[[np.random.Generator], Image.Image]


def _canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("L", (CANVAS, CANVAS), 0)
    return img, ImageDraw.Draw(img)


def text(
    rng: np.random.Generator, fonts: list[ImageFont.FreeTypeFont], chars: str, length: tuple[int, int] = (1, 1)
) -> Image.Image:
    """`length` random characters of `chars` in a random font, fitted to the canvas, slightly rotated."""
    k = int(rng.integers(length[0], length[1] + 1))
    word = "".join(chars[i] for i in rng.integers(len(chars), size=k))
    font = fonts[rng.integers(len(fonts))]
    left, top, right, bottom = font.getbbox(word)
    wide = Image.new("L", (max(right - left, 1) + 8, max(bottom - top, 1) + 8), 0)
    ImageDraw.Draw(wide).text((4 - left, 4 - top), word, fill=255, font=font)
    wide.thumbnail((CANVAS - 4, CANVAS - 4), Image.BILINEAR)
    img, _ = _canvas()
    img.paste(wide, ((CANVAS - wide.width) // 2, (CANVAS - wide.height) // 2))
    return img.rotate(rng.uniform(-12, 12), resample=Image.BILINEAR)


def _polygon(rng: np.random.Generator, kind: int, c: float, r: float) -> list[tuple[float, float]]:
    if kind == 0:  # triangle
        return [(c + r * math.cos(a), c + r * math.sin(a)) for a in rng.uniform(0, 2 * math.pi, 3)]
    if kind == 1:  # star
        k = int(rng.integers(5, 8))
        return [
            (
                c + (r if i % 2 == 0 else r / 2.3) * math.cos(i * math.pi / k),
                c + (r if i % 2 == 0 else r / 2.3) * math.sin(i * math.pi / k),
            )
            for i in range(2 * k)
        ]
    # arrow pointing right: shaft and head
    t = r * 0.25
    return [
        (c - r, c - t),
        (c + r * 0.2, c - t),
        (c + r * 0.2, c - 2.2 * t),
        (c + r, c),
        (c + r * 0.2, c + 2.2 * t),
        (c + r * 0.2, c + t),
        (c - r, c + t),
    ]


def shape(rng: np.random.Generator) -> Image.Image:
    """Filled disc or rectangle, filled or outlined triangle, star or arrow, or a cross / hash, at any angle.

    Outlined discs, ovals and rectangles are left out: a closed loop is how many people write a 0.
    """
    img, draw = _canvas()
    c, r = CANVAS / 2, rng.uniform(12, 27)
    w = int(rng.integers(2, 8))
    kind = int(rng.integers(6))
    filled = kind < 2 or rng.random() < 0.5
    fill, outline = (255, 255) if filled else (None, 255)
    if kind == 0:
        draw.ellipse([c - r, c - r * rng.uniform(0.5, 1), c + r, c + r], fill=fill, outline=outline, width=w)
    elif kind == 1:
        draw.rectangle([c - r, c - r * rng.uniform(0.4, 1), c + r, c + r], fill=fill, outline=outline, width=w)
    elif kind in (2, 3, 4):
        pts = _polygon(rng, kind - 2, c, r)
        draw.polygon(pts, fill=fill) if filled else draw.line([*pts, pts[0]], fill=255, width=w, joint="curve")
    else:  # cross x or hash #
        draw.line([(c - r, c - r), (c + r, c + r)], fill=255, width=w)
        draw.line([(c - r, c + r), (c + r, c - r)], fill=255, width=w)
        if rng.random() < 0.5:
            draw.line([(c - r, c), (c + r, c)], fill=255, width=w)
    return img.rotate(rng.uniform(0, 360), resample=Image.BILINEAR)


def nested(rng: np.random.Generator) -> Image.Image:
    """Two to four concentric squares, diamonds or triangles (never circles: one ring is a 0)."""
    img, draw = _canvas()
    sides = int(rng.choice([3, 4]))
    turn = rng.uniform(0, 2 * math.pi)
    w = int(rng.integers(2, 5))
    for r in np.linspace(rng.uniform(26, 30), rng.uniform(6, 10), int(rng.integers(2, 5))):
        pts = [
            (32 + r * math.cos(turn + 2 * math.pi * k / sides), 32 + r * math.sin(turn + 2 * math.pi * k / sides))
            for k in range(sides)
        ]
        draw.line([*pts, pts[0]], fill=255, width=w, joint="curve")
    return img


def grid(rng: np.random.Generator) -> Image.Image:
    """A ruled grid (3 to 8 cells a side) or a tic-tac-toe board."""
    img, draw = _canvas()
    k = int(rng.integers(3, 9))
    w = int(rng.integers(1, 4))
    lo, hi = rng.uniform(2, 12), rng.uniform(52, 62)
    inner = rng.random() < 0.3  # tic-tac-toe: inner lines only
    for t in np.linspace(lo, hi, k + 1)[1:-1] if inner else np.linspace(lo, hi, k + 1):
        draw.line([(t, lo), (t, hi)], fill=255, width=w)
        draw.line([(lo, t), (hi, t)], fill=255, width=w)
    return img.rotate(rng.uniform(-20, 20), resample=Image.BILINEAR)


def gradient(rng: np.random.Generator) -> Image.Image:
    """A smooth linear or radial gradient, sometimes over only part of the canvas."""
    y, x = np.mgrid[0:CANVAS, 0:CANVAS] / CANVAS
    if rng.random() < 0.5:
        a = rng.uniform(0, 2 * math.pi)
        g = np.cos(a) * x + np.sin(a) * y
    else:
        cx, cy = rng.uniform(0.2, 0.8, 2)
        g = -np.hypot(x - cx, y - cy)
    g = (g - g.min()) / max(float(g.max() - g.min()), 1e-6)
    return Image.fromarray((g ** rng.uniform(0.5, 2.0) * 255).astype(np.uint8))  # NOTE: not trained: cropped, a 1


def smudge(rng: np.random.Generator) -> Image.Image:
    """A few soft, blurred blots: a thumb print, an eraser smear."""
    img, draw = _canvas()
    for _ in range(int(rng.integers(1, 4))):
        cx, cy, rx, ry = rng.uniform(14, 50), rng.uniform(14, 50), rng.uniform(6, 22), rng.uniform(4, 14)
        draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=int(rng.integers(120, 256)))
    return img.rotate(rng.uniform(0, 180)).filter(ImageFilter.GaussianBlur(rng.uniform(3, 8)))


def scribble(rng: np.random.Generator) -> Image.Image:
    """A dense pen scribble: a smooth random walk with many turns and crossings."""
    img, draw = _canvas()
    n = int(rng.integers(25, 60))
    steps = np.cumsum(rng.normal(0, 1, (n, 2)), 0)
    heading = np.cumsum(rng.normal(0, 0.9, n))
    pts = np.stack([np.cos(heading), np.sin(heading)], 1).cumsum(0) * rng.uniform(3, 6) + steps
    pts = (pts - pts.min(0)) / np.maximum(np.ptp(pts, 0), 1e-6) * rng.uniform(36, 56) + 6
    draw.line([tuple(p) for p in pts], fill=255, width=int(rng.integers(2, 6)), joint="curve")
    return img


def face(rng: np.random.Generator) -> Image.Image:
    img, draw = _canvas()
    c, r = CANVAS / 2, rng.uniform(20, 28)
    w = int(rng.integers(2, 5))
    draw.ellipse([c - r, c - r, c + r, c + r], outline=255, width=w)
    e = r * 0.35
    for dx in (-e, e):
        draw.ellipse([c + dx - 3, c - e - 3, c + dx + 3, c - e + 3], fill=255)
    draw.arc([c - e * 1.4, c - e * 0.6, c + e * 1.4, c + e * 1.6], 20, 160, fill=255, width=w)
    return img


def blob(rng: np.random.Generator) -> Image.Image:
    img, draw = _canvas()
    k = int(rng.integers(5, 10))
    angles = np.sort(rng.uniform(0, 2 * math.pi, k))
    radii = rng.uniform(8, 28, k)
    draw.polygon([(32 + r * math.cos(a), 32 + r * math.sin(a)) for a, r in zip(angles, radii)], fill=255)
    return img


def hatching(rng: np.random.Generator) -> Image.Image:
    """Cross-hatching: two families of lines at least 40 degrees apart.

    One family alone is parallel strokes that `prepare` may crop to a single one: a 1.
    """
    img, draw = _canvas()
    w = int(rng.integers(1, 4))
    for turn in (0.0, rng.uniform(40, 90)):
        step = int(rng.integers(5, 12))
        layer, pen = _canvas()
        for x in range(-CANVAS, 2 * CANVAS, step):
            pen.line([(x, 0), (x + CANVAS * rng.uniform(-0.3, 0.3), CANVAS)], fill=255, width=w)
        img = Image.fromarray(np.maximum(np.asarray(img), np.asarray(layer.rotate(turn, resample=Image.BILINEAR))))
    return img.rotate(rng.uniform(0, 180), resample=Image.BILINEAR)


def noise(rng: np.random.Generator) -> Image.Image:
    kind = rng.integers(3)
    if kind == 0:
        a = rng.uniform(0, 255, (CANVAS, CANVAS))
    elif kind == 1:
        a = (rng.random((CANVAS, CANVAS)) < rng.uniform(0.05, 0.4)) * 255.0
    else:
        a = np.clip(rng.normal(128, 60, (CANVAS // 8, CANVAS // 8)), 0, 255)
        a = np.asarray(Image.fromarray(a.astype(np.uint8)).resize((CANVAS, CANVAS), Image.BICUBIC), np.float64)
    return Image.fromarray(a.astype(np.uint8))


# ---------------------------------------------------------------- what a non-digit may not be


def _components(image: np.ndarray) -> list[np.ndarray]:
    """The connected parts (uint8 masks) of uint8 (28, 28) white-on-black ink, specks under 6 px left out."""
    import cv2

    mask = (image > 127).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return [(labels == i).astype(np.uint8) for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= 6]


def is_single_stroke(image: np.ndarray) -> bool:
    """One straight, upright bar (within UPRIGHT_DEG of vertical): how a 1 is written. uint8 (28, 28) input."""
    import cv2

    parts = _components(image)
    if len(parts) != 1:
        return False
    points = cv2.findNonZero(parts[0])
    (_, _), (w, h), angle = cv2.minAreaRect(points)
    long, short = max(w, h), max(min(w, h), 1.0)
    tilt = abs(((angle if h >= w else angle + 90) + 90) % 180 - 90)  # degrees from vertical of the long side
    return long / short > 3.5 and len(points) / (long * short) > 0.5 and tilt < UPRIGHT_DEG


def is_closed_oval(image: np.ndarray) -> bool:
    """One smooth convex ring with one hole: how a 0 is written. uint8 (28, 28) input."""
    import cv2

    parts = _components(image)
    if len(parts) != 1:
        return False
    contours, hierarchy = cv2.findContours(parts[0], cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    holes = [c for c, h in zip(contours, hierarchy[0]) if h[3] >= 0 and cv2.contourArea(c) >= 4]
    if len(holes) != 1:
        return False
    outer = max(contours, key=cv2.contourArea)
    solidity = cv2.contourArea(outer) / max(cv2.contourArea(cv2.convexHull(outer)), 1.0)
    corners = len(cv2.approxPolyDP(outer, 0.04 * cv2.arcLength(outer, True), True))
    return solidity > 0.9 and corners > 5


def is_digit_like(image: np.ndarray) -> bool:
    """A 0 (closed oval) or a 1 (one upright stroke): never a training "not a digit" picture."""
    return is_closed_oval(image) or is_single_stroke(image)


# ---------------------------------------------------------------- evaluation-only kinds


def spiral(rng: np.random.Generator) -> Image.Image:
    img, draw = _canvas()
    turns = rng.uniform(2, 4)
    t = np.linspace(0, turns * 2 * math.pi, 200)
    r = 2 + t / t[-1] * rng.uniform(20, 28)
    pts = np.stack([32 + r * np.cos(t), 32 + r * np.sin(t)], 1)
    draw.line([tuple(p) for p in pts], fill=255, width=int(rng.integers(2, 5)))
    return img


def checkerboard(rng: np.random.Generator) -> Image.Image:
    k = int(rng.integers(3, 8))
    board = (np.add.outer(np.arange(k), np.arange(k)) % 2 * 255).astype(np.uint8)
    return Image.fromarray(board).resize((CANVAS, CANVAS), Image.NEAREST).rotate(rng.uniform(-30, 30))


def rings(rng: np.random.Generator) -> Image.Image:
    img, draw = _canvas()
    w = int(rng.integers(2, 4))
    for r in range(int(rng.integers(8, 12)), 30, int(rng.integers(5, 9))):
        draw.ellipse([32 - r, 32 - r, 32 + r, 32 + r], outline=255, width=w)
    return img


def zigzag(rng: np.random.Generator) -> Image.Image:
    img, draw = _canvas()
    k = int(rng.integers(4, 9))
    xs = np.linspace(6, 58, k)
    ys = np.where(np.arange(k) % 2 == 0, rng.uniform(14, 24), rng.uniform(40, 50))
    draw.line(list(zip(xs, ys)), fill=255, width=int(rng.integers(2, 5)))
    return img.rotate(rng.uniform(-30, 30), resample=Image.BILINEAR)


def kinds(split: str = "train") -> dict[str, Draw]:
    """The picture makers of a split: "train" (the network's class 10) or "eval" (held-out kinds and fonts)."""
    if split == "train":
        fonts = load_fonts(LETTERS_TRAIN)
        return {
            "letter": lambda rng: text(rng, fonts, LETTERS),
            "letters": lambda rng: text(rng, fonts, LETTERS, (2, 4)),
            "punctuation": lambda rng: text(rng, fonts, PUNCTUATION),
            "accented": lambda rng: text(rng, fonts, ACCENTED), "nested": nested,
            "shape": shape, "grid": grid, "smudge": smudge, "scribble": scribble,
            "face": face, "blob": blob, "hatching": hatching, "noise": noise,
        }  # fmt: skip
    if split == "eval":
        fonts = load_fonts(LETTERS_EVAL)
        return {
            "symbol": lambda rng: text(rng, fonts, SYMBOLS),
            "greek": lambda rng: text(rng, fonts, GREEK),
            "word (unseen fonts)": lambda rng: text(rng, fonts, LETTERS, (3, 5)),
            "spiral": spiral, "checkerboard": checkerboard, "rings": rings, "zigzag": zigzag,
        }  # fmt: skip
    raise ValueError(f"unknown split {split!r}: train or eval")


def render(n: int, seed: int = 0, split: str = "train") -> tuple[list[np.ndarray], list[str]]:
    """`n` raw pictures uint8 (64, 64) white-on-black, kinds taking turns at random, and the kind of each."""
    rng = np.random.default_rng(seed)
    makers = kinds(split)
    names = list(makers)
    pictures, labels = [], []
    for _ in range(n):
        kind = names[rng.integers(len(names))]
        pictures.append(np.asarray(makers[kind](rng), np.uint8))
        labels.append(kind)
    return pictures, labels


def make(n: int, seed: int = 0, split: str = "train") -> tuple[np.ndarray, list[str]]:
    """`n` non-digit pictures in MNIST form: uint8 (n, 28, 28) white-on-black, and the kind of each.

    Training pictures that `prepare` crops to a 0 or a 1 (`is_digit_like`: a
    scribble closing on itself, a thin sliver of a smudge) are drawn again.
    """
    rng = np.random.default_rng(seed)
    makers = kinds(split)
    names = list(makers)
    images = np.zeros((n, 28, 28), np.uint8)
    labels = []
    for i in range(n):
        kind = names[rng.integers(len(names))]
        for _ in range(REDRAWS):
            images[i] = np.round(prepare(np.asarray(makers[kind](rng), np.float32) / 255.0).image * 255)
            if split != "train" or not is_digit_like(images[i]):
                break
        labels.append(kind)
    return images, labels
