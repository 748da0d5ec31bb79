"""Bring any picture of a digit to the MNIST form the network was trained on.

MNIST digits are white ink on black, cropped to the ink, scaled to fit a 20x20
box keeping the aspect ratio, and placed in a 28x28 frame with the centre of
mass at the centre. `preprocess()` does the same to a user's image, after
undoing what photos and scans add: colour, transparency, EXIF rotation, light
paper or a dark board, uneven lighting and shadows, sensor/JPEG noise, and
pen strokes much thinner or thicker than MNIST's.

Every step is a pure function on float32 arrays in [0, 1] (H, W), numpy and
Pillow only, so `digitrec predict` starts fast.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageFilter

from ..errors import BadImage
from ..io.decode import ImageSource, load_gray
from .rulings import Rulings, find_rulings, remove_rulings
from .rulings import stroke_width as mask_stroke_width

WORK_SIDE = 512  # photos are reduced to this longest side to find the ink; the digit is then re-read at full size
MNIST_BOX = 20
MNIST_SIZE = 28
# NOTE: `stroke_width` of the 60,000 MNIST train digits (every 3rd) measured as `to_mnist` measures a crop
# (bilinear upsampling to 80 px, then / 4): median 2.18 px, 2% under 1.24, 2% over 3.98.
# Measured straight on the 28x28 images the median is 1.96 px (the first version's 2.6 was too thick).
MNIST_STROKE = 2.18
MNIST_STROKE_RANGE = (1.25, 4.0)  # widths MNIST itself has (its 2nd-98th percentile): left unchanged
LINE_COVER = 0.85  # a row inked across this share of the width is a ruled line, not part of a digit
# Several characters side by side (`count_characters`); lengths are in units of the tallest part's height.
# NOTE: measured by bench/count_characters.py: printed strings in 6 fonts at 3 sizes (digits, dates, phone
# numbers, decimals, times) 98% exact (was 40%); MNIST test lines 3 px apart 100% (was 53%); touching ones are
# undercounted (mean error 0.9-1.5), which the line reader then corrects to 0.3-0.6 (`Recognizer._several`);
# 500 single MNIST digits and every sample image count 1.
PART_INK = 0.35  # soft-ink level that counts as a stroke
PART_HEIGHT = 0.55  # a part at least this tall is a character (shorter ones: a dot, a bar, a detached stroke)
PART_AREA = 0.12  # ... and holds at least this share of the largest part's ink
SEPARATOR_AREA = 0.03  # a shorter part between two characters with this share of it is a separator (. , - :)
ONE_WIDE = 1.6  # a single part wider than this is several touching characters (MNIST digits: 95% under 1.1)
STROKES_TALL = 3.0  # a wide part under this many stroke widths tall is one stroke (a dash, a bar), not characters
KEPT_EXTENT = 0.85  # thinning a marker stroke may shrink the digit's height or width to this share, no more
GRID_FRINGE = 2  # px: a ruling's blurred edge, left out with it when the paper's noise is measured between lines
GRID_PAPER = 0.2  # ... which needs this share of the picture left to measure on
CHAR_WIDTH = 0.6  # the width of one of several touching characters when no separate one shows it (MNIST: 0.7)
# A border (or a clean image's one tone) darker than DARK_TONE is a board or MNIST's black, lighter than
# LIGHT_TONE is paper; in between the polarity is left to the ink itself.
DARK_TONE, LIGHT_TONE = 0.3, 0.7
# A small picture (a scanned cell, <= PLATEAU_SIDE px) whose lightest or darkest tone covers PLATEAU_SHARE of it
# has clean paper of that tone even when its digit touches every border (`_plateau_tone`).
PLATEAU_SIDE, PLATEAU_SHARE = 400, 0.35
FILLED_CONTRAST = 0.5  # ... and a digit filling such a picture still stands this far out of its paper
REREAD_MARGIN = 0.3  # paper kept around a digit cut from a large photo to read again, as a share of its size
# Noise from a median absolute deviation: MAD = 0.6745 sigma for normal noise, so sigma = 1.4826 MAD; the median
# |a - b| of two independent pixels is sqrt(2) * 0.6745 = 0.954 sigma.
MAD_TO_SIGMA = 1.4826
PAIR_MAD = 0.954


@dataclass(frozen=True)
class Prepared:
    """A preprocessed input: `image` float32 (28, 28) in [0, 1], white ink on black.

    `blank` is True when no ink was found (the image is then all zeros);
    `box` is the (left, top, right, bottom) of the ink in the original image's pixels;
    `parts` is how many characters stand side by side in it (`count_characters`);
    `ink` is the band of the picture's soft ink those characters stand in, at work size (float32, ink
    bright), when `parts` > 1: the line reader reads it (`Recognizer` says whether they are digits); else None.
    `ruled` is True for a blank picture whose only ink was lines taken for rulings (lines framing each other).
    """

    image: np.ndarray
    blank: bool
    box: tuple[int, int, int, int] | None = None
    parts: int = 1
    ink: np.ndarray | None = field(default=None, repr=False, compare=False)
    ruled: bool = False


# ---------------------------------------------------------------- pure steps


def _pil(a: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(a, np.float32), mode="F")


def square_filter(a: np.ndarray, size: int, grow: bool) -> np.ndarray:
    """Max (`grow`) or min filter of float32 (H, W) over size x size squares (edges repeated); new array.

    Separable (rows, then columns), so it costs `size` per pixel, not size**2
    as Pillow's rank filters do.
    """
    if size <= 1:
        return a.copy()
    pick = np.max if grow else np.min
    r = size // 2
    out = np.pad(a, ((0, 0), (r, size - 1 - r)), mode="edge")
    out = pick(np.lib.stride_tricks.sliding_window_view(out, size, axis=1), axis=-1)
    out = np.pad(out, ((r, size - 1 - r), (0, 0)), mode="edge")
    return pick(np.lib.stride_tricks.sliding_window_view(out, size, axis=0), axis=-1).astype(np.float32)


def resize(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-aware resize of float32 (H, W) to (height, width)."""
    h, w = size
    return np.asarray(_pil(a).resize((max(w, 1), max(h, 1)), Image.BILINEAR, reducing_gap=2.0), np.float32)


def limit_side(gray: np.ndarray, side: int = WORK_SIDE) -> np.ndarray:
    """Shrink float32 (H, W) so its longer side is at most `side` (photos of several megapixels)."""
    h, w = gray.shape
    scale = side / max(h, w)
    return gray if scale >= 1 else resize(gray, (round(h * scale), round(w * scale)))


def _frame(gray: np.ndarray) -> np.ndarray:
    h, w = gray.shape
    m = max(1, min(h, w) // 20)
    return np.concatenate([gray[:m].ravel(), gray[-m:].ravel(), gray[:, :m].ravel(), gray[:, -m:].ravel()])


def border_level(gray: np.ndarray) -> float:
    """Median of the outer frame of float32 (H, W): the background's brightness."""
    return float(np.median(_frame(gray)))


def ink_on_paper(gray: np.ndarray) -> np.ndarray:
    """Make the ink dark and the background light: invert white-on-black (chalk, MNIST) images.

    Float32 (H, W) in [0, 1] -> the same or 1 - it. An evenly dark or evenly
    light border (a scan, a drawing, MNIST) decides. Otherwise (shadows,
    gradients) ink is the few pixels that differ most from their surroundings,
    so the polarity is whichever way the strongest local deviations go:
    shadows and gradients move both ways alike.
    """
    lo, hi = np.percentile(_frame(gray), [10, 90])
    if hi - lo < 0.1 and (hi < DARK_TONE or lo > LIGHT_TONE):
        return 1.0 - gray if hi < DARK_TONE else gray
    small = limit_side(gray)
    radius = max(3.0, max(small.shape) / 10)  # several stroke widths: enclosed background must not look like ink
    blur = Image.fromarray(np.round(small * 255).astype(np.uint8), mode="L").filter(ImageFilter.GaussianBlur(radius))
    d = (small - np.asarray(blur, np.float32) / 255.0).ravel()
    k = min(9 + d.size // 2000, d.size // 2)
    part = np.partition(d, [k, d.size - 1 - k])
    dark, light = -float(part[k]), float(part[d.size - 1 - k])
    if abs(dark - light) < 0.05:
        return 1.0 - gray if border_level(gray) < 0.5 else gray
    return 1.0 - gray if light > dark else gray


def paper_level(dark_on_light: np.ndarray) -> np.ndarray:
    """Estimate the local paper brightness under the ink (float32 (H, W)) for shading correction.

    A morphological closing (max filter, then min filter of the same size,
    wider than a stroke) removes the dark ink but keeps the edge of a shadow
    where it is; a light blur smooths the result. Runs on a 96 px copy, so it
    costs the same for any photo size.
    """
    h, w = dark_on_light.shape
    small = limit_side(dark_on_light, 96)
    size = max(3, (max(small.shape) // 3) | 1)  # ink (even marker blobs) up to ~1/3 of the picture closes
    closed = square_filter(square_filter(small, size, grow=True), size, grow=False)
    # NOTE: 8-bit for the blur (Pillow blurs only 8-bit images); the paper level needs no more precision.
    img = Image.fromarray(np.round(closed * 255).astype(np.uint8), mode="L").filter(ImageFilter.GaussianBlur(1.5))
    return resize(np.asarray(img, np.float32) / 255.0, (h, w))


def flatten_lighting(dark_on_light: np.ndarray) -> np.ndarray:
    """Ink strength in [0, 1] (float32 (H, W), ink bright) with shadows and gradients divided out."""
    paper = np.maximum(paper_level(dark_on_light), 1e-3)
    # NOTE: the global paper level caps the estimate, so one big thick digit cannot pass as "paper".
    paper = np.minimum(paper, max(float(np.percentile(dark_on_light, 90)), 1e-3) * 1.05)
    return np.clip(1.0 - dark_on_light / paper, 0.0, 1.0)


def robust_level(a: np.ndarray) -> tuple[float, float]:
    """(median, noise sigma) of float32 ink strength >= 0: the background level and its spread.

    Flattened ink is clipped at 0, so up to half the background can sit at 0;
    sigma then comes from two percentiles just above the clipped part (a normal
    fit), not the MAD, which the clipping shrinks and a large digit inflates. A background that is mostly exact
    zeros (a clean scan, a drawing) has sigma from the MAD: about 0.
    """
    # NOTE: a 256x256 sample estimates the level as well as every pixel, 4x faster at 512
    step = int(np.ceil(np.sqrt(a.size / 65536)))
    a = a[::step, ::step] if a.ndim == 2 else a
    flat = a.ravel()
    med = float(np.median(flat))
    zeros = float(np.mean(flat <= 0.0))
    if 0.02 < zeros < 0.6:
        # NOTE: just above the clipped part, where the background still dominates even with 40% of ink.
        lo_q, hi_q = zeros + 0.05, min(zeros + 0.25, 0.95)
        lo_v, hi_v = np.quantile(flat, [lo_q, hi_q])
        from statistics import NormalDist  # NOTE: here, not at the top: 10 ms of `digitrec predict` start-up

        normal = NormalDist()
        sigma = float(hi_v - lo_v) / (normal.inv_cdf(hi_q) - normal.inv_cdf(lo_q))
        if a.ndim == 2 and a.shape[1] > 1:
            # NOTE: noise also shows between neighbours; a smooth (blurred, upscaled) image has little, whatever
            # its histogram says. 2.5x covers the clipping's shrinking of neighbour differences.
            left, right = a[:, :-2], a[:, 2:]  # two apart: JPEG smooths next neighbours together
            both = (left > 0) & (right > 0)
            if both.any():
                sigma = min(sigma, 2.5 * float(np.median(np.abs(left - right)[both])) / PAIR_MAD)
        return med, sigma
    return med, MAD_TO_SIGMA * float(np.median(np.abs(flat - med)))


def line_rows(ink: np.ndarray, cover: float = LINE_COVER) -> np.ndarray:
    """bool (H,): rows of float32 (H, W) ink strength where ink runs across `cover` of the width (ruled lines)."""
    if ink.shape[0] < 3 or ink.shape[1] < 8:
        return np.zeros(ink.shape[0], bool)
    med, sigma = robust_level(ink)
    on = ink > max(med + 4 * sigma, med + 0.05)
    near = on.copy()  # NOTE: OR with the rows above and below: a line a pixel off horizontal still counts
    near[1:] |= on[:-1]
    near[:-1] |= on[1:]
    return near.mean(1) >= cover


def _runs(on: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True in a 1-D bool array."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def remove_lines(ink: np.ndarray, min_lines: int = 2) -> np.ndarray:
    """Float32 (H, W) ink strength in [0, 1] with the ruled lines of lined paper taken out.

    Only acts when at least `min_lines` separate line bands cross the image, so
    a digit's long bar in a tightly cropped picture is never taken for a line.
    Each line row loses its median ink level: the line goes, while a darker pen
    stroke crossing it keeps the difference.
    """
    rows = line_rows(ink)
    if len(_runs(rows)) < min_lines:
        return ink
    wide = rows.copy()
    for shift in (1, 2):  # the blurred fringe of each line
        wide[shift:] |= rows[:-shift]
        wide[:-shift] |= rows[shift:]
    out = ink.copy()
    out[wide] = np.clip(ink[wide] - np.median(ink[wide], axis=1, keepdims=True), 0.0, 1.0)
    return out


def otsu_threshold(a: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold of float32 values in [0, 1]: the cut that best separates two classes."""
    hist, edges = np.histogram(a, bins=bins, range=(0.0, 1.0))
    p = hist.astype(np.float64) / max(hist.sum(), 1)
    w0 = np.cumsum(p)
    mu = np.cumsum(p * (edges[:-1] + edges[1:]) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * w0 - mu) ** 2 / (w0 * (1 - w0))
    return float(edges[int(np.nanargmax(between)) + 1]) if np.isfinite(between).any() else 0.5


def soft_threshold(ink: np.ndarray, min_contrast: float = 0.1, level: tuple[float, float] | None = None) -> np.ndarray:
    """Soft mask float32 (H, W) in [0, 1] of float32 (H, W) ink strength (ink bright).

    0 at the background's noise level, ramping to 1 at the typical strong ink;
    the cut between them is Otsu's, computed on the pixels that stand out of
    the background noise (so a small digit in a large photo is not swamped).
    Unlike a hard cut this keeps anti-aliased stroke edges, which MNIST has too.
    Returns zeros when nothing stands out by `min_contrast` and 6 noise sigmas
    (a blank page, or noise only). `level`: the background's (median, noise sigma) when measured elsewhere
    (`robust_level` of the paper between a grid's lines).
    """
    if ink.size == 0:
        return np.zeros_like(ink)
    flat = ink.ravel()
    med, sigma = robust_level(ink) if level is None else level
    k = flat.size - 1 - min(8, flat.size - 1)  # NOTE: the 9th strongest pixel: a few hot pixels make no digit
    peak = float(np.partition(flat, k)[k])
    if peak - med < max(min_contrast, 6 * sigma):
        return np.zeros_like(ink)
    noise = med + 4 * sigma
    candidates = flat[flat > med + 3 * sigma]
    t = max(otsu_threshold(np.clip(candidates / peak, 0, 1)) * peak, noise, med + min_contrast * 0.6)
    strong = flat[flat > t]
    hi = float(np.percentile(strong, 75)) if strong.size else peak
    lo = min(0.5 * t, noise + 0.05)
    return np.clip((ink - lo) / max(hi - lo, 1e-3), 0.0, 1.0).astype(np.float32)


def ink_strength(gray: np.ndarray) -> np.ndarray:
    """Gray float32 (H, W) in [0, 1], any polarity -> ink strength float32 (H, W) in [0, 1], ink bright, shadows
    and gradients divided out (not yet told from the paper's noise: `recover_ink` does that)."""
    return flatten_lighting(ink_on_paper(gray))


def recover_ink(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gray float32 (H, W) in [0, 1], any polarity, of a photo or scan -> (soft ink mask, ink strength).

    Both float32 (H, W) in [0, 1], ink bright; the mask is `soft_threshold` of the strength. The one way ink is
    recovered from a picture: reading a digit (`find_ink`), reading a page (`digitrec.read.strings.read_page`) and
    the line reader's training pictures (`digitrec.synth.lines.capture`) all call it, so training cannot drift
    from reading. Rulings are still in both.
    """
    strength = ink_strength(gray)
    soft = soft_threshold(strength)
    return (soft if soft.any() else _between_rulings(strength)), strength


def _between_rulings(strength: np.ndarray) -> np.ndarray:
    """Soft ink of float32 (H, W) ink strength whose paper noise is measured between its rulings, or zeros.

    Dark graph paper (lines a few pixels apart, as dark as the pen) fills so
    much of a picture that the paper's noise, measured on every pixel, comes
    out as wide as the ink's contrast, and `soft_threshold` finds nothing.
    The lines found in the strength cut at Otsu's threshold are left out of
    that measure; they stay in the ink, for `remove_rulings` to take out with
    the strokes crossing them put back.
    """
    if strength.size == 0 or float(strength.max()) <= 0:
        return np.zeros_like(strength)
    hard = (strength > otsu_threshold(strength)).astype(np.float32)
    found = find_rulings(hard)
    if not found.segments:
        return np.zeros_like(strength)
    paper = strength[~square_filter(found.mask.astype(np.float32), 2 * GRID_FRINGE + 1, grow=True).astype(bool)]
    if paper.size < GRID_PAPER * strength.size:
        return np.zeros_like(strength)
    return soft_threshold(strength, level=robust_level(paper))


def _median(a: np.ndarray) -> float:
    """np.median of a non-empty 1-D array, without its wrapper's overhead (called per axis per image)."""
    n = a.size
    if n % 2:
        return float(np.partition(a, n // 2)[n // 2])
    lo, hi = np.partition(a, (n // 2 - 1, n // 2))[n // 2 - 1 : n // 2 + 1]
    return float(lo + hi) / 2


def _main_span(strong: np.ndarray, soft: np.ndarray) -> tuple[int, int] | None:
    """[start, end) of the digit along one axis, from profiles of strong-ink counts and soft ink.

    Runs of inked rows (or columns) separated by empty ones: the heaviest run
    is the digit; others join it when close, or when heavy and not far (a
    broken stroke); small far runs are specks of dirt and are left out.
    """
    runs = _runs(strong > max(0.5, min(0.02 * float(strong.max()), 1.5)))  # a hairline keeps 2 px a row
    if not runs:
        return None
    mass = np.add.reduceat(strong, [a for a, _ in runs]).tolist() if len(runs) > 1 else [float(strong.sum())]
    k = int(np.argmax(mass))
    (a, b), kept, used = runs[k], mass[k], {k}
    grew = True
    while grew:
        grew = False
        for i, (s, e) in enumerate(runs):
            gap = s - b if s >= b else a - e
            if i not in used and (gap <= 0.15 * (b - a) or (mass[i] >= 0.15 * kept and gap <= 0.5 * (b - a))):
                a, b, kept, grew = min(a, s), max(b, e), kept + mass[i], True
                used.add(i)
    # NOTE: then take in the faint anti-aliased fringe the strong-ink profile leaves out.
    outside = np.concatenate([soft[:a], soft[b:]])
    floor = 0.25 + (2 * _median(outside) if outside.size else 0.0)
    reach = 1 + (b - a) // 10
    for _ in range(reach):
        if a > 0 and soft[a - 1] > floor:
            a -= 1
        if b < len(soft) and soft[b] > floor:
            b += 1
    return a, b


def ink_box(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the digit in float32 (H, W) soft ink in [0, 1]; None when blank.

    Specks of dirt and stray marks apart from the digit are left outside the box.
    """
    if float(ink.max(initial=0.0)) <= 0:
        return None
    strong = (ink > min(0.5, 0.5 * float(ink.max()))).astype(np.float32)
    cols = _main_span(strong.sum(0), ink.sum(0))
    if cols is None:
        return None
    rows = _main_span(strong[:, cols[0] : cols[1]].sum(1), ink[:, cols[0] : cols[1]].sum(1))
    if rows is None:
        return None
    cols = _main_span(strong[rows[0] : rows[1]].sum(0), ink[rows[0] : rows[1]].sum(0)) or cols
    return cols[0], rows[0], cols[1], rows[1]


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in pixels of float32 (H, W) ink: ink area over half its perimeter (0 when blank)."""
    return mask_stroke_width(ink > 0.5)


def normalize_stroke(ink: np.ndarray, target: float, width: float | None = None) -> np.ndarray:
    """Thicken hairlines or thin marker strokes of float32 (H, W) ink towards `target` pixels wide.

    `width` is the current stroke width if already measured (else `stroke_width`).
    """
    width = stroke_width(ink) if width is None else width
    steps = int(round((target - width) / 2))  # a (2k+1)-square max/min filter changes the width by 2k px
    if width == 0 or steps == 0:
        return ink
    if steps > 0:
        return square_filter(ink, 2 * min(steps, 40) + 1, grow=True)
    # NOTE: a blot (a 0 filled to a pinhole, a marker's pooled ink) measures wide on average; thinned to that
    # width it leaves specks, or loses its thinner strokes. Thin it less, as far as it stays whole.
    before = _shape_of(ink)
    for k in range(min(-steps, 40), 0, -max(1, -steps // 4)):
        out = square_filter(ink, 2 * k + 1, grow=False)
        after = _shape_of(out)
        if after[0] <= before[0] and min(a / b for a, b in zip(after[1:], before[1:])) >= KEPT_EXTENT:
            return out
    return ink


def _shape_of(ink: np.ndarray) -> tuple[int, int, int]:
    """(pieces, height, width) of float32 (H, W) ink's strong pixels: 8-connected parts and their joint extent."""
    import cv2

    on = ink > 0.5
    if not on.any():
        return 0, 0, 0
    rows, cols = np.flatnonzero(on.any(1)), np.flatnonzero(on.any(0))
    count = cv2.connectedComponents(on.astype(np.uint8), connectivity=8)[0] - 1
    return count, int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def fit_box(ink: np.ndarray, box: int = MNIST_BOX) -> np.ndarray:
    """Scale float32 (H, W) ink so its longer side is `box` pixels, keeping the aspect ratio."""
    h, w = ink.shape
    scale = box / max(h, w)
    out = resize(ink, (max(1, round(h * scale)), max(1, round(w * scale))))
    peak = out.max()
    return np.clip(out / peak, 0, 1) if peak > 0 else out


def center_by_mass(ink: np.ndarray, size: int = MNIST_SIZE) -> np.ndarray:
    """Place float32 (h, w) ink (h, w <= size) in a size x size frame with its centre of mass at the centre.

    The centre is pixel (size / 2, size / 2), (14, 14) for MNIST: the mean centre
    of mass of MNIST's train digits is (14.00, 14.01), not (13.5, 13.5).
    """
    h, w = ink.shape
    by_row, by_col = ink.sum(1), ink.sum(0)
    total = float(by_row.sum())
    cy = float(by_row @ np.arange(h, dtype=np.float32)) / total if total > 0 else (h - 1) / 2
    cx = float(by_col @ np.arange(w, dtype=np.float32)) / total if total > 0 else (w - 1) / 2
    top = int(round(size / 2 - cy))
    left = int(round(size / 2 - cx))
    top = min(max(top, 0), size - h)
    left = min(max(left, 0), size - w)
    out = np.zeros((size, size), np.float32)
    out[top : top + h, left : left + w] = ink
    return out


def to_mnist(ink: np.ndarray) -> np.ndarray:
    """Cropped float32 ink (h, w) in [0, 1], ink bright -> (28, 28) float32 in [0, 1], MNIST-style.

    Strokes are measured at the crop's own size, or at 80 px (4x the MNIST
    box) for smaller crops, as MNIST_STROKE was measured. Widths MNIST itself
    has are left alone; hairlines and marker strokes are brought to MNIST's
    median width at that size, before the crop shrinks to the 20x20 box.
    """
    h, w = ink.shape
    peak = float(ink.max())
    if peak <= 0:
        return np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
    work = ink / peak
    lo, hi = MNIST_STROKE_RANGE
    if max(h, w) < 4 * MNIST_BOX:
        # NOTE: a width measured on the small crop itself, well inside MNIST's range, decides without
        # the 80-px resampling (the common case); near the range's ends the exact measure below decides.
        rough = stroke_width(work) * MNIST_BOX / max(h, w)
        if 1.1 * lo <= rough <= 0.9 * hi:
            return center_by_mass(fit_box(ink))
        scale = 4 * MNIST_BOX / max(h, w)
        work = resize(work, (max(1, round(h * scale)), max(1, round(w * scale))))
    per_mnist_px = max(work.shape) / MNIST_BOX
    width = stroke_width(work) / per_mnist_px
    if width == 0 or lo <= width <= hi:
        return center_by_mass(fit_box(ink))  # NOTE: straight from the crop: one resampling, not two
    work = normalize_stroke(work, MNIST_STROKE * per_mnist_px, width * per_mnist_px)
    return center_by_mass(fit_box(work))


def filled_box(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    """The box of all strong ink when it spans float32 (H, W) ink from top to bottom edge, else None.

    A digit stretched to fill its cell (postal and form scans) touches the top
    and bottom of a small picture; its ink is then the digit, whole, even
    where a thin waist (an 8) or a gap splits it into parts.
    """
    if max(ink.shape) > PLATEAU_SIDE:
        return None
    strong = ink > 0.5
    if not (strong[0].any() and strong[-1].any()):
        return None
    rows, cols = np.flatnonzero(strong.any(1)), np.flatnonzero(strong.any(0))
    box = int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
    return box if box[2] - box[0] <= ONE_WIDE * (box[3] - box[1]) else None


def _column_parts(band: np.ndarray) -> list[tuple[int, int, int]]:
    """(height, width, ink pixels) of each run of inked columns of a bool (H, W) band, left to right."""
    cols = np.flatnonzero(band.any(0))
    if cols.size == 0:
        return []
    parts = []
    for run in np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1):
        sub = band[:, run[0] : run[-1] + 1]
        rows = np.flatnonzero(sub.any(1))
        parts.append((int(rows[-1] - rows[0] + 1), int(run[-1] - run[0] + 1), int(sub.sum())))
    return parts


def character_band(ink: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The rows of float32 (H, W) ink around the digit at `box`: a quarter of its height more each side, full width."""
    top, bottom = box[1], box[3]
    return ink[max(0, top - (bottom - top) // 4) : bottom + (bottom - top) // 4]


def count_characters(ink: np.ndarray, box: tuple[int, int, int, int]) -> int:
    """How many characters stand side by side with the digit at `box` in float32 (H, W) ink (ink bright).

    Across the whole picture, within the digit's band of rows, columns with
    ink form parts. A part is a character when it is nearly as tall as the
    tallest and holds a fair share of the heaviest one's ink (so a speck does
    not count); a shorter part between two characters is a separator (the
    `/` of a date is tall, a `-` or `.` short). A part much wider than tall is
    several touching characters, counted by its width against the width of
    the separate characters (or CHAR_WIDTH of its height). One digit gives 1.
    """
    on = character_band(ink, box) > PART_INK
    parts = _column_parts(on)
    if not parts:
        return 1
    stroke = mask_stroke_width(on)
    tallest = max(h for h, _, _ in parts)
    heaviest = max(a for h, _, a in parts if h >= PART_HEIGHT * tallest)
    is_char = [h >= PART_HEIGHT * tallest and a >= PART_AREA * heaviest for h, _, a in parts]
    chars = [p for p, c in zip(parts, is_char) if c]
    separate = [w for h, w, _ in chars if w <= ONE_WIDE * h]
    unit = float(np.median(separate)) if len(separate) >= 2 else CHAR_WIDTH * tallest
    count = sum(
        max(2, round(w / unit)) if w > ONE_WIDE * h >= ONE_WIDE * STROKES_TALL * stroke else 1 for h, w, _ in chars
    )
    inside = np.flatnonzero(is_char)
    between = range(int(inside[0]) + 1, int(inside[-1])) if inside.size else range(0)
    count += sum(1 for i in between if not is_char[i] and parts[i][2] >= SEPARATOR_AREA * heaviest)
    return max(count, 1)


# ---------------------------------------------------------------- pipeline


def _edge_tone(gray: np.ndarray, frame: np.ndarray, tolerance: float) -> tuple[float, float]:
    """(min, max) of the outermost pixel ring when it is one tone and 90% of the wider frame has it too.

    A clean digital digit drawn close to the edge (an enlarged MNIST crop) puts a
    few ink pixels into the frame that `clean_ink` looks at; shading or paper
    texture moves most of the frame, so the photo clean-up still gets those.
    Returns (0, 1) (not one tone) otherwise.
    """
    ring = np.concatenate([gray[0], gray[-1], gray[1:-1, 0], gray[1:-1, -1]])
    lo, hi = float(ring.min()), float(ring.max())
    if hi - lo > tolerance or np.count_nonzero(np.abs(frame - (lo + hi) / 2) <= tolerance) < 0.9 * frame.size:
        return 0.0, 1.0
    return lo, hi


def _plateau_tone(gray: np.ndarray, tolerance: float) -> tuple[float, float]:
    """(min, max) of the paper tone of a small clean picture whose digit fills it edge to edge, else (0, 1).

    Scanned cells stretched to fill their box (postal and form digits) put ink
    on every side of the frame, so no border tone exists. Their paper is still
    one exact tone: the darkest or lightest extreme, covering a large share of
    the picture (PLATEAU_SHARE). Photos (noise, shading) have no such plateau.
    """
    if max(gray.shape) > PLATEAU_SIDE:
        return 0.0, 1.0
    tones = [t for t in (float(gray.max()), float(gray.min())) if t < DARK_TONE or t > LIGHT_TONE]
    counts = [np.count_nonzero(np.abs(gray - t) <= tolerance) for t in tones]
    if not tones or max(counts) < PLATEAU_SHARE * gray.size:
        return 0.0, 1.0
    tone = tones[int(np.argmax(counts))]  # the larger plateau is the paper: ink is the smaller share
    return tone, tone


def clean_ink(gray: np.ndarray, tolerance: float = 0.02) -> np.ndarray | None:
    """Ink of a clean digital image, or None when the image needs the photo clean-up.

    Float32 (H, W) in [0, 1] -> ink float32 (H, W) in [0, 1], ink bright. A
    border of one exact tone, dark or light (MNIST crops, drawing apps, the web
    page's canvas, clean scans), means there is no shading or paper texture to
    remove: the ink is the distance from that tone. This skips most of the
    pipeline's time for such images.
    """
    frame = _frame(gray)
    lo, hi = float(frame.min()), float(frame.max())
    if hi - lo > tolerance:
        lo, hi = _edge_tone(gray, frame, tolerance)
    if hi - lo > tolerance:
        lo, hi = _plateau_tone(gray, tolerance)
    if hi - lo > tolerance or DARK_TONE <= lo <= LIGHT_TONE:
        return None
    ink = gray - hi if hi < DARK_TONE else lo - gray
    peak = float(ink.max())
    if peak < 0.1:
        return np.zeros_like(gray)
    ink = ink / peak
    return np.where(ink < 0.08, 0.0, ink).astype(np.float32)  # JPEG ringing around strokes is not ink


_AXIS = np.arange(MNIST_SIZE, dtype=np.float32)


def mnist_form(gray: np.ndarray) -> Prepared | None:
    """`Prepared` for an image already in MNIST form, else None.

    Float32 (28, 28) in [0, 1] with bright ink on an exactly black outer ring,
    whose ink spans 18 to 20 pixels and whose centre of mass is within 0.75 px
    of (14, 14): what MNIST's own crops are (99% of its test set). The network
    then reads the image as it is, with no resampling, as it saw MNIST in
    training; this skips the whole pipeline (bulk reading of MNIST crops).
    """
    if gray.shape != (MNIST_SIZE, MNIST_SIZE):
        return None
    by_row, by_col = gray.sum(1), gray.sum(0)  # (28,) each: the ring, the extent and the centre from two sums
    if by_row[0] or by_row[-1] or by_col[0] or by_col[-1]:
        return None
    rows, cols = np.flatnonzero(by_row), np.flatnonzero(by_col)
    if rows.size == 0:
        return None
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    if not MNIST_BOX - 2 <= max(bottom - top, right - left) <= MNIST_BOX:
        return None
    total = float(by_row.sum())
    cy, cx = float(by_row @ _AXIS) / total, float(by_col @ _AXIS) / total
    if abs(cy - MNIST_SIZE / 2) > 0.75 or abs(cx - MNIST_SIZE / 2) > 0.75:
        return None
    return Prepared(np.ascontiguousarray(gray, np.float32), False, (left, top, right, bottom))


def scaled_mnist_form(gray: np.ndarray) -> Prepared | None:
    """`Prepared` for a clean square image that is MNIST's form at a larger size, else None.

    Float32 (S, S), 28 < S <= WORK_SIDE, either polarity, one exact border tone
    (`clean_ink`): when its ink alone (no specks) spans 18/28 to 20/28 of the side,
    is centred by mass as MNIST is and has strokes well inside MNIST's widths,
    one area resampling to 28x28 is the whole preprocessing (an MNIST crop
    enlarged, a canvas drawn like MNIST). Anything else takes the full path.
    """
    side = gray.shape[0]
    if gray.shape[1] != side or not MNIST_SIZE < side <= WORK_SIDE:
        return None
    ink = clean_ink(gray)
    if ink is None:
        return None
    by_row, by_col = ink.sum(1), ink.sum(0)
    rows, cols = np.flatnonzero(by_row), np.flatnonzero(by_col)
    if rows.size == 0 or rows[0] == 0 or cols[0] == 0 or rows[-1] == side - 1 or cols[-1] == side - 1:
        return None
    k = side / MNIST_SIZE
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    if not (MNIST_BOX - 2) * k <= max(bottom - top, right - left) <= (MNIST_BOX + 1) * k:  # +1: resampling blur
        return None
    total = float(by_row.sum())
    axis = np.arange(side, dtype=np.float32)
    target = (MNIST_SIZE / 2 + 0.5) * k - 0.5  # MNIST's centre (14, 14) in this image's pixel indices
    if max(abs(float(by_row @ axis) / total - target), abs(float(by_col @ axis) / total - target)) > 0.75 * k:
        return None
    lo, hi = MNIST_STROKE_RANGE
    if not 1.1 * lo <= stroke_width(ink) / k <= 0.9 * hi:
        return None
    import cv2  # a core dependency; imported here so `predict one.png` does not pay for it

    small = cv2.resize(ink, (MNIST_SIZE, MNIST_SIZE), interpolation=cv2.INTER_AREA)  # area mean: a plain shrink
    peak = float(small.max())
    if peak <= 0:
        return None
    return Prepared(np.clip(small / peak, 0, 1), False, (left, top, right, bottom))


def find_ink(gray: np.ndarray, min_lines: int = 2) -> np.ndarray:
    """Gray float32 (H, W) in [0, 1], any polarity -> soft ink mask float32 (H, W) in [0, 1], ink bright.

    Rulings (box edges, underlines, ruled and graph paper, `digitrec.image.rulings`) are taken out of the ink.
    """
    clean = clean_ink(gray)
    if clean is not None:
        return _without_rulings(clean, find_rulings(clean))
    ink, flat = recover_ink(gray)
    rulings = find_rulings(ink)
    if rulings.segments:
        # NOTE: rulings found go by their own pixels, strokes crossing them put back; the rows' median of
        # `remove_lines` would cut a white gap through every thick stroke a ruled line crosses.
        return _without_rulings(ink, rulings)
    lined = remove_lines(flat, min_lines)
    soft = soft_threshold(lined)
    if soft.any() or max(gray.shape) > PLATEAU_SIDE or float(lined.max(initial=0.0)) < FILLED_CONTRAST:
        return soft
    # NOTE: a digit filling its whole picture leaves too little background to measure the noise on; set on
    # paper (zeros) as a scanner would show it, its levels are measured right.
    h, w = lined.shape
    padded = np.pad(lined, ((h, h), (w, w)))
    return soft_threshold(padded)[h:-h, w:-w]


def _without_rulings(ink: np.ndarray, rulings: Rulings) -> np.ndarray:
    """float32 (H, W) soft ink less its `rulings`; zeros when all that is left is fainter than a stroke (PART_INK):
    a blank ruled page leaves only its lines' faint fringe, which the digit's box would scale up to a digit."""
    if not rulings.segments:
        return ink
    left = remove_rulings(ink, rulings)
    return left if float(left.max(initial=0.0)) >= PART_INK else np.zeros_like(left)


def _only_rulings(gray: np.ndarray) -> bool:
    """True when gray float32 (H, W) has ink and all of it is ruled lines (`find_ink` found no ink besides)."""
    small = limit_side(gray)
    ink = clean_ink(small)
    if ink is None:
        ink = recover_ink(small)[0]
    return ink_box(ink) is not None and bool(find_rulings(ink).segments)


def _locate(gray: np.ndarray, min_lines: int = 2) -> tuple[np.ndarray, tuple[int, int, int, int] | None, float]:
    """Soft ink of `gray` at work size, the digit's box in it, and the work-to-`gray` scale."""
    small = limit_side(gray)
    ink = find_ink(small, min_lines)
    return ink, ink_box(ink), gray.shape[0] / small.shape[0]


def prepare(source: ImageSource, name: str | None = None, fast_png: bool = False) -> Prepared:
    """Any image (path, bytes, file object, Pillow image or array) -> `Prepared` 28x28 MNIST-form digit.

    The digit is found on a copy reduced to WORK_SIDE; in a large photo its
    region (with a margin of paper) is then cut from the full-size image and
    read again, so a small digit far off-centre keeps its strokes. With
    `fast_png` (bulk reading), plain gray PNG files are decoded by OpenCV
    (`digitrec.io.fastdecode`), several times faster than Pillow, same pixels.
    """
    gray, decoded = load_gray(source, name, fast_png)
    if gray.size == 0:
        raise BadImage(f"{name or '<image>'}: image has no pixels")
    lean = mnist_form(gray) or scaled_mnist_form(gray)
    if lean is not None:
        return lean
    ink, box, scale = _locate(gray)
    if box is None:
        return Prepared(np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32), True, None, ruled=_only_rulings(gray))
    filled = filled_box(ink)
    if filled is not None:  # a scanned cell: the digit is the whole picture, one character, all of its ink
        box, parts = (min(box[0], filled[0]), min(box[1], filled[1]), max(box[2], filled[2]), max(box[3], filled[3])), 1
    else:
        parts = count_characters(ink, box)  # NOTE: on the whole picture, before the digit's region is cut out
    line = character_band(ink, box) if parts > 1 else None
    x0, y0 = 0, 0
    if scale > 1.5:
        left, top, right, bottom = (round(v * scale) for v in box)
        pad = round(REREAD_MARGIN * max(right - left, bottom - top)) + 4
        x0, y0 = max(left - pad, 0), max(top - pad, 0)
        crop = gray[y0 : bottom + pad, x0 : right + pad]
        ruled = len(_runs(line_rows(ink_strength(limit_side(gray))))) >= 2
        ink2, box2, scale2 = _locate(crop, 1 if ruled else 2)
        if box2 is not None:
            ink, box, scale = ink2, box2, scale2
        else:
            x0, y0 = 0, 0
    left, top, right, bottom = box
    image = to_mnist(ink[top:bottom, left:right])
    h, w = round(gray.shape[0] * decoded), round(gray.shape[1] * decoded)
    full_box = (
        int((x0 + left * scale) * decoded), int((y0 + top * scale) * decoded),
        min(w, int(np.ceil((x0 + right * scale) * decoded))), min(h, int(np.ceil((y0 + bottom * scale) * decoded))),
    )  # fmt: skip
    return Prepared(image, False, full_box, parts, line)


def prepare_ink(ink: np.ndarray) -> Prepared:
    """Soft ink float32 (H, W) in [0, 1], ink bright, rulings already taken out (a form's cell) -> `Prepared`.

    `box` is in `ink`'s pixels. No ruling search and no photo clean-up: a thick
    digit's straight sides would be taken for a box's edges a second time.
    """
    box = ink_box(ink)
    if box is None:
        return Prepared(np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32), True, None)
    parts = count_characters(ink, box)
    left, top, right, bottom = box
    line = character_band(ink, box) if parts > 1 else None
    return Prepared(to_mnist(ink[top:bottom, left:right]), False, box, parts, line)


def preprocess(source: ImageSource) -> np.ndarray:
    """Any image -> float32 (28, 28) in [0, 1], white digit on black, as MNIST (zeros when blank)."""
    return prepare(source).image


class _CallableModule(types.ModuleType):
    """This module, callable as its `preprocess` function.

    `digitrec.image.preprocess` is both documented names: `digitrec.image.preprocess(image)`
    and `digitrec.image.preprocess.prepare(image)`. When the package bound the
    function over the module, the second raised AttributeError.
    """

    def __call__(self, source: ImageSource) -> np.ndarray:
        return preprocess(source)


sys.modules[__name__].__class__ = _CallableModule
