"""Read every digit in an image: find, merge, split, order, recognise.

    >>> from digitrec import Recognizer
    >>> from digitrec.segment import read_digits
    >>> read_digits(Recognizer.load(), "images/multi-2026.png").digits
    '2026'

The image goes through the same pure steps as a single digit
(`digitrec.preprocess`: grayscale, ink dark on paper, lighting flattened, soft
threshold), then:

1. connected components of the ink (OpenCV) are grouped into text lines;
2. each component wider than a narrow digit gets candidate cut columns at the
   minima of its vertical ink projection, so touching digits can be split;
3. the pieces of a line (components and cut slices), left to right, are
   grouped by dynamic programming: every plausible group (a digit, a digit
   plus its detached stroke, two halves of a cut) is scored by the recognizer
   in one batch, and the reading with the best total log-probability wins,
   after costs for cutting a stroke, for leaving a mark out as noise, for
   digits much wider or shorter than their line, for joining strokes that sit
   side by side, and for crops the recognizer rejects as "not a digit".

Crops the recognizer rejects stay in `Reading.boxes` with `digit` None and
are left out of the digit string.

OpenCV is imported inside the functions that need it, so `digitrec predict`
never loads it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import BadImage
from .infer import softmax
from .preprocess import (
    MNIST_SIZE,
    ImageSource,
    flatten_lighting,
    ink_on_paper,
    limit_side,
    load_gray,
    soft_threshold,
    to_mnist,
)

if TYPE_CHECKING:
    from .infer import Recognizer

READ_SIDE = 1024  # longer side for analysis: a line of ten digits keeps each ~80 px tall
INK_LEVEL = 0.35  # soft-ink level that counts as a stroke for connectivity

# Candidate pieces. Lengths are in line heights (the typical digit height of the line).
MIN_SPLIT = 0.6  # components narrower than this are never cut
VALLEY = 0.7  # a cut column holds at most this share of the ink columns on both sides
MAX_GROUP = 6  # at most this many pieces (strokes, slices) make one digit
MAX_WIDTH = 1.45  # a digit is at most this wide
MAX_GAP = 0.12  # pieces further apart than this are different digits
MIN_HEIGHT = 0.4  # a digit is at least this tall

# Costs, in log-probability, set on generated strings (seed 1; bench/read_accuracy.py reports seed 0).
CUT_COST = 0.5  # per stroke a cut crosses: between touching digits one, across a 0 two
WIDE_CUT = 0.25  # factor on CUT_COST inside a component 1.2 times wider than tall: two digits or more
NARROW_COST = 2.0  # per line height short of 1, for cutting a component narrower than that
SKIP_COST = 6.0  # times a piece's relative size, for leaving it out as noise
WIDE, WIDE_COST = 0.9, 3.0  # per unit of width / height above WIDE: digits are rarely wider than tall
SHORT, SHORT_COST = 0.7, 4.0  # per line height below SHORT: the digits of a line are about as tall
MERGE_COST = 2.0  # for joining two strokes that sit side by side (not stacked) into one digit
REJECT_COST = 2.0  # for a crop the recognizer rejects as "not a digit"


@dataclass
class DigitBox:
    """One digit found in an image.

    `box` is (left, top, right, bottom) in the original image's pixels; `digit`
    is None when the recognizer rejected the crop; `image` is the (28, 28)
    float32 MNIST-form crop in [0, 1] the network saw; `line` counts from 0 at the top.
    """

    box: tuple[int, int, int, int]
    digit: int | None
    confidence: float
    image: np.ndarray = field(repr=False, compare=False)
    line: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"box": list(self.box), "digit": self.digit, "confidence": round(self.confidence, 6), "line": self.line}


@dataclass
class Reading:
    """All digits read in one image, top to bottom, left to right.

    `lines` holds one digit string per text line (empty where the recognizer
    rejected every crop of the line); `digits` is the non-empty lines joined by
    single spaces (just the digits for one line, leading zeros kept).
    """

    path: str | None
    digits: str
    boxes: list[DigitBox]
    lines: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "digits": self.digits,
            "lines": self.lines,
            "boxes": [b.as_dict() for b in self.boxes],
        }


@dataclass(frozen=True)
class _Piece:
    """An atom of segmentation: component `label`, restricted to columns [x0, x1) of the work image."""

    label: int
    x0: int
    x1: int
    top: int
    bottom: int
    area: int
    cut_after: float  # cost of the cut between this piece and the next slice of its component (0: no cut)


# ---------------------------------------------------------------- public


def read_digits(recognizer: Recognizer, source: ImageSource, name: str | None = None) -> Reading:
    """Read all digits in an image (path, bytes, file object, Pillow image or array).

    Raises BadImage if the image cannot be read. A blank image gives an empty reading.
    """
    path = name or (str(source) if isinstance(source, (str, os.PathLike)) else None)
    gray, decoded = load_gray(source, name)
    if gray.size == 0:
        raise BadImage(f"{name or path or '<image>'}: image has no pixels")
    full_h, full_w = round(gray.shape[0] * decoded), round(gray.shape[1] * decoded)  # the file's pixels
    gray = limit_side(gray, READ_SIDE)
    ink = soft_threshold(flatten_lighting(ink_on_paper(gray)))
    sy, sx = full_h / gray.shape[0], full_w / gray.shape[1]

    boxes: list[DigitBox] = []
    lines: list[str] = []
    for n, (line_boxes, images, probs, rejected) in enumerate(segment_lines(recognizer, ink)):
        text = ""
        for (left, top, right, bottom), img, p, reject in zip(line_boxes, images, probs, rejected):
            digit = None if reject else int(p.argmax())
            full = (int(left * sx), int(top * sy), min(full_w, int(np.ceil(right * sx))), min(full_h, int(np.ceil(bottom * sy))))
            boxes.append(DigitBox(full, digit, float(p.max()), img, n))
            text += "" if digit is None else str(digit)
        lines.append(text)
    return Reading(path, " ".join(t for t in lines if t), boxes, lines)


def segment_lines(recognizer: Recognizer, ink: np.ndarray) -> list[tuple[list, list, list, list]]:
    """Find the digits of float32 (H, W) ink strength in [0, 1] (ink bright), line by line.

    Returns, per text line from the top, (boxes, images, probabilities, rejected):
    work-image boxes (left, top, right, bottom), (28, 28) float32 crops, (10,)
    probabilities and whether the recognizer rejects the crop, left to right.
    """
    import cv2

    mask = (ink > INK_LEVEL).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return []
    stats = stats[1:]  # row 0 is the background
    areas = stats[:, cv2.CC_STAT_AREA]
    big = float(np.percentile(areas, 90))
    keep = [i for i in range(len(stats)) if areas[i] >= max(4.0, 0.02 * big)]
    if not keep:
        return []
    heights = stats[keep, cv2.CC_STAT_HEIGHT]
    height = _typical_height(heights)

    out = []
    for members in _group_lines(stats, keep, height):
        line_h = _typical_height(stats[members, cv2.CC_STAT_HEIGHT])
        pieces = _pieces(labels, stats, members, line_h)
        chosen = _best_reading(recognizer, ink, labels, pieces, line_h)
        if chosen:
            out.append(tuple(map(list, zip(*chosen))))
    return out


# ---------------------------------------------------------------- lines and pieces


def _typical_height(heights: np.ndarray) -> float:
    """A digit's height from component heights: the median of those not much shorter than the tallest.

    Detached bars and specks are short; whole digits of one hand are about equally tall.
    """
    heights = np.asarray(heights, np.float64)
    return float(np.median(heights[heights >= 0.6 * heights.max()]))


def _group_lines(stats: np.ndarray, keep: list[int], height: float) -> list[list[int]]:
    """Component indices grouped into text lines, top to bottom.

    Tall components open lines where their row span does not overlap an
    existing line's by half; small marks join the line nearest their centre.
    """
    import cv2

    top = stats[:, cv2.CC_STAT_TOP]
    bottom = top + stats[:, cv2.CC_STAT_HEIGHT]
    tall = sorted((k for k in keep if bottom[k] - top[k] >= 0.5 * height), key=lambda k: top[k])
    spans: list[list[float]] = []  # [top, bottom] per line
    members: list[list[int]] = []
    for k in tall:
        best, best_ov = -1, 0.0
        for i, (t, b) in enumerate(spans):
            ov = (min(b, bottom[k]) - max(t, top[k])) / min(b - t, bottom[k] - top[k])
            if ov > best_ov:
                best, best_ov = i, ov
        if best >= 0 and best_ov >= 0.5:
            members[best].append(k)
            spans[best] = [min(spans[best][0], top[k]), max(spans[best][1], bottom[k])]
        else:
            spans.append([float(top[k]), float(bottom[k])])
            members.append([k])
    if not spans:
        return [list(keep)]
    for k in keep:
        if bottom[k] - top[k] < 0.5 * height:
            c = (top[k] + bottom[k]) / 2
            i = min(range(len(spans)), key=lambda i: max(spans[i][0] - c, c - spans[i][1], 0.0))
            members[i].append(k)
    order = sorted(range(len(spans)), key=lambda i: spans[i][0])
    return [members[i] for i in order]


def _pieces(labels: np.ndarray, stats: np.ndarray, members: list[int], line_h: float) -> list[_Piece]:
    """Components of one line, wide ones cut into slices at projection valleys, sorted left to right."""
    pieces = []
    for k in members:
        x, y, w, h, area = (int(v) for v in stats[k])
        mask = labels[y : y + h, x : x + w] == k + 1
        cuts = _cut_columns(mask, line_h) if w > MIN_SPLIT * line_h else []
        edges = [0, *(c for c, _ in cuts), w]
        for i, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
            sub = mask[:, a:b]
            rows = np.flatnonzero(sub.any(1))
            if rows.size == 0:
                continue
            cost = cuts[i][1] if i < len(cuts) else 0.0
            pieces.append(_Piece(k + 1, x + a, x + b, y + int(rows[0]), y + int(rows[-1]) + 1, int(sub.sum()), cost))
    return sorted(pieces, key=lambda p: (p.x0, p.top))


def _cut_columns(mask: np.ndarray, line_h: float) -> list[tuple[int, float]]:
    """Candidate cuts of one component's (h, w) bool mask, with their cost: valleys of its column profile.

    A valley must be clearly lower than the ink on both sides. Cutting through
    one stroke (where two digits touch) costs CUT_COST; each further stroke
    the cut crosses (the middle of a 0 crosses two) costs CUT_COST more.
    """
    profile = mask.sum(0).astype(np.float32)
    w = len(profile)
    win = max(1, int(round(line_h * 0.05)))
    smooth = np.convolve(profile, np.ones(win, np.float32) / win, mode="same")
    margin = max(2, int(round(0.15 * line_h)))
    most = max(1, int(w / (0.35 * line_h)))
    candidates = []
    for c in range(margin, w - margin):
        if smooth[c] <= smooth[c - 1] and smooth[c] <= smooth[c + 1]:
            depth = min(smooth[:c].max(), smooth[c + 1 :].max())
            if smooth[c] <= VALLEY * depth:
                candidates.append(c)
    # a flat valley gives many equal minima: keep the lowest ones, spaced apart
    chosen: list[int] = []
    for c in sorted(candidates, key=lambda c: (smooth[c], c)):
        if all(abs(c - d) >= 0.2 * line_h for d in chosen):
            chosen.append(c)
        if len(chosen) == most:
            break
    if w > MAX_WIDTH * line_h and not chosen:  # no valley but too wide for one digit: cut evenly
        n = int(np.ceil(w / (0.7 * line_h)))
        chosen = [round(w * i / n) for i in range(1, n)]
    if not chosen and w > 2 * margin + 1:  # a 1 leaning on a 4 leaves no valley: try the thinnest column
        chosen = [margin + int(np.argmin(smooth[margin : w - margin]))]
    out = []
    for c in sorted(chosen):
        column = mask[:, c]
        runs = int(column[0]) + int(np.count_nonzero(column[1:] & ~column[:-1]))
        narrow = max(0.0, 1.0 - w / line_h)  # a component no wider than one digit is rarely two
        wide = WIDE_CUT if w > 1.2 * max(len(mask), line_h) else 1.0  # this wide, it holds two digits or more: cut freely
        out.append((c, wide * CUT_COST * max(runs, 1) + NARROW_COST * narrow))
    return out


# ---------------------------------------------------------------- choosing a reading


def _crop(ink: np.ndarray, labels: np.ndarray, group: list[_Piece]) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """The ink of a group of pieces (neighbours' strokes masked out) -> work-image box and (28, 28) crop."""
    import cv2

    left = min(p.x0 for p in group)
    right = max(p.x1 for p in group)
    top = min(p.top for p in group)
    bottom = max(p.bottom for p in group)
    pad = 2  # keep the anti-aliased rims that lie below INK_LEVEL
    t, b = max(top - pad, 0), min(bottom + pad, ink.shape[0])
    lab = labels[t:b, left:right]
    mask = np.zeros(lab.shape, np.uint8)
    for p in group:
        mask[:, p.x0 - left : p.x1 - left] |= (lab[:, p.x0 - left : p.x1 - left] == p.label).astype(np.uint8)
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    # NOTE: dilation must not spill across a cut into the neighbouring slice
    keep = np.zeros(mask.shape, bool)
    for p in group:
        keep[:, p.x0 - left : p.x1 - left] = True
    crop = np.where((mask > 0) & keep, ink[t:b, left:right], 0.0).astype(np.float32)
    rows = np.flatnonzero(crop.max(1) > INK_LEVEL)
    cols = np.flatnonzero(crop.max(0) > INK_LEVEL)
    if rows.size == 0 or cols.size == 0:
        return (left, top, right, bottom), np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
    crop = crop[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return (left + int(cols[0]), t + int(rows[0]), left + int(cols[-1]) + 1, t + int(rows[-1]) + 1), to_mnist(crop)


def _feasible(group: list[_Piece], line_h: float) -> bool:
    """Could these pieces be one digit? Not too wide, and no clear gap between them."""
    if max(p.x1 for p in group) - min(p.x0 for p in group) > MAX_WIDTH * line_h:
        return False
    tall = max(p.bottom for p in group) - min(p.top for p in group)
    if tall > 1.6 * line_h or tall < MIN_HEIGHT * line_h:
        return False
    reach = group[0].x1
    for p in group[1:]:
        if p.x0 - reach > MAX_GAP * line_h:
            return False
        reach = max(reach, p.x1)
    return True


def _shape_cost(group: list[_Piece], line_h: float) -> float:
    """Log-probability charged for a group's shape: wider than a digit, or side-by-side strokes joined.

    Strokes of one digit overlap horizontally (a 5's detached bar over its
    body, the two strokes of a 4); strokes of neighbouring digits sit side by side.
    """
    width = max(p.x1 for p in group) - min(p.x0 for p in group)
    height = max(p.bottom for p in group) - min(p.top for p in group)
    cost = WIDE_COST * max(0.0, width / max(height, line_h) - WIDE) + SHORT_COST * max(0.0, SHORT - height / line_h)
    labels = {p.label for p in group}
    if len(labels) > 1:
        spans = {k: (min(p.x0 for p in group if p.label == k), max(p.x1 for p in group if p.label == k)) for k in labels}
        widest = max(labels, key=lambda k: spans[k][1] - spans[k][0])
        for k in labels - {widest}:
            a, b = spans[k]
            ov = max(min(b, q1) - max(a, q0) for j, (q0, q1) in spans.items() if j != k)
            cost += MERGE_COST * max(0.0, 1.0 - 2.0 * max(ov, 0) / max(b - a, 1))
    return cost


def _best_reading(
    recognizer: Recognizer, ink: np.ndarray, labels: np.ndarray, pieces: list[_Piece], line_h: float
) -> list[tuple[tuple[int, int, int, int], np.ndarray, np.ndarray, bool]]:
    """Group the pieces of one line into digits maximising the total log-probability (dynamic programming)."""
    n = len(pieces)
    if n == 0:
        return []
    spans = [(i, j) for i in range(n) for j in range(i + 1, min(i + MAX_GROUP, n) + 1) if _feasible(pieces[i:j], line_h)]
    crops = [_crop(ink, labels, pieces[i:j]) for i, j in spans]
    x = np.stack([c[1] for c in crops])[:, None] if crops else np.zeros((0, 1, MNIST_SIZE, MNIST_SIZE), np.float32)
    logits = recognizer.logits(x)
    probs = softmax(logits[:, :10], recognizer.temperature)
    rejected = _rejected(recognizer, logits)
    candidates = {s: (c[0], c[1], p, r) for s, c, p, r in zip(spans, crops, probs, rejected)}
    shape = {(i, j): _shape_cost(pieces[i:j], line_h) for i, j in spans}
    # a digit's typical ink: the biggest piece in the line is a fair reference
    digit_area = max(max(p.area for p in pieces), 1)

    best = np.full(n + 1, -np.inf)
    best[0] = 0.0
    back: list[tuple[int, bool]] = [(-1, False)] * (n + 1)
    for j in range(1, n + 1):
        # leave piece j-1 out as noise: cheap for a speck, dear for a whole digit
        q = pieces[j - 1]
        size = max(q.area / digit_area, ((q.bottom - q.top) / line_h) ** 2)
        skip = best[j - 1] - SKIP_COST * size - q.cut_after
        if skip > best[j]:
            best[j], back[j] = skip, (j - 1, False)
        for i in range(max(0, j - MAX_GROUP), j):
            if (i, j) not in candidates or best[i] == -np.inf:
                continue
            _, _, p, rejected = candidates[(i, j)]
            score = best[i] + float(np.log(max(p.max(), 1e-9))) - shape[(i, j)] - pieces[j - 1].cut_after
            score -= REJECT_COST if rejected else 0.0
            if score > best[j]:
                best[j], back[j] = score, (i, True)
    chosen = []
    j = n
    while j > 0:
        i, is_digit = back[j]
        if is_digit:
            chosen.append(candidates[(i, j)])
        j = i
    return chosen[::-1]


def _rejected(recognizer: Recognizer, logits: np.ndarray) -> list[bool]:
    """For (N, C) logits: True where the recognizer says "not a digit" (models without rejection: never)."""
    reasons = getattr(recognizer, "reject_reasons", None)
    if reasons is None or len(logits) == 0:
        return [False] * len(logits)
    return [r is not None for r in reasons(logits)]


__all__ = ["DigitBox", "Reading", "read_digits", "segment_lines"]
