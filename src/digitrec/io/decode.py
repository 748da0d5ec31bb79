"""Decode image files and find them in folders: the input side of `preprocess` and `segment`.

`open_image` turns a path, bytes or file object into an upright Pillow image
(refusing decompression bombs), `load_gray` into a float32 (H, W) array in
[0, 1]; `iter_image_paths` walks files and folders the same way for every
command (sorted, recursive, image suffixes only inside folders). Numpy and
Pillow only (OpenCV for plain gray PNGs when installed), so reading starts fast.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import BadImage, ImageTooLarge
from .documents import (
    DOCUMENT_SUFFIXES,
    is_heif,
    is_pdf,
    is_pdf_path,
    open_heif,
    pdf_pages,
    render_pdf_page,
    split_page,
)

# NOTE: far above any phone photo (~50 MP) and far below a decompression bomb; checked before decoding.
MAX_PIXELS = 80_000_000
DECODE_SIDE = 1024  # JPEGs are decoded at 1/2, 1/4 or 1/8 scale while the shorter side stays at least this long
DECODE_SCALE = "digitrec.decode_scale"  # Image.info key: original pixels per decoded pixel
# NOTE: larger pictures are box-reduced by a whole factor before the float steps (as JPEGs are decoded at reduced
# size), so no picture costs more than this many float pixels in time and memory; a digit keeps hundreds of pixels.
REDUCE_PIXELS = 12_000_000
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
HEAD_BYTES = 16  # enough of a file's start to tell a PDF or HEIC from the formats Pillow knows

ImageSource = str | os.PathLike | bytes | BinaryIO | Image.Image | np.ndarray


# ---------------------------------------------------------------- decoding


def open_image(source: ImageSource, name: str | None = None, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode a file path, bytes or file object into an upright Pillow image (EXIF rotation applied).

    Raises BadImage with a one-line reason for a missing file, a non-image, a
    truncated file or an image with more than `max_pixels` pixels.
    """
    if isinstance(source, Image.Image):
        return _convertible(source)
    label = name or (str(source) if isinstance(source, (str, os.PathLike)) else "<image>")
    if isinstance(source, (str, os.PathLike)):
        source, page = split_page(os.fspath(source))
        if page is not None:  # "scan.pdf#page=2"
            return render_pdf_page(source, page, label, max_pixels)
        path = Path(source)
        if not path.exists():
            raise BadImage(f"{label}: no such file")
        if path.is_dir():
            raise BadImage(f"{label}: is a directory, not an image")
    fp = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    head = _head(fp)
    if is_pdf(head):  # NOTE: a PDF given as one picture is its first page; folder walks name every page
        return render_pdf_page(source if isinstance(source, (str, os.PathLike, bytes)) else fp.read(), 1, label)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = open_heif(fp, label) if is_heif(head) else Image.open(fp)
            if img.width * img.height > max_pixels:
                raise ImageTooLarge(f"{label}: image too large ({img.width}x{img.height} pixels, limit {max_pixels:,})")
            full = img.size
            img.draft("L", (DECODE_SIDE, DECODE_SIDE))  # JPEG: decode at reduced size, much faster
            img.load()
            if img.size != full:
                # NOTE: callers report boxes in the file's pixels: keep the factor back to its full size.
                img.info[DECODE_SCALE] = full[0] / img.width
            return _convertible(ImageOps.exif_transpose(img))
    except BadImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(f"{label}: image too large (decompression bomb)") from None
    except UnidentifiedImageError:
        raise BadImage(f"{label}: not an image (unrecognised format)") from None
    except FileNotFoundError:
        raise BadImage(f"{label}: no such file") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        reason = (
            "truncated or corrupt image" if "truncat" in str(e) or isinstance(e, (SyntaxError, EOFError)) else str(e)
        )
        raise BadImage(f"{label}: {reason}") from None


def _head(fp) -> bytes:
    """The first bytes of a path's file or of a seekable file object (left where it was); b"" otherwise."""
    try:
        if isinstance(fp, (str, os.PathLike)):
            with open(fp, "rb") as f:
                return f.read(HEAD_BYTES)
        at = fp.tell()
        head = fp.read(HEAD_BYTES)
        fp.seek(at)
        return head if isinstance(head, bytes) else b""
    except (OSError, AttributeError, ValueError):
        return b""


def _convertible(img: Image.Image) -> Image.Image:
    """`img`, or its lightness for the two modes Pillow cannot convert to gray (CIELAB TIFFs, premultiplied La)."""
    # NOTE: found by bench/fuzz.py: a LAB TIFF made `convert("L")` raise ValueError.
    if img.mode in ("LAB", "La"):
        return img.getchannel(0)
    return img


def _reduced(img: Image.Image) -> tuple[Image.Image, int]:
    """`img` box-reduced by the smallest whole factor that brings it under REDUCE_PIXELS, and that factor."""
    factor = int(np.ceil(np.sqrt(img.width * img.height / REDUCE_PIXELS)))
    if factor <= 1:
        return img, 1
    # NOTE: Pillow's reduce takes neither palette, 1-bit nor 16-bit images; these conversions keep what to_gray reads.
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "L")
    elif img.mode == "1" or img.mode.startswith("I;16"):
        img = img.convert("L" if img.mode == "1" else "I")
    return img.reduce(factor), factor


def load_gray(source: ImageSource, name: str | None = None, fast_png: bool = False) -> tuple[np.ndarray, float]:
    """Any image -> (gray float32 (H, W) in [0, 1], factor from its pixels to the original image's pixels).

    The factor is 1 except for JPEGs decoded at reduced size (then 2, 4 or 8)
    and pictures over REDUCE_PIXELS, which are box-reduced by a whole factor so
    time and memory stay bounded: multiply a box found in `gray` by it to get
    the box in the file's pixels.
    With `fast_png` (bulk reading), a plain gray PNG file is decoded by OpenCV
    (`digitrec.io.fastdecode`), several times faster than Pillow, same pixels.
    """
    source = _checked_source(source, name)
    if isinstance(source, np.ndarray):
        return from_array(source), 1.0
    if fast_png and isinstance(source, (str, os.PathLike)):
        from .fastdecode import decode_gray_png

        gray = decode_gray_png(os.fspath(source))
        if gray is not None:
            return gray, 1.0
    img = open_image(source, name)
    decoded = float(img.info.get(DECODE_SCALE, 1.0))
    img, factor = _reduced(img)
    return to_gray(img), decoded * factor


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
        a = np.nan_to_num(np.asarray(img, np.float32), nan=0.0, posinf=0.0, neginf=0.0)  # NaN/inf: no ink known
        return np.clip(a / max(float(a.max()), 1e-6), 0, 1) if a.max() > 1 else a
    return np.asarray(img.convert("L"), np.float32) / 255.0


def _checked_source(source: Any, name: str | None) -> ImageSource:
    """`source` if it is a kind of image we read (memoryview and bytearray as bytes), else BadImage in one line.

    Without it, None, a number or a list failed deep inside Pillow with an AttributeError.
    """
    if isinstance(source, (memoryview, bytearray)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike, bytes, Image.Image, np.ndarray)) or hasattr(source, "read"):
        return source
    hint = "; for nested lists of pixels use numpy.asarray(...)" if isinstance(source, (list, tuple)) else ""
    raise BadImage(
        f"{name or '<image>'}: input of type {type(source).__name__} is not an image: expected a file path, bytes, "
        f"a binary file object, a Pillow image or a numpy array{hint}"
    )


def from_array(a: np.ndarray) -> np.ndarray:
    """A user's array -> float32 (H, W) in [0, 1]: uint8 is divided by 255, floats are kept, RGB(A) averaged.

    Values are brightness, either polarity (dark ink on light paper or light on dark, as for files). NaN,
    infinite or negative values are refused (BadImage): they are no picture, not a blank one.
    """
    a = np.asarray(a)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise BadImage(f"array of dtype {a.dtype}: expected numbers (uint8 0-255 or floats 0-1)")
    if a.ndim == 3 and a.shape[-1] in (3, 4):
        a = a[..., :3].mean(-1)
    a = np.squeeze(a)
    if a.ndim != 2:
        raise BadImage(f"array of shape {a.shape}: expected a 2-D gray image (H, W)")
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255.0
    a = a.astype(np.float32)
    if not np.isfinite(a).all():
        bad = int((~np.isfinite(a)).sum())
        raise BadImage(f"array holds {bad:,} NaN or infinite values of {a.size:,}: expected brightness 0-1 or 0-255")
    if a.size and a.min() < 0:
        raise BadImage(f"array holds negative values (min {a.min():.3g}): expected brightness 0-1 or 0-255")
    if a.size and a.max() > 1.0:
        a = a / 255.0
    return np.clip(a, 0.0, 1.0)


# ---------------------------------------------------------------- finding image files


def is_image_file(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES | DOCUMENT_SUFFIXES


def iter_image_paths(paths: list[str]) -> Iterator[str]:
    """Yield image files from files and folders (folders walked recursively, sorted), lazily.

    Files named explicitly are yielded whatever their suffix, so a bad one gets
    its own error; inside folders only image suffixes (and .pdf, .heic, .heif)
    are picked up. A PDF yields each of its pages by name: "scan.pdf#page=1".
    """
    for p in paths:
        if os.path.isdir(p):
            for f in _walk(p):
                yield from _pages(f)
        else:
            yield from _pages(p)


def _pages(path: str) -> list[str]:
    """A PDF's pages by name ("scan.pdf#page=1", ...), or [path] for any other file."""
    return pdf_pages(path) if is_pdf_path(path) and os.path.isfile(path) else [path]


def has_images(folder: str) -> bool:
    """True when `folder` (searched recursively, as `iter_image_paths` does) holds at least one image file.

    Stops at the first one found, without sorting, so it is cheap on huge folders.
    """
    return any(True for _ in _scan(folder))


def count_images(targets: list[str]) -> int:
    """How many pictures `iter_image_paths(targets)` will yield (a PDF's pages counted): one os.scandir pass, no
    sorting, O(depth) memory."""
    return sum(sum(len(_pages(f)) for f in _scan(p)) if os.path.isdir(p) else len(_pages(p)) for p in targets)


def _scan(folder: str) -> Iterator[str]:
    """The image files under `folder`, unsorted: what `_walk` yields, without holding a folder's listing."""
    stack = [folder]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for e in it:
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
                    elif _is_listed_image(e.name):
                        yield e.path
        except OSError:
            continue


def _is_listed_image(name: str) -> bool:
    # NOTE: hidden files (macOS ._ resource forks, editors' temporaries) are left out of folders.
    return is_image_file(name) and not name.startswith(".")


def _walk(folder: str) -> Iterator[str]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for e in entries:
        if e.is_dir(follow_symlinks=False):
            yield from _walk(e.path)
        elif _is_listed_image(e.name):
            yield e.path


__all__ = [
    "DECODE_SCALE", "IMAGE_SUFFIXES", "MAX_PIXELS", "ImageSource", "count_images", "from_array", "has_images",
    "is_image_file", "iter_image_paths", "load_gray", "open_image", "to_gray",
]  # fmt: skip
