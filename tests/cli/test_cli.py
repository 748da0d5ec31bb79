"""The `digitrec` command, through click's runner and as real subprocesses."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import IMAGES, ROOT
from PIL import Image

from digitrec.cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_help_explains_every_command():
    out = run("--help").output
    for command in ("train", "evaluate", "predict", "models"):
        assert command in out
    assert "--top-k" in run("predict", "--help").output


def test_predict_json_lines_have_the_documented_keys():
    result = run(
        "predict", "--json", "--model", "seed", ROOT / "images" / "mnist-7.png", ROOT / "images" / "mnist-2.png"
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["digit"] for r in rows] == [7, 2]
    for r in rows:
        assert isinstance(r["confidence"], float) and len(r["probabilities"]) == 10
    assert rows[0]["path"] == str(ROOT / "images" / "mnist-7.png")


@pytest.mark.parametrize("cells", [False, True])
def test_read_json_gives_a_bad_file_its_error_row_and_reads_the_rest(tmp_path, cells):
    # `read --cells --json` told a bad file on stderr only: a pipe reading the JSON lost that file without a trace.
    (tmp_path / "text.png").write_text("hello")
    result = run("read", "--json", *(["--cells"] if cells else []), tmp_path / "text.png", IMAGES / "multi-2026.png")
    assert result.exit_code == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "text.png: not an image" in errors[0], result.stderr
    bad, good = [json.loads(line) for line in result.stdout.splitlines()]
    assert bad["path"] == str(tmp_path / "text.png") and "not an image" in bad["error"]
    assert good["path"] == str(IMAGES / "multi-2026.png") and "error" not in good
    assert (good["text"] if cells else good["digits"]) == "2026"


def test_predict_top_k_lists_k_digits():
    result = run("predict", "--top-k", "3", "--model", "seed", ROOT / "images" / "mnist-7.png")
    assert result.exit_code == 0 and result.output.count(":") == 3


def test_predict_bad_files_get_one_line_errors_and_the_rest_still_runs(tmp_path):
    (tmp_path / "text.png").write_text("hello")
    png = tmp_path / "trunc.png"
    Image.new("L", (64, 64), 255).save(png)
    png.write_bytes(png.read_bytes()[:60])
    good = ROOT / "images" / "mnist-0.png"
    result = run("predict", "--model", "seed", tmp_path / "missing.png", tmp_path / "text.png", png, good)
    assert result.exit_code == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 3, result.stderr
    assert "missing.png: no such file" in errors[0]
    assert "text.png: not an image" in errors[1]
    assert "trunc.png: truncated" in errors[2]
    assert result.stdout.strip().endswith("0\t" + result.stdout.strip().split("\t")[-1])


def test_predict_refuses_decompression_bombs(tmp_path):
    bomb = tmp_path / "bomb.png"
    Image.new("1", (12_000, 12_000)).save(bomb)  # 144 MP, a few KB on disk
    result = run("predict", "--model", "seed", bomb)
    assert result.exit_code == 1 and "image too large" in result.stderr


def test_predict_with_no_argument_reads_images_folder(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = run("predict", "--model", "seed")
    assert result.exit_code == 0
    assert "images/mnist-7.png\t7" in result.output


def test_bare_file_name_is_looked_up_in_images(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = run("predict", "--model", "seed", "--json", "mnist-9.png")
    assert json.loads(result.output)["digit"] == 9


def test_unknown_model_is_one_line_error():
    result = run("predict", "--model", "nope", ROOT / "images" / "mnist-7.png")
    assert result.exit_code == 2 and "nope: no such model" in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_train_dry_run_saves_a_loadable_model_and_respects_force(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "tiny"
    result = run("train", "--dry-run", "--limit", "400", "--quiet", "--out", out)
    assert result.exit_code == 0, result.output
    assert "Test accuracy:" in result.output and (tmp_path / "tiny.onnx").exists()
    again = run("train", "--dry-run", "--limit", "400", "--quiet", "--out", out)
    assert again.exit_code == 2 and "--force" in again.output
    assert run("predict", "--model", out, ROOT / "images" / "mnist-7.png").exit_code == 0


@pytest.mark.slow
def test_train_prints_the_keras_style_summary(tmp_path):
    pytest.importorskip("torch")
    result = run("train", "--dry-run", "--limit", "200", "--out", tmp_path / "t")
    assert "Total params: 113,898" in result.stderr and "Dry run (one batch)" in result.output


def test_python_m_digitrec_and_console_script_work():
    out = subprocess.run([sys.executable, "-m", "digitrec", "--version"], capture_output=True, text=True, check=True)
    assert "digitrec" in out.stdout
    script = Path(sys.executable).parent / "digitrec"
    out = subprocess.run([script, "predict", "--json", "--model", "seed", "images/mnist-2.png"], capture_output=True,
                         text=True, cwd=ROOT, check=True)  # fmt: skip
    assert json.loads(out.stdout)["digit"] == 2


def test_models_lists_the_shipped_models():
    result = run("models", "--json")
    names = [m["name"] for m in json.loads(result.output)]
    assert "seed" in names


def test_models_lists_the_line_model():
    rows = json.loads(run("models", "--json").output)
    assert {"name": "line", "kind": "line"}.items() <= next(r for r in rows if r["name"] == "line").items()
    assert "line" in run("models").output


def test_read_model_chooses_the_line_model(tmp_path):
    from digitrec.store import SHIPPED_DIR

    assert json.loads(run("read", "--json", "--model", "line", IMAGES / "multi-2026.png").output)["digits"] == "2026"
    copy = tmp_path / "myline"
    for suffix in (".json", ".onnx", ".safetensors"):
        shutil.copy(SHIPPED_DIR / f"line{suffix}", f"{copy}{suffix}")
    assert json.loads(run("read", "--json", "--model", copy, IMAGES / "multi-2026.png").output)["digits"] == "2026"
    refused = run("read", "--model", "strong", IMAGES / "multi-2026.png")
    assert refused.exit_code == 2 and "strong: a digit model" in refused.output
    # --cells reads with the same line model (it was taken for a digit model and refused)
    cells = run("read", "--cells", "--json", "--model", "line", IMAGES / "multi-2026.png")
    assert cells.exit_code == 0 and json.loads(cells.output)["text"] == "2026"
    refused = run("read", "--cells", "--model", "strong", IMAGES / "multi-2026.png")
    assert refused.exit_code == 2 and "strong: a digit model" in refused.output


def test_export_of_the_line_model_is_refused_in_one_line(tmp_path):
    pytest.importorskip("torch")
    result = run("export", "--model", "line", "--out", tmp_path / "line.onnx")
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and "line model; export writes single-digit models" in result.output
    assert "line.onnx" in result.output and not (tmp_path / "line.onnx").exists()


def test_help_and_errors_name_sections_that_exist(tmp_path):
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
