"""Scores of a model: loss, accuracy, per-class figures, confusion matrix, calibration error, the report images."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from digitrec.cli import cli
from digitrec.errors import OutputExists
from digitrec.read.evaluate import check_report_dir, expected_calibration_error, score


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_hot(digits, confidence: float = 1.0) -> np.ndarray:
    """Probabilities float32 (N, 10): `confidence` on each digit, the rest spread evenly."""
    p = np.full((len(digits), 10), (1 - confidence) / 9, np.float32)
    p[np.arange(len(digits)), digits] = confidence
    return p


def test_score_counts_what_was_right_and_wrong():
    labels = np.array([0, 1, 2, 3, 3, 3])
    predicted = np.array([0, 1, 2, 3, 3, 8])  # one 3 read as 8
    ev = score(one_hot(predicted, 0.9), labels)
    assert ev.accuracy == pytest.approx(5 / 6)
    assert ev.confusion[3, 3] == 2 and ev.confusion[3, 8] == 1 and ev.confusion.sum() == 6
    assert ev.recall[3] == pytest.approx(2 / 3) and ev.precision[3] == 1.0
    assert ev.precision[8] == 0.0 and ev.f1[8] == 0.0  # predicted once, wrongly: 0, not NaN
    assert ev.support.tolist() == [1, 1, 1, 3, 0, 0, 0, 0, 0, 0]
    # loss: -log(0.9) for the five right, -log(0.1 / 9) for the wrong one
    assert ev.loss == pytest.approx((5 * -np.log(0.9) - np.log(0.1 / 9)) / 6, rel=1e-5)
    d = json.loads(json.dumps(ev.as_dict()))
    assert d["errors"] == 1 and d["count"] == 6 and d["per_class"]["3"]["support"] == 3


def test_calibration_error_is_the_gap_between_confidence_and_accuracy():
    labels = np.arange(10).repeat(10)
    right = one_hot(labels, 0.95)
    assert expected_calibration_error(right, labels) == pytest.approx(0.05, abs=1e-6)  # right always, says 95%
    half = one_hot(np.where(np.arange(100) % 2 == 0, labels, (labels + 1) % 10), 0.5)
    assert expected_calibration_error(half, labels) == pytest.approx(0.0, abs=1e-6)  # right half the time, says 50%


def test_report_folder_with_a_report_needs_force(tmp_path):
    check_report_dir(tmp_path / "new")  # a folder that does not exist yet is fine
    (tmp_path / "misclassified.png").write_bytes(b"mine")
    with pytest.raises(OutputExists, match="misclassified.png already exists; pass --force"):
        check_report_dir(tmp_path)
    check_report_dir(tmp_path, force=True)


@pytest.mark.slow
def test_evaluate_json_and_report(tmp_path):
    result = run("evaluate", "--model", "seed", "--json", "--report", tmp_path / "rep")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["accuracy"] >= 0.989 and data["loss"] < 0.05
    assert len(data["confusion_matrix"]) == 10 and sum(map(sum, data["confusion_matrix"])) == 10_000
    assert set(data["per_class"]["3"]) >= {"precision", "recall", "f1"}
    for name in ("confusion_matrix.png", "misclassified.png"):
        assert Image.open(tmp_path / "rep" / name).size[0] > 300


def test_evaluate_prints_tables():
    out = run("evaluate", "--model", "seed").output
    assert "Test accuracy: 0.98" in out and "precision" in out and "confusion matrix" in out


@pytest.mark.slow
def test_evaluate_report_is_not_overwritten_without_force(tmp_path):
    pytest.importorskip("matplotlib")
    rep = tmp_path / "rep"
    rep.mkdir()
    (rep / "confusion_matrix.png").write_bytes(b"mine")
    result = run("evaluate", "--model", "seed", "--report", rep)
    assert result.exit_code == 2 and "--force" in result.output
    assert (rep / "confusion_matrix.png").read_bytes() == b"mine"
    assert run("evaluate", "--model", "seed", "--report", rep, "--force").exit_code == 0
    assert Image.open(rep / "confusion_matrix.png").size[0] > 300
