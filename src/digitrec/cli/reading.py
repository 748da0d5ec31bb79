"""`digitrec read`: every digit string in each image, line by line; --cells reads forms cell by cell."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import click

from ..errors import DigitrecError
from .bulk import BulkJob, bulk_options, check_flags, ray_takes_defaults, run_bulk
from .common import (
    LINE_MODEL_HELP,
    find_targets,
    interrupted,
    reject_option,
    show_preprocessed_option,
    stdin_bytes,
    workers_option,
)
from .crops import CropWriter

if TYPE_CHECKING:
    from ..read.digits import Recognizer
    from ..read.strings import Reading

WEAK_DIGIT = 0.9  # `read` text output brackets digits read with less confidence than this


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--model", default=None, help=LINE_MODEL_HELP)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object per line per image: path, digits, lines, line_confidence, line_reasons, boxes (box [left, top, right, bottom] in image pixels, char, digit, confidence, line), expect, digits_only.",
)
@click.option(
    "--expect",
    metavar="PATTERN",
    default=None,
    help="Each line must match PATTERN, e.g. dd/dd/dddd, ddddd, d+, d+.dd, ddd-dddd, dd:dd (d a digit, d+ one or more, other characters as written; alternatives with |): the likeliest reading that matches, or none with a reason.",
)
@click.option(
    "--digits-only", is_flag=True, help="Never read a separator: a mark between digits is read as its likeliest digit."
)
@reject_option(
    "When to refuse a line as 'not digits': normal refuses lines that read as nothing or mostly unsure (letters, scribble), whose strokes mostly read as no character (words), one character on a shape the digit model is sure is no digit, or one flat stroke alone (a dash, a rule); strict also refuses lines read with under 80% confidence, off answers every line in which the line model reads a digit (a line where it reads none still has no answer).",
)
@click.option(
    "--mark-below",
    type=click.FloatRange(0, 1),
    default=WEAK_DIGIT,
    show_default=True,
    help="Text output: a character read with less confidence than this is shown in brackets, e.g. 12/[0]5.",
)
@show_preprocessed_option(
    "Write each character's ink as the reader saw it into this directory (NAME.K.28x28.png, K from 0 in reading order)."
)
@click.option(
    "--cells",
    is_flag=True,
    help="Read forms cell by cell: one result per cell of each grid (comb field, table, boxed field) with its row, column, box and value; a comb field's cells also joined into one value; an empty cell is an empty value.",
)
@bulk_options
@workers_option("With --output or --engine ray: reading processes (default: all cores) or Ray actors.")
# NOTE: over 60 lines only through its one-option-per-line signature and its --help text; the logic is short.
def read(
    paths: tuple[str, ...],
    model: str | None,
    as_json: bool,
    expect: str | None,
    digits_only: bool,
    reject: str,
    mark_below: float,
    show_preprocessed: str | None,
    output: str | None,
    fmt: str | None,
    resume: bool,
    force: bool,
    engine: str,
    address: str | None,
    workers: int | None,
    progress: bool | None,
    cells: bool = False,
) -> None:
    """Read every digit string in each image: a number, a date, a code, a phone number; - reads stdin.

    \b
    Prints the file and its text left to right, leading zeros and separators kept:
      digitrec read images/multi-2026.png         ->  images/multi-2026.png  2026
      digitrec read receipt.jpg                   ->  receipt.jpg  12/05 3.14
      digitrec read scan.jpg --json               boxes and confidence per character and line
      digitrec read form.jpg --expect dd/dd/dddd  ->  form.jpg  12/05/2024  (or -, and why not)
    Lines of ink are found, then each line is read whole by a sequence model
    (CNN + CTC), so touching and overlapping digits need no cutting, and the
    separators . , - / : come out as written when the line is a date, time,
    decimal, phone number or thousands group (a slanted 1 is a 1). A line is
    refused only when it does not look like digits. Several lines are read top
    to bottom and printed separated by a space. Folders are searched as by predict.

    \b
    Marks in the text output (--json has the figures instead):
      [7]   a character read with confidence below --mark-below: check it
      -     (alone after the file name) no digits found, every line refused, or
            no reading matches --expect; the reason follows

    Unreadable files and empty folders get a one-line error on stderr; the
    others are still read; the exit status is 1 if any input failed.
    """
    per_image = {"--json": as_json and output is not None, "--mark-below": mark_below != WEAK_DIGIT}
    check_flags(paths, output, fmt, resume, force, engine, show_preprocessed, per_image)
    from ..read.strings import expectation

    expectation(expect, digits_only)  # a bad pattern fails here, before any image
    if cells and (engine == "ray" or show_preprocessed):
        raise click.UsageError("--cells does not apply with --engine ray or --show-preprocessed")
    targets, failed = find_targets(paths)
    if cells and not output:
        sys.exit(1 if _read_cells(targets, model, reject, as_json, expect, digits_only) or failed else 0)
    if output or engine == "ray":
        ray_takes_defaults(engine, reject, expect, digits_only)
        where = {"output": output, "fmt": fmt, "resume": resume, "force": force, "engine": engine, "address": address}
        reading = {"reject": reject, "expect": expect, "digits_only": digits_only}
        kind = "cells" if cells else "read"
        run_bulk(BulkJob(kind, targets, model, workers, **where, progress=progress, failed=failed, reading=reading))
        return
    crops = CropWriter(show_preprocessed, force) if show_preprocessed else None
    failed += _read_each(targets, model, reject, as_json, expect, digits_only, mark_below, crops)
    if failed:
        sys.exit(1)


def _line_recognizer(model: str | None, reject: str) -> Recognizer:
    """The recognizer `read` reads with: `model` is its line model (`read --model`); one that cannot be used
    fails here, before any file."""
    from ..read.digits import Recognizer

    rec = Recognizer.load(None, reject=reject, line_model=model)
    rec.line_reader()
    return rec


def _read_each(
    targets: list[str], model: str | None, reject: str, as_json: bool, expect: str | None, digits_only: bool,
    mark_below: float, crops: CropWriter | None,
) -> int:  # fmt: skip
    """read without --output: a line (or JSON object) per image on stdout, errors on stderr; returns failures."""
    from ..read.strings import read_digits

    rec = _line_recognizer(model, reject)

    def read(source: str | bytes, path: str) -> Reading:
        return read_digits(rec, source, name=path, expect=expect, digits_only=digits_only)

    failed = done = 0
    try:
        for path, reading, error in _readings(targets, read):
            done += 1
            if error is not None:
                failed += 1
                if as_json:
                    click.echo(json.dumps({"path": path, "digits": None, "error": error}))
                continue
            for k, box in enumerate(reading.boxes if crops else []):
                crops.write(path, box.image, f".{k}")
            click.echo(json.dumps(reading.as_dict()) if as_json else f"{path}\t{_marked_text(reading, mark_below)}")
    except KeyboardInterrupt:
        raise interrupted(
            f"after {done:,} images; for a run that can be resumed, write to a file: -o results.jsonl"
        ) from None
    return failed


def _read_cells(
    targets: list[str], model: str | None, reject: str, as_json: bool, expect: str | None, digits_only: bool
) -> int:
    """`read --cells` to stdout: per image its fields and cells (JSON) or one line per grid row; returns failures."""
    from ..read.cells import CellReading, read_cells

    rec = _line_recognizer(model, reject)

    def read(source: str | bytes, path: str) -> CellReading:
        return read_cells(rec, source, name=path, expect=expect, digits_only=digits_only)

    failed = 0
    for path, reading, error in _readings(targets, read):
        if error is not None:
            failed += 1
            if as_json:
                click.echo(json.dumps({"path": path, "fields": None, "cells": None, "text": None, "error": error}))
            continue
        if as_json:
            click.echo(json.dumps(reading.as_dict()))
            continue
        for f in reading.fields:
            row_cells = [c for c in reading.cells if c.grid == f.grid]
            if f.value is not None:
                click.echo(f"{path}\tgrid {f.grid} ({f.kind})\t{f.value or '-'}")
                continue
            for r in range(f.rows):
                values = [c.value or "-" for c in row_cells if c.row == r]
                click.echo(f"{path}\tgrid {f.grid} row {r}\t" + " | ".join(values))
        if not reading.fields:
            click.echo(f"{path}\tno cells\t{reading.text or '-'}")
    return failed


def _readings(targets: list[str], read: Callable[[str | bytes, str], Any]) -> Iterator[tuple[str, Any, str | None]]:
    """(path, read(source, path), None) for each image of `targets` (- is stdin), or (path, None, error) for one
    that cannot be read: the error is also told on stderr in one line, and the rest still run."""
    from ..io.decode import iter_image_paths

    for path in iter_image_paths(targets):
        try:
            reading = read(stdin_bytes() if path == "-" else path, path)
        except DigitrecError as e:
            click.echo(f"error: {e}", err=True)
            yield path, None, str(e)
            continue
        yield path, reading, None


def _marked_text(reading: Reading, mark_below: float) -> str:
    """The text of a Reading, lines separated by spaces, weak characters as [d]."""
    lines: dict[int, str] = {}
    for b in reading.boxes:
        char = b.char or ("?" if b.digit is None else str(b.digit))
        mark = f"[{char}]" if b.confidence < mark_below and char != "?" else char
        lines[b.line] = lines.get(b.line, "") + mark
    text = " ".join(t for _, t in sorted(lines.items()) if t.strip("?"))
    return text or "-\t" + next((r for r in reading.line_reasons if r), "no digits found")
