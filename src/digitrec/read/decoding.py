"""From a line model's per-step probabilities to an answer: the string, each character, a confidence, or a reason.

    >>> decode_line(probs)                                  # beam search; separators only on evidence
    >>> decode_line(probs, Pattern.parse("dd/dd/dddd"))     # the likeliest date, or None with a reason
    >>> decode_line(probs, DIGITS_ONLY)                     # never a separator

The string comes from the CTC prefix beam search (`digitrec.read.ctc`), or the
greedy decoder for comparison; its characters' steps from the best CTC path of
that string, so every character has the columns it was read at and a
confidence (its peak probability there). Without a pattern a separator
survives only on evidence (`digitrec.formats`). The line's confidence is
the calibrated chance that the whole string is right (`line_confidence`).
Numpy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..formats import settle_separators
from .ctc import DIGITS_ONLY, MIN_MATCH_RATIO, Pattern, beam_search, best_path
from .glyphs import check_line, find_glyphs, flat_stroke, mostly_unread, refused_shape
from .lines import ALPHABET, STRIDE, LineChar, ctc_greedy, normalize_line, to_ink_columns

if TYPE_CHECKING:
    from .digits import Recognizer
    from .lines import LineReader

DECODERS = ("beam", "greedy")
# NOTE: fitted by bench/fit_line_confidence.py on lines of MNIST train[55000:] digits (unseen by the line model;
# never test): a logistic regression of "the line is exactly right" on the logits of the beam's posterior and of
# the weakest character's confidence.
CONFIDENCE_FIT = (0.166, 0.652, 0.174)  # intercept, weight of logit(posterior), weight of logit(weakest character)
UNSURE_STEP = 0.6  # a step whose likeliest class has less than this is unsure (letters and scribble are mostly so)
NOT_DIGITS_SHARE = 0.5  # a line whose inked steps are more than this share unsure is not digits


@dataclass
class LineDecoding:
    """One decoded line: `chars` with columns in the normalized line's pixels, `text` (None: no answer),
    `confidence` (calibrated chance the text is exactly right), `reason` (why no answer, else None),
    `no_match` (True when the answer is None because no likely string matches the pattern), and `posterior`
    (the string's share of the probability the beam kept; NaN for greedy decoding)."""

    chars: list[LineChar]
    text: str | None
    confidence: float
    reason: str | None = None
    no_match: bool = False
    posterior: float = math.nan


def read_line(
    reader: LineReader, ink: np.ndarray, pattern: Pattern | None = None, decoder: str = "beam", refuse: bool = True,
    recognizer: Recognizer | None = None,
) -> LineDecoding:  # fmt: skip
    """Float32 (h, w) ink of one line, ink bright -> its answer, characters' columns in `ink`'s pixels.

    With `refuse`, a line that is one flat stroke (`glyphs.flat_stroke`: a dash
    or a rule alone) or whose steps are mostly unsure is refused as not
    digits, whatever the pattern (see `not_digits`), and so is one whose
    strokes mostly got no character (`glyphs.mostly_unread`: words, where a
    letter or two read as digits). With a `recognizer` (a digit model), so is
    a short line one digit wide that it is sure is no digit
    (`glyphs.refused_shape`: a spiral, rings), and the reading is checked
    glyph by glyph against the ink (`digitrec.read.glyphs`).
    """
    if refuse and flat_stroke(ink):
        return LineDecoding([], None, 0.0, "not digits: one flat stroke (a dash or a rule), no digit")
    line, scale = normalize_line(ink)
    probs = reader.step_probabilities(line)
    if refuse and not_digits(probs):
        return LineDecoding([], None, 0.0, "not digits: most of this line reads as no character surely")
    decoded = decode_line(probs, pattern, decoder)
    glyphs = find_glyphs(ink) if refuse or recognizer is not None else []
    if refuse and decoded.text is not None and mostly_unread(decoded.chars, glyphs, ink, scale, len(probs)):
        return LineDecoding([], None, 0.0, "not digits: most of this line's strokes read as no character")
    if refuse and recognizer is not None and refused_shape(decoded.chars, ink, recognizer):
        return LineDecoding([], None, 0.0, "not digits: the digit model takes this shape for no digit")
    checked = None if recognizer is None else check_line(decoded.chars, probs, ink, scale, recognizer, pattern, glyphs)
    if checked:
        text = "".join(c.char for c in checked)
        confidence = line_confidence(decoded.posterior, min(c.confidence for c in checked))
        decoded = LineDecoding(checked, text, confidence, posterior=decoded.posterior)
    decoded.chars = to_ink_columns(decoded.chars, ink, scale)
    return decoded


def decode_line(probs: np.ndarray, pattern: Pattern | None = None, decoder: str = "beam") -> LineDecoding:
    """(T, 1 + len(ALPHABET)) float per-step probabilities -> the line's answer.

    With `pattern` the answer is the likeliest string it accepts, or None with
    a reason when none is within MIN_MATCH_RATIO of the best reading (the
    digits-only pattern is always answered: its strings only drop separators).
    """
    probs = np.asarray(probs, np.float64)
    if decoder == "greedy":
        text, posterior = "".join(c.char for c in ctc_greedy(probs.astype(np.float32))), math.nan
    else:
        found = beam_search(probs, ALPHABET, pattern)
        text, posterior = found.text, found.posterior
        if pattern is not None and pattern is not DIGITS_ONLY:
            free = beam_search(probs, ALPHABET)
            if text is None or found.log_probability - free.log_probability < math.log(MIN_MATCH_RATIO):
                reason = f"no reading matches {pattern.text} (read as {free.text or 'nothing'})"
                return LineDecoding([], None, 0.0, reason, no_match=True)
    if text is None:
        return LineDecoding([], None, 0.0, "not digits: nothing in this line reads as a digit")
    steps = _steps(probs, text)
    if pattern is None:
        settled = settle_separators(text, steps, probs, ALPHABET)
        if settled != text:
            text, steps = settled, _steps(probs, settled, steps)
    chars = [_char(probs, ch, held) for ch, held in zip(text, steps)]
    confidence = line_confidence(posterior, min(c.confidence for c in chars)) if chars else 0.0
    return LineDecoding(chars, text, confidence, posterior=posterior)


def _steps(probs: np.ndarray, text: str, fallback: list[list[int]] | None = None) -> list[list[int]]:
    try:
        held = best_path(probs, [ALPHABET.index(ch) + 1 for ch in text])
    except ValueError:
        if fallback is None:
            raise
        return fallback
    return held


def _char(probs: np.ndarray, ch: str, steps: list[int]) -> LineChar:
    k = ALPHABET.index(ch) + 1
    return LineChar(ch, float(probs[steps, k].max()), steps[0] * STRIDE, (steps[-1] + 1) * STRIDE)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def line_confidence(posterior: float, weakest: float, fit: tuple[float, float, float] = CONFIDENCE_FIT) -> float:
    """The chance a read line is exactly right, from the beam's posterior and its weakest character's confidence.

    Greedy decoding has no posterior (NaN): the weakest character stands for it.
    """
    posterior = weakest if math.isnan(posterior) else posterior
    z = fit[0] + fit[1] * _logit(posterior) + fit[2] * _logit(weakest)
    return 1 / (1 + math.exp(-z))


def not_digits(probs: np.ndarray) -> bool:
    """Whether the line's inked steps are mostly unsure: the evidence that it is letters or scribble, not digits.

    A step is inked when the blank is not almost sure; a clear digit string,
    even with one doubtful character, is sure at most of them.
    """
    probs = np.asarray(probs)
    inked = probs[:, 0] < 0.99
    if not inked.any():
        return False
    return float((probs[inked].max(1) < UNSURE_STEP).mean()) > NOT_DIGITS_SHARE


__all__ = ["DECODERS", "LineDecoding", "decode_line", "line_confidence", "not_digits", "read_line"]
