"""Scores of a model on labelled digits: loss, accuracy, per-class precision/recall/F1, confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OutputExists
from ..store import atomic_write


@dataclass
class Evaluation:
    """Metrics of `probabilities` float32 (N, 10) against `labels` int (N,)."""

    loss: float
    accuracy: float
    confusion: np.ndarray  # int64 (10, 10): rows true digit, columns predicted digit
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    ece: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "loss": round(self.loss, 6),
            "accuracy": round(self.accuracy, 6),
            "errors": int(self.confusion.sum() - np.trace(self.confusion)),
            "count": int(self.confusion.sum()),
            "expected_calibration_error": round(self.ece, 6),
            "per_class": {
                str(d): {
                    "precision": round(float(self.precision[d]), 6),
                    "recall": round(float(self.recall[d]), 6),
                    "f1": round(float(self.f1[d]), 6),
                    "support": int(self.support[d]),
                }
                for d in range(10)
            },
            "confusion_matrix": self.confusion.tolist(),
        }


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE: the gap between confidence and accuracy, averaged over 15 equal-width confidence bins."""
    conf = probabilities.max(1)
    correct = probabilities.argmax(1) == labels
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (conf > lo) & (conf <= hi)
        if sel.any():
            ece += sel.mean() * abs(conf[sel].mean() - correct[sel].mean())
    return float(ece)


def score(probabilities: np.ndarray, labels: np.ndarray) -> Evaluation:
    """Compute every metric from probabilities float (N, 10) and integer labels (N,)."""
    labels = np.asarray(labels, np.int64)
    predicted = probabilities.argmax(1)
    confusion = np.zeros((10, 10), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    tp = np.diag(confusion).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.nan_to_num(tp / confusion.sum(0))
        recall = np.nan_to_num(tp / confusion.sum(1))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    picked = probabilities[np.arange(len(labels)), labels]
    loss = float(-np.log(np.clip(picked, 1e-12, 1.0)).mean()) if len(labels) else 0.0
    return Evaluation(
        loss=loss,
        accuracy=float((predicted == labels).mean()) if len(labels) else 0.0,
        confusion=confusion,
        precision=precision,
        recall=recall,
        f1=f1,
        support=confusion.sum(1),
        ece=expected_calibration_error(probabilities, labels),
    )


REPORT_FILES = ("confusion_matrix.png", "misclassified.png")


def check_report_dir(out_dir: str | Path, force: bool = False) -> None:
    """Refuse a report folder that already holds a report, unless `force`."""
    existing = [Path(out_dir) / n for n in REPORT_FILES if (Path(out_dir) / n).exists()]
    if existing and not force:
        raise OutputExists(f"{existing[0]} already exists; pass --force to overwrite the report")


# NOTE: just over 60 lines: splitting it further would scatter one linear sequence of steps.
def write_report(
    evaluation: Evaluation,
    images: np.ndarray,
    labels: np.ndarray,
    probabilities: np.ndarray,
    out_dir: str | Path,
    title: str = "",
    max_errors: int = 100,
    force: bool = False,
) -> list[Path]:
    """Write confusion_matrix.png and misclassified.png into `out_dir`; returns their paths.

    `images` uint8 (N, 28, 28) are the inputs, in the same order as `labels` and `probabilities`.
    Existing files are replaced only with `force` (else OutputExists, before any work); writes are atomic.
    """
    out_dir = Path(out_dir)
    check_report_dir(out_dir, force)
    try:
        import matplotlib
    except ImportError:
        from ..errors import MissingExtra

        raise MissingExtra("matplotlib", "report", "--report") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    errors = _errors_figure(plt, images, labels, probabilities, max_errors)
    paths = [out_dir / name for name in REPORT_FILES]
    for path, fig in zip(paths, (_confusion_figure(plt, evaluation, title), errors)):
        atomic_write(path, lambda tmp, fig=fig: fig.savefig(tmp, format="png"))
        plt.close(fig)
    return paths


def _confusion_figure(plt: Any, evaluation: Evaluation, title: str) -> Any:
    """The confusion matrix as a matplotlib figure: counts in every cell, the errors coloured."""
    fig, ax = plt.subplots(figsize=(7, 6), dpi=120)
    cm = evaluation.confusion
    shown = np.where(np.eye(10, dtype=bool), 0, cm)  # colour the errors; the diagonal would swamp them
    ax.imshow(shown, cmap="Reds")
    for i in range(10):
        for j in range(10):
            color = "black" if i == j or shown[i, j] < shown.max() * 0.6 else "white"
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8, color=color,
                    fontweight="bold" if i == j else "normal")  # fmt: skip
    ax.set(xticks=range(10), yticks=range(10), xlabel="predicted digit", ylabel="true digit")
    ax.set_title(f"{title} confusion matrix — accuracy {evaluation.accuracy:.2%}".strip())
    fig.tight_layout()
    return fig


def _errors_figure(plt: Any, images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray, most: int) -> Any:
    """A gallery of up to `most` misread images uint8 (N, 28, 28), each titled true→predicted confidence."""
    predicted = probabilities.argmax(1)
    wrong = np.flatnonzero(predicted != labels)[:most]
    cols = 10
    rows = max(1, int(np.ceil(len(wrong) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.2, rows * 1.45), dpi=110, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(images[i], cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"{labels[i]}→{predicted[i]} {probabilities[i].max():.0%}", fontsize=8, color="crimson")
    n_wrong = int((predicted != labels).sum())
    fig.suptitle(f"misclassified: true→predicted confidence ({len(wrong)} of {n_wrong} shown)", fontsize=10)
    fig.tight_layout()
    return fig
