"""Honest evaluation sets on disk: MNIST *test* digits (never train) made to look like photos and scans.

`write_photo_set` draws each digit with `synth.digit_photo` as pen, marker or
chalk on a canvas of 300-2000 px (small digits on photos up to 3000x2000), at a
random scale and off-centre position, on white, cream or coloured paper with
texture, sometimes ruled lines, a lighting gradient or a shadow, then blurred,
given sensor noise and saved as JPEG; some as transparent PNGs, some as JPEGs
stored rotated with an EXIF Orientation tag. Conditions are assigned in turn, so
every condition gets the same share. The same seed gives the same files.

`write_optdigits` renders scikit-learn's bundled UCI optdigits (1,797 8x8
handwritten digits by other writers than MNIST's) as upscaled PNGs.

Both write the images and `labels.csv` (file, label, condition, mnist_index).
`scripts/make_photo_set.py` is the command line; `bench/realworld.py` and the
tests call these functions.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

from .paper import CONDITIONS, digit_photo

LABEL_FIELDS = ["file", "label", "condition", "mnist_index"]


def _write_labels(out: Path, rows: list[dict[str, str]]) -> None:
    with open(out / "labels.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, LABEL_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def write_photo_set(out: Path, n: int = 550, seed: int = 0, max_side: int = 2000) -> list[dict[str, str]]:
    """Write `n` photo-like images of MNIST test digits and labels.csv into `out`; returns the label rows."""
    from ..io.mnist import load_split

    test = load_split("test")
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(test), size=n, replace=n > len(test))
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, idx in enumerate(picks):
        condition = CONDITIONS[i % len(CONDITIONS)]
        data, suffix = digit_photo(test.images[idx], condition, np.random.default_rng([seed, i]), max_side)
        name = f"{i:05d}-{condition}{suffix}"
        (out / name).write_bytes(data)
        rows.append(
            {"file": name, "label": str(int(test.labels[idx])), "condition": condition, "mnist_index": str(int(idx))}
        )
    _write_labels(out, rows)
    return rows


def write_optdigits(out: Path, side: int = 112) -> list[dict[str, str]]:
    """Render scikit-learn's bundled optdigits (8x8, 0..16, ink bright) as dark-on-white PNGs of `side` px.

    Each 8x8 image (counts of ink in 4x4 blocks of a 32x32 bitmap) gets a
    2-cell white margin and is enlarged with bicubic interpolation. Needs the
    `dev` extra (scikit-learn): ImportError without it.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (img, label) in enumerate(zip(digits.images, digits.target)):
        # NOTE: optdigits fill their 8x8 box; a 2-cell paper margin makes them a scan of a digit on a page.
        gray = np.pad(np.round(255 - img * (255 / 16)).astype(np.uint8), 2, constant_values=255)
        name = f"{i:05d}.png"
        Image.fromarray(gray).resize((side, side), Image.BICUBIC).save(out / name)
        rows.append({"file": name, "label": str(int(label)), "condition": "optdigits", "mnist_index": ""})
    _write_labels(out, rows)
    return rows
