"""A read line checked against the shapes of its ink: marks where the ink says a mark, digits the digit model is sure of.

The line model reads a whole line at once and needs no cuts, but its few
errors are of kinds the ink itself can settle:

- a clear dash, dot or colon read as a digit (`783-807` as `7832807`);
- a digit it misreads where the single-digit model, trained on far more
  shapes, reads it surely (`711` as `741`);
- a narrow digit beside a wide one given no step of its own (`8014` as `804`).

So the line's ink is cut into glyphs: connected strokes, with the small pieces
above or below a stroke (a 5's hat, a colon's second dot) joined to it. A glyph
nearly as tall as the line's digits is a digit or a `/`; one far shorter is a
mark: a dash across the middle, a dot at the foot, two dots stacked a colon.
The line model's characters are aligned to the glyphs, left to right (`_owners`), and

- a digit-tall glyph of one stroke, about one digit wide, with one digit the
  line model read unsurely (LINE_UNSURE), is read by the digit model too, and
  the digit with the largest product of the two models' probabilities is kept
  (two independent experts);
- such a glyph with no character gets the digit model's digit when that model
  is sure (DIGIT_SURE) and the line model gives it some chance (LINE_CHANCE);
- a digit read on a mark glyph becomes the mark where the line model gives
  that mark a fair chance too (MARK_CHANCE: its separator rules read it as a
  digit for want of odds) and no shapeless piece lies right beside it (a
  broken stroke's pieces look like dots and dashes), but only when
  separators are allowed and the line then fits a known format
  (`digitrec.formats.KNOWN_FORMATS`) or the asked pattern.

Numpy and OpenCV (imported inside the functions that use it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from ..formats import KNOWN_FORMATS
from .ctc import DIGITS_ONLY, Pattern
from .lines import ALPHABET, DIGIT_TALL, INK_LEVEL, MARGIN, STRIDE, LineChar

if TYPE_CHECKING:
    from .digits import Recognizer

SPECK = 0.02  # a component with less ink than this share of the 90th-percentile one is dust ...
RULE_LONG = 2.5  # a component this many digit heights long ...
RULE_THIN = 0.2  # ... and at most this share of one tall is a line, not writing
MARK_SIDE = 0.06  # ... unless it is a pen mark: this share of the digits' height long or tall at least ...
MARK_BELOW = 0.2  # ... with its centre in the rows of a digit within a digit's height of it (a comma: a little below)
MARK_DARK = 0.4  # ... and darker than INK_LEVEL by a margin somewhere (a small dot blurs to ~0.5)
MARK_TALL = 0.35  # a dot, or each dot of a colon, is at most this share of the digit height
DASH_TALL = 0.3  # a dash is at most this share of the digit height ...
DASH_LONG = 1.5  # ... and at least this many times as wide as it is tall (and no wider than a digit is tall)
MIDDLE = (0.25, 0.8)  # a dash's centre lies this far down the digits' band (0 its top, 1 its foot)
FOOT = 0.65  # a dot's centre lies at least this far down
ONE_WIDE = 1.4  # a glyph wider than this many times its height is several digits: left to the line model
ONE_NARROW = 1.0  # a digit is put back only on a glyph at most this many times as wide as tall
JOIN_SHORT = 0.5  # a short piece overlapping a glyph's columns by this share of its own width joins it
JOIN_TALL = 0.8  # two tall strokes join only when they overlap by this share of the narrower's width
LINE_UNSURE = 0.95  # a digit the line model reads less surely than this is decided by both models together
NOT_ONE = 0.5  # a glyph the digit model gives this chance of not being a digit may be two touching: not checked
DIGIT_SURE = 0.9  # the digit model's probability that puts back a digit the line model gave no step
LINE_CHANCE = 0.01  # ... while the line model gives that digit at least this probability at the glyph's steps
EMPTY_COST = 3.0  # steps of distance an alignment pays for leaving a digit glyph without a character
EXTRA_COST = 3.0  # ... and for each second character on a glyph one digit wide
MARK_CHANCE = 0.5  # a mark replaces a digit only where the line model gives it at least this probability
MARK_CONFIDENCE = 0.9  # the confidence of a mark the ink shows (dash, dot, colon), for the line's weakest char
NO_SHAPE = 0.75  # a line read as one character, one digit wide, that the digit model takes for no digit this surely
#                 is none (a spiral read 6, rings read 0: the line model has no "not a digit" answer); at 0.5, three
#                 forms-bench digits whose ruling's crossing was mended (0.63-0.65) were lost. Two characters on
#                 ink no wider than tall (a spiral read 61) lost 3 of 500 pairs of digits: left
UNREAD_MIN = 3  # a line of this many digit-tall glyphs at least ...
UNREAD_SHARE = 0.5  # ... more than this share of them given no character is words, not digits ("Street" read "5")


@dataclass
class Glyph:
    """Ink that stands apart in a line: (x0, x1) columns and (y0, y1) rows of the line's ink, `kind` ("digit",
    "-", ".", ":" or "other"), its component labels `members` in `labels` (the line's int32 (h, w) labels),
    and `line` the line's float32 (h, w) ink."""

    x0: int
    x1: int
    y0: int
    y1: int
    kind: str
    members: list[int] = field(repr=False)
    labels: np.ndarray = field(repr=False)
    line: np.ndarray = field(repr=False)

    @property
    def single(self) -> bool:
        """A digit-tall glyph of one stroke no wider than ONE_WIDE heights: what the digit model can read alone."""
        return self.kind == "digit" and len(self.members) == 1 and self.x1 - self.x0 <= ONE_WIDE * (self.y1 - self.y0)

    @property
    def ink(self) -> np.ndarray:
        """float32 (h, w): the glyph's own strokes (and their soft fringe) cut to its box, other glyphs' ink dark."""
        return own_ink(self.line, self.labels, self.members, (self.x0, self.y0, self.x1, self.y1))


# ---------------------------------------------------------------- components (lines and glyphs alike)


def components(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Connected strokes of float32 (H, W) ink in [0, 1], ink bright: (labels int32 (H, W), component k labelled
    k + 1; stats int (n, 5): left, top, width, height, area of each; the indices of those that are not dust)."""
    import cv2

    count, labels, stats, _ = cv2.connectedComponentsWithStats((ink > INK_LEVEL).astype(np.uint8), connectivity=8)
    stats = stats[1:, :5].astype(int)  # row 0 is the background
    if count <= 1:
        return labels, stats, []
    big = float(np.percentile(stats[:, 4], 90))
    keep = [i for i in range(len(stats)) if stats[i, 4] >= max(4.0, SPECK * big)]
    if not keep:
        return labels, stats, []
    # NOTE: a dot, a colon's dots or a thin dash are far smaller than digits: dust by area alone
    height = typical_height(stats[keep, 3])
    # NOTE: what is left of a ruled line (cut off by a photo's frame) or an underline clear of the digits is
    # as much ink as a digit, but a thin line several digits long: no character
    rules = {i for i in range(len(stats)) if stats[i, 2] >= RULE_LONG * height and stats[i, 3] <= RULE_THIN * height}
    keep = [i for i in keep if i not in rules]
    marks = [
        i for i in range(len(stats)) if i not in keep and i not in rules and _mark(i, ink, labels, stats, keep, height)
    ]
    return labels, stats, sorted(keep + marks)


def _mark(i: int, ink: np.ndarray, labels: np.ndarray, stats: np.ndarray, keep: list[int], height: float) -> bool:
    """Whether small component i is a pen mark, not dust: long enough, dark enough, beside a digit in its rows."""
    x, y, w, h, area = stats[i]
    if area < 4 or max(w, h) < MARK_SIDE * height:
        return False
    cx, cy = x + w / 2, y + h / 2
    beside = any(
        max(stats[k, 0] - cx, cx - stats[k, 0] - stats[k, 2], 0) <= height
        and stats[k, 1] <= cy <= stats[k, 1] + stats[k, 3] + MARK_BELOW * height
        for k in keep
    )
    return beside and float(ink[y : y + h, x : x + w][labels[y : y + h, x : x + w] == i + 1].max()) >= MARK_DARK


def typical_height(heights: np.ndarray) -> float:
    """A digit's height from component heights: the median of those not much shorter than the tallest.

    Detached bars and specks are short; whole digits of one hand are about equally tall.
    """
    heights = np.asarray(heights, np.float64)
    return float(np.median(heights[heights >= DIGIT_TALL * heights.max()]))


def box_of(stats: np.ndarray, members: list[int]) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) around the components `members` (rows of `components`' stats)."""
    rows = stats[members]
    return (
        int(rows[:, 0].min()), int(rows[:, 1].min()),
        int((rows[:, 0] + rows[:, 2]).max()), int((rows[:, 1] + rows[:, 3]).max()),
    )  # fmt: skip


def own_ink(ink: np.ndarray, labels: np.ndarray, members: list[int], box: tuple[int, int, int, int]) -> np.ndarray:
    """float32 ink cut to `box` (left, top, right, bottom) with only the components `members` and their soft fringe:
    everything that belongs to other components is dark."""
    import cv2

    x0, y0, x1, y1 = box
    cut = labels[y0:y1, x0:x1]
    own = np.isin(cut, np.asarray(members) + 1)
    near = cv2.dilate(own.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    return np.where(near & ((cut == 0) | own), ink[y0:y1, x0:x1], 0.0).astype(np.float32)


# ---------------------------------------------------------------- glyphs


def find_glyphs(ink: np.ndarray) -> list[Glyph]:
    """Glyphs of one line's float32 (h, w) ink in [0, 1] (ink bright), left to right."""
    labels, stats, keep = components(ink)
    if not keep:
        return []
    tall_height = typical_height(stats[keep, 3])
    groups = _join(stats, keep, tall_height)
    band = _band(stats, groups, tall_height)
    out = []
    for members in groups:
        x0, y0, x1, y1 = box_of(stats, members)
        out.append(Glyph(x0, x1, y0, y1, _kind(stats, members, tall_height, band), members, labels, ink))
    return out


def _join(stats: np.ndarray, keep: list[int], tall_height: float) -> list[list[int]]:
    """Components grouped into glyphs, left to right: pieces that share most of their columns join."""
    groups: list[list[int]] = []
    spans: list[list[int]] = []
    for k in sorted(keep, key=lambda k: stats[k, 0]):
        a, b = stats[k, 0], stats[k, 0] + stats[k, 2]
        tall = stats[k, 3] >= DIGIT_TALL * tall_height
        for g, (s0, s1) in enumerate(spans):
            overlap = min(b, s1) - max(a, s0)
            group_tall = any(stats[m, 3] >= DIGIT_TALL * tall_height for m in groups[g])
            need = JOIN_TALL if tall and group_tall else JOIN_SHORT
            if overlap > 0 and overlap >= need * min(b - a, s1 - s0):
                groups[g].append(k)
                spans[g] = [min(s0, a), max(s1, b)]
                break
        else:
            groups.append([k])
            spans.append([a, b])
    return groups


def _band(stats: np.ndarray, groups: list[list[int]], tall_height: float) -> tuple[float, float]:
    """(top, bottom) rows of the line's digits: the medians over digit-tall components."""
    tall = [k for g in groups for k in g if stats[k, 3] >= DIGIT_TALL * tall_height]
    return float(np.median(stats[tall, 1])), float(np.median(stats[tall, 1] + stats[tall, 3]))


def _kind(stats: np.ndarray, members: list[int], tall_height: float, band: tuple[float, float]) -> str:
    """ "digit", "-", ".", ":" or "other" for a glyph made of component indices `members`."""
    x0, y0, x1, y1 = box_of(stats, members)
    h, w = y1 - y0, x1 - x0
    if max(stats[k, 3] for k in members) >= DIGIT_TALL * tall_height:
        return "digit"  # NOTE: one stroke as tall as a digit, with whatever small pieces joined it
    if _colon(stats, members, tall_height):
        return ":"
    if len(members) > 1:
        return "other"
    top, bottom = band
    low = ((y0 + y1) / 2 - top) / max(bottom - top, 1.0)  # 0 at the digits' top, 1 at their foot
    if h <= DASH_TALL * tall_height and DASH_LONG * h <= w <= tall_height and MIDDLE[0] <= low <= MIDDLE[1]:
        return "-"
    if h <= MARK_TALL * tall_height and w <= MARK_TALL * tall_height and low >= FOOT:
        return "."
    return "other"


def _colon(stats: np.ndarray, members: list[int], tall_height: float) -> bool:
    """Two dots, one above the other with a gap between them."""
    if len(members) != 2:
        return False
    a, b = sorted(members, key=lambda k: stats[k, 1])
    small = all(stats[k, 3] <= MARK_TALL * tall_height and stats[k, 2] <= MARK_TALL * tall_height for k in (a, b))
    return small and stats[b, 1] > stats[a, 1] + stats[a, 3]


# ---------------------------------------------------------------- the check


def check_line(
    chars: list[LineChar], probs: np.ndarray, ink: np.ndarray, scale: float, recognizer: Recognizer,
    pattern: Pattern | None = None, glyphs: list[Glyph] | None = None,
) -> list[LineChar] | None:  # fmt: skip
    """A read line's characters (columns in the normalized line) corrected by the glyphs of its float32 (h, w) ink.

    `probs` are the line model's (T, 1 + len(ALPHABET)) step probabilities,
    `scale` the normalized line's pixels per ink pixel. Returns None when
    nothing changes; a changed reading still fits the pattern. A digit both
    models read gets their joint confidence. `glyphs`: `find_glyphs(ink)`, when the caller has them.
    """
    glyphs = find_glyphs(ink) if glyphs is None else glyphs
    if not chars or not glyphs:
        return None
    left = int(np.flatnonzero(ink.max(0) > 0.05)[0])
    steps = [_steps(g, left, scale, len(probs)) for g in glyphs]
    checked = _checked_digits(chars, _owners(chars, glyphs, steps), glyphs, steps, probs, recognizer)
    if pattern is not DIGITS_ONLY and (pattern is None or pattern.has_separators):
        marked = _marks(checked, _owners(checked, glyphs, steps), glyphs, steps, probs)
        if _fits("".join(c.char for c in marked), pattern):
            checked = marked
    text = "".join(c.char for c in checked)
    if checked == chars or (text != "".join(c.char for c in chars) and not _fits(text, pattern, digits_ok=True)):
        return None
    return checked


def mostly_unread(chars: list[LineChar], glyphs: list[Glyph], ink: np.ndarray, scale: float, count: int) -> bool:
    """Whether the line model gave no character to most (UNREAD_SHARE) of a line's UNREAD_MIN or more digit-tall
    glyphs: letters, which it reads as blank surely, and a digit-like letter or two among them (an S read 5).

    `chars` have columns in the normalized line, `count` is its number of steps, `scale` and float32 (h, w)
    `ink` as for `check_line`.
    """
    tall = [g for g in glyphs if g.kind == "digit"]
    if len(tall) < UNREAD_MIN:
        return False
    left = int(np.flatnonzero(ink.max(0) > 0.05)[0])
    where = [(c.x0 + c.x1) / 2 / STRIDE for c in chars]
    unread = 0
    for g in tall:
        t0, t1 = _steps(g, left, scale, count)
        unread += not any(t0 <= w <= t1 for w in where)
    return unread > UNREAD_SHARE * len(tall)


def _extent(ink: np.ndarray) -> tuple[int, int] | None:
    """(height, width) of the rows and columns float32 (h, w) line ink reaches INK_LEVEL in; None when it never does."""
    rows, cols = np.flatnonzero(ink.max(1) > INK_LEVEL), np.flatnonzero(ink.max(0) > INK_LEVEL)
    return (int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)) if rows.size else None


def flat_stroke(ink: np.ndarray) -> bool:
    """Whether a line of float32 (h, w) `ink` is one flat stroke and nothing else: DASH_LONG times as wide as tall
    and under `preprocess.STROKES_TALL` of its stroke widths tall (a dash, a rule or a crossing-out alone). A digit
    is about nine stroke widths tall, so any line holding one is taller; the line model reads such a stroke `18`."""
    from ..image.preprocess import STROKES_TALL, stroke_width

    extent = _extent(ink)
    return extent is not None and extent[1] >= DASH_LONG * extent[0] and extent[0] < STROKES_TALL * stroke_width(ink)


def refused_shape(chars: list[LineChar], ink: np.ndarray, recognizer: Recognizer) -> bool:
    """Whether a line of float32 (h, w) `ink` read as one character, about one digit wide (ONE_WIDE heights), is
    a shape `recognizer` surely takes for no digit (NO_SHAPE; never with a model without a "not a digit" class):
    the whole ink read as `predict` reads a picture, a digit's loose pieces with it."""
    from ..image.preprocess import prepare_ink

    if len(chars) != 1:
        return False
    extent = _extent(ink)
    if extent is None or extent[1] > ONE_WIDE * extent[0]:
        return False
    return bool(recognizer.classify(prepare_ink(ink).image[None, None], "off").nondigit[0] >= NO_SHAPE)


def _fits(text: str, pattern: Pattern | None, digits_ok: bool = False) -> bool:
    """Whether a line may read `text`: it matches the pattern, or (none asked) is digits or a known format."""
    if pattern is not None:
        return pattern.matches(text)
    return (digits_ok and text.isdigit()) or KNOWN_FORMATS.matches(text)


def _steps(g: Glyph, left: int, scale: float, count: int) -> tuple[int, int]:
    """The line model's steps [t0, t1) over a glyph's columns (`normalize_line`'s geometry)."""
    a = (g.x0 - left) * scale + MARGIN
    b = (g.x1 - left) * scale + MARGIN
    return max(0, int(a // STRIDE)), min(count, max(int(np.ceil(b / STRIDE)), int(a // STRIDE) + 1))


def _owners(chars: list[LineChar], glyphs: list[Glyph], steps: list[tuple[int, int]]) -> list[int]:
    """For each character (left to right), its glyph: a monotone alignment of characters to glyphs.

    The cost is each character's distance in steps from its glyph's centre,
    plus EMPTY_COST for a digit glyph left without a character and EXTRA_COST
    for each character beyond the first on a glyph one digit wide (glyphs'
    step spans overlap at their ends, so nearest-centre alone gives two 1s of
    "11" to one glyph).
    """
    centres = np.array([(a + b) / 2 for a, b in steps])
    where = np.array([(c.x0 + c.x1) / 2 / STRIDE for c in chars])
    n, m = len(chars), len(glyphs)
    # far[i, j]: the summed distance of characters 0 .. i-1 from glyph j's centre
    far = np.vstack([np.zeros(m), np.cumsum(np.abs(where[:, None] - centres[None, :]), 0)]).tolist()
    cost = [[np.inf] * (m + 1) for _ in range(n + 1)]
    back = [[0] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for j in range(1, m + 1):
        empty = EMPTY_COST if glyphs[j - 1].kind == "digit" else 0.0
        extra = EXTRA_COST if glyphs[j - 1].single else 0.0
        for i in range(n + 1):
            for k in range(i + 1):  # characters k .. i-1 go to glyph j-1
                spent = (
                    cost[k][j - 1] + far[i][j - 1] - far[k][j - 1] + (empty if k == i else extra * max(0, i - k - 1))
                )
                if spent < cost[i][j]:
                    cost[i][j], back[i][j] = spent, k
    owners, i = [0] * n, n
    for j in range(m, 0, -1):
        k = back[i][j]
        owners[k:i] = [j - 1] * (i - k)
        i = k
    return owners


def _checked_digits(
    chars: list[LineChar], owners: list[int], glyphs: list[Glyph], steps: list[tuple[int, int]],
    probs: np.ndarray, recognizer: Recognizer,
) -> list[LineChar]:  # fmt: skip
    """Characters with each doubtful glyph's digit read by both models (`_doubtful`), a missed one put back."""
    from ..image.preprocess import prepare_ink

    held = [[j for j, o in enumerate(owners) if o == i] for i in range(len(glyphs))]
    doubt = [i for i, g in enumerate(glyphs) if _doubtful(g, [chars[j] for j in held[i]], steps[i], probs)]
    if not doubt:
        return chars
    verdicts = recognizer.classify(np.stack([prepare_ink(glyphs[i].ink).image for i in doubt])[:, None], "off")
    out = list(chars)
    for i, p, nondigit in zip(doubt, verdicts.probabilities, verdicts.nondigit):
        if nondigit >= NOT_ONE:
            continue
        if held[i]:
            j = held[i][0]
            both = _own(probs, chars[j]) * p  # NOTE: two independent experts: the product of their probabilities
            best = int(both.argmax())
            # NOTE: kept or changed, the digit's confidence is now the two models' joint belief in it
            out[j] = replace(chars[j], char=str(best), confidence=float(both[best] / max(float(both.sum()), 1e-12)))
            continue
        t0, t1 = steps[i]
        best = int(p.argmax())
        if p[best] >= DIGIT_SURE and probs[t0:t1, 1 + best].max() >= LINE_CHANCE:
            out.append(LineChar(str(best), float(p[best]), t0 * STRIDE, t1 * STRIDE))
    return sorted(out, key=lambda c: c.x0 + c.x1)


def _doubtful(g: Glyph, mine: list[LineChar], steps: tuple[int, int], probs: np.ndarray) -> bool:
    """Whether a glyph needs the digit model: one digit wide, and a digit the line model read unsurely or not at all."""
    if not g.single:
        return False
    if not mine:
        return g.x1 - g.x0 <= ONE_NARROW * (g.y1 - g.y0)
    return len(mine) == 1 and _on(mine[0], steps) and float(_own(probs, mine[0]).max()) < LINE_UNSURE


def _own(probs: np.ndarray, c: LineChar) -> np.ndarray:
    """The line model's digit probabilities (10,) at a character's own steps, summing to 1.

    Its own steps, not its glyph's: a glyph's steps overlap its neighbours' digits.
    """
    t0 = c.x0 // STRIDE
    p = probs[t0 : max(c.x1 // STRIDE, t0 + 1), 1:11].max(0)
    return p / max(float(p.sum()), 1e-12)


def _on(c: LineChar, steps: tuple[int, int]) -> bool:
    """Whether a character is a digit read at steps within the glyph's."""
    return c.char.isdigit() and steps[0] <= (c.x0 + c.x1) / 2 / STRIDE <= steps[1]


def _marks(
    chars: list[LineChar], owners: list[int], glyphs: list[Glyph], steps: list[tuple[int, int]], probs: np.ndarray
) -> list[LineChar]:
    """Characters with the digit read on each mark glyph replaced by the mark, where the line model sees it too."""
    out: list[LineChar] = []
    for i, g in enumerate(glyphs):
        mine = [chars[j] for j, o in enumerate(owners) if o == i]
        if (
            g.kind not in ("-", ".", ":")
            or len(mine) != 1
            or not _on(mine[0], steps[i])
            or _beside_piece(i, glyphs, steps)
        ):
            out += mine
            continue
        mark = _which_mark(g.kind, probs, steps[i])
        t0, t1 = steps[i]
        # NOTE: the line model must give the mark a fair chance: a broken stroke's pieces look like dots and dashes
        seen = float(probs[t0:t1, ALPHABET.index(mark) + 1].max()) >= MARK_CHANCE
        out.append(LineChar(mark, MARK_CONFIDENCE, t0 * STRIDE, t1 * STRIDE) if seen else mine[0])
    return out


def _beside_piece(i: int, glyphs: list[Glyph], steps: list[tuple[int, int]]) -> bool:
    """Whether glyph i has a neighbour of no kind ("other") within a step: the two are pieces of a broken digit."""
    return any(
        glyphs[j].kind == "other" and steps[j][0] <= steps[i][1] and steps[i][0] <= steps[j][1]
        for j in (i - 1, i + 1)
        if 0 <= j < len(glyphs)
    )


def _which_mark(kind: str, probs: np.ndarray, steps: tuple[int, int]) -> str:
    """The mark a glyph of `kind` is: a dot is "." or "," by the line model's odds at its steps."""
    if kind != ".":
        return kind
    t0, t1 = steps
    point, comma = (float(probs[t0:t1, ALPHABET.index(ch) + 1].max()) for ch in ".,")
    return "," if comma > point else "."


__all__ = [
    "Glyph", "box_of", "check_line", "components", "find_glyphs", "flat_stroke", "mostly_unread", "own_ink",
    "refused_shape", "typical_height",
]  # fmt: skip
