"""The package's one worker pool (`digitrec.read.pool`) and the rows bulk reading builds on it (`digitrec.read.bulk`)."""

from __future__ import annotations

import operator
import signal

import pytest
from click.testing import CliRunner
from conftest import IMAGES

from digitrec.cli import cli
from digitrec.io.writers import FIELDS, error_row
from digitrec.read import bulk
from digitrec.read.pool import ordered_map


def test_ordered_map_keeps_order_across_many_windows():
    items = list(range(1000))
    assert list(ordered_map(operator.neg, items, workers=2, window=64, chunksize=4)) == [-i for i in items]


def test_ordered_map_of_nothing_is_nothing():
    assert list(ordered_map(operator.neg, [], workers=2)) == []


def test_read_rows_in_two_workers_equal_one_process():
    # NOTE: the workers load the model through the pool's initializer; their rows must be the serial ones.
    serial = list(bulk.read_rows("line", [str(IMAGES)], workers=1))
    pooled = list(bulk.read_rows("line", [str(IMAGES)], workers=2, window=3))
    assert [r["path"] for r in pooled] == [r["path"] for r in serial]
    assert [r.get("digits") for r in pooled] == [r.get("digits") for r in serial]


def test_rows_count_the_files_resume_skips(seed_recognizer):
    paths = sorted(str(p) for p in IMAGES.iterdir() if p.suffix == ".png")
    rows = bulk.predict_rows(seed_recognizer, [str(IMAGES)], skip=set(paths[:2]), workers=1)
    out = list(rows)
    assert rows.skipped == 2
    assert not {r["path"] for r in out} & set(paths[:2])
    assert len(out) == len(list(bulk.discover([str(IMAGES)]))) - 2


def test_error_rows_have_one_schema_per_kind(tmp_path, seed_recognizer):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    row = bulk.read_row(seed_recognizer, str(bad))
    assert row == error_row("read", str(bad), row["error"])
    assert row["error"].startswith(f"{bad}: ") and list(row) == ["path", "digits", "lines", "boxes", "error"]
    assert set(error_row("predict", "x", "e")) <= set(FIELDS["predict"])
    (row,) = bulk.predict_rows(seed_recognizer, [str(bad)], workers=1)
    assert row == error_row("predict", str(bad), row["error"])


def test_cli_restores_the_sigterm_handler(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        cli, ["predict", "--model", "seed", "--no-progress", "--workers", "1", str(IMAGES), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_failing_pool_initializer_raises_instead_of_hanging():
    rows = ordered_map(abs, range(10), workers=2, initializer=operator.truediv, initargs=(1, 0))
    with pytest.raises(ZeroDivisionError):
        list(rows)
