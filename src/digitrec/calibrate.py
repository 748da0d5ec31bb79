"""Confidence calibration and "not a digit" rejection, fitted on held-out digits (numpy only).

Two numbers go into a model's metadata:

- `temperature` T: probabilities are softmax(logits / T); T is fitted by
  minimising the negative log-likelihood on held-out MNIST digits, which makes
  the expected calibration error small (temperature scaling, Guo et al. 2017).
- `rejection`: an image is "not a digit" when the model's evidence for any
  digit is low, i.e. logsumexp of the 10 digit logits (the negative energy,
  Liu et al. 2020) falls below `energy_threshold`, or, for models trained with
  an 11th "not a digit" class, when that class's probability exceeds
  `nondigit_threshold`. Both thresholds are set on held-out digits so that a
  fixed share of real digits (default 99.5%) is still accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


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
    z = logits[:, :10]
    m = z.max(1)
    return m + np.log(np.exp(z - m[:, None]).sum(1))


def nondigit_probability(logits: np.ndarray) -> np.ndarray:
    """P("not a digit") for 11-class logits (N, 11); zeros for 10-class models."""
    if logits.shape[1] < 11:
        return np.zeros(len(logits), np.float32)
    return np.exp(log_softmax(logits))[:, 10]


@dataclass(frozen=True)
class Rejection:
    energy_threshold: float
    nondigit_threshold: float = 1.0

    def reasons(self, logits: np.ndarray) -> list[str | None]:
        """One entry per row of logits (N, 10 or 11): None when accepted, else why it is not a digit."""
        energy = energy_score(logits)
        p_nd = nondigit_probability(logits)
        out: list[str | None] = []
        for e, p in zip(energy, p_nd):
            if p > self.nondigit_threshold:
                out.append(f"not a digit: looks like something else (p={p:.2f})")
            elif e < self.energy_threshold:
                out.append(f"not a digit: too unlike any digit (score {e:.1f} < {self.energy_threshold:.1f})")
            else:
                out.append(None)
        return out

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Rejection | None:
        r = meta.get("rejection")
        return cls(r["energy_threshold"], r.get("nondigit_threshold", 1.0)) if r else None


def fit_rejection(logits: np.ndarray, accept: float = 0.995) -> Rejection:
    """Thresholds under which a share `accept` of held-out digits (logits (N, 10|11)) stays accepted.

    The missed share is split between the two tests when the model has a "not a digit" class.
    """
    miss = 1.0 - accept
    if logits.shape[1] >= 11:
        nd = float(np.quantile(nondigit_probability(logits), 1.0 - miss / 2))
        return Rejection(float(np.quantile(energy_score(logits), miss / 2)), max(nd, 0.5))
    return Rejection(float(np.quantile(energy_score(logits), miss)))


def calibration_metadata(logits: np.ndarray, labels: np.ndarray, source: str, accept: float = 0.995) -> dict[str, Any]:
    """The `temperature` and `rejection` metadata entries for a model, from held-out logits and labels."""
    temperature = fit_temperature(logits[:, :10], labels)
    rejection = fit_rejection(logits, accept)
    accepted = np.mean([r is None for r in rejection.reasons(logits)])
    return {
        "temperature": round(temperature, 4),
        "rejection": {
            "energy_threshold": round(rejection.energy_threshold, 4),
            "nondigit_threshold": round(rejection.nondigit_threshold, 6),
            "target_acceptance": accept,
            "calibrated_on": source,
            "accepted_on_calibration_set": round(float(accepted), 5),
        },
    }


def calibrate_model(
    model: str | None = None, data_dir: str | None = None, accept: float = 0.995, train: Any = None
) -> dict[str, Any]:
    """Fit temperature and rejection for a saved model and write them into its metadata; returns them.

    Uses the training images the model was not trained on (its `holdout`), or,
    for a model trained on all 60,000 (the notebook's seed), the last 5,000
    training images, which the model has seen: its thresholds are then a bit
    optimistic, as the metadata says. `train` is the MNIST train Split when the
    caller has it loaded already (saves reading it again).
    """
    from .data import load_split
    from .infer import Recognizer
    from .store import resolve, write_metadata

    stem = resolve(model)
    rec = Recognizer.load(stem)
    holdout = int(rec.meta.get("training", {}).get("holdout", 0) or 0)
    train = train if train is not None else load_split("train", data_dir)
    n = holdout or 5000
    images, labels = train.images[-n:], train.labels[-n:].astype(np.int64)
    logits = np.concatenate([rec.logits(images[i : i + 1000, None].astype(np.float32) / 255) for i in range(0, n, 1000)])
    where = f"MNIST train[{len(train) - n}:{len(train)}]" + (" (held out from training)" if holdout else " (seen in training)")
    update = calibration_metadata(logits, labels, where, accept)
    write_metadata(stem, {**rec.meta, **update})
    return update
