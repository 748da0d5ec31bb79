"""Rulings are not ink: find the long straight lines of forms and paper, and take them out of the ink.

Box edges, comb fields, table grids, underlines, ruled and graph paper are
long, thin, nearly horizontal or vertical lines; a digit's own strokes (a 1, a
7's bar, a 4's bar) are short, or end where the rest of the digit goes on.
`find_rulings` works on the soft ink map (any ink colour has become bright ink
there) in four steps:

1. candidates: pixels in horizontal (vertical) runs of ink at least
   `kernel` pixels long, i.e. a morphological opening by a 1 x k line, which
   also keeps lines a few degrees off straight (their runs step by a row);
2. segments: connected groups of candidate pixels, each with its length and
   its thickness (pixels over length);
3. a segment is a ruling when it is thin and at least RULE_STROKES stroke
   widths long, and either reaches past the other ink near it at *both* ends
   (an underline, a ruled line, the top of a box: a digit's bar ends where
   the digit's curve goes on) or meets long perpendicular lines at both ends
   (a box edge a digit touches, the dividers of a comb field, a table's inner
   lines) while being as long as the ink beside it;
4. removal: ruling pixels and their faint fringe go; where ink goes on at both
   sides across a line (a stroke crossing it), the crossing is put back.

Numpy only until a picture holds a long run whose ends are clear of other ink
(`_may_hold_rulings`: a plain digit's 1 or 7 bar is turned down there, cheaply);
OpenCV (a core dependency) labels the segments. Pure functions: arrays in, new arrays out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

INK_ON = 0.35  # soft-ink level that counts as a stroke (as segment.INK_LEVEL)
LINE_ON = 0.1  # ... and as part of a line: light gray or thin rulings come out faint in the soft ink
KERNEL_MIN = 12  # px: shortest run that may be part of a ruling (a digit's strokes are mostly longer than this)
RUN_SHARE = 0.8  # ... and this share of a ruling's least length (a thick digit's strokes hold runs of 12 px)
MIN_RULE = 24  # px: no ruling is shorter (the stem of a 4 in a 28 x 28 picture is 20)
KERNEL_SHARE = 1 / 40  # ... or this share of the picture's longer side, whichever is longer
DIGIT_STROKES = 9.0  # a digit is about this many stroke widths tall
RULE_STROKES = 7.0  # a ruling is at least this many stroke widths long: a digit is ~9 strokes tall, its bars ~4
THIN = 0.25  # a ruling is at most this thick for its length (a filled blob is not a line)
BEYOND = 0.1  # a free line reaches past the ink near it by this share of its length at both ends ...
BEYOND_STROKES = 2.0  # ... or by this many stroke widths if less (a long line), and by 2 px at least
LONG_RULE = 1.5  # ... less (END_CLEAR) for a level line this many times as long as the ink beside it is tall
UNDER_SHARE = 0.1  # ... with at most this share of that ink below it (an underline: the string stands on it)
TALL_ONE = 0.3  # ... and a free vertical line no other line crosses (graph paper's do) by this share of its length
FRAME_SIDES = 4  # rulings that are all the ink there is are taken for the digit when there are this few ...
EMPTY_BOX_STROKES = 18  # ... unless their box is this many times as tall (or wide) as they are thick (a 0: ~9)
INSIDE_MARGIN = 0.25  # ... and the middle of their box (this share of its sides in) holds no ink
FRAME_COVER = 0.9  # a framing line (box edge, divider) is at least this long for the ink beside it
END_REACH = 4  # px: a line "meets" another when its end comes this close to it (gaps in scans, thick corners)
CLEAN_SHARE = 0.3  # a line shows clean (no stroke joining it) along at least this share of its length
MAX_SLOPE = 0.06  # a ruling runs within this slope of level or upright (3.4 degrees: a scan's or a photo's skew)
WOBBLE = 1.0  # px: a ruling's middle keeps this close to a straight line (most of its length) ...
WOBBLE_SHARE = 0.25  # ... or this share of its thickness (a thick line's middle jitters more)
STRAIGHT_PCT = 80  # percentile of the columns held to that (a stroke joining the line shifts a few middles)
REMNANT_REACH = 2  # px: ink left wholly this close to a removed ruling is a remnant of it (a corner, its blur)
COVER = 0.9  # a ruling's pixels cover at least this share of the columns (rows) it spans
# A box found by two sides: at most this much wider than they are long (a comb cell or an amount's box, found by
# its short sides when a digit's stroke along its long edge hides that edge as a line).
PAIR_ASPECT = 2.5
PAIR_GAP = 5  # ... its sides this many times their thickness apart to be joined past a stroke touching them
ALIKE = 1.5  # lines found together are at most this much thicker than the first of them (and a pixel)
MAX_LINES = 12  # lines taken out of one group of candidates at most (a digit on graph paper joins several)
NOISE_SIGMAS = 5.0  # ink strength this many noise sigmas over the paper's may be a faint ruling
FAINT_SHARE = 0.3  # ... which shows at INK_ON (as strong as a stroke's edge) once this share of the ink's peak
LINE_SMOOTH = 7  # px: a second look for faint lines averages the ink strength this far along rows and columns ...
RIDGE_GAPS = (3, 6)  # ... and compares it with the paper this many px to either side (thin and thick lines)
LEVELS = 65536  # bins of the histogram the faint lines' noise and peak are read from
LINE_CONTRAST = 0.05  # no faint lines are looked for when nothing stands this far out of the paper
FRINGE = 1  # px: the faint anti-aliased edge of a ruling, removed with it
END_CLEAR = 2  # px at least at each end of a long run that no other ink may cover for it to be taken for a ruling
MAX_PAIR_RUNS = 400  # long runs compared pairwise in the cheap test at most (more: let the full test decide)
SPECK_STROKES = 4.0  # the one line found, beside less ink than this many squared stroke widths, is a lone 1
GRID_LINES = 4  # rulings found together that tell the form's own line thickness (a box's four sides)
RULED_PAGE = 0.9  # lines across this share of a picture with no other ink, two or more of them, are a blank page's
SAME_BAND = 0.9  # runs in one window sharing this share of their columns are one band, looked at once
THICK_PCT = 20  # percentile of a line's columns taken for its thickness (a stroke joining it thickens a few)
LINE_PCT = 20  # percentile of the column peaks of one of a few lines taken for its own darkness
DARKER = 0.2  # ink this much darker than its ruling's typical peak is a pen's stroke over the line, kept
REPAIR_SPAN = 3  # px beyond a ruling's thickness in which a crossing stroke must show on both sides


@dataclass(frozen=True)
class Segment:
    """One straight line: `axis` 0 horizontal, 1 vertical; (x0, y0, x1, y1) its box in the ink's pixels; `slope`
    how far it drifts across per pixel along (a tilted scan or photo)."""

    axis: int
    x0: int
    y0: int
    x1: int
    y1: int
    thickness: float
    slope: float = 0.0  # rows per column along a horizontal line, columns per row along a vertical one

    @property
    def length(self) -> int:
        return self.x1 - self.x0 if self.axis == 0 else self.y1 - self.y0

    @property
    def position(self) -> float:
        """Its middle row (horizontal) or column (vertical)."""
        return (self.y0 + self.y1) / 2 if self.axis == 0 else (self.x0 + self.x1) / 2


@dataclass
class Rulings:
    """The rulings of a picture: `mask` bool (H, W) of their pixels, and the segments found."""

    mask: np.ndarray
    segments: list[Segment] = field(default_factory=list)

    @property
    def horizontal(self) -> list[Segment]:
        return [s for s in self.segments if s.axis == 0]

    @property
    def vertical(self) -> list[Segment]:
        return [s for s in self.segments if s.axis == 1]


# ---------------------------------------------------------------- steps


def long_runs(on: np.ndarray, k: int, axis: int = 1) -> np.ndarray:
    """bool (H, W): pixels of bool (H, W) `on` that lie in a run of at least `k` pixels along `axis` (1: horizontal
    runs, along a row; 0: vertical ones).

    An opening by a 1 x k line (k x 1), as an erosion anchored at the line's
    first pixel and a dilation anchored at its last: exact, and O(H W)
    whatever k is (OpenCV's van Herk / Gil-Werman filters).
    """
    import cv2

    line = np.ones((1, k) if axis == 1 else (k, 1), np.uint8)
    last = (k - 1, 0) if axis == 1 else (0, k - 1)
    edge = {"borderType": cv2.BORDER_CONSTANT, "borderValue": 0}  # NOTE: past the picture is no ink
    eroded = cv2.erode(np.ascontiguousarray(on).view(np.uint8), line, anchor=(0, 0), **edge)
    return cv2.dilate(eroded, line, anchor=last, **edge).view(bool)


def _run_ends(on: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, first column, end column) int arrays of the horizontal runs of bool (H, W) `on` at least `k` long."""
    h, w = on.shape
    padded = np.zeros((h, w + 2), np.int8)
    padded[:, 1:-1] = on
    edges = np.diff(padded.ravel())
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    keep = (ends - starts) >= k
    rows = starts[keep] // (w + 2)
    return rows, starts[keep] - rows * (w + 2), ends[keep] - rows * (w + 2)  # edges[i]: padded[i + 1] - padded[i]


def _may_hold_rulings(on: np.ndarray, faint: np.ndarray, need: int, width: float) -> bool:
    """False when bool (H, W) ink `on` (and its `faint` ink, strokes `width` px) holds no ruling: the cheap test.

    A run of `faint` ink at least `need` long may be a ruling when, within
    one run length across it, the rest of the ink (less all long runs, of
    both directions: parallel lines and a box's sides) leaves both its ends
    free, as far in as the full test's margin (BEYOND, BEYOND_STROKES, and
    END_CLEAR px at least): a ruling reaches past the ink it underlines or
    crosses, or ends on the lines that frame it. A digit's straight stroke
    (a 1, a 7's bar) has its own rounded tip or the rest of the digit there.
    Vectorised over the runs: an integral image gives each end's ink.
    """
    if not (_run_ends(faint, need)[0].size or _run_ends(faint.T, need)[0].size):
        return False  # most pictures: no unbroken run as long as a ruling must be
    rows, cols = np.flatnonzero(faint.any(1)), np.flatnonzero(faint.any(0))
    # NOTE: within the ink's box and a pixel (the thickening below reaches that far): the same answer, cheaper
    box = slice(max(rows[0] - 1, 0), rows[-1] + 2), slice(max(cols[0] - 1, 0), cols[-1] + 2)
    on, faint = on[box], faint[box]
    # NOTE: runs of the ink thickened a pixel across, so that a line a degree off level (a photo) runs on unbroken
    grown = [_grow(faint, 1, 0), _grow(faint, 1, 1)]
    masks = [long_runs(grown[0], need), long_runs(grown[1], need, axis=0)]
    grown[1] = grown[1].T  # NOTE: vertical runs are looked at as the transposed picture's rows
    found = [_run_ends(g, need) for g in grown]
    rest = _integral(on & ~masks[0] & ~masks[1])  # its transpose is the transposed picture's
    for axis, (rows, x0, x1) in enumerate(found):
        if rows.size == 0:
            continue
        if _level_pair(rows, x0, x1, axis, grown[axis], faint, width):
            return True  # NOTE: a box's two sides, its short edges maybe too short to count (a narrow box round a 1)
        ink = rest if axis == 0 else rest.T
        length = x1 - x0
        top, bottom = np.maximum(rows - length, 0), np.minimum(rows + length + 1, ink.shape[0] - 1)
        # NOTE: as the full test's margin (BEYOND): the ink beside a free ruling stops this far short of its ends;
        # a box's edge that a digit touches ends on the box's sides, and only its very ends are clear there.
        margin = np.maximum(END_CLEAR, np.minimum(BEYOND * length, BEYOND_STROKES * width)).astype(int)
        if axis == 0:  # NOTE: as the full test's LONG_RULE, with a digit's height taken as DIGIT_STROKES widths
            margin[length >= LONG_RULE * DIGIT_STROKES * width] = END_CLEAR
        maybe = (_sum(ink, top, bottom, x0, x0 + margin) + _sum(ink, top, bottom, x1 - margin, x1)) == 0
        near = (_sum(ink, top, bottom, x0, x0 + END_CLEAR) + _sum(ink, top, bottom, x1 - END_CLEAR, x1)) == 0
        near &= ~maybe
        across = masks[1] if axis == 0 else masks[0].T  # the other direction's long runs, in this one's frame
        if near.any():
            maybe[near] = _framed(across, rows[near], x0[near], x1[near])
        # NOTE: a photo's shadow, lifted as faint ink, runs on as far, but as a band that no straight thin line fits
        if maybe.any() and _any_line(grown[axis], faint if axis == 0 else faint.T, rows[maybe], x0[maybe], x1[maybe]):
            return True
    return False


def _any_line(grown: np.ndarray, faint: np.ndarray, rows: np.ndarray, x0: np.ndarray, x1: np.ndarray) -> bool:
    """True when one of the runs (row, [x0, x1)) of bool (H, W) `grown` (`faint` thickened a pixel up and down)
    lies on a line the full test would take (`_line_pixels`: straight and level; RULE_STROKES times as long as
    thick; COVER), looked for in the `faint` ink across each of its columns. Runs of one band (a shadow) are
    looked at once: those in the window of one looked at before, over the same columns nearly (SAME_BAND).
    """
    across, start = _across(grown)
    seen: list[tuple[int, int, int, int]] = []  # the windows looked at: rows [lo, hi), columns [a, b)
    span = np.arange(grown.shape[0])[:, None]
    for r, a, b in zip(rows, x0, x1):
        if any(lo <= r < hi and min(b, b_) - max(a, a_) >= SAME_BAND * max(b - a, b_ - a_) for lo, hi, a_, b_ in seen):
            continue
        top, end = start[r, a:b], start[r, a:b] + across[r, a:b]
        lo, hi = int(top.min()), int(end.max())
        seen.append((lo, hi, a, b))
        window = (span[lo:hi] >= top) & (span[lo:hi] < end)
        line = _line_pixels(window & faint[lo:hi, a:b], window & faint[lo:hi, a:b])
        if line is None:
            continue
        cols = np.flatnonzero(line[0].any(0))
        # NOTE: as long as RULE_STROKES of its thickness (thin for its length, THIN, with it): a bold 1 is no ruling
        if cols.size and RULE_STROKES * line[1] <= cols[-1] - cols[0] + 1 and cols.size >= COVER * (b - a):
            return True
    return False


def _thickness(grown: np.ndarray, rows: np.ndarray, x0: np.ndarray, x1: np.ndarray, pick: np.ndarray) -> np.ndarray:
    """float per picked run (row, [x0, x1)) of bool (H, W) `grown` (faint ink thickened a pixel up and down): how
    thick the ink is across it, as the full test measures a line (a low percentile over its columns)."""
    across = _across(grown)[0]
    return np.array(
        [max(_quantile(across[r, a:b], THICK_PCT) - 2, 1.0) for r, a, b in zip(rows[pick], x0[pick], x1[pick])]
    )


def _across(on: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int32 (H, W) twice: the length of the vertical run of bool (H, W) `on` through each pixel (0 off it), and
    the row that run starts on."""
    cols, y0, y1 = _run_ends(np.ascontiguousarray(on.T), 1)
    length = np.zeros((on.shape[1], on.shape[0] + 1), np.int32)
    start = np.zeros_like(length)
    # NOTE: one run per start and per end, and no run ends where another starts: plain indexed adds
    for out, up, down in ((length, y1 - y0, y1 - y0), (start, y0, y0)):
        out[cols, y0] += up
        out[cols, y1] -= down
    return np.cumsum(length, 1)[:, :-1].T, np.cumsum(start, 1)[:, :-1].T


def _level_pair(
    rows: np.ndarray, x0: np.ndarray, x1: np.ndarray, axis: int, grown: np.ndarray, faint: np.ndarray, width: float
) -> bool:
    """True when two of the runs (row, [x0, x1)) along `axis` of bool (H, W) `faint` ink make a box's two sides
    with its short edges (`_joins`: level ends, joined corner to corner, ink inside), edges `width` px thick at
    least, or as thick as the ink is across them (`grown`: `faint` thickened a pixel across, in the runs' frame).
    """
    if rows.size > MAX_PAIR_RUNS:
        return True
    level = (np.abs(x0[:, None] - x0[None]) <= END_REACH) & (np.abs(x1[:, None] - x1[None]) <= END_REACH)
    apart = rows[:, None] - rows[None]  # NOTE: as `_joins` asks: sides apart, not PAIR_ASPECT wider than long
    level &= (apart > max(2 * END_REACH, 2 * width)) & (apart <= PAIR_ASPECT * np.minimum(x1 - x0, (x1 - x0)[:, None]))
    if not level.any():
        return False
    i, j = np.nonzero(level)
    joined = _joined_ends(rows, x0, x1, i, j, faint if axis == 0 else faint.T)
    level[i[~joined], j[~joined]] = False
    if not level.any():
        return False  # NOTE: most level pairs (a line's digit stems) have no short edges at all: no thickness needed
    # NOTE: as thick as the full test measures the sides: a bold digit's loop (a 0, a 6) has level runs too
    paired = level.any(0) | level.any(1)
    thick = np.full(rows.size, float(width))
    thick[paired] = np.maximum(width, _thickness(grown, rows, x0, x1, paired))
    level &= apart - 1 >= 2 * np.ceil(np.maximum(thick[:, None], thick[None]))  # NOTE: as `_joins` asks, at once
    for i, j in zip(*np.nonzero(level)):
        sides = [
            Segment(axis, int(x0[k]), int(rows[k]), int(x1[k]), int(rows[k]) + 1, float(thick[k]))
            if axis == 0
            else Segment(axis, int(rows[k]), int(x0[k]), int(rows[k]) + 1, int(x1[k]), float(thick[k]))
            for k in (j, i)
        ]
        if _joins(*sides, faint, faint) is not None:
            return True
    return False


def _joined_ends(
    rows: np.ndarray, x0: np.ndarray, x1: np.ndarray, i: np.ndarray, j: np.ndarray, faint: np.ndarray
) -> np.ndarray:
    """bool per pair (i[k], j[k]) of the runs (row, [x0, x1)) in bool (H, W) `faint` ink (in the runs' frame): at
    both ends some column within END_REACH is inked all the way from one run's row to the other's. `_joins` finds
    a box's short edges nowhere else (one-row sides: its spans run from row to row), so a pair without them is no
    box; counted in an integral image, where `_joins` would slice the picture pair by pair.
    """
    table = _integral(faint)
    w = faint.shape[1]
    lo, hi = np.minimum(rows[i], rows[j])[:, None], np.maximum(rows[i], rows[j])[:, None] + 1
    ok = np.ones(i.size, bool)
    for end in (np.minimum(x0[i], x0[j]), np.maximum(x1[i], x1[j]) - 1):
        cols = end[:, None] + np.arange(-END_REACH, END_REACH + 1)[None]
        c = np.clip(cols, 0, w - 1)
        inked = table[hi, c + 1] - table[lo, c + 1] - table[hi, c] + table[lo, c]
        ok &= ((inked == hi - lo) & (cols >= 0) & (cols < w)).any(1)
    return ok


def _integral(on: np.ndarray) -> np.ndarray:
    """int32 (H + 1, W + 1) integral image of bool (H, W) `on`: any box's count of pixels in four look-ups."""
    import cv2

    return cv2.integral(np.ascontiguousarray(on).view(np.uint8), sdepth=cv2.CV_32S)


def _sum(table: np.ndarray, r0: np.ndarray, r1: np.ndarray, c0: np.ndarray, c1: np.ndarray) -> np.ndarray:
    """Pixels in the boxes rows [r0, r1) x columns [c0, c1), from an `_integral` table; int arrays alike."""
    return table[r1, c1] - table[r0, c1] - table[r1, c0] + table[r0, c0]


def _framed(across: np.ndarray, rows: np.ndarray, x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """bool per run (row, [x0, x1)): a long run of the other direction (bool (H, W) `across`) meets one of its ends
    (both, for a box's edge; one is enough for a line that a scan broke into pieces)."""
    table = _integral(across)
    h, w = across.shape
    r0, r1 = np.maximum(rows - END_REACH, 0), np.minimum(rows + END_REACH + 1, h)
    near = []
    for x in (x0, x1 - 1):
        near.append(_sum(table, r0, r1, np.maximum(x - END_REACH, 0), np.minimum(x + END_REACH + 1, w)) > 0)
    return near[0] | near[1]


def _reach(on: np.ndarray, axis: int, r: int) -> tuple[np.ndarray, np.ndarray]:
    """Where bool (H, W) `on` has a pixel within `r` before, and within `r` after, along `axis` (0 rows, 1 columns)."""
    before, after = np.zeros_like(on), np.zeros_like(on)
    for d in range(1, r + 1):
        if axis == 0:
            before[d:] |= on[:-d]
            after[:-d] |= on[d:]
        else:
            before[:, d:] |= on[:, :-d]
            after[:, :-d] |= on[:, d:]
    return before, after


def _bridged(on: np.ndarray, axis: int, gap: int = END_REACH) -> np.ndarray:
    """bool (H, W) `on` with gaps of up to `gap` pixels along `axis` filled (a line broken by a crossing's clean-up)."""
    before, after = _reach(on, axis, gap)
    return on | (before & after)


def _line_runs(faint: np.ndarray, axis: int, k: int) -> np.ndarray:
    """bool (H, W): pixels of bool (H, W) `faint` in runs at least `k` long of level (`axis` 0) or upright (1)
    lines, gaps bridged, once the ink is thickened a pixel across so that a line a degree or two off level
    still runs on unbroken."""
    along, across = (1, 0) if axis == 0 else (0, 1)  # NOTE: `_reach`'s axes: 0 moves along columns, 1 along rows
    return long_runs(_grow(_bridged(faint, along), 1, across), k, axis=along) & faint


def stroke_width(on: np.ndarray) -> float:
    """Mean stroke width in pixels of bool (H, W) ink: its area over half its perimeter."""
    area = float(on.sum())
    edges = float((on[1:] != on[:-1]).sum() + (on[:, 1:] != on[:, :-1]).sum())
    return 2.0 * area / max(edges, 1.0)


def _segments(cand: np.ndarray, axis: int, min_length: float) -> tuple[list[Segment], np.ndarray]:
    """Thin segments of bool (H, W) candidates along `axis`, at least `min_length` long, and their own pixels.

    A line and a digit stroke touching it form one group of candidates, and
    a digit crossing several lines of ruled or graph paper joins them all:
    the lines are taken out of a group one at a time, top (left) first.
    """
    import cv2

    own = np.zeros(cand.shape, bool)
    out: list[Segment] = []
    rows, cols = np.flatnonzero(cand.any(1)), np.flatnonzero(cand.any(0))
    if rows.size == 0:
        return out, own
    # NOTE: labelled within the candidates' box only: the same groups, for a fraction of the cost on a photo.
    top, left = int(rows[0]), int(cols[0])
    box = cand[top : rows[-1] + 1, left : cols[-1] + 1].astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(box, connectivity=8)
    labels = np.pad(labels, ((top, cand.shape[0] - top - box.shape[0]), (left, cand.shape[1] - left - box.shape[1])))
    for i in range(1, count):
        x, y, w, h, _ = (int(v) for v in stats[i])
        x, y = x + left, y + top
        if (w if axis == 0 else h) < min_length:
            continue
        window = labels[y : y + h, x : x + w] == i
        for pixels, thickness in _group_lines(window if axis == 0 else window.T, min_length):
            pixels = pixels if axis == 0 else pixels.T
            rows, cols = np.flatnonzero(pixels.any(1)), np.flatnonzero(pixels.any(0))
            own[y : y + h, x : x + w] |= pixels
            box = (x + cols[0], y + rows[0], x + cols[-1] + 1, y + rows[-1] + 1)
            out.append(Segment(axis, *(int(v) for v in box), thickness, _slope(pixels if axis == 0 else pixels.T)))
    return out, own


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(slope, offset) of the least-squares line through points (x, y), 2 or more with distinct x; as
    np.polyfit(x, y, 1), without its overhead (called for every candidate line)."""
    x = x.astype(np.float64)
    mx, my = float(x.mean()), float(y.mean())
    dx = x - mx
    slope = float((dx * (y - my)).sum() / max(float((dx * dx).sum()), 1e-12))
    return slope, my - slope * mx


def _quantile(a: np.ndarray, pct: float) -> float:
    """np.percentile(a, pct) of a non-empty 1-D array, by linear interpolation, without its overhead."""
    pos = (a.size - 1) * pct / 100
    lo = int(pos)
    part = np.partition(a, (lo, min(lo + 1, a.size - 1)))
    return float(part[lo] + (part[min(lo + 1, a.size - 1)] - part[lo]) * (pos - lo))


def _slope(pixels: np.ndarray) -> float:
    """The slope (rows per column) of the line through the middles of bool (h, w) `pixels`' columns."""
    counts = pixels.sum(0)
    cols = np.flatnonzero(counts)
    if cols.size < 2:
        return 0.0
    middle = (pixels * np.arange(pixels.shape[0])[:, None]).sum(0)[cols] / counts[cols]
    return _fit(cols, middle)[0]


def _group_lines(group: np.ndarray, min_length: float) -> list[tuple[np.ndarray, float]]:
    """The lines of bool (h, w) `group` running along its columns, each as (its pixels, thickness).

    Lines come out top first (or bottom first where a stroke lies on a line's top) until none is left.
    """
    out = []
    left = group.copy()
    for _ in range(MAX_LINES):
        line = _line_pixels(_first_runs(left), left)
        if line is None:  # NOTE: a digit's stroke lies on top of the line: try its other side
            line = _line_pixels(_first_runs(left[::-1])[::-1], left)
        if line is None:
            break
        pixels, thickness = line
        cols = np.flatnonzero(pixels.any(0))
        if cols.size == 0 or cols[-1] - cols[0] + 1 < min_length:
            break
        span = cols[-1] - cols[0] + 1
        # NOTE: a ruling runs on unbroken; the lines sharing a group (ruled or graph paper) are alike, and what is
        # left of a digit once they are out (a 3's bottom arc) is thicker and patchy.
        alike = not out or thickness <= ALIKE * out[0][1] + 1
        if thickness <= THIN * span and cols.size >= COVER * span and alike:
            out.append((pixels, thickness))
        left &= ~pixels
    return out


def _first_runs(on: np.ndarray) -> np.ndarray:
    """bool (h, w): each column's topmost run of bool (h, w) `on`."""
    started = np.cumsum(on, 0) > 0
    return on & (np.cumsum(started & ~on, 0) == 0)


def _line_pixels(group: np.ndarray, pool: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The pixels of bool (h, w) `pool` near the straight line through the middles of `group`'s columns, and its
    thickness; None when no straight line runs through them.

    Columns where a stroke joins the line are thicker and their middles off
    the line: the thickness is a low percentile of the columns', and the
    line is fitted through the columns no thicker than twice that, then
    again through those of them that keep near the first fit.
    """
    counts = group.sum(0)
    cols = np.flatnonzero(counts)
    if cols.size < 2:
        return None
    rows = np.arange(group.shape[0], dtype=np.float64)[:, None]
    middle = (group * rows).sum(0)[cols] / counts[cols]
    thickness = _quantile(counts[cols], THICK_PCT)
    clean = counts[cols] <= 2 * thickness
    if clean.sum() < max(2, CLEAN_SHARE * cols.size):
        return None
    need, reach = max(2, CLEAN_SHARE * cols.size), max(WOBBLE, thickness)
    slope, offset = _fit(cols[clean], middle[clean])
    near = clean & (np.abs(middle - (slope * cols + offset)) <= reach)
    if near.sum() < need:
        # NOTE: a digit's stroke lying on the line's side over many columns pulls the least-squares fit off both;
        # start again from the line's own columns: those at the clean columns' median middle
        near = clean & (np.abs(middle - float(np.median(middle[clean]))) <= reach)
        if near.sum() >= 2:
            slope, offset = _fit(cols[near], middle[near])
            near = clean & (np.abs(middle - (slope * cols + offset)) <= reach)
    if near.sum() >= need:
        clean = near
        slope, offset = _fit(cols[clean], middle[clean])
    if abs(slope) > MAX_SLOPE:  # a 1's or a 7's slanted stroke, never a ruling
        return None
    centre = slope * np.arange(group.shape[1]) + offset
    # NOTE: a ruling is straight: its clean columns' middles keep to the fitted line; a digit's arc (the side of a
    # 0, the bowl of a 6) bends away from any straight line through it by several pixels.
    if _quantile(np.abs(middle[clean] - centre[cols[clean]]), STRAIGHT_PCT) > max(WOBBLE, WOBBLE_SHARE * thickness):
        return None
    return pool & (np.abs(rows - centre[None, :]) <= thickness / 2 + 1), thickness


def _reaches_past(s: Segment, other: np.ndarray, width: float, crossed: bool = False, alone: bool = False) -> bool:
    """True when ink of bool (H, W) `other` lies along `s` and `s` goes past all of it at both ends.

    The ink counted is within one line length across `s` (the digits it
    underlines, crosses or frames); none there means a lone stroke (a 1, a
    dash), never a ruling by this test, and so do mere specks (under
    SPECK_STROKES squared stroke widths in all) when `s` is the `alone` line
    found off the picture's border (a 1 on graph paper is a line too, and
    only its fringe is left beside the grid's lines).
    """
    band = _band(s, other)
    # NOTE: a bump on a lone 1's side, or specks of a photo's paper, are no ink that a ruling could underline
    if alone and int(np.count_nonzero(band)) < SPECK_STROKES * width**2:
        return False
    profile = band.any(0) if s.axis == 0 else band.any(1)
    inked = np.flatnonzero(profile)
    if inked.size == 0:
        return False
    margin = max(2.0, min(BEYOND * s.length, BEYOND_STROKES * width))
    if s.axis == 0 and _underlines(s, band, max(0, s.y0 - s.length)):
        margin = float(END_CLEAR)
    if s.axis == 1 and not crossed:  # NOTE: a 1, or a 0's side, often stands out of its neighbours
        margin = max(margin, TALL_ONE * s.length)
    return inked[0] >= margin and inked[-1] < profile.size - margin


def _band(s: Segment, on: np.ndarray) -> np.ndarray:
    """The part of bool (H, W) `on` within one line length across `s`, over its length (a view)."""
    if s.axis == 0:
        return on[max(0, s.y0 - s.length) : s.y1 + s.length, s.x0 : s.x1]
    return on[s.y0 : s.y1, max(0, s.x0 - s.length) : s.x1 + s.length]


def _along_longer(s: Segment, parallel: list[Segment]) -> bool:
    """True when `s` lies right beside a longer line of `parallel` (its own direction) over all of its length.

    A stroke drawn along graph paper's line merges with it and shows as a
    short segment at its side; the grid lines crossing it everywhere make it
    look framed, but a box's edge never runs beside a longer line.
    """
    lo, hi = (s.x0, s.x1) if s.axis == 0 else (s.y0, s.y1)
    for p in parallel:
        p_lo, p_hi = (p.x0, p.x1) if p.axis == 0 else (p.y0, p.y1)
        if p.length <= s.length + 2 * END_REACH or not (p_lo <= lo and p_hi >= hi):
            continue
        if abs(p.position - s.position) <= (p.thickness + s.thickness) / 2 + END_REACH:
            return True
    return False


def _underlines(s: Segment, band: np.ndarray, top: int) -> bool:
    """True when level `s` lies under the ink of bool `band` (rows from `top` on, its columns) and is LONG_RULE
    times as long as that ink is tall: a line under a whole string, far longer than any digit's bar (two 7s' bars
    in a row lie over their ink), drawn with little to spare at its ends."""
    rows = np.flatnonzero(band.any(1)) + top
    if rows.size == 0 or s.length < LONG_RULE * (rows[-1] - rows[0] + 1):
        return False
    below = band[max(0, s.y1 - top) :].sum()
    return bool(below <= UNDER_SHARE * band.sum())


def _ink_extent(s: Segment, other: np.ndarray) -> int:
    """How far the ink of bool (H, W) `other` beside `s` (within one line length) extends along it."""
    reach = s.length
    if s.axis == 0:
        profile = other[max(0, s.y0 - reach) : s.y1 + reach, s.x0 : s.x1].any(0)
    else:
        profile = other[s.y0 : s.y1, max(0, s.x0 - reach) : s.x1 + reach].any(1)
    inked = np.flatnonzero(profile)
    return int(inked[-1] - inked[0] + 1) if inked.size else 0


def _ends(s: Segment) -> list[tuple[int, int, int, int]]:
    """The two boxes (rows a..b, columns c..d, inclusive) within END_REACH of the ends of `s`."""
    r = END_REACH
    if s.axis == 0:
        return [(s.y0 - r, s.y1 + r, s.x0 - r, s.x0 + r), (s.y0 - r, s.y1 + r, s.x1 - 1 - r, s.x1 - 1 + r)]
    return [(s.y0 - r, s.y0 + r, s.x0 - r, s.x1 + r), (s.y1 - 1 - r, s.y1 - 1 + r, s.x0 - r, s.x1 + r)]


def _meets_at_both_ends(s: Segment, across: np.ndarray) -> bool:
    """True when both ends of `s` touch bool (H, W) `across`, the long lines of the other direction."""
    h, w = across.shape
    return all(across[max(0, a) : min(h, b + 1), max(0, c) : min(w, d + 1)].any() for a, b, c, d in _ends(s))


def _frame_thickness(s: Segment, others: list[Segment]) -> float:
    """The thickest of `others` (lines of the other direction) that an end of `s` meets (0 when none does)."""
    return max(
        (
            p.thickness
            for p in others
            if any(a <= p.y1 - 1 and p.y0 <= b and c <= p.x1 - 1 and p.x0 <= d for a, b, c, d in _ends(s))
        ),
        default=0.0,
    )


def find_rulings(ink: np.ndarray) -> Rulings:
    """The rulings of float32 (H, W) soft ink in [0, 1] (ink bright): their pixel mask and segments.

    An all-False mask and no segments when the picture has none (most
    pictures: checked with two run-length passes before anything else).
    """
    on, faint = ink > INK_ON, ink > LINE_ON
    empty = Rulings(np.zeros(ink.shape, bool))
    if on.shape[0] < 8 or on.shape[1] < 8 or not on.any():
        return empty
    width = stroke_width(on)
    kernel = max(KERNEL_MIN, round(KERNEL_SHARE * max(on.shape)))
    min_length = max(kernel, RULE_STROKES * width, MIN_RULE)
    # NOTE: the cheap check first: most pictures have no unbroken run as long as a ruling must be.
    need = int(np.ceil(min_length))
    if not _may_hold_rulings(on, faint, need, width):
        return empty
    kernel = max(kernel, round(RUN_SHARE * min_length))
    runs = (_line_runs(faint, 0, kernel), _line_runs(faint, 1, kernel))
    found = [_segments(runs[axis], axis, min_length) for axis in (0, 1)]
    if not (found[0][0] or found[1][0]):
        return empty
    # NOTE: a candidate's own pixels, those of lines parallel to it and of lines crossing it (graph paper) are not
    # "ink beside it"; strokes and the lines that end on it are (a box's top edge is framed by its sides, and needs
    # the both-ends test; a 7's bar ends on its stem, and is no ruling).
    long_mask = [_mask_of(segs, own) for segs, own in found]
    other_ink = on & ~long_mask[0] & ~long_mask[1]
    free, framed = _free_and_framed(found, long_mask, on, other_ink, width)
    kept = free + _mutual_frames(framed, free, found)
    rest = [s for s in found[0][0] + found[1][0] if s not in kept and not _along_longer(s, found[s.axis][0])]
    boxes, edges = _joined_pairs(rest, faint, found)
    kept = _without_thick_strokes(kept + boxes)
    if not kept and not other_ink.any():
        kept = _blank_ruled_page(found, on.shape)
    if not kept:
        return empty
    mask = _mask_of([s for s in kept if s.axis == 0], found[0][1] | edges)
    mask |= _mask_of([s for s in kept if s.axis == 1], found[1][1] | edges)
    return empty if _square_zero(kept, on, mask) else Rulings(mask, kept)


def _free_and_framed(
    found: list, long_mask: list[np.ndarray], on: np.ndarray, other_ink: np.ndarray, width: float
) -> tuple[list[Segment], list[Segment]]:
    """The candidate lines `found` ([(segments, pixels)] per axis) of bool (H, W) ink `on` that reach past the ink
    beside them (free), and those whose both ends meet lines across (framed, to be confirmed by each other).
    `long_mask`: each axis's candidates' pixels; `other_ink`: the ink that is none of them; `width`: the strokes'."""
    free: list[Segment] = []
    framed: list[Segment] = []
    inside = [p for segs, _ in found for p in segs if not _at_border(p, on.shape)]  # NOTE: a photo's paper edge
    for axis, (segs, _) in enumerate(found):
        across = long_mask[1 - axis]
        for s in segs:
            if s.length < RULE_STROKES * max(s.thickness, width):
                continue
            # NOTE: a photo's paper edge or a scan's dark border along the picture's side ends every line on it
            ending = [p for p in found[1 - axis][0] if not _crosses(p, s, on.shape) and not _at_border(p, on.shape)]
            other = other_ink | (_mask_of(ending, found[1 - axis][1]) & on) if ending else other_ink
            # NOTE: a thick digit's straight strokes (a 7's bar and stem) are long segments too, far thicker than a
            # thin line across them: they are ink beside that line, not lines like it
            strokes = [[p for p in segs_ if p.thickness > ALIKE * s.thickness + 1] for segs_, _ in found]
            if strokes[0] or strokes[1]:
                other = other | ((_mask_of(strokes[0], found[0][1]) | _mask_of(strokes[1], found[1][1])) & on)
            crossed = len(found[1 - axis][0]) - len(ending) >= 2
            if _reaches_past(s, other, width, crossed, alone=len(inside) == 1):
                free.append(s)
            elif (
                _meets_at_both_ends(s, across)
                and s.length >= FRAME_COVER * _ink_extent(s, other)
                and not _along_longer(s, segs)
            ):
                # NOTE: a digit's stroke from a box's top edge to its bottom one is framed too, and far thicker
                # than the edges it ends on (not than any line across: a digit's own bar may be as thick)
                if s.thickness <= ALIKE * _frame_thickness(s, found[1 - axis][0]) + 1:
                    framed.append(s)
    return free, framed


def _square_zero(kept: list[Segment], on: np.ndarray, mask: np.ndarray) -> bool:
    """Whether the `kept` lines (their pixels `mask`) of bool (H, W) ink `on` are a square 0: four or fewer straight
    strokes that frame each other round nothing (a "box" round no ink is the digit itself), unless its sides are
    far thinner than a digit's strokes for its size (a printed form's empty box)."""
    return (
        len(kept) <= FRAME_SIDES
        and {s.axis for s in kept} == {0, 1}
        and _empty_inside(on & ~_grow(mask, FRINGE), kept)
        and not _printed_box(kept)
    )


def _printed_box(kept: list[Segment]) -> bool:
    """True when the box `kept` spans is EMPTY_BOX_STROKES times as long as its thickest side is thick."""
    w = max(s.x1 for s in kept) - min(s.x0 for s in kept)
    h = max(s.y1 for s in kept) - min(s.y0 for s in kept)
    return max(w, h) >= EMPTY_BOX_STROKES * max(s.thickness for s in kept)


def _without_thick_strokes(kept: list[Segment]) -> list[Segment]:
    """`kept` less a short segment far thicker (ALIKE, and a pixel) than the typical one among GRID_LINES or more:
    a thick pen's straight stroke (a 2's flat foot from one divider of a comb field to the next) that passes for
    an underline, in a form whose printed lines are all alike and thin. Short: under half the longest line its way.
    """
    if len(kept) < GRID_LINES:
        return kept
    typical = float(np.median([s.thickness for s in kept]))
    longest = [max((s.length for s in kept if s.axis == a), default=0) for a in (0, 1)]
    return [s for s in kept if s.thickness <= ALIKE * typical + 1 or 2 * s.length >= longest[s.axis]]


def _blank_ruled_page(found: list, shape: tuple[int, int]) -> list[Segment]:
    """The lines of a ruled or graph page with nothing written on it, from `found` ([(segments, pixels)] per axis)
    in a picture of `shape`: two or more level lines across it (RULED_PAGE of its width), and the upright lines
    across it that cross them. [] otherwise: a lone line is a dash or a 1, and upright ones alone a 1 or an 11.
    """
    level = [s for s in found[0][0] if s.length >= RULED_PAGE * shape[1]]
    if len(level) < 2:
        return []
    return level + [s for s in found[1][0] if s.length >= RULED_PAGE * shape[0]]


def _joined_pairs(segs: list[Segment], faint: np.ndarray, found: list) -> tuple[list[Segment], np.ndarray]:
    """The boxes that two parallel `segs` make with the short edges joining their ends in bool (H, W) `faint` ink:
    (the four edges as segments, bool (H, W) pixels of the short edges).

    A narrow box round a 1 has sides long enough to be rulings but a top and
    a bottom shorter than any ruling; a digit reaching over a box's edge can
    hide that edge as a line. Two straight sides of alike length, ends level,
    joined at both ends by unbroken ink across make a box all the same, when
    it holds ink in its middle (else it is a digit 0 with straight sides).
    `found` ([(segments, their pixels)] per axis): lines running on past a
    pair (graph paper's) are not ink in its middle.
    """
    edges = np.zeros(faint.shape, bool)
    out: list[Segment] = []
    for i, a in enumerate(segs):
        for b in segs[i + 1 :]:
            thin, thick = sorted((a.thickness, b.thickness))
            if a.axis != b.axis or a in out or b in out or thick > ALIKE * thin + 1:
                continue
            longer = [
                _mask_of([p for p in segs_ if p.length > max(a.length, b.length) + 2 * END_REACH], own)
                for segs_, own in found
            ]
            joins = _joins(a, b, faint, faint & ~longer[0] & ~longer[1])
            if joins is not None:
                out += [a, b, *joins]
                for j in joins:
                    edges[j.y0 : j.y1, j.x0 : j.x1] = faint[j.y0 : j.y1, j.x0 : j.x1]
    return out, edges


def _joins(a: Segment, b: Segment, faint: np.ndarray, inner: np.ndarray) -> tuple[Segment, Segment] | None:
    """The two short edges joining the ends of parallel segments `a` and `b` through bool (H, W) `faint` ink, or
    None when their ends are not level or not joined by a straight unbroken run, or when no ink of bool (H, W)
    `inner` lies in the middle between them."""
    t = faint if a.axis == 1 else faint.T  # NOTE: in this frame the sides stand upright
    inner = inner if a.axis == 1 else inner.T
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = [
        (s.x0, s.y0, s.x1, s.y1) if a.axis == 1 else (s.y0, s.x0, s.y1, s.x1) for s in (a, b)
    ]
    if bx0 < ax0:
        (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = (bx0, by0, bx1, by1), (ax0, ay0, ax1, ay1)
    gap = bx0 - ax1
    length = min(ay1 - ay0, by1 - by0)
    thick = int(np.ceil(max(a.thickness, b.thickness)))
    if gap < 2 * thick or abs(ay0 - by0) > END_REACH or abs(ay1 - by1) > END_REACH or gap > PAIR_ASPECT * length:
        return None
    top, bottom = max(ay0, by0), min(ay1, by1)
    dx, dy = round(INSIDE_MARGIN * gap), round(INSIDE_MARGIN * (bottom - top))
    if not inner[top + dy : bottom - dy, ax1 + dx : bx0 - dx].any():
        return None  # NOTE: nothing inside: a printed 0's straight sides and round ends, not a box round a digit
    ends = (min(ay0, by0), max(ay1, by1) - 1)
    found = _edges(t, ends, (ax0, bx1), thick)
    if found is None and gap >= PAIR_GAP * thick:
        # NOTE: a stroke touching a side widens its box, not its line: side's middle to side's middle then (a
        # thick 0's or 9's loop is as square there, so only for sides far apart for their thickness)
        found = _edges(t, ends, ((ax0 + ax1 - 1) // 2, (bx0 + bx1) // 2 + 1), thick)
    if found is None:
        return None
    boxes = [(ax1, r0, bx0, r1) for r0, r1 in found]
    return tuple(
        Segment(1 - a.axis, *(box if a.axis == 1 else (box[1], box[0], box[3], box[2])), float(thick)) for box in boxes
    )  # type: ignore[return-value]


def _edges(t: np.ndarray, ends: tuple[int, int], span: tuple[int, int], thick: int) -> list[tuple[int, int]] | None:
    """The rows (first, last + 1) of the unbroken runs across columns `span` of bool (H, W) `t` near the rows
    `ends` (top, bottom) of two upright sides, or None when either end has none or is a filled blob."""
    found = []
    for outer, end in zip((0, -1), ends):
        # NOTE: corner to corner, over the sides too: a box's corners are square, a 0's or an 8's ends are round
        rows = t[max(0, end - END_REACH) : end + END_REACH + 1, span[0] : span[1]]
        full = np.flatnonzero(rows.all(1))
        if full.size == 0 or full.size == rows.shape[0]:  # NOTE: a thin run across, not a filled blob
            return None
        if full[-1] - full[0] + 1 > thick + 2:
            # A stroke lying along the edge inside the box (a 2's base): the edge is the outermost rows.
            full = full[:thick] if outer == 0 else full[-thick:]
        r0 = max(0, end - END_REACH) + int(full[0])
        found.append((r0, r0 + int(full.size)))
    return found


def _empty_inside(left: np.ndarray, kept: list[Segment]) -> bool:
    """True when no ink of bool (H, W) `left` lies in the middle of the box the `kept` segments span."""
    x0, y0 = min(s.x0 for s in kept), min(s.y0 for s in kept)
    x1, y1 = max(s.x1 for s in kept), max(s.y1 for s in kept)
    dx, dy = round(INSIDE_MARGIN * (x1 - x0)), round(INSIDE_MARGIN * (y1 - y0))
    return not left[y0 + dy : y1 - dy, x0 + dx : x1 - dx].any()


def _mutual_frames(framed: list[Segment], free: list[Segment], found: list) -> list[Segment]:
    """The `framed` segments whose both ends meet rulings (`free` ones or framed ones that stay so themselves).

    A box's edges hold each other up; a round 0's flat bottom meets its
    sides, which meet nothing at their other ends, so all of them go.
    """
    while framed:
        rules = free + framed
        across = [_mask_of([r for r in rules if r.axis == a], found[a][1]) for a in (0, 1)]
        stay = [s for s in framed if _meets_at_both_ends(s, across[1 - s.axis])]
        if len(stay) == len(framed):
            break
        framed = stay
    return framed


def _crosses(p: Segment, s: Segment, shape: tuple[int, int]) -> bool:
    """True when `p` runs across `s` and on past it at both sides (graph paper, a table's inner lines), or to the
    picture's edge (graph paper cut off there)."""
    lo, hi = (p.x0, p.x1) if p.axis == 0 else (p.y0, p.y1)
    side = shape[1] if p.axis == 0 else shape[0]
    lo, hi = (-side if lo <= END_REACH else lo), (2 * side if hi >= side - END_REACH else hi)
    at = (s.x0, s.x1) if s.axis == 0 else (s.y0, s.y1)
    if not at[0] - END_REACH <= p.position <= at[1] + END_REACH:
        return False
    margin = END_REACH + s.thickness
    return lo <= s.position - margin and hi >= s.position + margin


def _at_border(p: Segment, shape: tuple[int, int]) -> bool:
    """True when `p` runs along the picture's side (within END_REACH of its first or last row or column)."""
    lo, hi, side = (p.y0, p.y1, shape[0]) if p.axis == 0 else (p.x0, p.x1, shape[1])
    return lo <= END_REACH or hi >= side - END_REACH


def _mask_of(segs: list[Segment], own: np.ndarray) -> np.ndarray:
    """bool (H, W): the line pixels of `segs` (not their whole boxes: lines may slant)."""
    mask = np.zeros(own.shape, bool)
    for s in segs:
        mask[s.y0 : s.y1, s.x0 : s.x1] |= own[s.y0 : s.y1, s.x0 : s.x1]
    return mask


def _grow(mask: np.ndarray, r: int, axis: int | None = None) -> np.ndarray:
    """bool (H, W) `mask` grown by `r` pixels along `axis` (0 rows, 1 columns) or both (None)."""
    out = mask.copy()
    for ax in (0, 1) if axis is None else (axis,):
        before, after = _reach(out, ax, r)
        out = out | before | after
    return out


def _crossings(rulings: Rulings, keep: np.ndarray) -> np.ndarray:
    """bool (H, W): ruling pixels where ink of bool `keep` goes on at both sides across the line (a stroke)."""
    out = np.zeros(keep.shape, bool)
    for axis in (0, 1):
        segs = rulings.horizontal if axis == 0 else rulings.vertical
        if not segs:
            continue
        span = int(np.ceil(max(s.thickness for s in segs))) + REPAIR_SPAN
        line = np.zeros(keep.shape, bool)
        for s in segs:
            line[s.y0 : s.y1, s.x0 : s.x1] |= rulings.mask[s.y0 : s.y1, s.x0 : s.x1]
        line = _grow(line, FRINGE, 0 if axis == 0 else 1)
        before, after = _reach(keep, axis, span)  # ink up to `span` pixels before (above / left of) and after
        side = 1 - axis
        # NOTE: a slanted stroke enters and leaves the line a pixel or two apart: allow that much sideways.
        out |= line & _grow(before, 1, side) & _grow(after, 1, side)
        # A steeper one (or one half eaten by a line along it) leaves further along: keep the pixels midway
        # between where it enters and where it leaves, its path, never a stub beside it.
        for d in range(2, span + 1):
            out |= line & _shifted(before, d, side) & _shifted(after, -d, side)
            out |= line & _shifted(before, -d, side) & _shifted(after, d, side)
    return out


def _darker_than_lines(ink: np.ndarray, rulings: Rulings) -> np.ndarray:
    """bool (H, W): ruling pixels of float32 (H, W) `ink` clearly darker than their line (DARKER over the median
    of its columns' peaks, or over their LINE_PCT percentile for a box's edge): a pen's stroke over a light grey or
    coloured ruling, lying along it or crossing it."""
    out = np.zeros(ink.shape, bool)
    for s in rulings.segments:
        own = rulings.mask[s.y0 : s.y1, s.x0 : s.x1]
        box = np.where(own, ink[s.y0 : s.y1, s.x0 : s.x1], 0.0)
        peaks = box.max(axis=0 if s.axis == 0 else 1)
        peaks = peaks[peaks > 0]
        if peaks.size:
            # NOTE: a box's edge: a 7's bar may lie along most of it, darkening its median; a line across the picture
            # (ruled or graph paper) is long enough for its median, and the light along it varies more
            boxed = len(rulings.segments) <= FRAME_SIDES and s.length < RULED_PAGE * ink.shape[1 - s.axis]
            level = _quantile(peaks, LINE_PCT) if boxed else float(np.median(peaks))
            out[s.y0 : s.y1, s.x0 : s.x1] |= own & (box > level + DARKER)
    return out


def _shifted(on: np.ndarray, d: int, axis: int) -> np.ndarray:
    """bool (H, W) `on` moved `d` pixels along `axis` (0 rows, 1 columns; d > 0: down / right), zeros let in."""
    out = np.zeros_like(on)
    src = [slice(None), slice(None)]
    dst = [slice(None), slice(None)]
    src[axis], dst[axis] = (slice(None, -d), slice(d, None)) if d > 0 else (slice(-d, None), slice(None, d))
    out[tuple(dst)] = on[tuple(src)]
    return out


def with_faint_lines(ink: np.ndarray, strength: np.ndarray, along: bool = False) -> np.ndarray:
    """float32 (H, W) soft `ink` with the faint lines of float32 (H, W) ink `strength` (before the soft threshold)
    brought up to at least LINE_ON: a light gray ruling, blurred by a scan, falls under the threshold but still
    bounds a form's cells. Detection only: the ink read keeps its own values.

    `along`: look for them in the strength averaged along rows and columns
    (`_along_lines`), where a light ruling that noise broke into dashes
    shows whole; a box's blurred fringe shows too, thickening its edges, so
    this is a second look where the first found no grid (`read_cells`).
    """
    strength = _along_lines(strength) if along else strength
    sample = strength[:: max(1, strength.shape[0] // 200), :: max(1, strength.shape[1] // 200)]
    med, peak = _percentiles(sample, (50, 99.5))
    noise = med + NOISE_SIGMAS * 1.4826 * _percentiles(np.abs(sample - med), (50,))[0]
    if peak - noise < LINE_CONTRAST:
        return ink
    # NOTE: in place, one array: a photo's full-size float passes cost a millisecond each
    faint = (strength - noise).astype(np.float32)
    faint *= INK_ON / (FAINT_SHARE * (peak - noise))
    np.clip(faint, 0.0, INK_ON, out=faint)
    return np.maximum(faint, ink, out=faint)


def _percentiles(values: np.ndarray, pcts: tuple[float, ...]) -> list[float]:
    """Percentiles of float array `values`, to within half of 1/LEVELS of their range: from one histogram, where a
    photo's sample of ink strengths (most of it the paper's, in ties) takes a partition a millisecond per look."""
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        return [lo] * len(pcts)
    scale = (LEVELS - 1) / (hi - lo)
    counts = np.cumsum(np.bincount(((values - lo) * scale).astype(np.int32).ravel(), minlength=LEVELS))
    return [lo + (float(np.searchsorted(counts, p / 100 * counts[-1])) + 0.5) / scale for p in pcts]


def _along_lines(strength: np.ndarray) -> np.ndarray:
    """float32 (H, W): how far `strength` runs on through each pixel along a row or a column above the paper
    beside it: the smaller of its means over LINE_SMOOTH pixels before and after the pixel, less the larger of
    that mean RIDGE_GAPS pixels to either side across; the larger of this along rows and along columns.

    A light line keeps its contrast there while the paper's noise and a
    photo's uneven light (both sides alike) fall to zero; past a stroke's
    end one side is paper, and beside a stroke the stroke itself is the side,
    so digits do not grow.
    """
    import cv2

    k = LINE_SMOOTH
    out = np.zeros_like(strength)
    for size, before, axis in (((k, 1), (k - 1, 0), 0), ((1, k), (0, k - 1), 1)):
        a = cv2.blur(strength, size, anchor=before, borderType=cv2.BORDER_REPLICATE)
        b = cv2.blur(strength, size, anchor=(0, 0), borderType=cv2.BORDER_REPLICATE)
        run = np.minimum(a, b)
        for gap in RIDGE_GAPS:  # NOTE: across a row's line is along the columns, and the other way round
            side = np.maximum(_shifted(run, gap, axis), _shifted(run, -gap, axis))  # NOTE: paper past the edge
            out = np.maximum(out, run - side)
    return out


def remove_rulings(ink: np.ndarray, rulings: Rulings | None = None) -> np.ndarray:
    """Float32 (H, W) soft ink in [0, 1] with its rulings taken out and the strokes crossing them kept; new array.

    Returns `ink` itself when there are no rulings.
    """
    rulings = find_rulings(ink) if rulings is None else rulings
    if not rulings.segments:
        return ink
    gone = _grow(rulings.mask, FRINGE)
    strokes = (ink > INK_ON) & ~gone
    gone &= ~_crossings(rulings, strokes)
    gone &= ~_darker_than_lines(ink, rulings)
    # NOTE: the fringe goes only where it is faint: a stroke running along the line keeps its own pixels.
    gone &= rulings.mask | (ink < INK_ON)
    gone |= _remnants(ink > LINE_ON, gone, _grow(rulings.mask, REMNANT_REACH))
    return np.where(gone, 0.0, ink).astype(np.float32)


def _remnants(faint: np.ndarray, gone: np.ndarray, near: np.ndarray) -> np.ndarray:
    """bool (H, W): the bits of bool (H, W) `faint` ink left after `gone` that lie wholly in `near` (a ruling's
    surroundings): a box's corner, an edge's blur. A stroke put back across a line joins ink outside, and stays."""
    import cv2

    left = (faint & ~gone).astype(np.uint8)
    count, labels = cv2.connectedComponents(left, connectivity=8)
    if count <= 1:
        return np.zeros(faint.shape, bool)
    outside = np.zeros(count, bool)
    outside[labels[(left > 0) & ~near]] = True
    return (labels > 0) & ~outside[labels]


__all__ = ["Rulings", "Segment", "find_rulings", "long_runs", "remove_rulings", "with_faint_lines"]
