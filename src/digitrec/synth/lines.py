"""Synthetic lines of handwritten digits for the line reader: compose, write separators, age like a capture.

`compose` lays MNIST digits (training digits for training, test digits for
evaluation) side by side as people write them: gaps from a quarter of a digit
of overlap to wide, baseline jitter, per-digit scale, slant and stroke width,
with the separators of dates, decimals, times and phone numbers drawn as pen
strokes. `capture` then treats the line like a photo or scan (paper, ruling,
shading, blur, noise, JPEG) and recovers the ink with the same steps `digitrec
read` uses, so the model trains on what it will see. Numpy, Pillow and OpenCV.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..image.preprocess import recover_ink

FORMATS = (  # how people group digits with separators; d is a digit
    "dd/dd", "dd/dd/dd", "dd/dd/dddd", "dd.dd.dddd", "dd-dd-dddd", "d.dd", "dd.dd", "ddd.d", "d,ddd", "dd,dd",
    "ddd-dddd", "ddd-ddd-dddd", "dd:dd", "d:dd", "dd-dd", "d/d", "-dd", "dd.d", "d,d",
)  # fmt: skip
PEN = (1.2, 3.2)  # stroke width in pixels at digit height 28
THIN_PEN = (0.6, 1.6)  # a fine pen for thin separators
FAINT = (0.45, 0.95)  # ink strength of a faint separator
MARK_CLEARANCE = 2  # px a separator keeps from its neighbours in `compose(clear_marks=True)`
ROW = 44  # canvas height while composing; digits are about 20-26 px tall in it
SLANTED = 0.3  # a 1 leaning at least this much (columns per row, `slant`) reads like a "/"
FLAG_REACH = (0.15, 0.3)  # how far a 1's flag reaches left, in digit heights
ONES_NEAR_47 = (0.05, 0.5, 0.04, 0.04, 0.13, 0.04, 0.04, 0.12, 0.02, 0.02)  # digit odds in hard lines
REAL_FORMATS = (  # formats people write, drawn with plausible values by format_text
    "dd/dd/dddd", "d/dd/dddd", "dd/d/dddd", "d/d/dddd", "dd/dd/dd", "dd.dd.dddd", "d.d.dddd", "dd-dd-dddd",
    "dddd-dd-dd", "dd:dd", "d:dd", "dd:dd:dd", "ddd-dddd", "ddd-ddd-dddd", "dd-dddd-dddd", "d.dd", "dd.dd",
    "ddd.dd", "dddd.dd", "d,ddd", "dd,ddd", "d,ddd.dd", "dd,dd", ".dd", "d/d", "dd/dd",
)  # fmt: skip
WARP = (12.0, 0.18, 0.3, 1.6, 4.0)  # turn (degrees), log aspect, shear, elastic pixels, its smoothing (sigma, px)
WARP_ROOM = 4  # pixels of margin a warped digit may grow into
SHORT_FORMATS = ("d", "d", "dd", "dd", "ddd", "ddd", "d.d", "d/d", "-d", "d:d", "d,d", "dd.", ".d")


def _digit_crop(img: np.ndarray) -> np.ndarray:
    cols = np.flatnonzero(img.max(0) > 0)
    rows = np.flatnonzero(img.max(1) > 0)
    if cols.size == 0:
        return img[8:20, 10:18]
    return img[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _separator(char: str, height: float, rng: np.random.Generator, thin: bool = False) -> tuple[np.ndarray, int]:
    """A pen-drawn separator uint8 (ROW, w) and its width; the digits' band is rows [top, top + height).

    `thin`: a fine pen and faint ink (THIN_PEN, FAINT), the separators the
    shipped model missed.
    """
    import cv2

    pen = max(1, int(round(rng.uniform(*(THIN_PEN if thin else PEN)) * height / 24)))
    w = {".": 0.25, ",": 0.25, ":": 0.25, "-": 0.45, "/": 0.5}[char] * height * rng.uniform(0.8, 1.25)
    w = max(int(w), pen + 2)
    out = np.zeros((ROW, w + 2 * pen), np.uint8)
    top, bottom = (ROW - height) / 2, (ROW + height) / 2
    cx = out.shape[1] / 2
    dot = max(1, int(round(pen * rng.uniform(0.7, 1.3))))
    if char in ".,":
        y = bottom - dot - rng.uniform(0, 2)
        cv2.circle(out, (int(cx), int(y)), dot, 255, -1)
        if char == ",":
            cv2.line(out, (int(cx), int(y)), (int(cx - w * 0.3), int(y + height * 0.25)), 255, pen)
    elif char == ":":
        for y in (top + height * 0.35, top + height * 0.8):
            cv2.circle(out, (int(cx), int(y)), dot, 255, -1)
    elif char == "-":
        y = top + height * rng.uniform(0.45, 0.6)
        cv2.line(out, (pen, int(y)), (out.shape[1] - pen, int(y + rng.uniform(-1, 1))), 255, pen)
    else:  # "/"
        cv2.line(out, (pen, int(bottom)), (out.shape[1] - pen, int(top)), 255, pen)
    if thin:
        out = (out * rng.uniform(*FAINT)).astype(np.uint8)
    return out, out.shape[1]


def slant(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) digits, white on black -> (N,) float64 slant: columns moved right per row up.

    From the ink's second moments (-cov(x, y) / var(y)): about 0 for an
    upright stroke, 0.3 and more for a 1 that leans like a "/".
    """
    ink = images.astype(np.float64)
    ys, xs = np.mgrid[0 : images.shape[1], 0 : images.shape[2]]
    mass = np.maximum(ink.sum((1, 2)), 1e-9)
    cx = (ink * xs).sum((1, 2)) / mass
    cy = (ink * ys).sum((1, 2)) / mass
    dx, dy = xs - cx[:, None, None], ys - cy[:, None, None]
    return -(ink * dx * dy).sum((1, 2)) / np.maximum((ink * dy**2).sum((1, 2)), 1e-9)


def format_text(fmt: str, rng: np.random.Generator, tries: int = 200) -> str:
    """A string in format `fmt` (d: a digit, other characters as written) with values people write.

    Digits are drawn until the string is plausible (`lineformats.plausible`: a
    date's day and month, a time's hours and minutes) when `fmt` is one of its
    known formats; other formats get random digits.
    """
    from ..formats import KNOWN_FORMATS, plausible

    def draw() -> str:
        return "".join(str(rng.integers(10)) if c == "d" else c for c in fmt)

    text = draw()
    if not KNOWN_FORMATS.matches(text):
        return text
    for _ in range(tries):
        if plausible(text):
            return text
        text = draw()
    return text


def _text(rng: np.random.Generator, length: int) -> str:
    """Digits only (most lines) or a separator format; `length` digits when digits only."""
    if rng.random() < 0.3:
        fmt = FORMATS[rng.integers(len(FORMATS))]
        return "".join(str(rng.integers(10)) if c == "d" else c for c in fmt)
    return "".join(str(d) for d in rng.integers(0, 10, length))


def _gap(rng: np.random.Generator, width: int) -> int:
    """Pixels between one character and the next: overlapping, touching, close or wide."""
    kind = rng.random()
    if kind < 0.3:
        return -int(rng.uniform(0, 0.25) * width)  # overlapping
    if kind < 0.45:
        return 0  # touching
    if kind < 0.85:
        return int(rng.integers(1, 5))
    return int(rng.integers(5, 16))


@dataclass(frozen=True)
class Style:
    """How a hard line is written (`hard_line`); `compose` without a style writes the usual mix.

    `slanted` holds the pool indices of 1s that lean like a "/" (`slant` >=
    SLANTED), drawn for a 1 with probability `slanted_share`; `flag` is the
    share of 1s given a flag at the top; `narrow` the share of 1s squeezed to
    a thin stroke; `tight` lays the characters touching or overlapping;
    `thin` draws the separators with a fine pen and faint ink.
    """

    slanted: np.ndarray | None = None
    slanted_share: float = 0.0
    flag: float = 0.0
    narrow: float = 0.0
    tight: bool = False
    thin: bool = False


def compose(
    pool: np.ndarray,
    pool_labels: np.ndarray,
    rng: np.random.Generator,
    text: str | None = None,
    style: Style | None = None,
    warp: float = 0.0,
    clear_marks: bool = False,
) -> tuple[np.ndarray, str]:
    """One handwritten line: uint8 (ROW, W) white on black, and its text.

    `pool` is uint8 (N, 28, 28) MNIST digits with labels int (N,); each digit
    of `text` (default: 1-10 random digits, or a separator format) is drawn
    from the digits of its class, and with probability `warp` reshaped as
    another writer might have written it (`warp_digit`). Without `style` and
    `warp` the random draws are those the shipped line model was first
    trained on (seeded lines stay the same). With `clear_marks` a separator
    keeps MARK_CLEARANCE px from its neighbours: overlapped, a dot or a colon
    hides in the next digit's stroke, and no reader could see it.
    """
    text = text if text is not None else _text(rng, int(rng.integers(1, 11)))
    height = rng.uniform(20, 26)
    parts: list[np.ndarray] = []
    for ch in text:
        if ch.isdigit():
            parts.append(_digit_part(pool, pool_labels, int(ch), height, rng, style, warp))
        else:
            parts.append(_separator(ch, height, rng, thin=style is not None and style.thin)[0])
    if style is not None and style.tight:  # touching to 3.5 MNIST pixels overlapping, as people crowd digits
        gaps = [int(round(rng.uniform(-3.5, 1.5) * height / 20)) for _ in parts[1:]]
    else:
        gaps = [_gap(rng, p.shape[1]) for p in parts[1:]]
    if clear_marks:
        gaps = [max(g, MARK_CLEARANCE) if not (a + b).isdigit() else g for g, a, b in zip(gaps, text, text[1:])]
    width = sum(p.shape[1] for p in parts) + sum(gaps) + 16
    line = np.zeros((ROW, max(width, 16)), np.uint8)
    x = 8
    for i, p in enumerate(parts):
        x = max(x, 0)
        region = line[:, x : x + p.shape[1]]
        np.maximum(region, p[:, : region.shape[1]], out=region)
        x += p.shape[1] + (gaps[i] if i < len(gaps) else 0)
    return _slant_and_pen(line, rng), text


def _digit_part(
    pool: np.ndarray, labels: np.ndarray, digit: int, height: float, rng: np.random.Generator, style: Style | None,
    warp: float = 0.0,
) -> np.ndarray:  # fmt: skip
    """One digit of class `digit` from `pool`, scaled to `height` and jittered: uint8 (ROW, w)."""
    import cv2

    one = style is not None and digit == 1
    if one and style.slanted is not None and len(style.slanted) and rng.random() < style.slanted_share:
        image = pool[style.slanted[rng.integers(len(style.slanted))]]
    else:
        choices = np.flatnonzero(labels == digit)
        image = pool[choices[rng.integers(len(choices))]]
    crop = _digit_crop(warp_digit(image, rng) if warp > 0 and rng.random() < warp else image)
    if one and rng.random() < style.flag:
        crop = _flag(crop, rng)
    s = height / 20 * rng.uniform(0.85, 1.12)
    sx = s * (rng.uniform(0.4, 0.8) if one and rng.random() < style.narrow else 1.0)
    img = cv2.resize(
        crop, (max(1, round(crop.shape[1] * sx)), max(1, round(crop.shape[0] * s))), interpolation=cv2.INTER_LINEAR
    )
    row = np.zeros((ROW, img.shape[1]), np.uint8)
    y = int(np.clip((ROW - img.shape[0]) / 2 + rng.uniform(-2, 2), 0, ROW - img.shape[0]))
    row[y : y + img.shape[0]] = img[: ROW - y]
    return row


def warp_digit(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 (28, 28) MNIST digit -> the same digit as another hand might write it: uint8 (36, 36).

    A random affine (turn, aspect, shear; WARP) and a smooth elastic
    displacement (Simard et al. 2003), the magnitudes the `strong` model
    trains with (`train.augment.AugmentConfig`), so the line model meets the
    variety of writers the digit model does.
    """
    import cv2

    turn, aspect, shear, elastic_px, smooth = WARP
    a = np.deg2rad(rng.uniform(-turn, turn))
    stretch = np.exp(rng.uniform(-aspect, aspect))
    k = rng.uniform(-shear, shear)
    m = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ np.array([[stretch, k], [0.0, 1 / stretch]])
    image = np.pad(image, WARP_ROOM)  # NOTE: room for a stretched or sheared digit, so no stroke is cut off
    side = image.shape[0]
    centre = np.full(2, (side - 1) / 2)
    affine = np.hstack([m, (centre - m @ centre)[:, None]]).astype(np.float32)
    out = cv2.warpAffine(image, affine, (side, side), flags=cv2.INTER_LINEAR)
    field = cv2.GaussianBlur(rng.uniform(-1, 1, (side, side, 2)).astype(np.float32), (0, 0), smooth)
    field *= elastic_px / max(float(np.abs(field).max()), 1e-6)
    gy, gx = np.mgrid[0:side, 0:side].astype(np.float32)
    return cv2.remap(out, gx + field[..., 0], gy + field[..., 1], cv2.INTER_LINEAR)


def _flag(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 1 uint8 (h, w) with the short down-left stroke at its top that many writers add (a "flagged" 1)."""
    import cv2

    h = crop.shape[0]
    reach = int(round(h * rng.uniform(*FLAG_REACH)))
    top = np.flatnonzero(crop[: max(2, h // 6)].max(0) > 0)
    x0 = int(top.mean()) + reach if top.size else crop.shape[1] // 2 + reach
    out = np.pad(crop, ((0, 0), (reach, 0)))
    pen = max(1, int(round(h * rng.uniform(0.06, 0.11))))
    drop = int(round(reach * rng.uniform(0.5, 1.0)))
    cv2.line(out, (x0, 1), (x0 - reach, 1 + drop), int(crop.max()), pen)
    return _digit_crop(out)


def hard_text(rng: np.random.Generator) -> str:
    """The text of a hard line: 1s crowding 4s and 7s, 1s beside separators, formats people write, or 1-3 characters."""
    kind = rng.random()
    if kind < 0.3:  # digits only, half of them 1s, the rest mostly 4s and 7s
        return "".join(str(rng.choice(10, p=ONES_NEAR_47)) for _ in range(int(rng.integers(2, 9))))
    if kind < 0.55:  # a format with 1s on either side of its separators
        text = list(format_text(REAL_FORMATS[rng.integers(len(REAL_FORMATS))], rng))
        for i, ch in enumerate(text):
            near = any(0 <= j < len(text) and not text[j].isdigit() for j in (i - 1, i + 1))
            if ch.isdigit() and near and rng.random() < 0.5:
                text[i] = "1"
        return "".join(text)
    if kind < 0.8:  # a date, time, phone number or amount with values people write
        return format_text(REAL_FORMATS[rng.integers(len(REAL_FORMATS))], rng)
    short = SHORT_FORMATS[rng.integers(len(SHORT_FORMATS))]  # 1-3 characters
    return "".join(str(rng.choice(10, p=ONES_NEAR_47)) if c == "d" else c for c in short)


def hard_line(
    pool: np.ndarray, pool_labels: np.ndarray, rng: np.random.Generator, slanted: np.ndarray, clear_marks: bool = False
) -> tuple[np.ndarray, str]:
    """A line of the kinds the shipped model misread: `hard_text` in a random `Style`; uint8 (ROW, W) and its text."""
    style = Style(
        slanted=slanted, slanted_share=0.5, flag=0.25, narrow=0.3, tight=rng.random() < 0.4, thin=rng.random() < 0.4
    )
    return compose(pool, pool_labels, rng, hard_text(rng), style, clear_marks=clear_marks)


def _slant_and_pen(line: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shear the whole line (a writer's slant) and thin or thicken its strokes."""
    import cv2

    shear = rng.uniform(-0.3, 0.3)
    h, w = line.shape
    pad = int(abs(shear) * h) + 1
    m = np.array([[1, -shear, pad + shear * h / 2], [0, 1, 0]], np.float32)
    out = cv2.warpAffine(line, m, (w + 2 * pad, h), flags=cv2.INTER_LINEAR)
    r = rng.random()
    kernel = np.ones((2, 2), np.uint8)
    if r < 0.2:
        out = cv2.dilate(out, kernel)
    elif r < 0.3:
        out = cv2.erode(out, kernel) // 2 + out // 2
    return out


def capture(line: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 (H, W) white-on-black line -> float32 ink in [0, 1] as `digitrec read` recovers it from a photo.

    The line is enlarged onto tinted paper (sometimes ruled), shaded, blurred,
    noised and JPEG-compressed, then the ink is found again.
    """
    import cv2

    scale = rng.uniform(1.5, 4.0)
    big = cv2.resize(line, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255
    h, w = big.shape
    pad = int(h * rng.uniform(0.2, 0.6))
    alpha = np.pad(big, pad) * rng.uniform(0.6, 1.0)
    paper = rng.uniform(0.7, 0.97)
    pen = rng.uniform(0.0, 0.35)
    gray = paper * (1 - alpha) + pen * alpha
    if rng.random() < 0.3:  # ruled paper: a faint line under or through the digits
        y = int(pad + h * rng.uniform(0.75, 1.0))
        gray[y : y + max(1, int(scale))] *= rng.uniform(0.75, 0.92)
    gy, gx = np.mgrid[0 : gray.shape[0], 0 : gray.shape[1]]
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * gx / gray.shape[1] + np.sin(angle) * gy / gray.shape[0]).clip(0, 1)
    gray = gray * (1 - rng.uniform(0, 0.35) * ramp) + rng.normal(0, rng.uniform(0.005, 0.03), gray.shape)
    if rng.random() < 0.6:
        gray = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), rng.uniform(0.3, 1.3))
    img = Image.fromarray((np.clip(gray, 0, 1) * 255).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=int(rng.integers(45, 92)))
    gray = np.asarray(Image.open(buf), np.float32) / 255
    ink, _ = recover_ink(gray)  # NOTE: the one recovery `digitrec read` uses, so training matches reading
    return ink[pad : pad + h, pad : pad + w]  # the reader cuts a line to its own ink the same way


def _typeset(text: str, font) -> np.ndarray:
    """`text` in a Pillow font, white on black, centred in ROW rows with 8 columns each side: uint8 (ROW, W)."""
    from PIL import ImageDraw

    left, top, right, bottom = font.getbbox(text)
    img = Image.new("L", (right - left + 16, ROW), 0)
    ImageDraw.Draw(img).text((8 - left, (ROW - (bottom - top)) / 2 - top), text, fill=255, font=font)
    return np.asarray(img)


def printed_line(rng: np.random.Generator, fonts: list) -> tuple[np.ndarray, str]:
    """A printed line of digits or a format (`_text`) in one of `fonts`: uint8 (ROW, W) white on black, its text."""
    text = _text(rng, int(rng.integers(1, 11)))
    return _slant_and_pen(_typeset(text, fonts[rng.integers(len(fonts))]), rng), text


def nondigit_line(rng: np.random.Generator, fonts: list) -> np.ndarray:
    """A line that holds no digits: a handwritten-looking word in a font, or a scribble; uint8 (ROW, W)."""
    from .nondigits import LETTERS

    word = "".join(LETTERS[i] for i in rng.integers(len(LETTERS), size=int(rng.integers(2, 8))))
    return _typeset(word, fonts[rng.integers(len(fonts))])
