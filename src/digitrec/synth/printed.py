"""Printed (typed) digits rendered from the fonts matplotlib ships, in MNIST form.

The strong model trains on `fonts.PRINTED_TRAIN` so it reads typed numbers too;
`fonts.PRINTED_EVAL` are never used in any training and measure how well that generalises.
Each digit is drawn white-on-black on a 64x64 canvas, slightly rotated, and
passed through `preprocess.prepare` like a user's image.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from ..image.preprocess import prepare
from .fonts import PRINTED_TRAIN, load_fonts
from .nondigits import CANVAS

MAX_TILT = 6.0  # degrees: typed digits sit almost upright


def render(n: int, seed: int = 0, fonts: tuple[str, ...] = PRINTED_TRAIN) -> tuple[list[np.ndarray], np.ndarray]:
    """`n` raw printed digits uint8 (64, 64) white-on-black and their labels int64 (n,)."""
    rng = np.random.default_rng(seed)
    loaded = load_fonts(fonts, sizes=(36, 44, 52))
    labels = rng.integers(0, 10, n)
    pictures = []
    for label in labels:
        img = Image.new("L", (CANVAS, CANVAS), 0)
        font = loaded[rng.integers(len(loaded))]
        ImageDraw.Draw(img).text((CANVAS / 2, CANVAS / 2), str(label), fill=255, font=font, anchor="mm")
        pictures.append(np.asarray(img.rotate(rng.uniform(-MAX_TILT, MAX_TILT), resample=Image.BILINEAR)))
    return pictures, labels.astype(np.int64)


def make(n: int, seed: int = 0, fonts: tuple[str, ...] = PRINTED_TRAIN) -> tuple[np.ndarray, np.ndarray]:
    """`n` printed digits in MNIST form: uint8 (n, 28, 28) white-on-black, and labels int64 (n,)."""
    pictures, labels = render(n, seed, fonts)
    images = np.zeros((n, 28, 28), np.uint8)
    for i, picture in enumerate(pictures):
        images[i] = np.round(prepare(picture.astype(np.float32) / 255.0).image * 255).astype(np.uint8)
    return images, labels
