"""Synthetic pictures of digits on paper, for evaluation sets, benchmarks and tests.

Feed these only MNIST *test* digits (or other held-out ink): pictures made from
training digits would flatter every figure measured with them.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter


def digit_line(images: np.ndarray, gaps: list[int], rng: np.random.Generator) -> np.ndarray:
    """MNIST digits uint8 (k, 28, 28), white on black -> one line uint8 (28 + 8, W), white on black.

    Each digit is cut to its ink columns and placed `gaps[i]` pixels after the
    previous one (negative: overlapping), shifted up or down by up to 2 pixels.
    """
    parts = []
    for img in images:
        cols = np.flatnonzero(img.max(0) > 0)
        parts.append(img[:, cols[0] : cols[-1] + 1] if cols.size else img[:, 10:18])
    width = sum(p.shape[1] for p in parts) + sum(gaps) + 16
    line = np.zeros((36, max(width, 16)), np.uint8)
    x = 8
    for i, p in enumerate(parts):
        y = 4 + int(rng.integers(-2, 3))
        region = line[y : y + 28, x : x + p.shape[1]]
        np.maximum(region, p, out=region)
        x += p.shape[1] + (gaps[i] if i < len(gaps) else 0)
    return line


def on_paper(ink: np.ndarray, scale: float) -> Image.Image:
    """uint8 (H, W) white-on-black ink -> dark ink on white paper, enlarged `scale` times."""
    h, w = ink.shape
    return Image.fromarray(255 - ink).resize((round(w * scale), round(h * scale)), Image.BILINEAR)


def photo(ink: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """uint8 (H, W) white-on-black ink -> a JPEG 'photo': a bigger tinted sheet, blue-black ink, shading, blur, noise."""
    scale = rng.uniform(3, 6)
    big = np.asarray(Image.fromarray(ink).resize((round(ink.shape[1] * scale), round(ink.shape[0] * scale)), Image.BILINEAR), np.float32) / 255
    h, w = big.shape
    H, W = int(h * rng.uniform(1.8, 3.0)), int(w * rng.uniform(1.2, 1.6))
    y0, x0 = int(rng.integers(0, H - h)), int(rng.integers(0, W - w))
    alpha = np.zeros((H, W), np.float32)
    alpha[y0 : y0 + h, x0 : x0 + w] = big * rng.uniform(0.75, 1.0)
    paper = np.array([rng.uniform(200, 245), rng.uniform(195, 240), rng.uniform(180, 225)], np.float32)
    pen = np.array([rng.uniform(10, 60), rng.uniform(10, 60), rng.uniform(60, 130)], np.float32)
    a = paper * (1 - alpha[..., None]) + pen * alpha[..., None]
    gx, gy = np.linspace(0, 1, W)[None, :], np.linspace(0, 1, H)[:, None]
    angle = rng.uniform(0, 2 * np.pi)
    shade = 1.0 - rng.uniform(0.2, 0.45) * np.clip(np.cos(angle) * gx + np.sin(angle) * gy, 0, 1)
    a = a * shade[..., None] + rng.normal(0, rng.uniform(2, 7), a.shape)
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=int(rng.integers(55, 90)))
    return Image.open(io.BytesIO(buf.getvalue()))
