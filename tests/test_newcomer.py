"""Issue 18, the second newcomer pass: nothing hangs, nothing is lost, nothing untrue.

Each test names the item it guards; each failed on the code before the fix.
"""

from __future__ import annotations

import json
import operator
import re
import shutil

import numpy as np
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


# ---------------------------------------------------------------- 6: predict_paths walks folders, takes one path


def test_predict_paths_walks_folders_and_takes_one_path(seed_recognizer, folder):
    from pathlib import Path

    walked = list(seed_recognizer.predict_paths([folder]))
    assert [Path(p.path).name for p in walked] == ["mnist-7.png", "multi-2026.png"]
    assert all(p.error is None for p in walked)
    one = list(seed_recognizer.predict_paths(str(IMAGES / "mnist-7.png")))
    assert len(one) == 1 and one[0].digit == 7
    assert [p.digit for p in seed_recognizer.predict_paths(IMAGES / "mnist-7.png")] == [7]  # a Path too


# ---------------------------------------------------------------- 9: the Python API's errors and answers


@pytest.mark.parametrize("bad", [None, 5, [[0, 1], [1, 0]], 2.5, {"image": 1}], ids=repr)
def test_predict_of_something_that_is_no_image_raises_bad_image(seed_recognizer, bad):
    from digitrec import BadImage

    with pytest.raises(BadImage, match="is not an image"):
        seed_recognizer.predict(bad)


def test_predict_reads_a_memoryview_of_png_bytes(seed_recognizer):
    assert seed_recognizer.predict(memoryview((IMAGES / "mnist-7.png").read_bytes())).digit == 7


@pytest.mark.parametrize("value", [np.nan, np.inf, -1.0])
def test_nan_infinite_or_negative_arrays_are_bad_input_not_blank(seed_recognizer, value):
    from digitrec import BadImage

    a = np.zeros((28, 28), np.float32)
    a[10:18, 12:16] = value
    with pytest.raises(BadImage, match="NaN or infinite|negative"):
        seed_recognizer.predict(a)


def test_the_documented_preprocess_paths_both_work():
    import digitrec
    from digitrec.preprocess import prepare

    image = digitrec.preprocess(IMAGES / "mnist-7.png")
    assert image.shape == (28, 28) and image.dtype == np.float32
    prepared = digitrec.preprocess.prepare(IMAGES / "mnist-7.png")
    assert prepared.box is not None and np.array_equal(prepared.image, image)
    assert prepare is digitrec.preprocess.prepare and "preprocess" in digitrec.__all__


def test_confidence_is_none_whenever_the_digit_is(seed_recognizer, tmp_path):
    blank = seed_recognizer.predict(np.zeros((28, 28), np.float32))
    assert blank.digit is None and blank.confidence is None and blank.as_dict()["confidence"] is None
    refused = seed_recognizer.predict(IMAGES / "multi-2026.png")  # several characters: refused
    assert refused.digit is None and refused.confidence is None and refused.best_digit is not None
    assert refused.as_dict()["confidence"] is None
    bad = tmp_path / "x.png"
    bad.write_text("no picture")
    (err,) = seed_recognizer.predict_paths([bad])
    assert err.error and err.confidence is None and err.as_dict()["confidence"] is None


def test_predict_arrays_takes_both_mnist_shapes_and_either_polarity(seed_recognizer):
    from digitrec import BadImage
    from digitrec.data import load_split

    test = load_split("test")
    x, y = test.images[:64], test.labels[:64]
    flat = seed_recognizer.predict_arrays(x)
    assert (flat.argmax(1) == y).mean() > 0.95
    assert np.allclose(seed_recognizer.predict_arrays(x[:, None]), flat, atol=1e-6)
    dark_on_light = 255 - x
    assert np.allclose(seed_recognizer.predict_arrays(dark_on_light), flat, atol=1e-5)
    with pytest.raises(BadImage, match=r"images of shape \(64, 2, 28, 28\): expected \(N, 28, 28\)"):
        seed_recognizer.predict_arrays(np.zeros((64, 2, 28, 28), np.uint8))


# ---------------------------------------------------------------- 11: docs run as written


def test_python_api_example_runs_as_written(monkeypatch):
    from conftest import ROOT

    text = (ROOT / "docs" / "python-api.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    scope: dict = {}
    exec(compile(code, "python-api.md", "exec"), scope)  # noqa: S102 - the doc's own example
    assert scope["acts"]["conv1"].shape[0] == 8 and scope["probs"].shape == (10_000, 10)


# ---------------------------------------------------------------- 5: export refuses the line model in one line


def test_export_of_the_line_model_is_refused_in_one_line(tmp_path):
    pytest.importorskip("torch")
    result = run("export", "--model", "line", "--out", tmp_path / "line.onnx")
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and "line model; export writes single-digit models" in result.output
    assert "line.onnx" in result.output and not (tmp_path / "line.onnx").exists()


# ---------------------------------------------------------------- 4: every format keeps every field


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_read_rows_round_trip_every_field_in_every_format(tmp_path, fmt):
    from digitrec.bulk import read_rows
    from digitrec.writers import FIELDS, open_output, read_output

    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("L", (40, 40), 255).save(blank)
    dated = IMAGES / "multi-2026.png"
    rows = list(read_rows("line", [str(dated), str(blank), str(tmp_path / "missing.png")], workers=1))
    assert rows[0]["line_confidence"] and rows[0]["boxes"][0]["char"] == "2"
    out = tmp_path / f"out.{fmt}"
    writer, _ = open_output(out, kind="read")
    with writer:
        writer.write_all(rows)

    def full(row):
        return {f: row.get(f) for f in FIELDS["read"]}

    back = [full(r) for r in read_output(out)]
    assert back == [full(r) for r in rows]
    assert set(back[0]) >= {"line_confidence", "line_reasons"} and "char" in back[0]["boxes"][0]


# ---------------------------------------------------------------- 11: help and errors point where the text is


def test_help_and_errors_name_sections_that_exist(tmp_path):
    from conftest import ROOT

    texts = [run("predict", "--help").output, run("read", "--help").output]
    texts.append(run("predict", IMAGES / "mnist-7.png", "-o", tmp_path / "o.jsonl", "--top-k", "2").output)
    refused = run("predict", IMAGES / "mnist-7.png", "-o", tmp_path / "o.jsonl", "--show-preprocessed", tmp_path)
    assert refused.exit_code == 2 and "fixed fields" not in refused.output and "no pictures" in refused.output
    assert "README 'Bulk" not in " ".join(texts) and 'README "JSON' not in " ".join(texts)
    named = re.findall(r"(docs/\w+\.md) ['\"]([^'\"]+)['\"]", " ".join(" ".join(texts).split()))
    assert {("docs/cli.md", "JSON output"), ("docs/scaling.md", "Bulk reading")} <= set(named)
    for doc, section in named:
        assert section in (ROOT / doc).read_text(), (doc, section)
    web = (ROOT / "docs" / "web-api.md").read_text()
    assert all(" -s " in line for line in web.splitlines() if line.startswith("curl") and "| head" in line)


# ---------------------------------------------------------------- 13: the notebook names what exists


def test_notebook_names_documented_functions_and_says_how_read_reads():
    from conftest import ROOT

    text = (ROOT / "notebooks" / "digit_recognition.ipynb").read_text()
    assert "train.load_torch" not in text and "training.load_torch" not in text
    assert "digit by digit" not in text
    assert "name=None)" in (ROOT / "docs" / "python-api.md").read_text()  # predict(..., name=) is documented
