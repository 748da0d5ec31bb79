"""The glyph check of a read line: glyph kinds from real ink, the alignment, and each correction with the real model."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitrec import Recognizer
from digitrec.read import glyphs
from digitrec.read.ctc import DIGITS_ONLY, Pattern
from digitrec.read.decoding import decode_line, read_line
from digitrec.read.glyphs import Glyph, check_line, find_glyphs
from digitrec.read.lines import ALPHABET, LineChar, normalize_line
from digitrec.read.strings import find_lines

BIG = 3  # MNIST digits drawn 3x (84 px tall boxes, ink about 60 px)


@pytest.fixture(scope="module")
def strong():
    return Recognizer.load("strong", threads=1)


@pytest.fixture(scope="module")
def sure_digits(test_split, strong):
    """One MNIST test digit per class that the strong model reads at 0.999 or more (so the tests test the check)."""
    p = strong.probabilities(test_split.images[:400, None].astype(np.float32) / 255)
    return {
        d: test_split.images[int(np.flatnonzero((test_split.labels[:400] == d) & (p[:, d] > 0.999))[0])]
        for d in range(10)
    }


def draw_line(items: list, digits: dict) -> np.ndarray:
    """float32 line ink (ink bright) of digits (ints, MNIST drawn 3x) and marks ("-", ".", ":"), 24 px apart."""
    pieces = []
    for item in items:
        cell = np.zeros((28 * BIG, 28 * BIG), np.float32)
        if isinstance(item, int):
            cell = cv2.resize(digits[item].astype(np.float32) / 255, (28 * BIG, 28 * BIG))
            cols = np.flatnonzero(cell.max(0) > 0.05)
            cell = cell[:, cols[0] : cols[-1] + 1]
        elif item == "-":
            cell = np.zeros((28 * BIG, 36), np.float32)
            cv2.line(cell, (4, 42), (32, 42), 1.0, 7)
        elif item == ".":
            cell = np.zeros((28 * BIG, 16), np.float32)
            cv2.circle(cell, (8, 66), 5, 1.0, -1)
        elif item == ":":
            cell = np.zeros((28 * BIG, 16), np.float32)
            cv2.circle(cell, (8, 34), 5, 1.0, -1)
            cv2.circle(cell, (8, 62), 5, 1.0, -1)
        pieces += [cell, np.zeros((28 * BIG, 24), np.float32)]
    line = np.hstack(pieces[:-1])
    rows = np.flatnonzero(line.max(1) > 0.05)
    return line[rows[0] : rows[-1] + 1]


def made_probs(ink: np.ndarray, reads: list[dict[str, float]]) -> np.ndarray:
    """Hand-made line-model steps for `ink`: at each glyph's centre step, the given probabilities; blank elsewhere."""
    line, scale = normalize_line(ink)
    found = find_glyphs(ink)
    assert len(found) == len(reads)
    probs = np.full((line.shape[1] // 4, len(ALPHABET) + 1), 1e-4, np.float64)
    probs[:, 0] = 1.0
    left = int(np.flatnonzero(ink.max(0) > 0.05)[0])
    for g, read in zip(found, reads):
        t0, t1 = glyphs._steps(g, left, scale, len(probs))
        t = (t0 + t1) // 2
        probs[t, 0] = 1e-4
        for ch, p in read.items():
            probs[t, 0 if ch == "" else ALPHABET.index(ch) + 1] = p
    return probs / probs.sum(1, keepdims=True)


def checked(ink, probs, strong, pattern=None) -> str | None:
    line, scale = normalize_line(ink)
    decoded = decode_line(probs, pattern)
    out = check_line(decoded.chars, probs, ink, scale, strong, pattern)
    return None if out is None else "".join(c.char for c in out)


def test_glyph_kinds_digits_dash_dot_and_colon(sure_digits):
    ink = draw_line([4, "-", 7, ".", 1, ":", 2], sure_digits)
    assert [g.kind for g in find_glyphs(ink)] == ["digit", "-", "digit", ".", "digit", ":", "digit"]


def small_dot_line(digits: dict, radius: int, level: float, above: int = 0) -> np.ndarray:
    """The line 1.28 with its dot redrawn small and faint (`radius`, `level`), `above` px higher, on a margin."""
    line = np.pad(draw_line([1, ".", 2, 8], digits), 60)
    labels, stats, _ = glyphs.components(line)
    dot = int(np.argmin(stats[:, 4]))
    x, y, w, h, _ = stats[dot]
    line[labels == dot + 1] = 0
    cv2.circle(line, (int(x + w / 2), int(y + h / 2) - above), radius, level, -1)
    return line


def test_a_small_faint_dot_is_a_mark_not_dust(sure_digits, strong):
    ink = small_dot_line(sure_digits, 2, 0.6)  # 13 px of ink at 0.6: 1% of a digit's, dust by area alone
    ((_, line),) = find_lines(ink)
    assert read_line(strong.line_reader(), line, recognizer=strong).text == "1.28"


def test_specks_off_the_digits_rows_or_tiny_stay_dust(sure_digits):
    for ink in (small_dot_line(sure_digits, 2, 0.6, above=90), small_dot_line(sure_digits, 1, 1.0)):
        labels, stats, keep = glyphs.components(ink)
        speck = int(np.argmin(stats[:, 4]))
        assert len(keep) == 3 and speck not in keep
        (((x0, y0, x1, y1), line),) = find_lines(ink)
        ys, xs = np.nonzero(labels == speck + 1)
        inside = (ys >= y0) & (ys < y1) & (xs >= x0) & (xs < x1)
        assert not line[ys[inside] - y0, xs[inside] - x0].any()  # cut out of the line's ink, or outside its box


def test_pieces_of_a_broken_digit_are_no_marks(sure_digits, strong):
    ink = draw_line([1, 2, 3, 4], sure_digits)
    ink[:, 200:204] = 0  # the 3 broken in two: a short piece beside the rest
    found = find_glyphs(ink)
    marks = [i for i, g in enumerate(found) if g.kind in "-.:"]
    assert all(glyphs._beside_piece(i, found, [(g.x0 // 8, g.x1 // 8) for g in found]) for i in marks)


def test_a_fives_detached_hat_joins_its_body():
    ink = np.zeros((60, 60), np.float32)
    cv2.line(ink, (14, 4), (40, 4), 1.0, 5)  # the hat, apart from the body
    cv2.ellipse(ink, (26, 38), (14, 16), 0, -90, 200, 1.0, 5)
    cv2.line(ink, (14, 12), (14, 26), 1.0, 5)
    found = find_glyphs(ink)
    assert len(found) == 1 and found[0].kind == "digit" and len(found[0].members) == 2


def test_two_ones_each_get_their_own_character():
    """Nearest centre would give both to the first glyph: their step spans overlap, and CTC marks a digit early."""
    z = np.zeros((1, 1))
    ones = [Glyph(x, x + 4, 0, 20, "digit", [0], z, z) for x in (0, 10)]
    chars = [LineChar("1", 0.99, 4, 8), LineChar("1", 0.99, 12, 16)]
    assert glyphs._owners(chars, ones, [(0, 3), (2, 5)]) == [0, 1]


def test_an_unsure_digit_is_decided_by_both_models(sure_digits, strong):
    ink = draw_line([3, 4, 5], sure_digits)
    unsure = made_probs(ink, [{"3": 0.99}, {"1": 0.6, "4": 0.4}, {"5": 0.99}])
    assert checked(ink, unsure, strong) == "345"
    sure = made_probs(ink, [{"3": 0.99}, {"1": 0.99, "4": 0.01}, {"5": 0.99}])
    assert checked(ink, sure, strong) is None  # a digit the line model reads surely is left alone


def test_a_digit_given_no_step_is_put_back_only_with_some_line_evidence(sure_digits, strong):
    ink = draw_line([8, 1, 4], sure_digits)
    assert checked(ink, made_probs(ink, [{"8": 0.99}, {"": 0.9, "1": 0.05}, {"4": 0.99}]), strong) == "814"
    assert checked(ink, made_probs(ink, [{"8": 0.99}, {"": 1.0}, {"4": 0.99}]), strong) is None


def test_a_clear_dash_is_a_dash_where_the_line_fits_a_format(sure_digits, strong):
    ink = draw_line([1, 2, "-", 3, 4], sure_digits)
    reads = [{"1": 0.99}, {"2": 0.99}, {"2": 0.4, "-": 0.55}, {"3": 0.99}, {"4": 0.99}]  # too doubtful alone: a 2
    assert checked(ink, made_probs(ink, reads), strong) == "12-34"
    unseen = [{"1": 0.99}, {"2": 0.99}, {"2": 0.9}, {"3": 0.99}, {"4": 0.99}]  # the line model sees no dash at all
    assert checked(ink, made_probs(ink, unseen), strong) is None  # (a broken stroke's piece looks like one)
    assert checked(ink, made_probs(ink, reads), strong, DIGITS_ONLY) is None  # no separators asked: none added


def test_a_mark_that_breaks_every_format_or_the_pattern_is_not_added(sure_digits, strong):
    ink = draw_line([1, "-", 2, 3, 4], sure_digits)  # "1-234" is no known format
    reads = [{"1": 0.99}, {"2": 0.4, "-": 0.55}, {"2": 0.99}, {"3": 0.99}, {"4": 0.99}]
    assert checked(ink, made_probs(ink, reads), strong) is None
    ink = draw_line([1, 2, "-", 3, 4], sure_digits)
    reads = [{"1": 0.99}, {"2": 0.99}, {"2": 0.4, "-": 0.55}, {"3": 0.99}, {"4": 0.99}]
    assert checked(ink, made_probs(ink, reads), strong, Pattern.parse("ddddd")) is None


def test_read_line_checks_only_with_a_digit_model(sure_digits, strong):
    ink = draw_line([3, 4, 5], sure_digits)
    plain = read_line(strong.line_reader(), ink)
    both = read_line(strong.line_reader(), ink, recognizer=strong)
    assert plain.text == both.text == "345"  # clear digits: the check agrees and changes nothing


def test_a_thin_line_clear_of_the_digits_is_no_character(test_split):
    """What is left of a ruled line a photo's frame cut off, or an underline clear of the digits: as much ink as
    a digit, but a thin line several digits long. It joined the string's line as a mark and the line model read
    half the string (or nothing) beside it."""
    ink = np.zeros((80, 330), np.float32)
    for k, i in enumerate(range(6)):  # six MNIST test digits, 2x: 56 px tall
        ink[14:70, 8 + 52 * k : 64 + 52 * k] = np.maximum(
            ink[14:70, 8 + 52 * k : 64 + 52 * k], cv2.resize(test_split.images[i], (56, 56)) / 255
        )
    ink[2:5, 0:330] = 1.0  # the thin line above them, clear of them
    labels, stats, keep = glyphs.components(ink)
    assert all(stats[k, 2] < 200 for k in keep)  # the line is not kept (nor as a mark)
    assert len(find_lines(ink)) == 1 and find_lines(ink)[0][0][1] >= 10  # the line's box starts at the digits
