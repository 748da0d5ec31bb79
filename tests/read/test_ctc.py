"""CTC decoding on hand-made model outputs: the beam search, patterns, separators on evidence, refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from digitrec.errors import ConfigError
from digitrec.formats import CLEAR_RATIO, STRONG_RATIO, plausible, settle_separators
from digitrec.read.ctc import DIGITS_ONLY, Pattern, beam_search, best_path
from digitrec.read.decoding import decode_line, line_confidence, not_digits
from digitrec.read.lines import ALPHABET

BLANK = 0


def cls(ch: str) -> int:
    return ALPHABET.index(ch) + 1


def steps(*columns: dict[str, float] | str) -> np.ndarray:
    """Per-step probabilities: a character (0.98 sure), "_" (a blank), or {char: p} with the rest spread evenly."""
    out = np.zeros((len(columns), len(ALPHABET) + 1))
    for t, col in enumerate(columns):
        col = {col: 0.98} if isinstance(col, str) else col
        rest = (1 - sum(col.values())) / (len(ALPHABET) + 1 - len(col))
        out[t] = rest
        for ch, p in col.items():
            out[t, BLANK if ch == "_" else cls(ch)] = p
    return out


SLASH_OVER_ONE = {"/": 0.6, "1": 0.3}  # a slanted 1: the slash likelier, the 1 close behind


def test_beam_search_sums_alignments_where_greedy_takes_one_path():
    # greedy takes the blank twice (""); "7" has 0.4 * 0.4 + 0.4 * 0.6 + 0.6 * 0.4 = 0.64 over its three paths
    probs = steps({"_": 0.6, "7": 0.4}, {"_": 0.6, "7": 0.4})
    found = beam_search(probs, ALPHABET)
    assert found.text == "7"
    assert found.posterior == pytest.approx(0.64 / 1.0, abs=0.01)


def test_beam_search_merges_repeats_only_without_a_blank_between():
    assert beam_search(steps("_", "1", "1", "_", "1", "2", "_"), ALPHABET).text == "112"


def test_pattern_forces_a_digit_over_a_likelier_slash():
    probs = steps("1", "_", "2", "_", SLASH_OVER_ONE, "_", "0", "_", "5")
    assert beam_search(probs, ALPHABET).text == "12/05"
    assert beam_search(probs, ALPHABET, Pattern.parse("ddddd")).text == "12105"
    assert beam_search(probs, ALPHABET, DIGITS_ONLY).text == "12105"
    decoded = decode_line(probs, Pattern.parse("ddddd"))
    assert decoded.text == "12105" and decoded.reason is None
    assert decoded.chars[2].confidence == pytest.approx(0.3)  # the forced 1 is marked unsure


def test_pattern_keeps_the_slash_when_it_asks_for_one():
    probs = steps("1", "_", "2", "_", SLASH_OVER_ONE, "_", "0", "_", "5")
    assert decode_line(probs, Pattern.parse("dd/dd|ddddd")).text == "12/05"


def test_no_likely_match_is_null_with_a_reason():
    probs = steps("_", "3", "_", "1", "_", "4", "_")
    decoded = decode_line(probs, Pattern.parse("dd/dd/dddd"))
    assert decoded.text is None and decoded.no_match and decoded.chars == []
    assert decoded.reason == "no reading matches dd/dd/dddd (read as 314)"


def test_alternatives_and_repeats():
    pattern = Pattern.parse("ddd-dddd|ddd-ddd-dddd|d+.dd")
    assert pattern.matches("555-0199") and pattern.matches("555-123-4567") and pattern.matches("1234.50")
    assert not pattern.matches("5550199") and not pattern.matches(".50") and not pattern.matches("12.5")
    assert Pattern.parse("d+d").matches("12") and not Pattern.parse("d+d").matches("1")
    assert Pattern.parse("19dd").matches("1984") and not Pattern.parse("19dd").matches("2084")


@pytest.mark.parametrize("bad", ["", " ", "ab", "+d", "d++", "d||d", "dd dd", "d/x"])
def test_bad_patterns_raise_one_line_config_errors(bad):
    with pytest.raises(ConfigError) as e:
        Pattern.parse(bad)
    assert str(e.value).startswith("expect:") and "\n" not in str(e.value)


def test_best_path_gives_each_character_its_steps():
    probs = steps("_", "1", "1", "_", "1", "2", "_")
    assert best_path(probs, [cls("1"), cls("1"), cls("2")]) == [[1, 2], [4], [5]]
    with pytest.raises(ValueError):
        best_path(steps("1", "1"), [cls("1"), cls("1")])  # a repeat needs a blank between: 3 steps at least


def test_a_slanted_one_in_plain_digits_reads_as_one():
    # "6224/8": the slash beats the 1, but no format has a slash there
    probs = steps("6", "_", "2", "_", "2", "_", "4", "_", SLASH_OVER_ONE, "_", "8")
    assert decode_line(probs).text == "622418"
    # "33/03": a clear slash but not beyond doubt, and there is no 33rd day or month
    probs = steps("3", "_", "3", "_", {"/": 0.8, "1": 0.8 / (CLEAR_RATIO + 1)}, "_", "0", "_", "3")
    assert decode_line(probs).text == "33103"
    # a slash beyond doubt is what was written, date or not
    probs = steps("4", "_", "1", "_", {"/": 0.9, "1": 0.9 / (2 * STRONG_RATIO)}, "_", "3", "_", "7")
    assert decode_line(probs).text == "41/37"
    # "7/2" is a date, but a 1 reads almost as well as the slash
    assert decode_line(steps("7", "_", SLASH_OVER_ONE, "_", "2")).text == "712"


def test_a_clear_separator_in_a_known_format_stays():
    clear = {"/": 0.9, "1": 0.9 / (2 * STRONG_RATIO)}
    assert decode_line(steps("1", "_", "2", "_", clear, "_", "0", "_", "5")).text == "12/05"
    assert decode_line(steps("3", "_", ".", "_", "1", "_", "4")).text == "3.14"
    assert decode_line(steps("5", "_", "5", "_", "5", "-", "0", "_", "1", "_", "9", "_", "9")).text == "555-0199"


def test_digits_only_never_reads_a_separator():
    probs = steps("1", "_", "2", "_", {"/": 0.99}, "_", "0", "_", "5")
    decoded = decode_line(probs, DIGITS_ONLY)
    assert decoded.text is not None and decoded.text.isdigit()


def test_settle_separators_reads_a_separator_out_of_format_as_its_best_digit():
    probs = steps("1", {"-": 0.9, "4": 0.05}, "7")
    assert settle_separators("1-7", [[0], [1], [2]], probs, ALPHABET) == "147"  # "1-7" is no format


def test_a_dates_two_slashes_stand_together_when_one_alone_would_not():
    """`04/04/0948` was read so and then `0410410948`: its second slash only 4 times likelier than a 1 (under
    CLEAR_RATIO), and `04/0410948` no format. Two separators making a plausible date are evidence together."""
    weak = {"/": 0.8, "1": 0.19}  # 4.2 times likelier
    chars = "04/04/0948"
    probs = steps(*(weak if i == 5 else ch for i, ch in enumerate(chars)))
    assert settle_separators(chars, [[i] for i in range(len(chars))], probs, ALPHABET) == chars
    late = "04/44/0948"  # no 44th day or month: both weak slashes are 1s
    probs = steps(*(weak if ch == "/" else ch for ch in late))
    assert settle_separators(late, [[i] for i in range(len(late))], probs, ALPHABET) == "0414410948"
    alone = "4/0948"  # one weak separator alone stays a digit, format or not
    probs = steps(*(weak if i == 1 else ch for i, ch in enumerate(alone)))
    assert settle_separators(alone, [[i] for i in range(len(alone))], probs, ALPHABET) == "410948"


@pytest.mark.parametrize(("slash", "read"), [(0.3, "23/10/2597"), (0.03, "2311012597")])
def test_a_dates_first_slash_read_as_a_one_is_a_slash_beside_the_second(slash, read):
    """`23/10/2597` read `23110/2597` by the beam: its first slash a 1, half as likely as a slash there."""
    chars = "23110/2597"
    second = {"/": 0.9, "1": 0.08}  # clear, 11 times a 1: kept with a format, else a 1
    probs = steps(*({"1": 0.6, "/": slash} if i == 2 else second if i == 5 else ch for i, ch in enumerate(chars)))
    assert settle_separators(chars, [[i] for i in range(len(chars))], probs, ALPHABET) == read


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("12/05", True), ("12/05/2024", True), ("2024-12-05", True), ("33/03", False), ("45/72", False),
        ("13/13", False), ("23:59", True), ("25:00", False), ("3.14", True), ("555-0199", True),
        ("1,234", True), ("12,34", True), ("6224/8", False), ("12345", False), ("1/53", False),
    ],
)  # fmt: skip
def test_plausible_formats(text, ok):
    assert plausible(text) is ok


def test_line_confidence_grows_with_its_evidence():
    low, mid, high = line_confidence(0.5, 0.5), line_confidence(0.9, 0.9), line_confidence(0.999, 0.999)
    assert 0 < low < mid < high < 1
    assert line_confidence(math.nan, 0.9) == pytest.approx(line_confidence(0.9, 0.9))


def test_a_short_clear_line_with_one_unsure_character_is_answered():
    probs = steps("_", "5", "_", {"1": 0.35, "7": 0.3}, "_")
    decoded = decode_line(probs)
    assert decoded.text == "51" and decoded.reason is None and 0 < decoded.confidence < 1
    assert not not_digits(probs)


def test_mostly_unsure_steps_are_not_digits():
    unsure = {"1": 0.3, "7": 0.3, "4": 0.2}
    assert not_digits(steps("_", unsure, unsure, unsure, unsure, unsure, "8", "_"))
    assert not not_digits(steps("_", "_", "_"))  # blank: nothing to judge
