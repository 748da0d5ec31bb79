"""Synthetic forms for benchmarks and tests: digits in boxes, comb fields, table cells, underlined, ruled paper.

Feed these only MNIST *test* digits: they measure, never train. Every maker
returns a gray picture uint8 (H, W), dark ink on light paper, with the
truth beside it; `KINDS` names what `draw` makes:

- `boxed` / `boxed-touching`: one digit in a drawn box (touching: the digit
  reaches into the box's edge);
- `underlined`, `ruled`, `graph`: one digit on a line, on ruled paper (lines
  crossing it), on graph paper;
- `comb`: 3-10 digits, one per cell of a comb field (truth: the string);
- `table`: a grid of 2x3 to 5x5 cells, each holding 0-3 digits (truth: the
  cell values row by row, "" for an empty cell).

Rulings are drawn in pen-black, blue or gray, 1-3 px wide; `captured` makes any of
them look photographed or scanned (a tilt, shading, blur, noise, JPEG).
Numpy, Pillow and OpenCV.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

KINDS = ("boxed", "boxed-touching", "underlined", "ruled", "graph", "comb", "table")
HEIGHT = (40, 64)  # a digit's height in pixels
RULE_TONES = (0.0, 0.35, 0.55)  # black, blue (as gray), mid gray: how dark a ruling prints


class Sheet:
    """A picture being drawn: `ink` and `rule` darkness float32 (H, W) in [0, 1]."""

    def __init__(self, h: int, w: int, rng: np.random.Generator) -> None:
        self.ink = np.zeros((h, w), np.float32)
        self.rule = np.zeros((h, w), np.float32)
        self.rng = rng
        self.width = int(rng.integers(1, 4))
        self.tone = float(rng.choice(RULE_TONES))

    def digit(self, mnist: np.ndarray, x: int, y: int, height: int) -> tuple[int, int, int, int]:
        """Draw uint8 (28, 28) `mnist` with its top-left ink at (x, y), `height` px tall; returns its box."""
        import cv2

        rows, cols = np.flatnonzero(mnist.max(1)), np.flatnonzero(mnist.max(0))
        crop = mnist[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32) / 255
        s = height / crop.shape[0]
        img = cv2.resize(crop, (max(1, round(crop.shape[1] * s)), height), interpolation=cv2.INTER_LINEAR)
        h, w = img.shape
        region = self.ink[y : y + h, x : x + w]
        np.maximum(region, img[: region.shape[0], : region.shape[1]], out=region)
        return x, y, x + w, y + h

    def hline(self, y: int, x0: int, x1: int) -> None:
        self.rule[max(0, y) : y + self.width, max(0, x0) : x1] = 1.0

    def vline(self, x: int, y0: int, y1: int) -> None:
        self.rule[max(0, y0) : y1, max(0, x) : x + self.width] = 1.0

    def box(self, x0: int, y0: int, x1: int, y1: int) -> None:
        self.hline(y0, x0, x1 + self.width)
        self.hline(y1, x0, x1 + self.width)
        self.vline(x0, y0, y1 + self.width)
        self.vline(x1, y0, y1 + self.width)

    def picture(self) -> np.ndarray:
        """uint8 (H, W): dark ink over rulings of their tone on white paper."""
        gray = 1.0 - self.rule * (1.0 - self.tone)
        gray = gray * (1.0 - self.ink) + 0.08 * self.ink
        return np.round(np.clip(gray, 0, 1) * 255).astype(np.uint8)


def _digit_size(mnist: np.ndarray, height: int) -> tuple[int, int]:
    rows, cols = np.flatnonzero(mnist.max(1)), np.flatnonzero(mnist.max(0))
    return height, max(1, round((cols[-1] - cols[0] + 1) * height / (rows[-1] - rows[0] + 1)))


def single(kind: str, mnist: np.ndarray, rng: np.random.Generator, rulings: bool = True) -> np.ndarray:
    """One digit uint8 (28, 28) drawn as `kind` (boxed, boxed-touching, underlined, ruled, graph): uint8 (H, W).

    Without `rulings`, the same picture (same random draws) with the lines left out: the digit alone.
    """
    height = int(rng.integers(*HEIGHT))
    h, w = _digit_size(mnist, height)
    pad = int(height * rng.uniform(0.35, 0.7))
    sheet = Sheet(h + 2 * pad, w + 2 * pad, rng)
    x, y = pad, pad
    if kind == "boxed":
        m = int(height * rng.uniform(0.12, 0.3))
        sheet.box(x - m, y - m, x + w + m, y + h + m)
    elif kind == "boxed-touching":
        m = int(height * rng.uniform(0.0, 0.12))
        sheet.box(x - m, y - m, x + w + m, y + h + m)
        side = int(rng.integers(4))  # the digit reaches into one edge
        x += (-m - 2, m + 2, 0, 0)[side]
        y += (0, 0, -m - 2, m + 2)[side]
    elif kind == "underlined":
        sheet.hline(y + h + int(rng.integers(-3, int(height * 0.15))), x - int(w * 0.3) - 4, x + w + int(w * 0.3) + 4)
    elif kind == "ruled":
        gap = int(height * rng.uniform(0.45, 0.9))
        for ly in range(int(rng.integers(0, gap)), sheet.rule.shape[0], gap):
            sheet.hline(ly, 0, sheet.rule.shape[1])
    elif kind == "graph":
        gap = int(height * rng.uniform(0.25, 0.5))
        sheet.width = 1
        for ly in range(int(rng.integers(0, gap)), sheet.rule.shape[0], gap):
            sheet.hline(ly, 0, sheet.rule.shape[1])
        for lx in range(int(rng.integers(0, gap)), sheet.rule.shape[1], gap):
            sheet.vline(lx, 0, sheet.rule.shape[0])
    else:
        raise ValueError(f"kind {kind!r}: not a single-digit kind")
    sheet.digit(mnist, x, y, height)
    if not rulings:
        sheet.rule[:] = 0
    return sheet.picture()


def comb(digits: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Digits uint8 (k, 28, 28), one per cell of a comb field of k cells: uint8 (H, W)."""
    height = int(rng.integers(*HEIGHT))
    cell = int(height * rng.uniform(1.15, 1.5))
    tall = int(cell * rng.uniform(1.0, 1.3))
    pad = int(height * 0.5)
    sheet = Sheet(tall + 2 * pad, cell * len(digits) + 2 * pad, rng)
    sheet.hline(pad, pad, pad + cell * len(digits) + sheet.width)
    sheet.hline(pad + tall, pad, pad + cell * len(digits) + sheet.width)
    for i in range(len(digits) + 1):
        sheet.vline(pad + i * cell, pad, pad + tall + sheet.width)
    for i, d in enumerate(digits):
        h = int(height * rng.uniform(0.8, 1.0)) if height < tall else tall - 6
        _, w = _digit_size(d, h)
        x = pad + i * cell + max(sheet.width + 1, (cell - w) // 2 + int(rng.integers(-3, 4)))
        y = pad + max(sheet.width + 1, (tall - h) // 2 + int(rng.integers(-3, 4)))
        sheet.digit(d, x, y, h)
    return sheet.picture()


def table(values: list[list[list[np.ndarray]]], rng: np.random.Generator) -> np.ndarray:
    """A grid of cells, each a list of digits uint8 (28, 28) written side by side (empty: no digits): uint8 (H, W)."""
    height = int(rng.integers(*HEIGHT))
    rows, cols = len(values), len(values[0])
    cell_h = int(height * rng.uniform(1.4, 1.8))
    widths = [sum(_digit_size(d, height)[1] + int(height * 0.12) for d in cell) for row in values for cell in row]
    cell_w = max(int(height * 1.2), max(widths) + int(height * 0.6))
    pad = int(height * 0.4)
    sheet = Sheet(rows * cell_h + 2 * pad, cols * cell_w + 2 * pad, rng)
    for r in range(rows + 1):
        sheet.hline(pad + r * cell_h, pad, pad + cols * cell_w + sheet.width)
    for c in range(cols + 1):
        sheet.vline(pad + c * cell_w, pad, pad + rows * cell_h + sheet.width)
    for r, row in enumerate(values):
        for c, cell in enumerate(row):
            x = pad + c * cell_w + int(height * 0.3)
            for d in cell:
                h = int(height * rng.uniform(0.85, 1.0))
                x = sheet.digit(d, x, pad + r * cell_h + (cell_h - h) // 2, h)[2] + int(height * 0.12)
    return sheet.picture()


def captured(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 (H, W) picture -> as photographed or scanned: tilted up to 1.5 degrees, shaded, blurred, noised, JPEG."""
    import cv2

    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-1.5, 1.5), 1.0)
    out = cv2.warpAffine(gray, m, (w, h), borderValue=255).astype(np.float32) / 255
    gy, gx = np.mgrid[0:h, 0:w]
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * gx / w + np.sin(angle) * gy / h).clip(0, 1)
    out = out * rng.uniform(0.75, 0.95) * (1 - rng.uniform(0, 0.25) * ramp)
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.4, 1.0)) + rng.normal(0, rng.uniform(0.005, 0.02), out.shape)
    buf = io.BytesIO()
    Image.fromarray(np.round(np.clip(out, 0, 1) * 255).astype(np.uint8)).save(buf, "JPEG", quality=85)
    return np.asarray(Image.open(buf).convert("L"))


def draw(kind: str, images: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, object]:
    """One picture of `kind` from MNIST test digits uint8 (N, 28, 28) with labels (N,); returns (uint8 (H, W), truth).

    Truth: the digit (int) for single-digit kinds, the string for `comb`, a
    list of rows of cell strings for `table`.
    """
    pick = lambda: int(rng.integers(len(images)))  # noqa: E731
    if kind == "comb":
        idx = [pick() for _ in range(int(rng.integers(3, 11)))]
        return comb([images[i] for i in idx], rng), "".join(str(int(labels[i])) for i in idx)
    if kind == "table":
        shape = (int(rng.integers(2, 6)), int(rng.integers(3, 6)))
        cells = [[[pick() for _ in range(int(rng.integers(0, 4)))] for _ in range(shape[1])] for _ in range(shape[0])]
        truth = [["".join(str(int(labels[i])) for i in cell) for cell in row] for row in cells]
        return table([[[images[i] for i in cell] for cell in row] for row in cells], rng), truth
    i = pick()
    return single(kind, images[i], rng), int(labels[i])


__all__ = ["KINDS", "captured", "comb", "draw", "single", "table"]
