"""Read a whole line of handwriting at once: a CTC sequence model on ONNX Runtime (no torch), decoded in numpy.

    >>> from digitrec.read.lines import LineReader
    >>> reader = LineReader.load()                 # the shipped line model
    >>> text = reader.read(line_ink)               # float32 (h, w) ink in [0, 1], ink bright

The model (`models.line`, trained by `digitrec train --lines`) sees a line cut to
its ink and scaled to LINE_HEIGHT pixels (`normalize_line`), and gives, for
every STRIDE columns, the probabilities of a blank and of each character of
ALPHABET. Greedy CTC decoding (Graves et al. 2006; Shi et al. 2015, CRNN) takes
the most likely symbol per column, merges repeats and drops blanks; each
character's confidence is its highest probability over the columns it came
from, and the line's confidence is the product of its characters'.
Segmentation-free: touching and overlapping digits need no cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from ..image.preprocess import resize
from ..store import model_files, read_metadata, resolve, shipped_models
from .session import open_session
from .verdicts import softmax

ALPHABET = "0123456789.,-/:"  # class 0 is the CTC blank; class i + 1 is ALPHABET[i]
LINE_HEIGHT = 32  # the model's input height
INK_HEIGHT = 24  # the line's ink is scaled to this many rows, centred
MARGIN = 8  # columns of background added left and right
# The training lines' digits fill 80-96% of the line's rows (median 88%: they sit at different heights); separate
# digits filling more than FLAT_FILL (print) read far worse at full height (69% of printed strings exact, 88% so).
TRAIN_FILL = 0.88
FLAT_FILL = 0.97
# A black-and-white scan's line (under HARD_SHARE of its ink grey) read 77% of strings exact at 24 px digits, 95%
# once blurred by EDGE_BLUR px at line height (grey scans 95% either way): the training lines' edges are grey.
EDGE_GREY = (0.02, 0.98)
HARD_SHARE = 0.02
EDGE_BLUR = 0.7
INK_LEVEL = 0.35  # soft-ink level that counts as a stroke for connectivity (here and in `glyphs`)
DIGIT_TALL = 0.6  # a stroke at least this share of the tallest is a digit (or a slash): here and in `glyphs`
STRIDE = 4  # input columns per output step
LINE_MODEL = "line"  # the shipped line model
SEPARATORS = set(ALPHABET[10:])


@dataclass
class LineChar:
    """One character of a read line: `char`, its `confidence`, and the input columns [x0, x1) it came from."""

    char: str
    confidence: float
    x0: int
    x1: int


def _run(best: np.ndarray, t: int) -> np.ndarray:
    """Indices of the run of equal classes in `best` that contains step `t`."""
    a, b = t, t
    while a > 0 and best[a - 1] == best[t]:
        a -= 1
    while b + 1 < len(best) and best[b + 1] == best[t]:
        b += 1
    return np.arange(a, b + 1)


def normalize_line(ink: np.ndarray) -> tuple[np.ndarray, float]:
    """Float32 (h, w) ink in [0, 1], ink bright, cut to the line -> ((LINE_HEIGHT, W) float32, scale).

    The ink's rows are scaled to INK_HEIGHT (aspect kept) and centred with
    MARGIN columns each side; `scale` is output pixels per input pixel. The
    same function feeds training and reading, so both see one geometry. A
    line whose separate digits fill all its rows (print, a ruler-straight
    hand) is scaled so that they fill TRAIN_FILL of them, as the training
    lines' digits do (`digit_fill`); a line with no grey edges (a bitmap
    scan) is softened as MNIST's anti-aliased strokes are (`hard_edged`).
    """
    rows = np.flatnonzero(ink.max(1) > 0.05)
    cols = np.flatnonzero(ink.max(0) > 0.05)
    if rows.size == 0:
        return np.zeros((LINE_HEIGHT, 2 * MARGIN), np.float32), 1.0
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = ink.shape
    fill = digit_fill(ink)
    height = round(INK_HEIGHT * TRAIN_FILL / fill) if fill > FLAT_FILL else INK_HEIGHT
    scale = height / h
    width = max(1, round(w * scale))
    small = resize(ink.astype(np.float32), (height, width))
    peak = float(small.max())
    out = np.zeros((LINE_HEIGHT, width + 2 * MARGIN), np.float32)
    top = (LINE_HEIGHT - height) // 2
    out[top : top + height, MARGIN : MARGIN + width] = small / peak if peak > 0 else small
    if hard_edged(ink):
        import cv2

        out = cv2.GaussianBlur(out, (0, 0), EDGE_BLUR)
        out /= max(float(out.max()), 1e-6)
    return out, scale


def hard_edged(ink: np.ndarray) -> bool:
    """Whether float32 (h, w) ink has no grey edges: a bitmap (black-and-white) scan, its strokes' edges jagged."""
    inked = ink[ink > 0]
    return inked.size > 0 and float(np.mean((inked > EDGE_GREY[0]) & (inked < EDGE_GREY[1]))) < HARD_SHARE


def digit_fill(ink: np.ndarray) -> float:
    """The share of float32 (h, w) line ink's rows (cut to the line) that its digits fill: the median height of
    its separate digit-like strokes (nearly as tall as the tallest, no wider than tall) over h; 0 with fewer than
    two of them (one digit, or digits touching into one stroke: nothing to tell a flat line by)."""
    strokes = digit_strokes(ink)
    narrow = strokes[strokes[:, 2] <= strokes[:, 3]]
    return float(np.median(narrow[:, 3])) / ink.shape[0] if len(narrow) >= 2 else 0.0


def digit_strokes(ink: np.ndarray) -> np.ndarray:
    """int (n, 5) left, top, width, height, area of the strokes of float32 (h, w) ink at least DIGIT_TALL as
    tall as the tallest: a line's digits (and slashes), without its dots, dashes and specks."""
    import cv2

    count, _, stats, _ = cv2.connectedComponentsWithStats((ink > INK_LEVEL).astype(np.uint8), connectivity=8)
    stats = stats[1:]
    return stats[stats[:, 3] >= DIGIT_TALL * stats[:, 3].max()] if count > 1 else stats


def ctc_greedy(probs: np.ndarray) -> list[LineChar]:
    """(T, 1 + len(ALPHABET)) per-step probabilities -> characters, with confidence and input columns.

    The best class per step; runs of one class merge; blanks separate repeats
    ("1", blank, "1" is "11") and are dropped. A separator can only stand
    between digits, so a step that would start or end the line with one is
    read as its likeliest digit (a slanted 1 is not a trailing "/").
    """
    best = probs.argmax(1)
    marked = np.flatnonzero(best != 0)
    for end in (marked[:1], marked[-1:]):
        for t in end:
            if best[t] > 10:  # classes 11.. are the separators
                run = _run(best, t)
                best[run] = 1 + int(probs[run][:, 1:11].max(0).argmax())
    chars: list[LineChar] = []
    prev = 0
    for t, k in enumerate(best):
        if k != 0 and k == prev:
            last = chars[-1]
            last.confidence = max(last.confidence, float(probs[t, k]))
            last.x1 = (t + 1) * STRIDE
        elif k != 0:
            chars.append(LineChar(ALPHABET[k - 1], float(probs[t, k]), t * STRIDE, (t + 1) * STRIDE))
        prev = k
    return chars


class LineReader:
    """An ONNX Runtime session on a line model. Call `read` with a line's ink."""

    def __init__(self, onnx_path: str | Path, meta: dict[str, Any], threads: int | None = None) -> None:
        self.session = open_session(onnx_path, threads)
        self.meta = meta

    @classmethod
    def load(cls, model: str | Path | None = None, threads: int | None = None) -> LineReader:
        """The shipped line model, or a line model saved at `model` (STEM, STEM.json or STEM.onnx)."""
        stem = resolve(model or LINE_MODEL)
        meta = read_metadata(stem, need="onnx")
        if meta.get("kind") != "line":
            raise ModelError(
                f"{model}: a {meta.get('kind', 'digit')} model; reading lines needs a line model "
                f"(shipped: {', '.join(shipped_models('line')) or 'none'}; `digitrec models` lists them)"
            )
        return cls(model_files(stem)["onnx"], meta, threads)

    def step_probabilities(self, line: np.ndarray) -> np.ndarray:
        """(LINE_HEIGHT, W) float32 normalized line -> (W // STRIDE, 1 + len(ALPHABET)) probabilities."""
        x = np.ascontiguousarray(line[None, None], np.float32)
        return softmax(self.session.run(["logits"], {"line": x})[0][0])

    def read(self, ink: np.ndarray) -> tuple[list[LineChar], float]:
        """Float32 (h, w) ink of one line -> characters (columns in `ink`'s pixels) and the line's scale.

        Columns of each character are mapped back to `ink`'s own coordinates.
        """
        line, scale = normalize_line(ink)
        return to_ink_columns(ctc_greedy(self.step_probabilities(line)), ink, scale), scale


def to_ink_columns(chars: list[LineChar], ink: np.ndarray, scale: float) -> list[LineChar]:
    """Characters with columns in the normalized line (`normalize_line` of `ink`) -> the same in `ink`'s pixels."""
    cols = np.flatnonzero(ink.max(0) > 0.05)
    left = int(cols[0]) if cols.size else 0
    for c in chars:
        c.x0 = max(0, int((c.x0 - MARGIN) / scale) + left)
        c.x1 = min(ink.shape[1], int(np.ceil((c.x1 - MARGIN) / scale)) + left)
    return chars


def line_confidence(chars: list[LineChar]) -> float:
    """The product of the characters' confidences: roughly the chance the whole line is right (0 when empty)."""
    return float(np.prod([c.confidence for c in chars])) if chars else 0.0
