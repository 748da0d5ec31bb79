"""The row spec: every field of a result row, its type, and the kinds of rows that carry it.

One table drives the results files (`writers`: the CSV header and the cells
read back, the Parquet schema, the columns of an error row) and the API's
response schemas (`server.schemas`), so a field cannot be kept by one format
and dropped by another. Three kinds of rows: `predict` (one digit per image),
`read` (the digit strings of an image) and `cells` (one row per form cell).
An error row (a file that could not be read) has `path`, `error`, and null
for the kind's `error_null` fields.

    >>> from digitrec.io.rows import fields
    >>> fields("read")
    ('path', 'digits', 'lines', 'line_confidence', 'line_reasons', 'boxes', 'error')
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

KINDS = ("predict", "read", "cells")
# The types a field can have; lists are JSON in a CSV cell.
SCALARS = ("str", "int", "float")
LISTS = ("floats", "ints", "strs", "boxes")
# The keys of one entry of a read row's `boxes`: the character's box in the image, the character (a digit or a
# separator), its digit (null for a separator), its confidence and its line.
BOX_KEYS = (("box", "ints"), ("char", "str"), ("digit", "int"), ("confidence", "float"), ("line", "int"))


@dataclass(frozen=True)
class Field:
    """One field of a result row: its `name`, its `type` (SCALARS or LISTS), the kinds of rows that carry it,
    the kinds whose error rows carry it as null, and what it means."""

    name: str
    type: str
    kinds: tuple[str, ...]
    error_null: tuple[str, ...]
    doc: str


# NOTE: the order is each kind's column order (CSV header, Parquet schema): changing it changes the files.
FIELDS = (
    Field("path", "str", KINDS, KINDS, "the file as given (or the upload's name)"),
    Field("digit", "int", ("predict",), ("predict",), "the digit read; null when refused: see `reason`"),
    Field(
        "digits", "str", ("read",), ("read",), "the answered lines joined by spaces; null when `expect` matched none"
    ),
    Field("grid", "int", ("cells",), ("cells",), "which grid of the form, from 0"),
    Field("kind", "str", ("cells",), (), "the grid's kind: box, comb or table"),
    Field("field", "str", ("cells",), (), "a comb field's joined value"),
    Field("row", "int", ("cells",), ("cells",), "the cell's row in its grid"),
    Field("column", "int", ("cells",), ("cells",), "the cell's column in its grid"),
    Field("box", "ints", ("cells",), (), "[left, top, right, bottom] of the cell, in the image's pixels"),
    Field("value", "str", ("cells",), ("cells",), "what the cell holds"),
    Field("confidence", "float", ("predict", "cells"), ("predict",), "the chance the answer is right"),
    Field("probabilities", "floats", ("predict",), ("predict",), "the 10 digit probabilities"),
    Field("best_digit", "int", ("predict",), (), "a refused image's likeliest digit"),
    Field("best_probability", "float", ("predict",), (), "a refused image's likeliest digit's probability"),
    Field("reason", "str", ("predict",), (), "why the image was not read as a digit"),
    Field("lines", "strs", ("read",), ("read",), "one string per text line: empty when refused, null if no match"),
    Field("line_confidence", "floats", ("read",), (), "each line's calibrated chance of being exactly right"),
    Field("line_reasons", "strs", ("read",), (), "why a line has no answer; null where it was read"),
    Field("boxes", "boxes", ("read",), ("read",), "one entry per character: box, char, digit, confidence, line"),
    Field("error", "str", KINDS, KINDS, "one line: why the file could not be read; null when it was"),
)
BY_NAME = {f.name: f for f in FIELDS}


def fields(kind: str) -> tuple[str, ...]:
    """The columns of a `kind` row, in file order."""
    return tuple(f.name for f in FIELDS if kind in f.kinds)


def error_fields(kind: str) -> tuple[str, ...]:
    """The fields an error row of `kind` has (null but for path and error): those the kind's own rows always have."""
    return tuple(f.name for f in FIELDS if kind in f.error_null and f.name != "error")


def is_list(name: str) -> bool:
    """Whether the field holds a list (JSON in a CSV cell)."""
    return BY_NAME[name].type in LISTS if name in BY_NAME else False


def parse_cell(name: str, text: str) -> Any:
    """A CSV cell of field `name` back to its value: "" is null, lists are JSON, numbers are numbers."""
    if text == "":
        return None
    kind = BY_NAME[name].type if name in BY_NAME else "str"
    if kind in LISTS:
        return json.loads(text)
    return {"int": int, "float": float}.get(kind, str)(text)


def arrow_type(type_: str, pa: Any) -> Any:
    """The pyarrow type of a field type (`pa` is the pyarrow module, imported by the caller when it may)."""
    scalar = {"str": pa.string(), "int": pa.int64(), "float": pa.float64()}
    if type_ in scalar:
        return scalar[type_]
    if type_ == "boxes":
        return pa.list_(pa.struct([(k, arrow_type(t, pa)) for k, t in BOX_KEYS]))
    return pa.list_(scalar[{"floats": "float", "ints": "int", "strs": "str"}[type_]])


def python_type(type_: str) -> Any:
    """The Python annotation of a field type (for the API's schemas); every field may be null."""
    scalar = {"str": str, "int": int, "float": float}
    if type_ in scalar:
        return scalar[type_] | None
    if type_ == "boxes":
        return list[dict[str, Any]] | None
    item = {"floats": float, "ints": int, "strs": str | None}[type_]  # NOTE: a line can be null (no match)
    return list[item] | None
