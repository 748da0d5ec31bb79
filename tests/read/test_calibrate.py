"""Calibration: temperature scaling and the rejection thresholds fitted on held-out digits (numpy only)."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import ROOT

from digitrec.cli import cli
from digitrec.read.verdicts import (
    ACCEPT,
    Rejection,
    calibration_metadata,
    fit_point,
    fit_temperature,
    softmax,
    verdicts,
)

SEVEN = ROOT / "images" / "mnist-7.png"


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def sampled(n: int, temperature: float, seed: int = 0, classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Logits float32 (n, classes) and digit labels (n,) drawn from softmax(logits / temperature): so calibrated at T."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 4, (n, classes)).astype(np.float32)
    p = softmax(logits[:, :10], temperature).astype(np.float64)
    labels = np.array([rng.choice(10, p=row / row.sum()) for row in p])
    return logits, labels


@pytest.mark.parametrize("true_t", [0.5, 1.0, 2.5])
def test_fit_temperature_recovers_the_temperature_the_labels_were_drawn_at(true_t):
    logits, labels = sampled(4000, true_t)
    assert fit_temperature(logits, labels) == pytest.approx(true_t, rel=0.1)


def test_softmax_is_stable_for_huge_logits():
    p = softmax(np.array([[1000.0, 0.0], [-1000.0, -1000.0]]))
    np.testing.assert_allclose(p, [[1.0, 0.0], [0.5, 0.5]], atol=1e-6)


def test_fit_point_keeps_the_asked_share_of_digits():
    logits, _ = sampled(2000, 1.0)
    point = fit_point(logits, 1.0, accept=0.95)
    assert verdicts(logits, 1.0, Rejection({"normal": point})).accepted.mean() == pytest.approx(0.95, abs=0.01)
    eleven, _ = sampled(2000, 1.0, seed=1, classes=11)
    capped = fit_point(eleven, 1.0, accept=0.99, most=0.2)
    assert capped.nondigit_threshold <= 0.2 and np.isinf(capped.energy_threshold)


def test_calibration_metadata_round_trips_through_the_model_file_form():
    logits, labels = sampled(3000, 1.5, seed=2)
    meta = calibration_metadata(logits, labels, "test logits")
    assert meta["temperature"] == pytest.approx(1.5, rel=0.1)
    rejection = Rejection.from_meta(meta)
    accepted = meta["rejection"]["accepted_on_calibration_set"]
    for mode in ("normal", "strict"):
        share = verdicts(logits, meta["temperature"], rejection, mode).accepted.mean()
        assert share == pytest.approx(accepted[mode], abs=1e-4)
    assert accepted["strict"] <= accepted["normal"] and accepted["normal"] == pytest.approx(ACCEPT["normal"], abs=0.01)


@pytest.mark.slow
def test_calibrate_leaves_shipped_models_alone_and_needs_force_for_yours(tmp_path):
    from digitrec.store import SHIPPED_DIR, read_metadata

    before = {p.name: p.read_bytes() for p in SHIPPED_DIR.glob("*.json")}
    for args in ((), ("--model", "seed")):
        result = run("calibrate", *args)
        assert result.exit_code == 2 and "read-only" in result.output and "Traceback" not in result.output
    assert {p.name: p.read_bytes() for p in SHIPPED_DIR.glob("*.json")} == before
    copy = run("calibrate", "--model", "seed", "--out", tmp_path / "mine")
    assert copy.exit_code == 0, copy.output
    assert read_metadata(tmp_path / "mine")["name"] == "mine"
    assert run("predict", "--model", tmp_path / "mine", SEVEN).stdout.split("\t")[1] == "7"
    text = (tmp_path / "mine.json").read_text()
    again = run("calibrate", "--model", tmp_path / "mine")
    assert again.exit_code == 2 and "--force" in again.output and (tmp_path / "mine.json").read_text() == text
    assert run("calibrate", "--model", tmp_path / "mine", "--force").exit_code == 0
    assert run("calibrate", "--model", "seed", "--out", tmp_path / "mine").exit_code == 2  # exists


def test_calibrate_out_says_which_files_it_wrote(tmp_path):
    """`calibrate --out` names what it wrote (issue 18 item 12), besides the JSON it prints."""
    from click.testing import CliRunner

    from digitrec.cli import cli

    out = tmp_path / "seed-calibrated"
    r = CliRunner().invoke(cli, ["calibrate", "--model", "seed", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert f"wrote {out}.json" in r.output and (tmp_path / "seed-calibrated.json").is_file()
