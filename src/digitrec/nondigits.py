"""Synthetic "not a digit" pictures: letters, shapes, faces, blobs, hatching and noise.

Used to train the strong model's extra "not a digit" class and, with other
fonts and seeds, to measure how often real non-digits are rejected. Each
picture is drawn white-on-black on a 64x64 canvas and passed through the same
`preprocess.prepare` as a user's image, so the network sees what it would see
in use. Letters that look like digits (O, I, l, S, Z, B, g, q, ...) are left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .preprocess import prepare

LETTERS = "ACEFHJKLMNPRTUVWXYacdefhkmnprtuvwxy"  # no O/o/I/i/l/S/s/Z/z/B/b/g/q/G/D: too close to 0 1 5 2 8 9 6 0
CANVAS = 64
TRAIN_FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf")
EVAL_FONTS = ("DejaVuSerif.ttf", "DejaVuSansMono.ttf", "DejaVuSerif-Bold.ttf")


def font_dir() -> Path:
    """The DejaVu fonts that matplotlib ships (matplotlib comes with the train extra)."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("L", (CANVAS, CANVAS), 0)
    return img, ImageDraw.Draw(img)


def letter(rng: np.random.Generator, fonts: list[ImageFont.FreeTypeFont]) -> Image.Image:
    img, draw = _canvas()
    font = fonts[rng.integers(len(fonts))]
    draw.text((CANVAS / 2, CANVAS / 2), LETTERS[rng.integers(len(LETTERS))], fill=255, font=font, anchor="mm")
    return img.rotate(rng.uniform(-15, 15), resample=Image.BILINEAR)


def shape(rng: np.random.Generator) -> Image.Image:
    img, draw = _canvas()
    c, r = CANVAS / 2, rng.uniform(12, 26)
    kind = rng.integers(6)
    w = int(rng.integers(3, 8))
    if kind == 0:
        draw.ellipse([c - r, c - r * rng.uniform(0.5, 1), c + r, c + r], fill=255)  # filled disc
    elif kind == 1:
        draw.rectangle([c - r, c - r * rng.uniform(0.4, 1), c + r, c + r], fill=255, outline=255)
    elif kind == 2:
        pts = [(c + r * math.cos(a), c + r * math.sin(a)) for a in rng.uniform(0, 2 * math.pi, 3)]
        draw.polygon(pts, fill=255)
    elif kind == 3:  # star
        k = int(rng.integers(5, 8))
        pts = [(c + (r if i % 2 == 0 else r / 2.3) * math.cos(i * math.pi / k), c + (r if i % 2 == 0 else r / 2.3) * math.sin(i * math.pi / k)) for i in range(2 * k)]
        draw.polygon(pts, fill=255)
    elif kind == 4:  # cross x or hash #
        draw.line([(c - r, c - r), (c + r, c + r)], fill=255, width=w)
        draw.line([(c - r, c + r), (c + r, c - r)], fill=255, width=w)
        if rng.random() < 0.5:
            draw.line([(c - r, c), (c + r, c)], fill=255, width=w)
    else:  # rectangle outline with a diagonal (a "box" shape)
        draw.rectangle([c - r, c - r, c + r, c + r], outline=255, width=w)
        draw.line([(c - r, c - r), (c + r, c + r)], fill=255, width=w)
    return img.rotate(rng.uniform(0, 360), resample=Image.BILINEAR)


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
    img, draw = _canvas()
    step = int(rng.integers(5, 12))
    w = int(rng.integers(1, 4))
    for x in range(-CANVAS, 2 * CANVAS, step):
        draw.line([(x, 0), (x + CANVAS * rng.uniform(-0.3, 0.3), CANVAS)], fill=255, width=w)
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


def generators(fonts: tuple[str, ...]) -> list[tuple[str, Callable[[np.random.Generator], Image.Image]]]:
    loaded = [ImageFont.truetype(str(font_dir() / f), size) for f in fonts for size in (40, 48)]
    return [
        ("letter", lambda rng: letter(rng, loaded)),
        ("letter", lambda rng: letter(rng, loaded)),
        ("shape", shape),
        ("face", face),
        ("blob", blob),
        ("hatching", hatching),
        ("noise", noise),
    ]


def make(n: int, seed: int = 0, fonts: tuple[str, ...] = TRAIN_FONTS) -> tuple[np.ndarray, list[str]]:
    """`n` non-digit pictures in MNIST form: uint8 (n, 28, 28) white-on-black, and the kind of each."""
    rng = np.random.default_rng(seed)
    gens = generators(fonts)
    images = np.zeros((n, 28, 28), np.uint8)
    kinds = []
    for i in range(n):
        kind, gen = gens[rng.integers(len(gens))]
        prepared = prepare(np.asarray(gen(rng), np.float32) / 255.0)
        images[i] = np.round(prepared.image * 255).astype(np.uint8)
        kinds.append(kind)
    return images, kinds
