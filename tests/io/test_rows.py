"""The row spec (`digitrec.io.rows`) drives every results format and the API schema: rows come back whole."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import IMAGES
from PIL import Image

from digitrec.io import rows
from digitrec.io.writers import ERROR_FIELDS, FIELDS, open_output, read_output

FORMATS = ["jsonl", "csv", "parquet"]
# NOTE: the columns results files have always had, in this order: a change here breaks files written before.
HISTORIC = {
    "predict": ("path", "digit", "confidence", "probabilities", "best_digit", "best_probability", "reason", "error"),
    "read": ("path", "digits", "lines", "line_confidence", "line_reasons", "boxes", "error"),
    "cells": ("path", "grid", "kind", "field", "row", "column", "box", "value", "confidence", "error"),
}


def round_trip(tmp_path, fmt: str, kind: str, written: list[dict]) -> list[dict]:
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    out = tmp_path / f"{kind}.{fmt}"
    writer, _ = open_output(out, kind=kind)
    with writer:
        writer.write_all(written)
    return list(read_output(out))


def full(kind: str, row: dict) -> dict:
    return {f: row.get(f) for f in FIELDS[kind]}


def test_the_columns_and_error_columns_are_the_ones_files_always_had():
    assert FIELDS == HISTORIC
    assert ERROR_FIELDS == {
        "predict": ("path", "digit", "confidence", "probabilities"),
        "read": ("path", "digits", "lines", "boxes"),
        "cells": ("path", "grid", "row", "column", "value"),
    }


@pytest.fixture
def predict_rows(tmp_path, seed_recognizer):
    """Real predictions: an accepted digit, a refusal (with best_digit and reason), a blank, an unreadable file."""
    from digitrec.read.bulk import predict_rows

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(IMAGES / "mnist-7.png", folder / "a-seven.png")
    shutil.copy(IMAGES / "multi-2026.png", folder / "b-several.png")
    Image.new("L", (40, 40), 255).save(folder / "c-blank.png")
    (folder / "d-broken.png").write_bytes(b"no picture at all")
    found = list(predict_rows(seed_recognizer, [str(folder)], workers=1))
    assert [r["digit"] for r in found[:3]] == [7, None, None]
    assert found[1]["best_digit"] is not None and found[1]["reason"] and found[2]["reason"]
    assert found[3]["error"] and found[3]["digit"] is None
    return found


@pytest.mark.parametrize("fmt", FORMATS)
def test_predict_rows_with_refusals_and_errors_come_back_whole(tmp_path, fmt, predict_rows):
    back = round_trip(tmp_path, fmt, "predict", predict_rows)
    assert [full("predict", r) for r in back] == [full("predict", r) for r in predict_rows]
    assert isinstance(back[1]["best_digit"], int) and isinstance(back[1]["best_probability"], float)


def separated_reading() -> dict:
    """A read row with a separator, a refused line and a line that matched no pattern (built, not read)."""
    from digitrec.read.strings import DigitBox, Reading

    ink = np.zeros((4, 4), np.float32)
    chars = [((0, 0, 9, 20), 1, "1"), ((10, 0, 19, 20), None, "/"), ((20, 0, 29, 20), 5, "5")]
    boxes = [DigitBox(box, digit, 0.9, ink, 0, char) for box, digit, char in chars]
    return Reading(
        "dated.png", "1/5", boxes, ["1/5", "", None], [0.81, 0.1, 0.0], [None, "unsure: line read", "no match"]
    ).as_dict()


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_rows_with_separators_refusals_and_errors_come_back_whole(tmp_path, fmt):
    from digitrec.read.bulk import read_rows

    (tmp_path / "broken.png").write_bytes(b"no picture at all")
    written = [separated_reading(), *read_rows("line", [str(IMAGES / "multi-2026.png"), str(tmp_path / "broken.png")])]
    assert written[2]["error"]
    back = round_trip(tmp_path, fmt, "read", written)
    assert [full("read", r) for r in back] == [full("read", r) for r in written]
    assert [b["char"] for b in back[0]["boxes"]] == ["1", "/", "5"] and back[0]["boxes"][1]["digit"] is None
    assert back[0]["lines"] == ["1/5", "", None] and back[0]["line_reasons"][1] == "unsure: line read"


@pytest.mark.parametrize("fmt", FORMATS)
def test_cell_rows_come_back_with_their_numbers_and_boxes(tmp_path, fmt):
    from digitrec.io.writers import error_row
    from digitrec.read.cells import Cell, CellReading, Field

    reading = CellReading("form.png", [Cell(0, 0, 1, (5, 6, 25, 30), "7", 0.97)], [Field(0, "comb", 1, 2, "07")])
    written = [*reading.rows(), error_row("cells", "broken.png", "broken.png: not an image")]
    back = round_trip(tmp_path, fmt, "cells", written)
    assert [full("cells", r) for r in back] == [full("cells", r) for r in written]
    assert back[0]["box"] == [5, 6, 25, 30] and back[0]["column"] == 1 and back[0]["field"] == "07"


def test_the_api_schemas_carry_every_row_field_but_the_error():
    from digitrec.server import schemas

    for kind, model in (("predict", schemas.Prediction), ("read", schemas.Reading)):
        assert set(FIELDS[kind]) - {"error"} <= set(model.model_fields)
        for name in FIELDS[kind][1:-1]:
            assert model.model_fields[name].description == rows.BY_NAME[name].doc


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_read_rows_round_trip_every_field_in_every_format(tmp_path, fmt):
    from digitrec.read.bulk import read_rows

    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    blank = tmp_path / "blank.png"
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
