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

import io
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from .errors import BadImage

# NOTE: far above any phone photo (~50 MP) and far below a decompression bomb; checked before decoding.
MAX_PIXELS = 80_000_000
WORK_SIDE = 512  # photos are reduced to this longest side before analysis: digits stay tens of pixels tall
MNIST_BOX = 20
MNIST_SIZE = 28
MNIST_STROKE = 2.6  # median stroke width of MNIST digits in their 20x20 box, in pixels (measured on train)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}

ImageSource = Union[str, os.PathLike, bytes, BinaryIO, Image.Image, np.ndarray]


@dataclass(frozen=True)
class Prepared:
    """A preprocessed input: `image` float32 (28, 28) in [0, 1], white ink on black.

    `blank` is True when no ink was found (the image is then all zeros);
    `box` is the (left, top, right, bottom) of the ink in the original image's pixels.
    """

    image: np.ndarray
    blank: bool
    box: tuple[int, int, int, int] | None = None


# ---------------------------------------------------------------- loading


def open_image(source: ImageSource, name: str | None = None, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode a file path, bytes or file object into an upright Pillow image (EXIF rotation applied).

    Raises BadImage with a one-line reason for a missing file, a non-image, a
    truncated file or an image with more than `max_pixels` pixels.
    """
    if isinstance(source, Image.Image):
        return source
    label = name or (str(source) if isinstance(source, (str, os.PathLike)) else "<image>")
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise BadImage(f"{label}: no such file")
        if path.is_dir():
            raise BadImage(f"{label}: is a directory, not an image")
    fp = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(fp)
            if img.width * img.height > max_pixels:
                raise BadImage(f"{label}: image too large ({img.width}x{img.height} pixels, limit {max_pixels:,})")
            img.draft("L", (2 * WORK_SIDE, 2 * WORK_SIDE))  # JPEG: decode at reduced size, much faster
            img.load()
            return ImageOps.exif_transpose(img)
    except BadImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImage(f"{label}: image too large (decompression bomb)") from None
    except UnidentifiedImageError:
        raise BadImage(f"{label}: not an image (unrecognised format)") from None
    except FileNotFoundError:
        raise BadImage(f"{label}: no such file") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        reason = "truncated or corrupt image" if "truncat" in str(e) or isinstance(e, (SyntaxError, EOFError)) else str(e)
        raise BadImage(f"{label}: {reason}") from None


def to_gray(img: Image.Image) -> np.ndarray:
    """Pillow image -> float32 (H, W) luminance in [0, 1].

    Transparent pixels (drawing apps export strokes on a transparent canvas,
    often with black RGB underneath) are composited onto a background that
    contrasts with the opaque strokes.
    """
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"), np.float32) / 255.0
        lum = np.asarray(rgba.convert("L"), np.float32) / 255.0
        if alpha.min() < 0.98:
            opaque = alpha > 0.5
            stroke = float(lum[opaque].mean()) if opaque.any() else 0.0
            paper = 1.0 if stroke < 0.5 else 0.0
            return (lum * alpha + paper * (1.0 - alpha)).astype(np.float32)
        return lum
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(img, np.float32)
        return (a - a.min()) / max(float(a.max() - a.min()), 1.0)
    if img.mode == "F":
        a = np.asarray(img, np.float32)
        return np.clip(a / max(float(a.max()), 1e-6), 0, 1) if a.max() > 1 else a
    return np.asarray(img.convert("L"), np.float32) / 255.0


def from_array(a: np.ndarray) -> np.ndarray:
    """A user's array -> float32 (H, W) in [0, 1]: uint8 is divided by 255, floats are kept, RGB(A) averaged."""
    a = np.asarray(a)
    if a.ndim == 3 and a.shape[-1] in (3, 4):
        a = a[..., :3].mean(-1)
    a = np.squeeze(a)
    if a.ndim != 2:
        raise BadImage(f"array of shape {a.shape}: expected a 2-D gray image (H, W)")
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255.0
    a = a.astype(np.float32)
    if a.size and a.max() > 1.0:
        a = a / 255.0
    return np.clip(a, 0.0, 1.0)


# ---------------------------------------------------------------- pure steps


def _pil(a: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(a, np.float32), mode="F")


def resize(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-aware resize of float32 (H, W) to (height, width)."""
    h, w = size
    return np.asarray(_pil(a).resize((max(w, 1), max(h, 1)), Image.BILINEAR, reducing_gap=2.0), np.float32)


def limit_side(gray: np.ndarray, side: int = WORK_SIDE) -> np.ndarray:
    """Shrink float32 (H, W) so its longer side is at most `side` (photos of several megapixels)."""
    h, w = gray.shape
    scale = side / max(h, w)
    return gray if scale >= 1 else resize(gray, (round(h * scale), round(w * scale)))


def border_level(gray: np.ndarray) -> float:
    """Median of the outer frame of float32 (H, W): the background's brightness."""
    h, w = gray.shape
    m = max(1, min(h, w) // 20)
    frame = np.concatenate([gray[:m].ravel(), gray[-m:].ravel(), gray[:, :m].ravel(), gray[:, -m:].ravel()])
    return float(np.median(frame))


def ink_on_paper(gray: np.ndarray) -> np.ndarray:
    """Make the ink dark and the background light: invert white-on-black (chalk, MNIST) images."""
    return 1.0 - gray if border_level(gray) < 0.5 else gray


def paper_level(dark_on_light: np.ndarray) -> np.ndarray:
    """Estimate the local paper brightness under the ink (float32 (H, W)) for shading correction.

    A max filter wider than a stroke closes the dark ink, a blur smooths the
    result; both run on a small copy, so this costs the same for any photo size.
    """
    h, w = dark_on_light.shape
    small = limit_side(dark_on_light, 48)
    # NOTE: 8-bit for the filters (Pillow blurs only 8-bit images); the paper level needs no more precision.
    img = Image.fromarray(np.round(small * 255).astype(np.uint8), mode="L")
    img = img.filter(ImageFilter.MaxFilter(7)).filter(ImageFilter.GaussianBlur(3))
    return resize(np.asarray(img, np.float32) / 255.0, (h, w))


def flatten_lighting(dark_on_light: np.ndarray) -> np.ndarray:
    """Ink strength in [0, 1] (float32 (H, W), ink bright) with shadows and gradients divided out."""
    paper = np.maximum(paper_level(dark_on_light), 1e-3)
    # NOTE: the global paper level caps the estimate, so one big thick digit cannot pass as "paper".
    paper = np.minimum(paper, max(float(np.percentile(dark_on_light, 90)), 1e-3) * 1.05)
    return np.clip(1.0 - dark_on_light / paper, 0.0, 1.0)


def otsu_threshold(a: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold of float32 values in [0, 1]: the cut that best separates two classes."""
    hist, edges = np.histogram(a, bins=bins, range=(0.0, 1.0))
    p = hist.astype(np.float64) / max(hist.sum(), 1)
    w0 = np.cumsum(p)
    mu = np.cumsum(p * (edges[:-1] + edges[1:]) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * w0 - mu) ** 2 / (w0 * (1 - w0))
    return float(edges[int(np.nanargmax(between)) + 1]) if np.isfinite(between).any() else 0.5


def soft_threshold(ink: np.ndarray, min_contrast: float = 0.15) -> np.ndarray:
    """Soft mask of float32 (H, W) ink strength: 0 below half the Otsu cut, ramping to 1 at the strong ink.

    Unlike a hard cut this keeps anti-aliased stroke edges, which MNIST has too.
    Returns zeros when the image holds no ink stronger than `min_contrast`.
    """
    peak = float(np.percentile(ink, 99.9)) if ink.size else 0.0
    if peak < min_contrast:
        return np.zeros_like(ink)
    t = max(otsu_threshold(ink / peak) * peak, min_contrast * 0.6)
    strong = ink[ink > t]
    hi = float(np.percentile(strong, 75)) if strong.size else peak
    lo = 0.5 * t
    return np.clip((ink - lo) / max(hi - lo, 1e-3), 0.0, 1.0).astype(np.float32)


def ink_box(ink: np.ndarray, mass: float = 0.995) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) holding `mass` of the ink in float32 (H, W); None when blank.

    Quantiles of the ink mass rather than the extreme pixels, so a speck of
    dust in a corner does not stretch the box.
    """
    total = float(ink.sum())
    if total <= 0:
        return None
    cut = (1.0 - mass) / 2

    def span(profile: np.ndarray) -> tuple[int, int]:
        c = np.cumsum(profile) / total
        return int(np.searchsorted(c, cut)), int(np.searchsorted(c, 1.0 - cut)) + 1

    top, bottom = span(ink.sum(1))
    left, right = span(ink.sum(0))
    return left, top, min(right, ink.shape[1]), min(bottom, ink.shape[0])


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in pixels of float32 (H, W) ink: ink area over half its perimeter."""
    mask = ink > 0.5
    area = float(mask.sum())
    if area == 0:
        return 0.0
    edges = float((mask[1:] != mask[:-1]).sum() + (mask[:, 1:] != mask[:, :-1]).sum())
    return 2.0 * area / max(edges, 1.0)


def normalize_stroke(ink: np.ndarray, target: float) -> np.ndarray:
    """Thicken hairlines or thin marker strokes of float32 (H, W) ink towards `target` pixels wide."""
    width = stroke_width(ink)
    if width == 0:
        return ink
    steps = int(round((target - width) / 2))  # a 3x3 max/min filter changes the width by 2 px
    if abs(target - width) < 0.35 * target or steps == 0:
        return ink
    kind = ImageFilter.MaxFilter(3) if steps > 0 else ImageFilter.MinFilter(3)
    img = _pil(ink)
    for _ in range(min(abs(steps), 6)):
        img = img.filter(kind)
    out = np.asarray(img, np.float32)
    return out if out.max() > 0 else ink


def fit_box(ink: np.ndarray, box: int = MNIST_BOX) -> np.ndarray:
    """Scale float32 (H, W) ink so its longer side is `box` pixels, keeping the aspect ratio."""
    h, w = ink.shape
    scale = box / max(h, w)
    out = resize(ink, (max(1, round(h * scale)), max(1, round(w * scale))))
    peak = out.max()
    return np.clip(out / peak, 0, 1) if peak > 0 else out


def center_by_mass(ink: np.ndarray, size: int = MNIST_SIZE) -> np.ndarray:
    """Place float32 (h, w) ink (h, w <= size) in a size x size frame with its centre of mass at the centre."""
    h, w = ink.shape
    total = float(ink.sum())
    ys, xs = np.indices(ink.shape)
    cy = float((ys * ink).sum() / total) if total > 0 else (h - 1) / 2
    cx = float((xs * ink).sum() / total) if total > 0 else (w - 1) / 2
    top = int(round((size - 1) / 2 - cy))
    left = int(round((size - 1) / 2 - cx))
    top = min(max(top, 0), size - h)
    left = min(max(left, 0), size - w)
    out = np.zeros((size, size), np.float32)
    out[top : top + h, left : left + w] = ink
    return out


def to_mnist(ink: np.ndarray) -> np.ndarray:
    """Cropped float32 ink (h, w), ink bright -> (28, 28) float32 in [0, 1], MNIST-style."""
    # Work at 4x the MNIST box so stroke repairs happen at a known scale.
    work = fit_box(ink, 4 * MNIST_BOX) if max(ink.shape) > 4 * MNIST_BOX else ink
    scale = (4 * MNIST_BOX) / max(work.shape)
    work = normalize_stroke(work, MNIST_STROKE * 4 / scale)
    return center_by_mass(fit_box(work, MNIST_BOX))


# ---------------------------------------------------------------- pipeline


def prepare(source: ImageSource, name: str | None = None) -> Prepared:
    """Any image (path, bytes, file object, Pillow image or array) -> `Prepared` 28x28 MNIST-form digit."""
    gray = from_array(source) if isinstance(source, np.ndarray) else to_gray(open_image(source, name))
    if gray.size == 0:
        raise BadImage(f"{name or '<image>'}: image has no pixels")
    full_h, full_w = gray.shape
    gray = limit_side(gray)
    ink = soft_threshold(flatten_lighting(ink_on_paper(gray)))
    box = ink_box(ink)
    if box is None:
        return Prepared(np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32), True, None)
    left, top, right, bottom = box
    image = to_mnist(ink[top:bottom, left:right])
    sy, sx = full_h / gray.shape[0], full_w / gray.shape[1]
    full_box = (int(left * sx), int(top * sy), int(np.ceil(right * sx)), int(np.ceil(bottom * sy)))
    return Prepared(image, False, full_box)


def preprocess(source: ImageSource) -> np.ndarray:
    """Any image -> float32 (28, 28) in [0, 1], white digit on black, as MNIST (zeros when blank)."""
    return prepare(source).image


def is_image_file(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def iter_image_paths(paths: list[str]) -> Iterator[str]:
    """Yield image files from files and folders (folders walked recursively, sorted), lazily.

    Files named explicitly are yielded whatever their suffix, so a bad one gets
    its own error; inside folders only image suffixes are picked up.
    """
    for p in paths:
        if os.path.isdir(p):
            yield from _walk(p)
        else:
            yield p


def _walk(folder: str) -> Iterator[str]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for e in entries:
        if e.is_dir(follow_symlinks=False):
            yield from _walk(e.path)
        elif is_image_file(e.name) and not e.name.startswith("."):
            yield e.path

