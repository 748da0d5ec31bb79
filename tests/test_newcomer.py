"""Issue 18, the second newcomer pass: nothing hangs, nothing is lost, nothing untrue.

Each test names the item it guards; each failed on the code before the fix.
"""

from __future__ import annotations

import json
import operator
import shutil

import pytest
from click.testing import CliRunner
from conftest import IMAGES

from digitrec.cli import cli

MULTI = IMAGES / "multi-2026.png"


def run(*args, **kw):
    return CliRunner().invoke(cli, [str(a) for a in args], **kw)


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    for name in ("mnist-7.png", "multi-2026.png"):
        shutil.copy(IMAGES / name, d / name)
    return d


@pytest.fixture
def damaged_line(tmp_path):
    """The shipped line model copied, its ONNX file damaged (its digest no longer matches)."""
    from digitrec.store import SHIPPED_DIR

    for suffix in (".json", ".onnx", ".safetensors"):
        shutil.copy(SHIPPED_DIR / f"line{suffix}", tmp_path / f"broken{suffix}")
    onnx = tmp_path / "broken.onnx"
    onnx.write_bytes(onnx.read_bytes()[:1000])
    return tmp_path / "broken"


# ---------------------------------------------------------------- 2, 3: bulk runs fail fast and leave nothing


@pytest.mark.parametrize("model", ["nonexistent", "seed", "damaged"])
@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_read_to_a_file_with_an_unusable_model_fails_fast_and_leaves_no_file(
    folder, tmp_path, damaged_line, model, suffix
):
    out = tmp_path / f"out{suffix}"
    name = damaged_line if model == "damaged" else model
    result = run("read", folder, "-o", out, "--model", name)
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert not out.exists()
    plain = run("read", folder, "--model", name)  # the same one-line error and status as without -o
    assert plain.exit_code == 2 and plain.output.splitlines()[-1] == result.output.splitlines()[-1]


def test_predict_to_a_file_with_a_missing_model_leaves_no_empty_file(folder, tmp_path):
    out = tmp_path / "out.jsonl"
    result = run("predict", folder, "-o", out, "--model", "nonexistent")
    assert result.exit_code == 2 and not out.exists()
    again = run("predict", folder, "-o", out)  # no --resume or --force asked for
    assert again.exit_code == 0, again.output
    assert len(out.read_text().splitlines()) == 2


def test_read_rows_with_a_digit_model_raises_at_once():
    from digitrec import ModelError
    from digitrec.bulk import read_rows

    with pytest.raises(ModelError, match="seed: a digit model; reading lines needs a line model"):
        read_rows("seed", [str(IMAGES)], workers=2)


def test_a_failing_pool_initializer_raises_instead_of_hanging():
    from digitrec.pool import ordered_map

    rows = ordered_map(abs, range(10), workers=2, initializer=operator.truediv, initargs=(1, 0))
    with pytest.raises(ZeroDivisionError):
        list(rows)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_an_interrupted_run_before_the_first_row_leaves_no_file_and_a_complete_empty_run_does(tmp_path, fmt):
    from digitrec.writers import open_output, read_output

    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    out = tmp_path / f"out.{fmt}"
    writer, _ = open_output(out, kind="read")
    with pytest.raises(KeyboardInterrupt), writer:
        raise KeyboardInterrupt
    assert not out.exists()
    writer, _ = open_output(out, kind="read")  # no --force needed
    with writer:
        writer.write_all([])
    assert out.exists() and list(read_output(out)) == []


# ---------------------------------------------------------------- 7: read --model chooses the line model


def test_models_lists_the_line_model():
    rows = json.loads(run("models", "--json").output)
    assert {"name": "line", "kind": "line"}.items() <= next(r for r in rows if r["name"] == "line").items()
    assert "line" in run("models").output


def test_read_model_chooses_the_line_model(tmp_path):
    from digitrec.store import SHIPPED_DIR

    assert json.loads(run("read", "--json", "--model", "line", MULTI).output)["digits"] == "2026"
    copy = tmp_path / "myline"
    for suffix in (".json", ".onnx", ".safetensors"):
        shutil.copy(SHIPPED_DIR / f"line{suffix}", f"{copy}{suffix}")
    assert json.loads(run("read", "--json", "--model", copy, MULTI).output)["digits"] == "2026"
    refused = run("read", "--model", "strong", MULTI)
    assert refused.exit_code == 2 and "strong: a digit model" in refused.output
