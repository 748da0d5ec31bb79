"""Issue 15: what the CLI says must be true (data safety, flags, exit codes, JSON, messages). Real models, real files."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, draw_seven
from PIL import Image, ImageDraw

from digitrec.cli import cli

SEVEN = ROOT / "images" / "mnist-7.png"
MULTI = ROOT / "images" / "multi-2026.png"


def ctrl_c_able(cmd: list[str], **kw) -> subprocess.Popen:
    """Start `cmd` in its own process group with Python's Ctrl+C handling, as a terminal would."""
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **kw,
    )  # fmt: skip


def ctrl_c(proc: subprocess.Popen) -> None:
    """What Ctrl+C does: SIGINT to every process of the foreground group (workers included)."""
    os.killpg(proc.pid, signal.SIGINT)


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def smiley() -> Image.Image:
    """A face: the strong model refuses it as not a digit."""
    img = Image.new("L", (200, 200), 255)
    d = ImageDraw.Draw(img)
    d.ellipse((20, 20, 180, 180), outline=0, width=8)
    d.ellipse((60, 70, 80, 90), fill=0)
    d.ellipse((120, 70, 140, 90), fill=0)
    d.arc((60, 90, 140, 150), 20, 160, fill=0, width=8)
    return img


# ---------------------------------------------------------------- 1. boxes of large JPEGs


def big_jpeg(path: Path) -> Path:
    img = Image.new("L", (8000, 6000), 255)
    ImageDraw.Draw(img).line([(3500, 2000), (4500, 2000), (3850, 4200)], fill=0, width=80)
    img.save(path, "JPEG", quality=90)
    return path


def test_boxes_of_a_large_jpeg_are_in_the_files_pixels(tmp_path):
    from digitrec.image.preprocess import prepare

    path = big_jpeg(tmp_path / "big.jpg")
    left, top, right, bottom = prepare(path).box
    assert abs(left - 3460) < 60 and abs(top - 1960) < 60 and abs(right - 4540) < 60 and abs(bottom - 4240) < 60
    result = run("read", "--json", "--model", "line", path)
    assert result.exit_code == 0, result.output
    box = json.loads(result.stdout)["boxes"][0]["box"]
    assert abs(box[0] - 3460) < 60 and abs(box[2] - 4540) < 60 and abs(box[3] - 4240) < 60, box


# ---------------------------------------------------------------- 3, 4, 9, 14. training


@pytest.mark.slow
def test_dry_run_saves_nothing_unless_asked_and_says_so(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    result = run("train", "--dry-run", "--limit", "300")
    assert result.exit_code == 0, result.output
    assert "nothing saved" in result.output and not (tmp_path / "models").exists()
    assert "Epoch 1/5" not in result.output + result.stderr and "Dry run (one batch)" in result.output
    assert "/300" not in result.stderr  # the bar is of the one batch, not of a whole epoch


@pytest.mark.slow
def test_min_accuracy_failure_saves_nothing(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "weak"
    result = run("train", "--dry-run", "--limit", "300", "--quiet", "--min-accuracy", "0.999", "--out", out)
    assert result.exit_code == 1 and "below --min-accuracy" in result.output and "not saved" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_training_messages_tell_what_was_used(tmp_path):
    pytest.importorskip("torch")
    result = run("train", "--dry-run", "--limit", "500", "--out", tmp_path / "m")
    assert result.exit_code == 0, result.output
    assert "train: (500, 28, 28) uint8 (first 500 of 60,000)" in result.stderr
    assert "MNIST train[55000:60000] (not used in training)" in result.output
    assert "seen in training" not in result.output


def test_holdout_too_large_is_a_configuration_error(tmp_path):
    pytest.importorskip("torch")
    result = run("train", "--holdout", "60000", "--quiet", "--out", tmp_path / "m")
    assert result.exit_code == 2 and "no training images left" in result.output


@pytest.mark.slow
def test_ctrl_c_during_training_names_the_checkpoint_and_the_resume_command(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "m"
    cmd = [sys.executable, "-m", "digitrec", "train", "--limit", "400", "--epochs", "200", "--quiet", "--out", str(out)]
    proc = ctrl_c_able(cmd, cwd=tmp_path)
    state = tmp_path / "m.ckpt.json"
    deadline = time.monotonic() + 300
    while not state.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    ctrl_c(proc)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "Aborted" not in stderr
    assert f"checkpoint {state}" in stderr and "--resume" in stderr and "continue with: digitrec train" in stderr


# ---------------------------------------------------------------- 5. nothing overwritten without --force


def test_show_preprocessed_keeps_same_named_inputs_apart_and_asks_before_overwriting(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        shutil.copy(SEVEN, tmp_path / sub / "x.png")
    crops = tmp_path / "crops"
    result = run("predict", "--model", "seed", "--show-preprocessed", crops, tmp_path / "a", tmp_path / "b")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in crops.iterdir()) == ["x.28x28.png", "x~2.28x28.png"]
    again = run("predict", "--model", "seed", "--show-preprocessed", crops, tmp_path / "a")
    assert again.exit_code == 2 and "--force" in again.output
    assert run("predict", "--model", "seed", "--show-preprocessed", crops, "--force", tmp_path / "a").exit_code == 0


# ---------------------------------------------------------------- 7, 8. flags and exit codes


@pytest.mark.parametrize(
    "args",
    [
        ("--resume",),
        ("--force",),
        ("--format", "csv"),
        ("-o", "OUT/r.jsonl", "--top-k", "3"),
        ("-o", "OUT/r.jsonl", "--show-preprocessed", "OUT/crops"),
        ("-o", "OUT/r.jsonl", "--json"),
        ("-o", "OUT/r.jsonl", "--resume", "--force"),
    ],
)
def test_flags_that_would_be_ignored_are_usage_errors(tmp_path, args):
    args = [a.replace("OUT", str(tmp_path)) for a in args]
    result = run("predict", "--model", "seed", *args, SEVEN)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and not (tmp_path / "r.jsonl").exists()


def test_read_refuses_ignored_flags_too(tmp_path):
    assert run("read", "--resume", MULTI).exit_code == 2
    assert run("read", "-o", tmp_path / "r.jsonl", "--json", MULTI).exit_code == 2


def test_configuration_errors_exit_2(tmp_path):
    assert run("predict", "--model", "nope", SEVEN).exit_code == 2
    unknown = run("predict", "--model", "seed", "-o", tmp_path / "r.txt", SEVEN)
    assert unknown.exit_code == 2 and "unknown output suffix" in unknown.output
    (tmp_path / "r.jsonl").write_text("")
    exists = run("predict", "--model", "seed", "-o", tmp_path / "r.jsonl", SEVEN)
    assert exists.exit_code == 2 and "output exists" in exists.output


def test_exit_codes_are_documented():
    out = run("--help").output
    for code in ("0 ", "1 ", "2 ", "130"):
        assert f"  {code}" in out
    readme = (ROOT / "README.md").read_text()
    assert "130" in readme and "Exit status" in readme


def test_serve_on_a_busy_port_says_so_before_claiming_to_serve():
    pytest.importorskip("fastapi")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("serve", "--model", "seed", "--port", port)
    assert result.exit_code == 2, result.output
    assert "serving" not in result.output and f"127.0.0.1:{port}" in result.output


def test_ctrl_c_during_bulk_predict_is_one_line_with_the_resume_command(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs a FIFO")
    folder = tmp_path / "in"
    folder.mkdir()
    data = SEVEN.read_bytes()
    for i in range(300):
        (folder / f"a{i:03d}.png").write_bytes(data)
    os.mkfifo(folder / "z.png")  # a worker blocks opening it: the run stops here until interrupted
    out = tmp_path / "r.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "digitrec",
        "predict",
        str(folder),
        "--model",
        "seed",
        "-o",
        str(out),
        "--workers",
        "2",
    ]
    proc = ctrl_c_able(cmd)
    deadline = time.monotonic() + 120
    while (not out.exists() or out.read_text().count("\n") < 256) and time.monotonic() < deadline:
        time.sleep(0.2)
    ctrl_c(proc)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted: 256 rows written"), stderr
    assert lines[0].endswith("--resume") and f"-o {out}" in lines[0]


# ---------------------------------------------------------------- 10. missing inputs and stdin


def test_empty_folder_says_no_images_found(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run("predict", "--model", "seed", tmp_path / "empty")
    assert result.exit_code == 1 and f"no images found in {tmp_path / 'empty'}" in result.stderr
    both = run("predict", "--model", "seed", tmp_path / "empty", SEVEN)
    assert both.exit_code == 1 and "\t7\t" in both.stdout
    assert run("read", "--model", "line", tmp_path / "empty").exit_code == 1


def test_predict_outside_the_repository_explains_the_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("predict", "--model", "seed")
    assert result.exit_code == 2
    assert "./images" in result.output and "digitrec predict photo.jpg" in result.output


def test_dash_reads_an_image_from_stdin():
    result = run("predict", "--model", "seed", "--json", "-", input=SEVEN.read_bytes())
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)
    assert row["path"] == "-" and row["digit"] == 7
    read = run("read", "--model", "line", "-", input=MULTI.read_bytes())
    assert read.exit_code == 0 and read.stdout.strip() == "-\t2026"
    bad = run("predict", "--model", "seed", "-", input=b"not an image")
    assert bad.exit_code == 1 and "-: not an image" in bad.stderr


# ---------------------------------------------------------------- 11. JSON semantics


def test_json_nulls_for_errors_and_blanks(tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("L", (64, 64), 255).save(blank)
    result = run("predict", "--json", "--model", "seed", tmp_path / "missing.png", blank)
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[0]["error"] and rows[0]["confidence"] is None and rows[0]["probabilities"] is None
    assert rows[1]["reason"].startswith("blank") and rows[1]["confidence"] is None and rows[1]["probabilities"] is None


def test_refused_image_names_its_best_guess_apart(tmp_path):
    path = tmp_path / "face.png"
    smiley().save(path)
    result = run("predict", "--json", "--top-k", "3", "--model", "strong", path)
    row = json.loads(result.stdout)
    assert row["digit"] is None and row["confidence"] is None and row["reason"]
    assert row["best_digit"] in range(10) and 0 < row["best_probability"] <= 1
    assert row["probabilities"][row["best_digit"]] == row["best_probability"]
    assert [t["digit"] for t in row["top"]][0] == row["best_digit"] and len(row["top"]) == 3
    accepted = json.loads(run("predict", "--json", "--model", "seed", SEVEN).stdout)
    assert "best_digit" not in accepted and accepted["confidence"] > 0.9


# ---------------------------------------------------------------- 13. read marks weak digits, writes its crops


def test_read_marks_weak_digits_and_writes_its_crops(tmp_path):
    from digitrec.cli.reading import _marked_text
    from digitrec.read.strings import DigitBox, Reading

    plain = run("read", "--model", "line", MULTI)
    assert plain.stdout.strip().endswith("\t2026")
    marked = run("read", "--model", "line", "--mark-below", "1", "--show-preprocessed", tmp_path / "c", MULTI)
    assert marked.exit_code == 0 and marked.stdout.strip().endswith("\t[2][0][2][6]")
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [f"multi-2026.{k}.28x28.png" for k in range(4)]
    img = draw_seven()
    boxes = [DigitBox((0, 0, 1, 1), d, c, img, 0) for d, c in ((1, 0.99), (2, 0.99), (1, 0.55), (None, 0.4), (0, 0.98))]
    assert _marked_text(Reading("x", "1210", boxes, ["1210"]), 0.9) == "12[1]?0"


# ---------------------------------------------------------------- 16. digitrec.py away from src/


def test_script_without_src_says_what_to_install(tmp_path):
    shutil.copy(ROOT / "digitrec.py", tmp_path / "digitrec.py")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # -S: no site-packages, so the package is truly not installed
    out = subprocess.run(
        [sys.executable, "-S", "digitrec.py"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 2 and "RecursionError" not in out.stderr
    assert out.stderr.count("\n") == 1 and "pip install digitrec" in out.stderr
    imp = subprocess.run(
        [sys.executable, "-S", "-c", "import digitrec"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert "RecursionError" not in imp.stderr and "pip install digitrec" in imp.stderr


def test_in_memory_jpeg_helper_is_consistent():
    # the large-JPEG fixture really decodes at reduced size (so the box test above is meaningful)
    from digitrec.io.decode import DECODE_SCALE, open_image

    buf = io.BytesIO()
    Image.new("L", (4000, 3000), 255).save(buf, "JPEG")
    assert open_image(buf.getvalue()).info[DECODE_SCALE] == 2.0
