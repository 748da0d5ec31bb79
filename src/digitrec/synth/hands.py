"""Synthetic writers: MNIST digits redrawn in a personal style, for benchmarks and tests of `digitrec teach`.

Feed these only MNIST *test* digits (they measure, never train the shipped
models). Each writer edits the strokes of a digit at 4x size and gives a
picture as drawn on the page's pad (dark ink on white, 112x112), which then
goes through the same `preprocess.prepare` as a user's drawing:

- "european": 1s with a long flag and a foot, 7s crossed, 0s slashed, all slanted in a cursive hand;
- "slanted": every digit sheared far to the right (about 50 degrees);
- "marker": every stroke drawn with a thick felt marker.
"""

from __future__ import annotations

import numpy as np

SCALE = 4  # edits happen on the digit drawn 4x (112 x 112)
WRITERS = ("european", "slanted", "marker")


def _big(image: np.ndarray) -> np.ndarray:
    """uint8 (28, 28) white-on-black -> float32 (112, 112) ink in [0, 1]."""
    import cv2

    return cv2.resize(image.astype(np.float32) / 255.0, (28 * SCALE, 28 * SCALE), interpolation=cv2.INTER_CUBIC).clip(
        0, 1
    )


def _ink_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(ink > 0.5)
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def _stroke(ink: np.ndarray) -> int:
    """A typical stroke width in pixels of the 112-pixel picture."""
    return max(3, int(round((ink > 0.5).sum() / max((ink > 0.5).any(1).sum(), 1) / 1.5)))


def european(image: np.ndarray, label: int, rng: np.random.Generator) -> np.ndarray:
    """A 1 with a long flag and a foot, a crossed 7; other digits as written. float32 (112, 112) ink."""
    import cv2

    ink = _big(image)
    x0, y0, x1, y1 = _ink_box(ink)
    w = _stroke(ink)
    if label == 1:
        top = (int(np.mean(np.nonzero(ink[y0 + 2] > 0.5)[0])) if (ink[y0 + 2] > 0.5).any() else (x0 + x1) // 2, y0 + 2)
        drop = int(rng.uniform(0.5, 0.65) * (y1 - y0))
        cv2.line(ink, top, (top[0] - int(rng.uniform(0.6, 0.75) * (y1 - y0)), y0 + drop), 1.0, w, cv2.LINE_AA)
        bottom = (int(np.mean(np.nonzero(ink[y1 - 2] > 0.5)[0])) if (ink[y1 - 2] > 0.5).any() else (x0 + x1) // 2, y1)
        half = int(rng.uniform(0.25, 0.35) * (y1 - y0))
        cv2.line(ink, (bottom[0] - half, y1), (bottom[0] + half, y1), 1.0, w, cv2.LINE_AA)
    elif label == 7:
        y = int(y0 + rng.uniform(0.5, 0.6) * (y1 - y0))
        cols = np.nonzero(ink[y] > 0.5)[0]
        cx = int(cols.mean()) if cols.size else (x0 + x1) // 2
        half = int(rng.uniform(0.3, 0.4) * (x1 - x0 + 20))
        cv2.line(ink, (cx - half, y), (cx + half, y), 1.0, w, cv2.LINE_AA)
    elif label == 0:
        cv2.line(ink, (x1 + 4, y0 - 4), (x0 - 4, y1 + 4), 1.0, w, cv2.LINE_AA)
    return _shear(ink, rng.uniform(0.9, 1.1))


def slanted(image: np.ndarray, label: int, rng: np.random.Generator) -> np.ndarray:
    """Every digit sheared far right (tan of the slant 1.0-1.3). float32 (112, 112) ink."""

    return _shear(_big(image), rng.uniform(1.0, 1.3))


def _shear(ink: np.ndarray, k: float) -> np.ndarray:
    """float32 (S, S) ink -> float32 (S, 3S): the top pushed right by k times the height."""
    import cv2

    size = ink.shape[0]
    m = np.array([[1.0, -k, k * size / 2], [0.0, 1.0, 0.0]], np.float32)
    return cv2.warpAffine(np.pad(ink, ((0, 0), (size, size))), m, (3 * size, size))


def marker(image: np.ndarray, label: int, rng: np.random.Generator) -> np.ndarray:
    """Every stroke made thick, as with a felt marker on a small pad. float32 (112, 112) ink."""
    import cv2

    ink = _big(image)
    r = int(rng.integers(24, 30))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (r, r))
    return cv2.dilate(ink, kernel)


STYLES = {"european": european, "slanted": slanted, "marker": marker}


def as_drawn(ink: np.ndarray) -> np.ndarray:
    """float32 ink (H, W) in [0, 1] -> uint8 (H, W) dark ink on white, as the pad draws it."""
    return (255 - np.clip(ink, 0, 1) * 255).astype(np.uint8)


def write(style: str, images: np.ndarray, labels: np.ndarray, seed: int = 0) -> list[np.ndarray]:
    """MNIST digits uint8 (N, 28, 28) in `style` -> N pictures uint8 (H, W), dark on white."""
    rng = np.random.default_rng(seed)
    draw = STYLES[style]
    return [as_drawn(draw(image, int(label), rng)) for image, label in zip(images, labels)]
