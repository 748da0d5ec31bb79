"""Bulk reading: the rows of hundreds of thousands of images, in order, with bounded memory.

    >>> from digitrec import Recognizer
    >>> from digitrec.read.bulk import predict_rows
    >>> from digitrec.io.writers import open_output
    >>> out, done = open_output("out.jsonl", kind="predict", force=True)
    >>> rows = predict_rows(Recognizer.load(), ["images/"], skip=done)
    >>> with out:
    ...     summary = out.write_all(rows)
    >>> rows.skipped  # files left out because they were already in out.jsonl

Rows are what the results files of `digitrec.io.writers` hold; an unreadable
file gives an error row, never an exception. Files are walked as
`decode.iter_image_paths` walks them; decoding runs in the package's
worker pool (`digitrec.read.pool`).
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ..errors import BadImage, cannot_read
from ..io.decode import count_images, iter_image_paths  # noqa: F401 - count_images: the name bulk had

# NOTE: the writers lived here before digitrec.io.writers; these names keep `from digitrec.read.bulk import ...` working.
from ..io.writers import (  # noqa: F401
    FIELDS,
    FORMATS,
    CsvWriter,
    JsonLinesWriter,
    ParquetWriter,
    Summary,
    Writer,
    done_paths,
    error_row,
    open_output,
    output_files,
    output_format,
    read_output,
)  # fmt: skip
from .pool import ordered_map

if TYPE_CHECKING:
    from .digits import Recognizer


class Discovery:
    """Image files under `targets` (lazily, as `iter_image_paths`), leaving out those in `skip`.

    `skipped` counts the files left out so far: the whole count once iterated.
    """

    def __init__(self, targets: Iterable[str], skip: set[str] | None = None) -> None:
        self.targets = list(targets)
        self.skip = skip or set()
        self.skipped = 0

    def __iter__(self) -> Iterator[str]:
        for p in iter_image_paths(self.targets):
            if p in self.skip:
                self.skipped += 1
                continue
            yield p


class Rows(Iterator[dict[str, Any]]):
    """Rows as they are produced; `skipped` is how many files `skip` left out (complete once exhausted)."""

    def __init__(self, rows: Iterator[dict[str, Any]], paths: Discovery) -> None:
        self._rows = rows
        self.paths = paths

    def __next__(self) -> dict[str, Any]:
        return next(self._rows)

    @property
    def skipped(self) -> int:
        return self.paths.skipped


def discover(targets: list[str], skip: set[str] | None = None) -> Discovery:
    """Image files under `targets` not in `skip`; the result counts the skipped ones in `.skipped`."""
    return Discovery(targets, skip)


def predict_rows(
    recognizer: Recognizer, targets: list[str], skip: set[str] | None = None, workers: int | None = None
) -> Rows:
    """Rows of `Prediction.as_dict()` for every image under `targets` not in `skip`, in walk order."""
    paths = discover(targets, skip)
    return Rows((pred.as_dict() for pred in recognizer.predict_paths(paths, workers=workers)), paths)


def read_row(recognizer: Recognizer, path: str, data: bytes | None = None, **options: Any) -> dict[str, Any]:
    """`read_digits` of one file as a row; an unreadable file gives a row with `error`.

    `options`: `read_digits`'s reject, expect and digits_only.
    """
    from .strings import read_digits

    try:
        return read_digits(recognizer, data if data is not None else path, name=path, **options).as_dict()
    except BadImage as e:
        return error_row("read", path, str(e))
    except Exception as e:  # noqa: BLE001 - a hostile file must not stop the job
        return error_row("read", path, cannot_read(path, e))


def check_line_model(model: str | None) -> None:
    """Raise the one-line ModelError (or ModelNotFound) of a line model that cannot be used: missing, damaged
    (digest), or not a line model. Checked here before any worker starts, without loading ONNX Runtime here."""
    from ..store import read_metadata, resolve
    from .lines import LINE_MODEL

    stem = resolve(model or LINE_MODEL)
    kind = read_metadata(stem, need="onnx").get("kind", "digit")
    if kind != "line":
        from .lines import LineReader

        LineReader.load(model)  # raises the error that says so


@functools.cache
def _recognizer(model: str | None) -> Recognizer:
    # NOTE: a per-process cache: each worker of read_rows loads the models once (its pool initializer calls this),
    # then every file it reads finds them here. `model` is the line model (None: the shipped one).
    from .digits import Recognizer

    rec = Recognizer.load(None, threads=1, line_model=model)
    rec.line_reader()
    return rec


def _read_one(model: str | None, options: dict[str, Any], path: str) -> dict[str, Any]:
    return read_row(_recognizer(model), path, **options)


def cell_rows(recognizer: Recognizer, path: str, **options: Any) -> list[dict[str, Any]]:
    """`read_cells` of one file as rows, one per cell; an unreadable file gives one row with `error`.

    `options`: `read_cells`'s reject, expect and digits_only.
    """
    from .cells import read_cells

    try:
        return read_cells(recognizer, path, name=path, **options).rows()
    except BadImage as e:
        return [error_row("cells", path, str(e))]
    except Exception as e:  # noqa: BLE001 - a hostile file must not stop the job
        return [error_row("cells", path, cannot_read(path, e))]


def _cells_one(model: str | None, options: dict[str, Any], path: str) -> list[dict[str, Any]]:
    return cell_rows(_recognizer(model), path, **options)


def read_rows(
    model: str | None, targets: list[str], skip: set[str] | None = None, workers: int | None = None, window: int = 512,
    cells: bool = False, reject: str | None = None, expect: str | None = None, digits_only: bool = False,
) -> Rows:  # fmt: skip
    """Rows of `read_digits` for every image under `targets`, in order, read by `workers` processes.

    `model` is the line model (a name such as "line" or a path; None: the shipped one). A model that
    cannot be used raises its ModelError here, before any file is read. With `cells`, rows of `read_cells`
    instead: one per cell. `reject`, `expect` and `digits_only` are those of `read_digits`. Each worker loads
    the model once; at most two windows of `window` paths are in flight.
    """
    check_line_model(model)
    paths = discover(targets, skip)
    workers = workers or os.cpu_count() or 1
    options = {"reject": reject, "expect": expect, "digits_only": digits_only}
    read = functools.partial(_cells_one if cells else _read_one, model, options)
    if workers <= 1:
        rows = map(read, paths)
    else:
        rows = ordered_map(
            read, paths, workers, window=window, initializer=_recognizer, initargs=(model,), workers_run_onnx=True
        )
    return Rows(itertools.chain.from_iterable(rows) if cells else rows, paths)


def rows_for(
    kind: str, model: str | None, targets: list[str], skip: set[str] | None = None, workers: int | None = None,
    engine: str = "local", address: str | None = None, **reading: Any,
) -> Rows:  # fmt: skip
    """The rows of `digitrec predict` (`kind` "predict"), `read` ("read") or `read --cells` ("cells").

    `engine` "local" reads with `workers` processes here, "ray" on the Ray cluster at `address` with `workers`
    actors (and the default reading options). `reading`: reject; for read and cells also expect and digits_only.
    """
    if engine == "ray":
        from .ray import ray_rows

        return ray_rows(model, targets, kind, skip, address, workers)
    if kind == "predict":
        from .digits import Recognizer

        return predict_rows(Recognizer.load(model, reject=reading.get("reject", "normal")), targets, skip, workers)
    return read_rows(model, targets, skip, workers, cells=kind == "cells", **reading)


__all__ = [
    "Discovery",
    "Rows",
    "cell_rows",
    "check_line_model",
    "discover",
    "predict_rows",
    "read_row",
    "read_rows",
    "rows_for",
]
