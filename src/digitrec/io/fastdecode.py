"""A fast decoder for the commonest bulk input: complete, 8-bit grayscale PNG files.

Pillow spends ~0.3 ms on the bookkeeping around a 28x28 PNG (open, plugin
probing, load, EXIF, conversions); OpenCV's decoder takes a fifth of that.
Only files whose chunks say "8-bit gray, no transparency, no EXIF, ends with
IEND" take this path, so the pixels are the ones Pillow would give; anything
else (and any file OpenCV refuses) returns None and goes through Pillow,
which also words the errors.
"""

from __future__ import annotations

import struct

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PIXELS = 4_000_000  # bigger files are photos: Pillow's reduced-size decoding pays off there
# Chunks that change no pixel value of an 8-bit gray image as Pillow reads it.
HARMLESS = {
    b"IHDR",
    b"IDAT",
    b"IEND",
    b"pHYs",
    b"tEXt",
    b"zTXt",
    b"iTXt",
    b"tIME",
    b"gAMA",
    b"sRGB",
    b"cHRM",
    b"iCCP",
    b"bKGD",
    b"sBIT",
}


def plain_gray_png(data: bytes) -> bool:
    """True for a complete PNG (chunks up to IEND) of 8-bit gray pixels without transparency or EXIF."""
    if not data.startswith(SIGNATURE) or len(data) < 33:
        return False
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    if data[12:16] != b"IHDR" or depth != 8 or color != 0 or width * height > MAX_PIXELS:
        return False
    i = 8
    while i + 8 <= len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        if kind not in HARMLESS:
            return False
        i += 12 + length
        if kind == b"IEND":
            return i == len(data)
    return False  # truncated: Pillow says so


def decode_gray_png(path: str) -> np.ndarray | None:
    """float32 (H, W) in [0, 1] of a plain 8-bit gray PNG file (see `plain_gray_png`), else None."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None  # Pillow's path words the error
    if not plain_gray_png(data):
        return None
    import cv2

    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None or img.ndim != 2 or img.dtype != np.uint8:
        return None
    return img.astype(np.float32) / 255.0
