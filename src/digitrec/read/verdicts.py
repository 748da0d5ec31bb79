"""Where logits become answers: calibrated probabilities and honest "not a digit" verdicts (numpy only).

Numbers in a model's metadata:

- `temperature` T: digit probabilities are softmax(logits[:, :10] / T); T is
  fitted by minimising the negative log-likelihood on held-out digits
  (temperature scaling, Guo et al. 2017).
- `rejection`: one operating point per mode ("normal", "strict"). An image is
  "not a digit" when the model's evidence for any digit is low (the energy
  score, logsumexp of the 10 digit logits, Liu et al. 2020, falls below
  `energy_threshold`; 10-class models) or, for models with an 11th "not a
  digit" class, when that class's probability exceeds `nondigit_threshold`.
  "normal" refuses at even odds (P(not a digit) > 0.5), or, for a 10-class
  model, keeps 98% of *shifted* held-out digits (photos, low resolution,
  other pens, printed; `digitrec.synth.shifted`); "strict" keeps 95% of
  them and also refuses digits whose best probability is under
  `min_confidence`. The choice is documented with its risk-coverage figures
  in bench/generalize.py and the README. Mode "off" refuses nothing.

`softmax` here is the package's one softmax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

REJECT_MODES = ("strict", "normal", "off")
DEFAULT_REJECT = "normal"
ACCEPT = {"normal": 0.98, "strict": 0.95}  # share of shifted held-out digits a mode keeps, where fitted
EVEN_ODDS = 0.5  # "normal" with a not-a-digit class: refused when that class is likelier than all digits together
DIGITS = 10


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """float (N, C) logits -> float32 (N, C) probabilities of softmax(logits / temperature)."""
    z = np.asarray(logits, np.float32) / temperature
    z = np.exp(z - z.max(1, keepdims=True))
    return z / z.sum(1, keepdims=True)


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    return float(-log_softmax(logits / temperature)[np.arange(len(labels)), labels].mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The T in [0.05, 20] minimising NLL of softmax(logits / T) on digit logits float (N, 10)."""
    lo, hi = np.log(0.05), np.log(20.0)
    for _ in range(60):  # golden-section search on log T; NLL is unimodal in T
        a = hi - (hi - lo) / 1.618
        b = lo + (hi - lo) / 1.618
        if nll(logits, labels, np.exp(a)) < nll(logits, labels, np.exp(b)):
            hi = b
        else:
            lo = a
    return float(np.exp((lo + hi) / 2))


def energy_score(logits: np.ndarray) -> np.ndarray:
    """logsumexp of the 10 digit logits, (N,): high for digits the model knows, low for the unfamiliar."""
    z = logits[:, :DIGITS]
    m = z.max(1)
    return m + np.log(np.exp(z - m[:, None]).sum(1))


def nondigit_probability(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """P("not a digit") for 11-class logits (N, 11); zeros for 10-class models."""
    if logits.shape[1] <= DIGITS:
        return np.zeros(len(logits), np.float32)
    return softmax(logits, temperature)[:, DIGITS]


def _below(value: float, limit: float) -> str:
    """'value < limit' with enough decimals that the two never print equal."""
    for places in (1, 2, 3, 4):
        a, b = f"{value:.{places}f}", f"{limit:.{places}f}"
        if a != b:
            return f"{a} < {b}"
    return f"{value:.6g} < {limit:.6g}"


@dataclass(frozen=True)
class OperatingPoint:
    """Thresholds of one rejection mode; see the module docstring."""

    energy_threshold: float = -np.inf
    nondigit_threshold: float = 1.0
    min_confidence: float = 0.0

    def as_meta(self) -> dict[str, float | None]:
        """JSON-safe fields: an energy threshold that tests nothing (-inf) is None."""
        energy = None if np.isinf(self.energy_threshold) else float(self.energy_threshold)
        return {
            "energy_threshold": energy,
            "nondigit_threshold": float(self.nondigit_threshold),
            "min_confidence": float(self.min_confidence),
        }

    @classmethod
    def from_meta(cls, d: dict[str, Any]) -> OperatingPoint:
        energy = d.get("energy_threshold")
        return cls(
            -np.inf if energy is None else energy, d.get("nondigit_threshold", 1.0), d.get("min_confidence", 0.0)
        )

    def reason(self, energy: float, p_nondigit: float, confidence: float, digit: int) -> str | None:
        """Why one image is refused under this point, or None when it is accepted as `digit`."""
        if p_nondigit > max(self.nondigit_threshold, EVEN_ODDS):
            return f"not a digit: looks like something else (P(not a digit) = {p_nondigit:.2f})"
        if p_nondigit > self.nondigit_threshold:  # NOTE: more likely a digit than not; refused by a stricter limit
            return (
                f"unsure: best guess {digit} at {confidence:.0%}, but P(not a digit) = {p_nondigit:.2f} is over "
                f"the strict limit of {self.nondigit_threshold:.2f}"
            )
        if energy < self.energy_threshold:
            return f"not a digit: too unlike any digit (score {_below(energy, self.energy_threshold)})"
        if confidence < self.min_confidence:
            return (
                f"unsure: best guess {digit} at {confidence:.0%}, under the strict minimum of {self.min_confidence:.0%}"
            )
        return None


OFF = OperatingPoint()


@dataclass(frozen=True)
class Verdicts:
    """A batch read: `probabilities` float32 (N, 10) calibrated digit probabilities, `nondigit` (N,)
    P(not a digit) (zeros for 10-class models), `digits` int (N,) the best digit, and `reasons`:
    None where the image is accepted as that digit, else why it is refused."""

    probabilities: np.ndarray
    nondigit: np.ndarray
    digits: np.ndarray
    reasons: list[str | None]

    @property
    def accepted(self) -> np.ndarray:
        return np.array([r is None for r in self.reasons], bool)


@dataclass(frozen=True)
class Rejection:
    """The operating points of a model, by mode name."""

    points: dict[str, OperatingPoint]

    def point(self, mode: str = DEFAULT_REJECT) -> OperatingPoint:
        if mode not in REJECT_MODES:
            raise ValueError(f"reject mode {mode!r}: choose one of {', '.join(REJECT_MODES)}")
        return OFF if mode == "off" else self.points.get(mode, self.points.get("normal", OFF))

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Rejection:
        r = meta.get("rejection") or {}
        if "energy_threshold" in r:  # a model calibrated before operating points: one point, used as "normal"
            return cls({"normal": OperatingPoint(r["energy_threshold"], r.get("nondigit_threshold", 1.0))})
        return cls({m: OperatingPoint.from_meta(p) for m, p in r.get("points", {}).items()})


def verdicts(logits: np.ndarray, temperature: float, rejection: Rejection, mode: str = DEFAULT_REJECT) -> Verdicts:
    """Logits (N, 10 or 11) -> `Verdicts` under rejection `mode` ("strict", "normal" or "off")."""
    point = rejection.point(mode)
    probs = softmax(logits[:, :DIGITS], temperature)
    p_nd = nondigit_probability(logits, temperature)
    energy = energy_score(logits)
    digits = probs.argmax(1)
    conf = probs[np.arange(len(probs)), digits]
    reasons = [point.reason(float(e), float(p), float(c), int(d)) for e, p, c, d in zip(energy, p_nd, conf, digits)]
    return Verdicts(probs, p_nd, digits, reasons)


def fit_point(
    logits: np.ndarray, temperature: float, accept: float, min_confidence: float = 0.0, most: float = 1.0
) -> OperatingPoint:
    """Thresholds under which a share `accept` of genuine digits (logits (N, 10|11)) stays accepted.

    A model with a "not a digit" class is judged by that class alone: on
    shifted digits against non-digit pictures it refuses more non-digits at
    the same acceptance than the energy test or both together; its threshold
    is at most `most`. A 10-class model has only the energy test.
    """
    if logits.shape[1] > DIGITS:
        nd = float(np.quantile(nondigit_probability(logits, temperature), accept))
        return OperatingPoint(-np.inf, round(min(nd, most), 6), min_confidence)
    return OperatingPoint(round(float(np.quantile(energy_score(logits), 1.0 - accept)), 4), 1.0, min_confidence)


def strict_confidence(logits: np.ndarray, labels: np.ndarray, temperature: float, target_error: float = 0.002) -> float:
    """The lowest best-probability at which accepted genuine digits are wrong at most `target_error` of the time."""
    probs = softmax(logits[:, :DIGITS], temperature)
    conf, right = probs.max(1), probs.argmax(1) == labels
    for c in np.linspace(0.5, 0.99, 50):
        keep = conf >= c
        if keep.any() and 1.0 - right[keep].mean() <= target_error:
            return round(float(c), 3)
    return 0.99


def calibration_metadata(logits: np.ndarray, labels: np.ndarray, source: str) -> dict[str, Any]:
    """The `temperature` and `rejection` metadata entries from held-out genuine digits' logits and labels."""
    temperature = fit_temperature(logits[:, :DIGITS], labels)
    normal = fit_point(logits, temperature, ACCEPT["normal"])
    if logits.shape[1] > DIGITS:
        normal = OperatingPoint(-np.inf, EVEN_ODDS)
    strict = fit_point(
        logits, temperature, ACCEPT["strict"], strict_confidence(logits, labels, temperature), most=EVEN_ODDS
    )
    points = {"normal": normal, "strict": strict}
    rejection = Rejection(points)
    accepted = {m: round(float(verdicts(logits, temperature, rejection, m).accepted.mean()), 5) for m in points}
    return {
        "temperature": round(temperature, 4),
        "rejection": {
            "points": {m: p.as_meta() for m, p in points.items()},
            "rule": {
                "normal": "P(not a digit) > 0.5"
                if logits.shape[1] > DIGITS
                else f"keep {ACCEPT['normal']:.0%} of the calibration set",
                "strict": f"keep {ACCEPT['strict']:.0%} of the calibration set, and a confidence floor",
            },
            "accepted_on_calibration_set": accepted,
            "calibrated_on": source,
            "formulas": {
                "probabilities": "softmax(logits[:, :10] / temperature)",
                "energy": "logsumexp(logits[:, :10])",
                "nondigit": "softmax(logits / temperature)[:, 10] (11-class models)",
                "refused when": "nondigit > nondigit_threshold or energy < energy_threshold or max(probabilities) < min_confidence",
            },
        },
    }
