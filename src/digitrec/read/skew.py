"""Level a tilted line before it is read: a phone held askew turns a whole string.

The line model trained on level lines. A string turned 10 degrees spreads its
digits over twice the rows, so each is read half as tall: 80% of strings
exact instead of 95% (`train[55000:]` digits, 150 strings); leveled, 93-95%.
The tilt is the Theil-Sen slope (the median of the pairwise slopes, so one
digit written high does not tip it) through the centres of the line's
digit-tall strokes; it needs three of them, so touching digits (one stroke)
and short lines are read as they are, and the turn is kept only when it
leaves the line much flatter: digits written at different heights on a level
line tip a short line's estimate by a few degrees, and turning such a line
made slanted 1s read as slashes. Numpy and OpenCV.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .lines import LineChar, digit_strokes

MIN_TILT = 2.0  # degrees: a line tilted less is read as it is (jitter of level digits tips a short line this much)
MAX_TILT = 40.0  # degrees: a steeper "line" is not one line of digits turned (a phone held askew turns it 30 and more)
MIN_STROKES = 3  # digit-tall strokes needed to measure a tilt ...
PAIR_TILT = 25.0  # ... or two, tilted at least this many degrees (two digits written unevenly on a level line tip less)
FLATTER = 0.8  # a line is turned only when that leaves it at most this share of its rows (a tilted line's shrink)


@dataclass(frozen=True)
class Leveled:
    """A line's ink turned level: `ink` float32 (h', w'), its rows cut to the ink; `angle` the degrees it was
    turned by (0: as it was); `matrix` float (2, 3) from the original ink's pixels to the turned canvas's, whose
    rows from `top` on are `ink`; `width` the original ink's columns."""

    ink: np.ndarray
    angle: float = 0.0
    matrix: np.ndarray | None = None
    top: int = 0
    width: int = 0  # the original ink's columns

    def back(self, chars: list[LineChar]) -> list[LineChar]:
        """Characters with columns in `ink` -> the same in the original ink's columns (at the line's middle row)."""
        if self.matrix is None:
            return chars
        import cv2

        inverse = cv2.invertAffineTransform(self.matrix)
        middle = self.top + self.ink.shape[0] / 2
        out = []
        for c in chars:
            x0, x1 = (float(inverse[0] @ np.array([x, middle, 1.0])) for x in (c.x0, c.x1))
            a = min(max(0, int(x0)), self.width - 1)
            out.append(replace(c, x0=a, x1=min(max(int(np.ceil(x1)), a + 1), self.width)))
        return out


def tilt(ink: np.ndarray) -> float:
    """Degrees float32 (h, w) line ink is turned (positive: rising to the right, as cv2 turns), 0 when unknown."""
    tall = digit_strokes(ink)
    if len(tall) < 2:
        return 0.0
    x, y = tall[:, 0] + tall[:, 2] / 2, tall[:, 1] + tall[:, 3] / 2
    i, j = np.triu_indices(len(x), 1)
    dx = x[j] - x[i]
    apart = np.abs(dx) >= 1
    if not apart.any():
        return 0.0
    slope = float(np.median((y[j] - y[i])[apart] / dx[apart]))
    angle = -float(np.degrees(np.arctan(slope)))  # NOTE: rows grow downwards; cv2's angles turn anticlockwise
    return angle if len(tall) >= MIN_STROKES or abs(angle) >= PAIR_TILT else 0.0


def level(ink: np.ndarray) -> Leveled:
    """Float32 (h, w) line ink turned level when it is tilted MIN_TILT to MAX_TILT degrees, else as it is."""
    angle = tilt(ink)
    if not MIN_TILT <= abs(angle) <= MAX_TILT:
        return Leveled(ink)
    import cv2

    h, w = ink.shape
    pad = int(np.ceil(h * np.sin(np.radians(abs(angle))))) + 2  # NOTE: the ends swing out by up to this much
    matrix = cv2.getRotationMatrix2D((w / 2 + pad, h / 2), -angle, 1.0)
    matrix[:, 2] += matrix[:, 0] * pad  # from the ink's pixels (not the padded canvas's) to the turned canvas
    turned = cv2.warpAffine(ink, matrix, (w + 2 * pad, h), flags=cv2.INTER_LINEAR, borderValue=0.0)
    rows = np.flatnonzero(turned.max(1) > 0.05)
    if rows.size == 0 or rows[-1] - rows[0] + 1 > FLATTER * h:
        return Leveled(ink)  # NOTE: no flatter turned: the digits sat at different heights, the line was level
    return Leveled(turned[rows[0] : rows[-1] + 1], angle, matrix, int(rows[0]), w)


__all__ = ["Leveled", "level", "tilt"]
