"""Separators only on evidence: a `/ - . , :` stays in a read line only where it is clear and belongs to a format.

A slanted 1 looks much like a "/", a 1's foot like a "-", a speck like a ".".
So, when no format was asked for (`--expect`), a separator the line model read
is kept only if

1. at its steps it is much likelier than the best digit (CLEAR_RATIO), and
2. the whole line, with the separators kept, is one of the ways people write
   numbers (KNOWN_FORMATS: a date, a time, a decimal, a phone number, a
   thousands group), and, unless every separator is beyond doubt
   (STRONG_RATIO), with plausible values (a date's day and month, a time's
   hours and minutes).

Two or more separators that make a plausible known format together (a date's
two slashes) need each only be likelier than a digit by FORMAT_RATIO; with
one of them so read, a 1 where the other belongs is read as it when the line
model gives it SWAP_RATIO of the digit's odds there.

Otherwise every separator of the line reads as its best digit: `6224/8` is
`622418`, a doubtful `33/03` is `33103` (no 33rd month or day). Numpy only.
"""

from __future__ import annotations

import re

import numpy as np

from .read.ctc import Pattern

CLEAR_RATIO = 5.0  # a separator this much likelier than any digit at its steps is written as a separator
FORMAT_RATIO = 1.5  # ... or this much, for two or more separators that together make a plausible known format
SWAP_RATIO = 0.1  # ... and with one of them read, a 1 where the other belongs may be it at this share of a digit's odds
STRONG_RATIO = 30.0  # one this much likelier is beyond doubt: "41/37" is what was written, date or not
KNOWN_FORMATS = Pattern.parse(
    "|".join(
        (
            # dates: day and month in either order, 2- or 4-digit years; ISO
            "d/d|d/dd|dd/d|dd/dd|d/d/dd|d/dd/dd|dd/d/dd|dd/dd/dd|d/d/dddd|d/dd/dddd|dd/d/dddd|dd/dd/dddd|dddd/dd/dd",
            "d.d.dd|d.dd.dd|dd.d.dd|dd.dd.dd|d.d.dddd|d.dd.dddd|dd.d.dddd|dd.dd.dddd",
            "dd-dd-dd|dd-dd-dddd|dddd-dd-dd",
            "d:dd|dd:dd|d:dd:dd|dd:dd:dd",  # times
            "d+.d+|.d+|d+,d|d+,dd",  # decimals, with a point or a comma
            "dd-dd|ddd-dddd|dddd-dddd|ddd-ddd-dddd|ddd-dd-dddd|dd-dddd-dddd",  # phone numbers and codes
            "d,ddd|dd,ddd|ddd,ddd|d,ddd,ddd|dd,ddd,ddd|ddd,ddd,ddd|d,ddd.dd|dd,ddd.dd|ddd,ddd.dd",  # thousands
        )
    )
)
MAX_DAY, MAX_MONTH, MAX_HOUR, MAX_MINUTE = 31, 12, 24, 59


def plausible(text: str) -> bool:
    """Whether `text` is one of KNOWN_FORMATS with values that can be: dates, times. Digits alone are not."""
    if not KNOWN_FORMATS.matches(text):
        return False
    if ":" in text:
        fields = [int(f) for f in text.split(":")]
        return fields[0] <= MAX_HOUR and all(f <= MAX_MINUTE for f in fields[1:])
    if re.fullmatch(r"\d{4}([/-])\d\d\1\d\d", text):  # ISO: year, month, day
        _, month, day = (int(f) for f in re.split(r"[/-]", text))
        return 1 <= month <= MAX_MONTH and 1 <= day <= MAX_DAY
    if text.count("/") or re.fullmatch(r"\d\d?([.-])\d\d?\1\d+", text):
        a, b = (int(f) for f in re.split(r"[/.-]", text)[:2])
        return min(a, b) >= 1 and max(a, b) <= MAX_DAY and min(a, b) <= MAX_MONTH
    return True


def settle_separators(text: str, steps: list[list[int]], probs: np.ndarray, alphabet: str) -> str:
    """The line's text with every separator that lacks evidence read as its best digit.

    `steps` holds, per character of `text`, the CTC steps it was read at;
    `probs` is the (T, 1 + len(alphabet)) per-step probabilities, class 0 the
    blank and classes 1-10 the digits 0-9.
    """
    seps = [i for i, ch in enumerate(text) if not ch.isdigit()]
    if not seps:
        return text
    chars = list(text)
    odds = {i: _separator_odds(probs, steps[i], alphabet.index(text[i]) + 1) for i in seps}
    # NOTE: two or more separators where a format puts them (a date's two slashes) are evidence together: each
    # need only be likelier than a digit, the whole line a plausible known format
    if len(seps) >= 2 and all(odds[i] >= FORMAT_RATIO for i in seps) and plausible(text):
        return text
    if len(seps) == 1 and odds[seps[0]] >= FORMAT_RATIO:
        second = _second_separator(text, seps[0], steps, probs, alphabet)
        if second is not None:
            return second
    for i in seps:
        if odds[i] < CLEAR_RATIO:
            chars[i] = _best_digit(probs, steps[i])
    kept = "".join(chars)
    sure = all(odds[i] >= STRONG_RATIO for i in seps if not kept[i].isdigit())
    if any(not ch.isdigit() for ch in kept) and (plausible(kept) if not sure else KNOWN_FORMATS.matches(kept)):
        return kept
    return "".join(ch if ch.isdigit() else _best_digit(probs, steps[i]) for i, ch in enumerate(kept))


def _second_separator(text: str, i: int, steps: list[list[int]], probs: np.ndarray, alphabet: str) -> str | None:
    """`text` with one of its 1s read as its separator at `i` too, where the line model gives that separator
    SWAP_RATIO of the best digit's odds there and the two make a plausible known format (a date's first slash
    read as a 1: `23110/2597` is `23/10/2597`); None when no 1 does."""
    k = alphabet.index(text[i]) + 1
    found: tuple[float, str] | None = None
    for j, ch in enumerate(text):
        if ch != "1":
            continue
        swapped = text[:j] + text[i] + text[j + 1 :]
        odds = _separator_odds(probs, steps[j], k)
        if odds >= SWAP_RATIO and plausible(swapped) and (found is None or odds > found[0]):
            found = (odds, swapped)
    return None if found is None else found[1]


def _separator_odds(probs: np.ndarray, steps: list[int], k: int) -> float:
    """How much likelier class `k` is than the likeliest digit, at the steps it was read at (peak against peak)."""
    rows = probs[steps]
    return float(rows[:, k].max() / max(float(rows[:, 1:11].max()), 1e-12))


def _best_digit(probs: np.ndarray, steps: list[int]) -> str:
    return str(int(probs[steps][:, 1:11].max(0).argmax()))


__all__ = [
    "CLEAR_RATIO", "FORMAT_RATIO", "KNOWN_FORMATS", "STRONG_RATIO", "SWAP_RATIO", "plausible", "settle_separators",
]  # fmt: skip
