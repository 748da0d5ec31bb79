"""CTC decoding in numpy: a prefix beam search, optionally held to a pattern, and the best path of a string.

    >>> pattern = Pattern.parse("dd/dd/dddd|dd/dd")   # d: any digit, d+: one or more, other characters literal
    >>> best = beam_search(probs, ALPHABET, pattern)   # probs: (T, 1 + len(ALPHABET)), class 0 the blank
    >>> best.text, best.posterior                      # None when no string matching the pattern is likely

The prefix beam search (Hannun et al. 2014, "First-pass large vocabulary
continuous speech recognition using bi-directional recurrent DNNs") sums, for
each prefix, the probability of every alignment that ends in a blank and of
every one that ends in its last character, so a string spread over many steps
is not beaten by one path of another. A pattern is compiled to a
non-deterministic automaton whose state sets travel with each prefix; a prefix
the automaton cannot continue is dropped, so the answer is the most likely
string that matches. Numpy and the standard library only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError

BEAM_WIDTH = 12  # prefixes kept per step: 5-digit lines settle within 4; 12 leaves room for a pattern's detours
MIN_STEP_PROBABILITY = 1e-4  # a class this unlikely at a step is not tried there (the speed of the search)
MIN_FORCED_PROBABILITY = 1e-6  # under a pattern, a faint separator or digit may still be what it asks for
MIN_MATCH_RATIO = 1e-6  # a matching string this much less likely than the best reading is no answer
DIGITS = frozenset("0123456789")
PATTERN_CHARS = "d+0123456789.,-/:"  # what a pattern may hold: d, +, and the reader's literal characters


@dataclass(frozen=True)
class Pattern:
    """A compiled `expect` pattern: alternatives of (allowed characters, repeatable) tokens.

    An automaton state is a frozenset of (alternative, tokens consumed) pairs;
    `start`, `step` and `accepts` run it.
    """

    text: str
    alternatives: tuple[tuple[tuple[frozenset[str], bool], ...], ...]
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, text: str) -> Pattern:
        """'dd/dd/dddd|d+.dd' -> Pattern. Raises ConfigError naming the pattern and the bad character."""
        if not text or not text.strip():
            raise ConfigError("expect: empty pattern; write e.g. dd/dd/dddd, ddddd, d+, d+.dd, ddd-dddd or dd:dd")
        alternatives = []
        for alt in text.split("|"):
            tokens: list[tuple[frozenset[str], bool]] = []
            for ch in alt:
                if ch not in PATTERN_CHARS:
                    raise ConfigError(
                        f"expect: {ch!r} in {text!r} is not d (a digit), + (one or more) or one of 0-9 . , - / :"
                    )
                if ch == "+":
                    if not tokens or tokens[-1][1]:
                        raise ConfigError(f"expect: '+' in {text!r} must follow a d or a character")
                    tokens[-1] = (tokens[-1][0], True)
                else:
                    tokens.append((DIGITS if ch == "d" else frozenset(ch), False))
            if not tokens:
                raise ConfigError(f"expect: empty alternative in {text!r}; write e.g. dd/dd|dd/dd/dddd")
            alternatives.append(tuple(tokens))
        return cls(text, tuple(alternatives))

    @property
    def start(self) -> frozenset[tuple[int, int]]:
        return frozenset((a, 0) for a in range(len(self.alternatives)))

    def step(self, state: frozenset[tuple[int, int]], ch: str) -> frozenset[tuple[int, int]]:
        """The states after reading `ch` (empty: the pattern cannot go on)."""
        key = (state, ch)
        if key not in self._cache:
            out = set()
            for a, i in state:
                tokens = self.alternatives[a]
                if i < len(tokens) and ch in tokens[i][0]:
                    out.add((a, i + 1))
                if i > 0 and tokens[i - 1][1] and ch in tokens[i - 1][0]:
                    out.add((a, i))  # another of a repeated token
            self._cache[key] = frozenset(out)
        return self._cache[key]

    def accepts(self, state: frozenset[tuple[int, int]]) -> bool:
        return any(i == len(self.alternatives[a]) for a, i in state)

    def matches(self, text: str) -> bool:
        state = self.start
        for ch in text:
            state = self.step(state, ch)
            if not state:
                return False
        return self.accepts(state)

    @property
    def has_separators(self) -> bool:
        return any(not chars <= DIGITS for alt in self.alternatives for chars, _ in alt)


DIGITS_ONLY = Pattern.parse("d+")


@dataclass
class Decoded:
    """A beam search's answer: `text` (None when nothing matching is likely), its log probability,
    `posterior` (its share of the probability of all strings the beam kept, in [0, 1]), and the
    `runner_up` string (None if the beam kept only one)."""

    text: str | None
    log_probability: float
    posterior: float
    runner_up: str | None = None


def beam_search(probs: np.ndarray, alphabet: str, pattern: Pattern | None = None, width: int = BEAM_WIDTH) -> Decoded:
    """(T, 1 + len(alphabet)) float per-step probabilities (class 0 the blank) -> the most likely string.

    With `pattern`, only strings the pattern accepts are answers; prefixes it
    cannot continue are dropped as they form. Probabilities are renormalised
    every step (the scale kept in log), so long lines do not underflow.
    """
    probs = np.asarray(probs, np.float64)
    start = pattern.start if pattern is not None else None
    beams: dict[tuple[int, ...], list] = {(): [1.0, 0.0, start]}  # prefix -> [p ends in blank, p ends in char, state]
    log_scale = 0.0
    floor = MIN_STEP_PROBABILITY if pattern is None else MIN_FORCED_PROBABILITY
    for t in range(len(probs)):
        row = probs[t]
        tried = [int(k) for k in np.flatnonzero(row >= floor) if k != 0]
        nxt: dict[tuple[int, ...], list] = {}
        for prefix, (pb, pnb, state) in beams.items():
            _extend(nxt, prefix, state, (pb + pnb) * row[0], 0.0)
            if prefix:
                _extend(nxt, prefix, state, 0.0, pnb * row[prefix[-1]])  # the last character goes on
            for k in tried:
                new_state = state
                if pattern is not None:
                    new_state = pattern.step(state, alphabet[k - 1])
                    if not new_state:
                        continue
                p = pb * row[k] if prefix and prefix[-1] == k else (pb + pnb) * row[k]
                _extend(nxt, (*prefix, k), new_state, 0.0, p)
        beams = dict(sorted(nxt.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))[:width])
        top = max(v[0] + v[1] for v in beams.values())
        if top <= 0:
            return Decoded(None, -math.inf, 0.0)
        for v in beams.values():
            v[0] /= top
            v[1] /= top
        log_scale += math.log(top)
    return _answer(beams, alphabet, pattern, log_scale)


def _extend(nxt: dict, prefix: tuple[int, ...], state, pb: float, pnb: float) -> None:
    entry = nxt.get(prefix)
    if entry is None:
        nxt[prefix] = [pb, pnb, state]
    else:
        entry[0] += pb
        entry[1] += pnb


def _answer(beams: dict, alphabet: str, pattern: Pattern | None, log_scale: float) -> Decoded:
    ranked = sorted(
        ((pb + pnb, prefix) for prefix, (pb, pnb, state) in beams.items() if pattern is None or pattern.accepts(state)),
        reverse=True,
    )
    if not ranked or ranked[0][0] <= 0:
        return Decoded(None, -math.inf, 0.0)
    total = sum(p for p, _ in ranked)
    text = "".join(alphabet[k - 1] for k in ranked[0][1])
    runner = "".join(alphabet[k - 1] for k in ranked[1][1]) if len(ranked) > 1 else None
    return Decoded(text, math.log(ranked[0][0]) + log_scale, float(ranked[0][0] / total), runner)


def best_path(probs: np.ndarray, labels: list[int]) -> list[list[int]]:
    """The steps each label holds on the most likely CTC alignment of `labels` (Viterbi), one list per label.

    `probs` is (T, C) float with class 0 the blank; `labels` are class
    indices (no blanks). Raises ValueError if the string needs more steps
    than there are.
    """
    log = np.log(np.asarray(probs, np.float64) + 1e-30)
    ext = [0]
    for k in labels:
        ext += [k, 0]
    n, steps = len(ext), len(log)
    ext_arr = np.asarray(ext)
    # a step may skip the blank between two different labels
    skip = np.zeros(n, bool)
    skip[2:] = (ext_arr[2:] != 0) & (ext_arr[2:] != ext_arr[:-2])
    score = np.full(n, -np.inf)
    score[0] = log[0, 0]
    if n > 1:
        score[1] = log[0, ext[1]]
    back = np.zeros((steps, n), np.int64)
    for t in range(1, steps):
        one = np.full(n, -np.inf)
        one[1:] = score[:-1]
        two = np.full(n, -np.inf)
        two[2:] = score[:-2]
        choices = np.stack([score, one, np.where(skip, two, -np.inf)])
        pick = choices.argmax(0)
        back[t] = np.arange(n) - pick
        score = choices[pick, np.arange(n)] + log[t, ext_arr]
    end = n - 1 if n == 1 or score[n - 1] >= score[n - 2] else n - 2
    if not np.isfinite(score[end]):
        raise ValueError(f"{len(labels)} labels do not fit in {steps} steps")
    held: list[list[int]] = [[] for _ in labels]
    s = end
    for t in range(steps - 1, -1, -1):
        if ext[s] != 0:
            held[(s - 1) // 2].append(t)
        s = back[t, s] if t > 0 else s
    return [sorted(h) for h in held]


__all__ = ["DIGITS_ONLY", "Decoded", "Pattern", "beam_search", "best_path"]
