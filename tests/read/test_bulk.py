"""Bulk reading (`--output`, `--resume`, `--engine ray`) on real PNG folders, checked against Recognizer.predict_paths."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import IMAGES, ROOT
from PIL import Image

from digitrec.cli import cli
from digitrec.io.decode import iter_image_paths
from digitrec.io.writers import output_files, read_output


def write_folder(root: Path, images, n: int) -> Path:
    """n MNIST test digits as PNGs in two subfolders, plus a text file and a truncated PNG."""
    for i in range(n):
        sub = root / f"batch{i % 2}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(images[i]).save(sub / f"{i:05d}.png")
    (root / "batch0" / "text.png").write_text("not an image")
    good = (root / "batch1" / "00001.png").read_bytes()
    (root / "batch1" / "truncated.png").write_bytes(good[: len(good) // 2])
    return root


@pytest.fixture(scope="module")
def folder(tmp_path_factory, test_split):
    return write_folder(tmp_path_factory.mktemp("scans") / "scans", test_split.images, 300)


@pytest.fixture(scope="module")
def reference(folder, seed_recognizer):
    """path -> Prediction.as_dict() from the single-process path."""
    preds = seed_recognizer.predict_paths(iter_image_paths([str(folder)]), workers=1)
    return {p.path: p.as_dict() for p in preds}


def run(*args):
    # NOTE: one process: once pyarrow or ray is imported into pytest, forking a decoding pool can deadlock.
    return CliRunner().invoke(cli, ["predict", "--model", "seed", "--no-progress", "--workers", "1", *map(str, args)])


def by_path(rows) -> dict:
    rows = list(rows)
    paths = [r["path"] for r in rows]
    assert len(paths) == len(set(paths)), "a path is in the output more than once"
    return {r["path"]: r for r in rows}


def assert_same(rows: dict, reference: dict) -> None:
    assert rows.keys() == reference.keys()
    for path, ref in reference.items():
        row = rows[path]
        assert row["digit"] == ref["digit"], path
        assert row["confidence"] == pytest.approx(ref["confidence"], abs=1e-6), path
        assert row["probabilities"] == pytest.approx(ref["probabilities"], abs=1e-6), path
        assert row.get("error") == ref.get("error"), path
        assert row.get("reason") == ref.get("reason"), path


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_output_file_gives_the_same_answers_as_predict_paths(folder, reference, tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow", reason="Parquet output needs the cluster extra (pyarrow)")
    out = tmp_path / f"results{suffix}"
    result = run(folder, "--output", out)
    assert result.exit_code == 1, result.output  # two unreadable files
    assert_same(by_path(read_output(out)), reference)
    assert f"{len(reference):,} rows (2 errors)" in result.stderr


def test_unreadable_files_are_rows_with_their_error(folder, tmp_path):
    out = tmp_path / "results.jsonl"
    result = run(folder, "-o", out)
    rows = by_path(read_output(out))
    errors = {Path(p).name: r["error"] for p, r in rows.items() if r.get("error")}
    assert set(errors) == {"text.png", "truncated.png"}
    assert "not an image" in errors["text.png"] and "truncated" in errors["truncated.png"]
    assert sum(line.startswith("error:") for line in result.stderr.splitlines()) == 2
    assert sum(not r.get("error") for r in rows.values()) == len(rows) - 2  # every other file has its row
    assert sum(r["digit"] is not None for r in rows.values()) >= 290  # a few may be "not a digit"


def test_resume_after_a_killed_run_reads_only_the_rest(folder, reference, tmp_path):
    out = tmp_path / "results.jsonl"
    run(folder, "-o", out)
    lines = out.read_text().splitlines(keepends=True)
    half = len(lines) // 2
    out.write_text("".join(lines[:half]) + lines[half][:25])  # killed mid-line
    result = run(folder, "-o", out, "--resume")
    assert f"{len(reference) - half:,} rows" in result.stderr and f"{half:,} already there" in result.stderr
    assert_same(by_path(read_output(out)), reference)
    assert all(json.loads(line) for line in out.read_text().splitlines())


def test_resume_of_parquet_writes_a_part_file(folder, reference, tmp_path):
    pytest.importorskip("pyarrow", reason="Parquet output needs the cluster extra (pyarrow)")
    out = tmp_path / "results.parquet"
    run(folder / "batch0", "-o", out)
    result = run(folder, "-o", out, "--resume")
    assert output_files(out) == [out, tmp_path / "results.part-0001.parquet"]
    assert f"{len(list((folder / 'batch1').iterdir())):,} rows" in result.stderr
    assert_same(by_path(read_output(out)), reference)


def test_existing_output_is_never_overwritten_without_resume_or_force(folder, reference, tmp_path):
    out = tmp_path / "results.csv"
    out.write_text("path\nprecious\n")
    result = run(folder / "batch0" / "00000.png", "-o", out)
    assert result.exit_code == 2 and "--resume" in result.output and "--force" in result.output
    assert out.read_text() == "path\nprecious\n"
    result = run(folder, "-o", out, "--force")
    assert_same(by_path(read_output(out)), reference)


def test_read_writes_every_digit_of_each_image_to_the_output(tmp_path):
    out = tmp_path / "read.jsonl"
    missing = tmp_path / "missing.png"
    result = CliRunner().invoke(
        cli,
        [
            "read",
            "--model",
            "line",
            str(ROOT / "images" / "multi-2026.png"),
            str(missing),
            "-o",
            str(out),
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 1, result.output
    rows = by_path(read_output(out))
    assert rows[str(ROOT / "images" / "multi-2026.png")]["digits"] == "2026"
    assert "no such file" in rows[str(missing)]["error"]


@pytest.mark.slow
def test_local_ray_run_gives_exactly_the_single_process_answers(tmp_path, test_split, seed_recognizer):
    ray = pytest.importorskip("ray", reason="--engine ray needs the cluster extra: pip install -e '.[cluster]'")
    folder = write_folder(tmp_path / "many", test_split.images, 2000)
    preds = seed_recognizer.predict_paths(iter_image_paths([str(folder)]), workers=1)
    reference = {p.path: p.as_dict() for p in preds}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        out = tmp_path / "ray.jsonl"
        result = CliRunner().invoke(
            cli,
            [
                "predict",
                "--model",
                "seed",
                "--no-progress",
                "--engine",
                "ray",
                "-o",
                str(out),
                str(folder),
                str(tmp_path / "vanished.png"),
            ],
        )
    finally:
        ray.shutdown()
    assert result.exit_code == 1, result.output
    rows = by_path(read_output(out))
    assert "no such file" in rows.pop(str(tmp_path / "vanished.png"))["error"]
    assert_same(rows, reference)


# ---------------------------------------------------------------- failing runs fail fast and leave nothing


@pytest.fixture
def damaged_line(tmp_path):
    """The shipped line model copied, its ONNX file damaged (its digest no longer matches)."""
    from digitrec.store import SHIPPED_DIR

    for suffix in (".json", ".onnx", ".safetensors"):
        shutil.copy(SHIPPED_DIR / f"line{suffix}", tmp_path / f"broken{suffix}")
    onnx = tmp_path / "broken.onnx"
    onnx.write_bytes(onnx.read_bytes()[:1000])
    return tmp_path / "broken"


def cli_run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize("model", ["nonexistent", "seed", "damaged"])
@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_read_to_a_file_with_an_unusable_model_fails_fast_and_leaves_no_file(
    two_images, tmp_path, damaged_line, model, suffix
):
    out = tmp_path / f"out{suffix}"
    name = damaged_line if model == "damaged" else model
    result = cli_run("read", two_images, "-o", out, "--model", name)
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert not out.exists()
    plain = cli_run("read", two_images, "--model", name)  # the same one-line error and status as without -o
    assert plain.exit_code == 2 and plain.output.splitlines()[-1] == result.output.splitlines()[-1]


def test_predict_to_a_file_with_a_missing_model_leaves_no_empty_file(two_images, tmp_path):
    out = tmp_path / "out.jsonl"
    result = cli_run("predict", two_images, "-o", out, "--model", "nonexistent")
    assert result.exit_code == 2 and not out.exists()
    again = cli_run("predict", two_images, "-o", out, "--workers", "1")  # no --resume or --force asked for
    assert again.exit_code == 0, again.output
    assert len(out.read_text().splitlines()) == 2


def test_read_rows_with_a_digit_model_raises_at_once():
    from digitrec import ModelError
    from digitrec.read.bulk import read_rows

    with pytest.raises(ModelError, match="seed: a digit model; reading lines needs a line model"):
        read_rows("seed", [str(IMAGES)], workers=2)


def test_rows_for_gives_predict_rows_and_read_rows_by_kind(folder, reference):
    from digitrec.read.bulk import rows_for

    skip = {next(iter(reference))}
    rows = rows_for("predict", "seed", [str(folder)], skip, workers=1)
    assert_same(by_path(rows), {k: v for k, v in reference.items() if k not in skip})
    assert rows.skipped == 1
    strict = by_path(rows_for("predict", "seed", [str(folder)], workers=1, reject="strict"))
    assert sum(r["digit"] is None for r in strict.values()) > sum(r["digit"] is None for r in reference.values())
    lines = list(rows_for("read", None, [str(IMAGES / "multi-2026.png")], workers=1, expect="dddd"))
    assert [(r["digits"], r["expect"]) for r in lines] == [("2026", "dddd")]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_an_interrupted_run_before_the_first_row_leaves_no_file_and_a_complete_empty_run_does(tmp_path, fmt):
    from digitrec.io.writers import open_output, read_output

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


@pytest.mark.parametrize(
    "command, options",
    [
        ("predict", ["--reject", "strict"]),
        ("predict", ["--reject", "off"]),
        ("read", ["--reject", "strict"]),
        ("read", ["--expect", "dddd"]),
        ("read", ["--digits-only"]),
    ],
)
def test_bulk_rows_honour_reject_and_expect_like_one_file_at_a_time(command, options, tmp_path):
    """`-o rows.jsonl` reads with the same --reject, --expect and --digits-only as the per-file --json output."""
    fields = ("digit", "reason") if command == "predict" else ("digits", "lines", "line_reasons")
    out = tmp_path / "rows.jsonl"
    bulk = CliRunner().invoke(cli, [command, str(IMAGES), "-o", str(out), "--workers", "1", "--no-progress", *options])
    assert bulk.exit_code == 0, bulk.output
    rows = {r["path"]: tuple(r.get(f) for f in fields) for r in read_output(out)}
    single = CliRunner().invoke(cli, [command, str(IMAGES), "--json", *options])
    assert single.exit_code in (0, 1), single.output
    each = {r["path"]: tuple(r.get(f) for f in fields) for r in map(json.loads, single.output.splitlines())}
    assert rows == each


def test_ray_refuses_options_its_actors_would_drop():
    result = CliRunner().invoke(cli, ["read", str(IMAGES), "--engine", "ray", "--expect", "dddd"])
    assert result.exit_code == 2 and "--engine ray" in result.output and "--output" in result.output
