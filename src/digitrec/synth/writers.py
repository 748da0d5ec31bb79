"""Digits as other writers and other capture chains give them, made from MNIST digits.

MNIST is one population: American writers, a 20x20 anti-aliased box, centred
by mass. Real handwriting arrives differently, and each maker here turns an
MNIST digit (uint8 (28, 28), white ink on black) into a picture (uint8, dark
ink on light paper, as a scan gives it) the way one such source would:

    binarised  thresholded to black and white at 12-16 px, then enlarged
               (scanned forms stored as bitmaps)
    boxfilled  scaled to fill its whole 16x16 box, aspect ignored, grey
               (postal envelope digits)
    soft8      a 32x32 bitmap counted in 4x4 blocks to 8x8, then enlarged
               softly (optdigits-style low resolution)
    pen        very thick (marker) or very thin (fine liner) strokes
    broken     the pen skipped: short gaps in the stroke
    styles     what writers outside MNIST's population add: a 1 with a long
               flag and often a base, a crossed 7, a slashed 0

The pictures are then read through `preprocess.prepare`, as a user's image
would be (`make`), so training sees exactly what reading gives the network.
Training uses MNIST *training* digits only; the bench builds the same kinds
from MNIST *test* digits, and public sets (optdigits, USPS, ...) stay
evaluation-only.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from ..image.preprocess import prepare

SCALE = 4  # strokes are edited on a 112 px copy, so added flags and bars are as smooth as the digit
INK = 0.5  # level (of 1) above which an MNIST pixel is pen
Maker = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


def _crop(ink: np.ndarray) -> np.ndarray:
    """The ink's bounding box of uint8 (H, W) white-on-black; the array itself when it is blank."""
    ys, xs = np.nonzero(ink > 0)
    if len(ys) == 0:
        return ink
    return ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def _paper(ink: np.ndarray) -> np.ndarray:
    """uint8 white-on-black -> uint8 dark-on-light, with a margin of paper around it."""
    margin = max(2, max(ink.shape) // 6)
    return 255 - np.pad(ink, margin)


def _enlarge(small: np.ndarray, rng: np.random.Generator, nearest: float = 0.5) -> np.ndarray:
    """Enlarge uint8 (h, w) 4-8x, by nearest neighbour (hard pixel edges) or bilinear (soft)."""
    k = int(rng.integers(4, 9))
    mode = cv2.INTER_NEAREST if rng.random() < nearest else cv2.INTER_LINEAR
    return cv2.resize(small, (small.shape[1] * k, small.shape[0] * k), interpolation=mode)


def _fit(ink: np.ndarray, side: int, keep_aspect: bool) -> np.ndarray:
    """Crop uint8 white-on-black ink and resize it (area) into a side x side frame, centred."""
    c = _crop(ink)
    h, w = c.shape
    if keep_aspect:
        f = side / max(h, w)
        nh, nw = max(1, round(h * f)), max(1, round(w * f))
    else:
        nh = nw = side
    small = cv2.resize(c, (nw, nh), interpolation=cv2.INTER_AREA)
    out = np.zeros((side, side), np.uint8)
    top, left = (side - nh) // 2, (side - nw) // 2
    out[top : top + nh, left : left + nw] = small
    return out


def binarised(ink: np.ndarray, label: int, rng: np.random.Generator) -> np.ndarray:
    """A form scanned to black and white at 12-16 px (digit filling 75-100% of it), then enlarged."""
    side = int(rng.integers(12, 17))
    digit = _fit(ink, max(6, round(side * rng.uniform(0.75, 1.0))), keep_aspect=rng.random() < 0.7)
    frame = np.zeros((side, side), np.uint8)
    o = (side - digit.shape[0]) // 2
    frame[o : o + digit.shape[0], o : o + digit.shape[1]] = digit
    bw = np.where(frame > rng.uniform(0.2, 0.6) * 255, 255, 0).astype(np.uint8)
    return 255 - _enlarge(bw, rng, nearest=0.7)


def boxfilled(ink: np.ndarray, label: int, rng: np.random.Generator) -> np.ndarray:
    """A digit stretched to fill its whole 16x16 box (aspect ignored), grey, enlarged: no paper margin."""
    side = 16
    c = _crop(ink)
    # NOTE: the height fills the box; the width is stretched too, up to the box (a 1 stays a stroke, not a block).
    width = min(side, max(2, round(side * c.shape[1] / c.shape[0] * rng.uniform(1.0, 1.8))))
    small = cv2.resize(c, (width, side), interpolation=cv2.INTER_AREA)
    digit = np.zeros((side, side), np.float32)
    digit[:, (side - width) // 2 : (side - width) // 2 + width] = small
    if rng.random() < 0.5:  # a grey, slightly blurred capture
        digit = cv2.GaussianBlur(digit, (3, 3), rng.uniform(0.3, 0.8))
    digit = np.clip(digit * rng.uniform(1.0, 1.6), 0, 255).astype(np.uint8)
    return 255 - _enlarge(digit, rng, nearest=0.3)


def soft8(ink: np.ndarray, label: int, rng: np.random.Generator) -> np.ndarray:
    """A 32x32 bitmap counted in 4x4 blocks (0-16 per cell) to 8x8, then enlarged softly."""
    bitmap = (_fit(ink, 32, keep_aspect=rng.random() < 0.5) > INK * 255).astype(np.float32)
    counts = bitmap.reshape(8, 4, 8, 4).sum((1, 3)) / 16.0
    small = np.pad((counts * 255).astype(np.uint8), 1)
    side = int(rng.integers(48, 113))
    mode = cv2.INTER_CUBIC if rng.random() < 0.7 else cv2.INTER_LINEAR
    return 255 - cv2.resize(small, (side, side), interpolation=mode)


def _big(ink: np.ndarray) -> np.ndarray:
    return cv2.resize(ink, (ink.shape[1] * SCALE, ink.shape[0] * SCALE), interpolation=cv2.INTER_LINEAR)


def pen(ink: np.ndarray, label: int, rng: np.random.Generator) -> np.ndarray:
    """Very thick (a marker: dilated 2-4x MNIST's width) or very thin (a fine liner: eroded to a hairline)."""
    big = _big(ink)
    if rng.random() < 0.55:
        k = int(rng.integers(5, 14))
        big = cv2.dilate(big, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    else:
        k = int(rng.integers(3, 6))
        thin = cv2.erode(big, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        big = thin if (thin > 128).sum() > 0.25 * (big > 128).sum() else big
    return _paper(big)


def broken(ink: np.ndarray, label: int, rng: np.random.Generator) -> np.ndarray:
    """Short gaps where the pen skipped (a light pen, a rough paper), 2-4 of them."""
    big = _big(ink).copy()
    ys, xs = np.nonzero(big > 128)
    if len(ys) == 0:
        return _paper(big)
    for i in rng.choice(len(ys), int(rng.integers(2, 5))):
        r = int(rng.integers(3, 6))
        cv2.circle(big, (int(xs[i]), int(ys[i])), r, 0, -1)
    return _paper(big)


def pen_width(mask: np.ndarray) -> float:
    """Stroke width in pixels of a bool (H, W) mask: twice the area over the outline length."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    outline = sum(cv2.arcLength(c, True) for c in contours)
    return float(np.clip(2 * mask.sum() / max(outline, 1.0), 4, 24))


def _stroke(big: np.ndarray, a: tuple[float, float], b: tuple[float, float], width: float) -> None:
    """Draw a pen line from a to b (x, y) into uint8 `big` in place, anti-aliased."""
    p = (int(round(a[0])), int(round(a[1])))
    q = (int(round(b[0])), int(round(b[1])))
    cv2.line(big, p, q, 255, max(1, int(round(width))), cv2.LINE_AA)


def european_one(big: np.ndarray, rng: np.random.Generator) -> None:
    """A 1 as most of Europe writes it: a long up-stroke flag from the top, often a base."""
    mask = big > 128
    ys, xs = np.nonzero(mask)
    top, bottom = ys.min(), ys.max()
    h = bottom - top
    w = pen_width(mask)
    tx = xs[ys <= top + w].mean()
    angle = np.deg2rad(rng.uniform(20, 60))  # below the horizontal, going left
    length = h * rng.uniform(0.25, 0.5)
    _stroke(big, (tx, top + w / 2), (tx - length * np.cos(angle), top + w / 2 + length * np.sin(angle)), w)
    if rng.random() < 0.5:
        bx = xs[ys >= bottom - w].mean()
        half = h * rng.uniform(0.2, 0.35)
        _stroke(big, (bx - half, bottom - w / 2), (bx + half, bottom - w / 2 + rng.normal(0, 2)), w)


def crossed_seven(big: np.ndarray, rng: np.random.Generator) -> None:
    """A 7 with a bar across the middle of its stem."""
    mask = big > 128
    ys, xs = np.nonzero(mask)
    top, bottom = ys.min(), ys.max()
    y = int(top + (bottom - top) * rng.uniform(0.45, 0.62))
    row = np.nonzero(mask[y])[0]
    if len(row) == 0:
        return
    cx = row.mean()
    half = max((xs.max() - xs.min()) * rng.uniform(0.2, 0.35), (bottom - top) * 0.12)
    tilt = rng.normal(0, 3)
    _stroke(big, (cx - half, y - tilt), (cx + half, y + tilt), pen_width(mask))


def slashed_zero(big: np.ndarray, rng: np.random.Generator) -> None:
    """A 0 with a diagonal stroke through it (as programmers and Scandinavians write it)."""
    mask = big > 128
    ys, xs = np.nonzero(mask)
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    inset = rng.uniform(-0.05, 0.2)
    w, h = x1 - x0, y1 - y0
    _stroke(big, (x0 + w * inset, y1 - h * inset), (x1 - w * inset, y0 + h * inset), pen_width(mask))


STYLE_EDITS = {1: european_one, 7: crossed_seven, 0: slashed_zero}


def styles(ink: np.ndarray, label: int, rng: np.random.Generator) -> np.ndarray:
    """The digit with the stroke a writer from another school adds (1, 7 and 0; other digits unchanged)."""
    big = _big(ink).copy()
    if label in STYLE_EDITS and (big > 128).any():
        STYLE_EDITS[label](big, rng)
    return _paper(big)


MAKERS: dict[str, Maker] = {
    "binarised": binarised,
    "boxfilled": boxfilled,
    "soft8": soft8,
    "pen": pen,
    "broken": broken,
    "styles": styles,
}
SHARES = {"binarised": 0.25, "boxfilled": 0.2, "soft8": 0.15, "pen": 0.12, "broken": 0.08, "styles": 0.2}


def render(
    images: np.ndarray, labels: np.ndarray, kind: str, rng: np.random.Generator
) -> tuple[list[np.ndarray], np.ndarray]:
    """Pictures (uint8 dark-on-light, any size) of one kind from MNIST-form digits (N, 28, 28) and their labels.

    For "styles" only the digits it edits (0, 1, 7) are used.
    """
    if kind == "styles":
        keep = np.isin(labels, list(STYLE_EDITS))
        images, labels = images[keep], labels[keep]
    make = MAKERS[kind]
    return [make(im, int(lab), rng) for im, lab in zip(images, labels)], labels


def to_mnist(picture: np.ndarray) -> np.ndarray:
    """A picture (uint8 dark-on-light) read as a user's image: uint8 (28, 28) white on black."""
    return np.round(prepare(picture.astype(np.float32) / 255.0).image * 255).astype(np.uint8)


def make(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`n` digits of every kind mixed by SHARES, in MNIST form: uint8 (n', 28, 28), int64 labels, kind names.

    Drawn from `images` uint8 (N, 28, 28) / `labels` (N,), which must be training digits.
    """
    rng = np.random.default_rng(seed)
    out_x, out_y, out_k = [], [], []
    for kind, share in SHARES.items():
        pool = np.nonzero(np.isin(labels, list(STYLE_EDITS)))[0] if kind == "styles" else np.arange(len(labels))
        pick = rng.choice(pool, round(n * share), replace=False)
        pictures, kept = render(images[pick], labels[pick], kind, rng)
        out_x += [to_mnist(p) for p in pictures]
        out_y.append(kept.astype(np.int64))
        out_k += [kind] * len(kept)
    return np.stack(out_x), np.concatenate(out_y), np.array(out_k)
