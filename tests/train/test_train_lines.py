"""`digitrec train --lines`: the line model's training from the one CLI, and its old alias. Real MNIST, real torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import ROOT

from digitrec.cli import cli

TINY = ["--steps", "2", "--batch-size", "4", "--width", "4", "--validate", "2", "--workers", "0", "--device", "cpu"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_train_lines_saves_a_line_model_once_that_reads(tmp_path):
    pytest.importorskip("torch")
    from digitrec.read.lines import LineReader

    result = run("train", "--lines", *TINY, "--quiet", "--out", tmp_path / "tiny")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"saved {tmp_path / 'tiny'}: ")
    meta = json.loads((tmp_path / "tiny.json").read_text())
    assert meta["kind"] == "line" and meta["training"]["steps"] == 2 and meta["training"]["width"] == 4
    assert meta["training"]["batch_size"] == 4 and meta["training"]["lr"] == 0.002  # the line recipe's own default
    assert meta["training"]["styles"] == 0.0 and meta["training"]["clear_marks"] is False
    command = meta["training"]["command"].split()
    assert command[:2] == ["digitrec", "train"] and "--lines" in command
    assert command[command.index("--steps") + 1] == "2" and command[command.index("--out") + 1] == str(
        tmp_path / "tiny"
    )
    assert meta["metrics"]["onnx_max_probability_difference"] < 1e-4
    assert set(meta["files"]) == {"onnx", "safetensors"}
    assert LineReader.load(tmp_path / "tiny").meta["name"] == "tiny"


def test_line_options_without_lines_and_digit_options_with_it_are_refused(tmp_path):
    result = run("train", "--steps", "5", "--out", tmp_path / "m")
    assert result.exit_code == 2 and "--steps applies to --lines only" in result.output
    result = run("train", "--lines", "--epochs", "3", "--out", tmp_path / "m")
    assert result.exit_code == 2 and "--epochs trains digit networks, not --lines" in result.output
    assert not list(tmp_path.iterdir())


def test_an_existing_line_model_is_refused_before_training(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "old.json").write_text("{}")
    result = run("train", "--lines", *TINY, "--out", tmp_path / "old")
    assert result.exit_code != 0 and "old.json already exists; pass --force" in result.output
    assert "Lines" not in result.output  # no training began


def test_train_lines_help_names_the_line_options_and_the_recipe():
    out = run("train", "--help").output
    for option in ("--lines", "--steps", "--capture", "--hard", "--warp", "--workers", "--validate"):
        assert option in out
    assert "digitrec train --lines --out src/digitrec/weights/line" in out


def test_the_module_alias_still_answers():
    result = subprocess.run(
        [sys.executable, "-m", "digitrec.train.lines", "--help"], capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    assert result.returncode == 0 and "--out" in result.stdout and "--steps" in result.stdout


def test_styles_and_clear_marks_reach_the_lines_and_the_recipe(tmp_path, test_split):
    pytest.importorskip("torch")
    from digitrec.train.lines import with_styles

    images, labels = test_split.images[:1000], test_split.labels[:1000]
    assert with_styles(images, labels, 0.0)[0] is images  # the old recipes draw from the digits as they are
    mixed, mixed_labels = with_styles(images, labels, 0.2)
    assert mixed.shape == images.shape and mixed.dtype == np.uint8
    redrawn = ~np.array([any(np.array_equal(m, im) for im in images[labels == y]) for m, y in zip(mixed, mixed_labels)])
    assert 0.15 <= redrawn.mean() <= 0.25  # a fifth of the pool redrawn as other writers and scans give them
    result = run("train", "--lines", *TINY, "--styles", "0.01", "--clear-marks", "--quiet", "--out", tmp_path / "s")
    assert result.exit_code == 0, result.output
    training = json.loads((tmp_path / "s.json").read_text())["training"]
    assert training["styles"] == 0.01 and training["clear_marks"] is True
    assert "--styles 0.01" in training["command"] and "--clear-marks" in training["command"]
