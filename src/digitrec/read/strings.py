"""Read every digit string in an image: find the lines, then read each line whole with the sequence model.

    >>> from digitrec import Recognizer
    >>> from digitrec.read.strings import read_digits
    >>> read_digits(Recognizer.load(), "images/multi-2026.png").digits
    '2026'

The image goes through the same pure steps as a single digit
(`digitrec.image.preprocess`: grayscale, ink dark on paper, lighting flattened, soft
threshold), then:

1. connected components of the ink (OpenCV) are grouped into text lines;
2. each line's ink (its own components only) is read by the line model
   (`digitrec.read.lines`: a CNN + CTC, no cutting into digits), so touching
   and overlapping digits and the separators of dates, decimals and phone
   numbers (`. , - / :`) are read as written;
3. the reading is checked against the line's glyphs (`digitrec.read.glyphs`):
   a digit the line model read unsurely on a glyph one digit wide is read by
   the digit model too, a digit given no step is put back, a clear mark that
   stands apart is read as that mark where the line fits a format;
4. each character's box comes from the columns the CTC alignment gave it and
   the ink rows within them.

Each line is decoded by a CTC prefix beam search (`digitrec.read.decoding`):
with `expect` (e.g. "dd/dd/dddd|dd/dd") the answer is the likeliest string the
pattern accepts, or None with a reason; with `digits_only` never a separator;
otherwise a separator stays only on evidence (`digitrec.formats`). A line
is refused (empty text, `line_reasons` says why) only on evidence that it is
not digits (nothing read, or mostly unsure steps: letters, scribble), or, with
the strict rejection mode, for a line confidence under 0.8: a short clear line
is always answered, its unsure characters carry their own confidence.

OpenCV is imported inside the functions that need it, so `digitrec predict`
never loads it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import BadImage, ConfigError
from ..image.preprocess import clean_ink, limit_side, recover_ink
from ..image.rulings import Rulings, find_rulings, remove_rulings, with_faint_lines
from ..io.decode import ImageSource, load_gray
from .ctc import DIGITS_ONLY, Pattern
from .decoding import DECODERS, LineDecoding, read_line
from .glyphs import box_of, components, own_ink, typical_height
from .lines import DIGIT_TALL, INK_LEVEL, LineChar, digit_strokes, hard_edged
from .skew import PAIR_TILT, level

if TYPE_CHECKING:
    from .digits import Recognizer
    from .lines import LineReader

READ_SIDE = 768  # longer side for analysis: a line of ten digits keeps each ~60 px tall (the reader needs 24)
LINE_MIN_CONFIDENCE = {"strict": 0.8, "normal": 0.0, "off": 0.0}  # a line read less surely than this is refused
TINY_DIGIT = 16  # px: digits under this tall (a low-resolution scan) are read from the picture enlarged ...
DIGIT_PX = 40  # ... about to this height ...
MAX_ENLARGE = 4  # ... this many times at most
NEIGHBOUR_GAP = 1.5  # digit heights: a digit's neighbour in its line is this close to its right ...
NEIGHBOUR_DROP = 1.0  # ... and this far up or down at most (a string turned 40 degrees)
MIN_SLOPE = 0.07  # rows per column (4 degrees): a page tilted less is grouped level, as written ...
PAIR_SLOPE = float(np.tan(np.radians(PAIR_TILT)))  # ... and with one neighbour pair only, less than skew's PAIR_TILT
WHOLE_LINE = 0.8  # a ruling this share of the picture's side long runs across it (paper's, not a box's)
AGREE = 0.75  # share of a page's slopes that agree in sign with their median for it to be tilted
MAX_SLOPE = 0.84  # rows per column: lines are grouped along a tilt of up to 40 degrees


@dataclass
class DigitBox:
    """One character read in an image.

    `box` is (left, top, right, bottom) in the original image's pixels; `char`
    is the character ("0"-"9" or a separator . , - / :), `digit` its value for
    a digit (None for a separator); `image` is the float32 ink of the box, ink
    bright, as the reader saw it; `line` counts from 0 at the top.
    """

    box: tuple[int, int, int, int]
    digit: int | None
    confidence: float
    image: np.ndarray = field(repr=False, compare=False)
    line: int = 0
    char: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "box": list(self.box), "char": self.char, "digit": self.digit,
            "confidence": round(self.confidence, 6), "line": self.line,
        }  # fmt: skip


@dataclass
class Reading:
    """All digit strings read in one image, top to bottom, left to right.

    `lines` holds one string per text line (empty where the line was refused
    as not digits, None where no reading matches `expect`); `digits` is the
    answered lines joined by single spaces (leading zeros and separators
    kept), None when `expect` was given and no line matches it;
    `line_confidence` is each line's calibrated chance of being exactly right;
    `line_reasons` says why a line has no answer (None where it was read).
    `expect` and `digits_only` echo what was asked.
    """

    path: str | None
    digits: str | None
    boxes: list[DigitBox]
    lines: list[str | None]
    line_confidence: list[float] = field(default_factory=list)
    line_reasons: list[str | None] = field(default_factory=list)
    expect: str | None = None
    digits_only: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "digits": self.digits,
            "lines": self.lines,
            "line_confidence": [round(c, 6) for c in self.line_confidence],
            "line_reasons": self.line_reasons,
            "boxes": [b.as_dict() for b in self.boxes],
            "expect": self.expect,
            "digits_only": self.digits_only,
        }


# ---------------------------------------------------------------- public


def read_digits(
    recognizer: Recognizer, source: ImageSource, name: str | None = None, reject: str | None = None,
    reader: LineReader | None = None, expect: str | None = None, digits_only: bool = False, decoder: str = "beam",
    check: bool = True,
) -> Reading:  # fmt: skip
    """Read all digit strings in an image (path, bytes, file object, Pillow image or array).

    `reader` defaults to the recognizer's line reader (the shipped line
    model); `reject` to the recognizer's rejection mode. `expect` is a
    pattern every line must match (see `expectation`), `digits_only` forbids
    separators, `decoder` is "beam" or "greedy" (for comparison), `check`
    whether each line is checked against its glyphs by the digit model
    (`digitrec.read.glyphs`; off only to compare). Raises
    BadImage if the image cannot be read, ConfigError for a bad pattern. A
    blank image gives an empty reading.
    """
    pattern = expectation(expect, digits_only)
    if decoder not in DECODERS:
        raise ConfigError(f"decoder: {decoder!r} is not one of {', '.join(DECODERS)}")
    path = name or (str(source) if isinstance(source, (str, os.PathLike)) else None)
    page = read_page(source, name)
    ink, scale, (full_w, full_h) = page.ink, page.scale, page.size
    reader = reader or recognizer.line_reader()
    mode = reject or recognizer.reject
    reading = Reading(path, "", [], [], expect=expect, digits_only=digits_only)
    for n, (box, line_ink) in enumerate(find_lines(ink)):
        leveled = level(line_ink)  # NOTE: read level; characters' columns are mapped back to the line as written
        decoded = read_line(
            reader, leveled.ink, pattern, decoder, refuse=mode != "off", recognizer=recognizer if check else None
        )
        reason = _refusal(decoded, LINE_MIN_CONFIDENCE[mode])
        reading.lines.append(None if decoded.no_match else "" if reason else decoded.text)
        reading.line_confidence.append(decoded.confidence)
        reading.line_reasons.append(reason)
        if not reason:
            chars = leveled.back(decoded.chars)
            spans = _spans(chars, line_ink.shape[1])
            reading.boxes += [_box(c, span, line_ink, box, scale, (full_w, full_h), n) for c, span in zip(chars, spans)]
    answered = [t for t in reading.lines if t]
    reading.digits = (
        None if pattern not in (None, DIGITS_ONLY) and not answered and reading.lines else " ".join(answered)
    )
    return reading


@dataclass
class Page:
    """A picture ready to read: `ink` float32 (H, W) in [0, 1] at read size, rulings taken out; `rulings` found in
    it; `scale` (x, y) from its pixels to the file's; `size` (width, height) of the file in pixels."""

    ink: np.ndarray
    rulings: Rulings
    scale: tuple[float, float]
    size: tuple[int, int]


def read_page(source: ImageSource, name: str | None = None, along_lines: bool = False) -> Page:
    """Decode an image and find its ink at READ_SIDE, with box edges, underlines and ruled lines taken out.

    `along_lines`: faint rulings are looked for in the ink averaged along rows
    and columns (`with_faint_lines(along=True)`: a second look for a grid).
    Raises BadImage if it cannot be read."""
    return page_of(*decode_page(source, name), along_lines)


def decode_page(source: ImageSource, name: str | None = None) -> tuple[np.ndarray, tuple[int, int]]:
    """(float32 (H, W) gray in [0, 1], its longer side READ_SIDE at most; the file's (width, height) in pixels).

    Raises BadImage if it cannot be read, or has no pixels."""
    gray, decoded = load_gray(source, name)
    if gray.size == 0:
        label = name or (str(source) if isinstance(source, (str, os.PathLike)) else "<image>")
        raise BadImage(f"{label}: image has no pixels")
    size = round(gray.shape[1] * decoded), round(gray.shape[0] * decoded)  # the file's pixels (width, height)
    return limit_side(gray, READ_SIDE), size


def page_of(gray: np.ndarray, size: tuple[int, int], along_lines: bool = False) -> Page:
    """The Page of float32 (H, W) gray from `decode_page`, `size` the file's (width, height); as `read_page`."""
    page = _page(gray, along_lines, size)
    k = _enlargement(page.ink, gray.shape)
    if k == 1:
        return page
    import cv2

    # NOTE: a low-resolution scan's tiny digits lose their strokes to the ink threshold; enlarged smoothly first,
    # they keep them (strings of 9 px digits 81% exact, 94% so; of 12 px 95%, 99%)
    # NOTE: a black-and-white scan stays black and white (its line is softened later, `lines.hard_edged`)
    smooth = cv2.INTER_NEAREST if hard_edged(page.ink) else cv2.INTER_CUBIC
    return _page(cv2.resize(gray, None, fx=k, fy=k, interpolation=smooth).clip(0, 1), along_lines, size)


def _page(gray: np.ndarray, along_lines: bool, size: tuple[int, int]) -> Page:
    """The Page of float32 (H, W) gray read as it is; `size` (width, height) the file's pixels.

    A photo whose light rulings show partly (one line whole, others in
    pieces: noise broke them) is looked at again along rows and columns
    (`with_faint_lines(along=True)`), kept when that finds more whole lines.
    """
    ink = clean_ink(gray)  # a clean digital image needs no photo clean-up
    lines, strength = ink, None
    if ink is None:
        ink, strength = recover_ink(gray)
        lines = with_faint_lines(ink, strength, along_lines)
    rulings = find_rulings(lines)
    whole = _whole(rulings, gray.shape)
    # NOTE: some lines whole and others in pieces: a ruled or graph paper's light lines that noise broke
    if strength is not None and not along_lines and 0 < whole < len(rulings.segments):
        second = find_rulings(with_faint_lines(ink, strength, True))
        if _whole(second, gray.shape) > whole:
            rulings = second
    ink = remove_rulings(ink, rulings)
    return Page(ink, rulings, (size[0] / gray.shape[1], size[1] / gray.shape[0]), size)


def _whole(rulings: Rulings, shape: tuple[int, int]) -> int:
    """How many of `rulings` run across most of the picture (WHOLE_LINE of its width or height)."""
    return sum(s.length >= WHOLE_LINE * shape[1 - s.axis] for s in rulings.segments)


def _enlargement(ink: np.ndarray, shape: tuple[int, int]) -> int:
    """How many times to enlarge a picture whose float32 ink's digits (the median digit-tall stroke) are under
    TINY_DIGIT px tall (1: not), towards DIGIT_PX and no further than READ_SIDE."""
    strokes = digit_strokes(ink)
    if not len(strokes):
        return 1
    height = typical_height(strokes[:, 3])
    if height >= TINY_DIGIT:
        return 1
    return max(1, min(int(np.ceil(DIGIT_PX / max(height, 1.0))), MAX_ENLARGE, READ_SIDE // max(shape)))


def read_ink(
    reader: LineReader, ink: np.ndarray, floor: float, pattern: Pattern | None = None, refuse: bool = True,
    recognizer: Recognizer | None = None,
) -> tuple[str, float, str | None]:  # fmt: skip
    """(text, confidence, reason refused or None) of float32 (h, w) ink: its lines read and joined by spaces.

    No ink at all gives ("", 1.0, None): an empty cell is an empty value. With
    a `recognizer`, each line is checked against its glyphs (`read_digits`).
    """
    texts, confidence, reasons = [], 1.0, []
    if ink.size == 0:  # a cell no wider than its lines
        return "", 1.0, None
    for _, line_ink in find_lines(ink):
        decoded = read_line(reader, level(line_ink).ink, pattern, "beam", refuse=refuse, recognizer=recognizer)
        reason = _refusal(decoded, floor) or ("no reading matches the expected pattern" if decoded.no_match else None)
        if reason:
            reasons.append(reason)
            continue
        texts.append(decoded.text)
        confidence *= decoded.confidence
    if not texts and reasons:
        return "", 0.0, reasons[0]
    return " ".join(texts), confidence, None


def expectation(expect: str | None, digits_only: bool = False) -> Pattern | None:
    """The pattern lines are held to: `expect` compiled, the digits-only pattern, or None (read as written).

    Raises ConfigError for a malformed pattern, or one with separators when `digits_only` forbids them.
    """
    if expect is None:
        return DIGITS_ONLY if digits_only else None
    pattern = Pattern.parse(expect)
    if digits_only and pattern.has_separators:
        raise ConfigError(f"expect: {expect!r} has separators, and digits only was asked for")
    return pattern


def _refusal(decoded: LineDecoding, floor: float) -> str | None:
    if decoded.reason:
        return decoded.reason
    if not decoded.chars:
        return "not digits: nothing in this line reads as a digit"
    if not any(c.char.isdigit() for c in decoded.chars):
        return "not digits: only separators in this line"
    if decoded.confidence < floor:
        return f"unsure: line read with confidence {decoded.confidence:.2f}, under {floor:.2f} (strict)"
    return None


def _spans(chars: list[LineChar], width: int) -> list[tuple[int, int]]:
    """Each character's columns: from halfway to its left neighbour to halfway to its right one.

    CTC marks a character at one or two steps, not over its whole width; its
    ink lies between its neighbours' marks.
    """
    centres = [(c.x0 + c.x1) / 2 for c in chars]
    edges = [0, *(round((a + b) / 2) for a, b in zip(centres[:-1], centres[1:])), width]
    return list(zip(edges[:-1], edges[1:]))


def _box(
    c: LineChar, span: tuple[int, int], ink: np.ndarray, line_box: tuple[int, int, int, int],
    scale: tuple[float, float], size: tuple[int, int], line: int,
) -> DigitBox:  # fmt: skip
    """A character's DigitBox in the original image's pixels: the ink inside its span of the line's columns."""
    region = ink[:, span[0] : max(span[1], span[0] + 1)]
    inked = np.flatnonzero(region.max(0) > INK_LEVEL)
    x0, x1 = (span[0] + int(inked[0]), span[0] + int(inked[-1]) + 1) if inked.size else (c.x0, c.x1)
    cols = ink[:, x0:x1]
    rows = np.flatnonzero(cols.max(1) > INK_LEVEL) if cols.size else np.array([], int)
    top, bottom = (int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, ink.shape[0])
    left, y0 = line_box[0], line_box[1]
    sx, sy = scale
    full = (
        int((left + x0) * sx), int((y0 + top) * sy),
        min(size[0], int(np.ceil((left + x1) * sx))), min(size[1], int(np.ceil((y0 + bottom) * sy))),
    )  # fmt: skip
    return DigitBox(full, int(c.char) if c.char.isdigit() else None, c.confidence, cols[top:bottom], line, c.char)


def find_lines(ink: np.ndarray) -> list[tuple[tuple[int, int, int, int], np.ndarray]]:
    """Text lines of float32 (H, W) ink in [0, 1] (ink bright), top to bottom.

    Returns, per line, its (left, top, right, bottom) box in `ink` and its ink
    cut to that box, with the ink of other lines' components removed (their
    soft fringe kept: `glyphs.own_ink`).
    """
    labels, stats, keep = components(ink)
    if not keep:
        return []
    height = typical_height(stats[keep, 3])
    out = []
    for members in _group_lines(stats, keep, height):
        box = box_of(stats, members)
        out.append((box, own_ink(ink, labels, members, box)))
    return out


# ---------------------------------------------------------------- lines


def page_slope(stats: np.ndarray, keep: list[int], height: float) -> float:
    """Rows per column that a page's lines drop (negative: rise) to the right, 0 when level.

    Each digit-tall component (rows of `components`' stats) is linked to its
    nearest neighbour on the right within NEIGHBOUR_GAP digit heights and
    NEIGHBOUR_DROP of a height up or down; the slope is the median over all
    pairs of one chain of links (a line; Theil-Sen), where one digit written
    high (a 6 or an 8 beside a 7) tips one pair, not the line. 0 unless
    AGREE of these slopes share the median's sign and it is MIN_SLOPE or
    steeper, or the one slope there is is PAIR_SLOPE or steeper.
    """
    tall = stats[[k for k in keep if stats[k, 3] >= DIGIT_TALL * height]]
    x, y = tall[:, 0] + tall[:, 2] / 2, tall[:, 1] + tall[:, 3] / 2
    dx = x[None, :] - x[:, None]  # [k, j]: from k to j
    near = (dx > 0) & (tall[None, :, 0] - tall[:, None, 0] - tall[:, None, 2] <= NEIGHBOUR_GAP * height)
    near &= np.abs(y[None, :] - y[:, None]) <= NEIGHBOUR_DROP * height
    has = near.any(1)
    if not has.any():
        return 0.0
    chain = np.arange(len(x))
    for k, j in zip(np.flatnonzero(has), np.where(near, dx, np.inf).argmin(1)[has]):  # each to its nearest right
        chain[chain == chain[j]] = chain[k]
    k, j = np.nonzero((chain[:, None] == chain[None, :]) & (dx > 0))
    slopes = (y[j] - y[k]) / dx[k, j]
    slope = float(np.median(slopes))
    # NOTE: digits written at different heights on a level line give slopes of both signs, or small ones; one
    # pair cannot tell, but two digits unevenly written do not tip PAIR_SLOPE
    least = MIN_SLOPE if len(slopes) > 1 else PAIR_SLOPE
    if abs(slope) < least or np.mean(np.sign(slopes) == np.sign(slope)) < AGREE:
        return 0.0
    return float(np.clip(slope, -MAX_SLOPE, MAX_SLOPE))


def _group_lines(stats: np.ndarray, keep: list[int], height: float) -> list[list[int]]:
    """Component indices grouped into text lines, top to bottom.

    Tall components open lines where their row span does not overlap an
    existing line's by half; small marks join the line nearest their centre.
    """
    import cv2

    # NOTE: rows are taken along the page's tilt: a string turned 15 degrees steps down half a digit every two digits
    left, width = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_WIDTH]
    drop = page_slope(stats, keep, height) * (left + width / 2)
    top = stats[:, cv2.CC_STAT_TOP] - drop
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


__all__ = [
    "DigitBox", "Page", "Reading", "decode_page", "expectation", "find_lines", "page_of", "read_digits", "read_ink",
    "read_page",
]  # fmt: skip
