"""Results files of bulk runs: write rows incrementally, read them back, resume.

    >>> from digitrec.io.writers import open_output
    >>> out, done = open_output("out.jsonl", kind="predict", force=True)
    >>> with out:
    ...     summary = out.write_all(rows)

Results are rows (dicts with the kind's `FIELDS`, from the row spec in
`digitrec.io.rows`) written as they are produced, so a killed job keeps what it
finished:

- JSON lines (`.jsonl`, `.json`): one object per line, flushed after every batch;
- CSV (`.csv`): a header, then one line per file; lists (probabilities, boxes) as JSON in their cell;
- Parquet (`.parquet`, needs pyarrow: the `cluster` extra): row groups of `ROW_GROUP`
  rows; every `PART_ROWS` rows the file is closed and the next *part* begins.
  A part is written as `NAME.inprogress` and renamed when complete, so readers
  never see a half-written file. The first part is OUT itself, the following
  ones (and every resumed run) `OUT_STEM.part-0001.parquet`, `...-0002`, ...;
  `output_files(OUT)` lists them all, e.g. for `pandas.read_parquet(output_files(OUT))`.

`--resume` reads the `path` column of the existing output (streaming; the
paths are kept as a set of strings, about 100 bytes per file: 100 MB for a
million files) and skips those files; paths are compared as written, so pass
the same path arguments as the first run. An existing output is never
overwritten without `force`.

A file is created when its first row is written: a run that fails or is
interrupted before that leaves nothing behind (so the next run needs no
--resume or --force); a run that completes with no rows leaves an empty
output (a CSV header, a Parquet file with the schema).
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from ..errors import ConfigError, MissingExtra, OutputExists
from .rows import BY_NAME, KINDS, arrow_type, error_fields, fields, parse_cell

FORMATS = ("jsonl", "csv", "parquet")
SUFFIXES = {
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
FIELDS = {kind: fields(kind) for kind in KINDS}  # each kind's columns, in file order (from the row spec)
ERROR_FIELDS = {kind: error_fields(kind) for kind in KINDS}  # what an error row fills (null but path and error)
BATCH = 256  # rows per write (and flush) to JSON lines and CSV
ROW_GROUP = 4096  # rows per Parquet row group
PART_ROWS = 100_000  # rows per Parquet part file: a SIGKILL loses at most the part in progress


@dataclass
class Summary:
    """What a bulk run did: rows written, of which errors, files skipped by --resume, seconds."""

    written: int = 0
    errors: int = 0
    skipped: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0


def error_row(kind: str, path: str, error: str) -> dict[str, Any]:
    """The row of a file that could not be read: its path and the one-line error, the kind's result fields null."""
    return {**dict.fromkeys(ERROR_FIELDS[kind]), "path": path, "error": error}


def output_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The output format: `fmt` if given, else from the file suffix (.jsonl/.json, .csv, .parquet)."""
    if fmt:
        if fmt not in FORMATS:
            raise ConfigError(f"output format {fmt!r}: expected one of {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise ConfigError(f"{path}: unknown output suffix {suffix!r}; use .jsonl, .csv or .parquet, or --format")
    return SUFFIXES[suffix]


def _pyarrow():
    # NOTE: imported as late as possible: pyarrow starts threads, and a worker pool forked after that can deadlock.
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise MissingExtra("pyarrow", "cluster", "Parquet output") from None
    return pyarrow


# ---------------------------------------------------------------- writers


class Writer:
    """Writes rows (dicts with the kind's FIELDS) incrementally; use as a context manager."""

    def __init__(self, path: Path, kind: str) -> None:
        self.path = path
        self.kind = kind
        self.fields = FIELDS[kind]
        self.rows = 0  # rows written so far (what an interrupted run kept)

    def write(self, rows: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def close(self, completed: bool = True) -> None:
        """Close the file; `completed` False (the run failed or was interrupted) creates no file with no rows."""
        raise NotImplementedError

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(completed=exc_type is None)

    def write_all(
        self, rows: Iterable[dict[str, Any]], on_row: Callable[[dict[str, Any]], None] | None = None, batch: int = BATCH
    ) -> Summary:
        """Write every row, `batch` at a time; `on_row` sees each row after it is written (progress, errors)."""
        summary, start = Summary(), time.perf_counter()
        it = iter(rows)
        while chunk := list(islice(it, batch)):
            self.write(chunk)
            self.rows += len(chunk)
            summary.written += len(chunk)
            summary.errors += sum(r.get("error") is not None for r in chunk)
            if on_row:
                for r in chunk:
                    on_row(r)
        summary.seconds = time.perf_counter() - start
        return summary


class JsonLinesWriter(Writer):
    """JSON lines appended to `path`, or written to an open text `stream` (e.g. stdout, left open)."""

    def __init__(self, path: Path | None, kind: str, stream: Any = None) -> None:
        super().__init__(path, kind)
        self.file = stream  # NOTE: a file is opened at the first row, so a failed run leaves none
        self.owned = stream is None

    def write(self, rows: list[dict[str, Any]]) -> None:
        if self.file is None:
            self.file = open(self.path, "a", encoding="utf-8")
        self.file.write("".join(json.dumps(r) + "\n" for r in rows))
        self.file.flush()

    def close(self, completed: bool = True) -> None:
        if not self.owned:
            return
        if self.file is None and completed:
            self.file = open(self.path, "a", encoding="utf-8")  # a complete run with no rows: an empty output
        if self.file is not None:
            self.file.close()


class CsvWriter(Writer):
    def __init__(self, path: Path, kind: str) -> None:
        super().__init__(path, kind)
        self.file = None  # NOTE: opened (header written) at the first row, so a failed run leaves no file

    def _open(self) -> None:
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        if not fresh:
            with open(self.path, encoding="utf-8", newline="") as f:
                header = next(csv.reader(f), [])
            if tuple(header) != self.fields:  # NOTE: appended rows would land in the wrong columns
                raise ConfigError(
                    f"{self.path}: its columns ({', '.join(header)}) are not this version's "
                    f"({', '.join(self.fields)}); write to a new file or pass --force"
                )
        self.file = open(self.path, "a", encoding="utf-8", newline="")
        self.csv = csv.writer(self.file)
        if fresh:
            self.csv.writerow(self.fields)
            self.file.flush()

    def write(self, rows: list[dict[str, Any]]) -> None:
        if self.file is None:
            self._open()
        self.csv.writerows([_csv_cell(r.get(f)) for f in self.fields] for r in rows)
        self.file.flush()

    def close(self, completed: bool = True) -> None:
        if self.file is None and completed:
            self._open()  # a complete run with no rows: the header alone
        if self.file is not None:
            self.file.close()


def _csv_cell(v: Any) -> Any:
    if v is None:
        return ""
    return json.dumps(v) if isinstance(v, (list, dict)) else v


def _parquet_schema(kind: str):
    pa = _pyarrow()
    return pa.schema([(name, arrow_type(BY_NAME[name].type, pa)) for name in FIELDS[kind]])


class ParquetWriter(Writer):
    """Parquet parts: OUT, then OUT_STEM.part-NNNN.parquet; each written as .inprogress and renamed when closed."""

    def __init__(self, path: Path, kind: str, part_rows: int = PART_ROWS) -> None:
        super().__init__(path, kind)
        self.schema = None  # NOTE: pyarrow is imported on the first flush, after the decoding pool has forked
        self.part_rows = part_rows
        self.buffer: list[dict[str, Any]] = []
        self.writer = None
        self.target: Path | None = None
        self.rows_in_part = 0

    def _open(self) -> None:
        import pyarrow.parquet as pq

        self.schema = self.schema or _parquet_schema(self.kind)

        self.target = _next_part(self.path)
        self.writer = pq.ParquetWriter(str(_inprogress(self.target)), self.schema)
        self.rows_in_part = 0

    def _flush(self) -> None:
        rows, self.buffer = self.buffer, []
        while rows:
            if self.writer is None:
                self._open()
            pa = _pyarrow()
            take = rows[: self.part_rows - self.rows_in_part]
            rows = rows[len(take) :]
            table = pa.Table.from_pylist([{f: r.get(f) for f in self.schema.names} for r in take], schema=self.schema)
            self.writer.write_table(table)
            self.rows_in_part += len(take)
            if self.rows_in_part >= self.part_rows:
                self._finish_part()

    def _finish_part(self) -> None:
        if self.writer is not None:
            self.writer.close()
            os.replace(_inprogress(self.target), self.target)
            self.writer = None

    def write(self, rows: list[dict[str, Any]]) -> None:
        self.buffer.extend(rows)
        if len(self.buffer) >= ROW_GROUP:
            self._flush()

    def close(self, completed: bool = True) -> None:
        self._flush()
        if self.writer is None and not self.path.exists() and completed:
            self._open()  # NOTE: a complete run with no rows still leaves a valid (empty) file at OUT
        self._finish_part()


def _inprogress(path: Path) -> Path:
    return path.with_name(path.name + ".inprogress")


def _part_name(path: Path, n: int) -> Path:
    return path if n == 0 else path.with_name(f"{path.stem}.part-{n:04d}{path.suffix}")


def _next_part(path: Path) -> Path:
    n = 0
    while _part_name(path, n).exists() or _inprogress(_part_name(path, n)).exists():
        n += 1
    return _part_name(path, n)


def output_files(path: str | os.PathLike, fmt: str | None = None) -> list[Path]:
    """The complete files of an output: OUT itself, and for Parquet its part files in order."""
    path = Path(path)
    if output_format(path, fmt) != "parquet":
        return [path] if path.exists() else []
    files, n = [], 0
    while _part_name(path, n).exists() or _inprogress(_part_name(path, n)).exists():
        if _part_name(path, n).exists():
            files.append(_part_name(path, n))
        n += 1
    return files


def read_output(path: str | os.PathLike, fmt: str | None = None) -> Iterator[dict[str, Any]]:
    """Stream the rows of an output written by this module, lists decoded (CSV cells parsed back)."""
    fmt = output_format(path, fmt)
    for file in output_files(path, fmt):
        if fmt == "jsonl":
            with open(file, encoding="utf-8") as f:
                for line in f:
                    if line.endswith("\n"):
                        yield json.loads(line)
        elif fmt == "csv":
            with open(file, encoding="utf-8", newline="") as f:
                for row in csv.DictReader(f):
                    yield _csv_row({k: parse_cell(k, v) for k, v in row.items()})
        else:
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(file).iter_batches():
                yield from batch.to_pylist()


def _csv_row(row: dict[str, Any]) -> dict[str, Any]:
    # NOTE: an empty cell is null, but a read row that is no error always has its text: "" when nothing was read.
    if "digits" in row and row["digits"] is None and row.get("error") is None:
        row["digits"] = ""
    return row


# ---------------------------------------------------------------- resume


def _drop_partial_line(path: Path) -> None:
    """A job killed mid-write can leave half a line: cut it, so appended rows start on a line of their own."""
    with open(path, "r+b") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        pos = size
        while pos > 0:
            step = min(65536, pos)
            f.seek(pos - step)
            chunk = f.read(step)
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                f.truncate(pos - step + nl + 1)
                return
            pos -= step
        f.truncate(0)


def done_paths(path: str | os.PathLike, fmt: str | None = None) -> set[str]:
    """Paths already in an output (streamed; only the set of path strings is kept in memory)."""
    fmt = output_format(path, fmt)
    path = Path(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        _pyarrow()
        done: set[str] = set()
        for file in output_files(path, fmt):
            for batch in pq.ParquetFile(file).iter_batches(columns=["path"]):
                done.update(p for p in batch.column(0).to_pylist() if p is not None)
        return done
    if not path.exists():
        return set()
    if fmt == "jsonl":
        done = set()
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.endswith("\n") and line.strip():
                    done.add(json.loads(line)["path"])
        return done
    with open(path, encoding="utf-8", newline="") as f:
        return {row["path"] for row in csv.DictReader(f) if row.get("path")}


def open_output(
    path: str | os.PathLike, fmt: str | None = None, kind: str = "predict", resume: bool = False, force: bool = False
) -> tuple[Writer, set[str]]:
    """A writer for `path` and the set of paths to skip (those already in it when `resume`).

    Refuses an existing output unless `resume` (append, skipping its paths) or
    `force` (start over: the file and its Parquet parts are removed).
    """
    fmt = output_format(path, fmt)
    path = Path(path)
    if fmt == "parquet":
        import importlib.util

        if importlib.util.find_spec("pyarrow") is None:
            raise MissingExtra("pyarrow", "cluster", "Parquet output")
    existing = output_files(path, fmt)
    stale = (
        [_inprogress(path), *path.parent.glob(f"{path.stem}.part-*{path.suffix}.inprogress")]
        if fmt == "parquet"
        else []
    )
    if existing and not (resume or force):
        raise OutputExists(
            f"{path}: output exists; pass --resume to skip the files already in it or --force to overwrite it"
        )
    if force and not resume:
        for f in existing:
            f.unlink()
    for f in stale:  # NOTE: parts of a killed run, never completed: their files are read again
        if f.exists():
            f.unlink()
    done: set[str] = set()
    if resume and existing:
        if fmt != "parquet":
            _drop_partial_line(path)
        done = done_paths(path, fmt)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True)
    writer = {"jsonl": JsonLinesWriter, "csv": CsvWriter, "parquet": ParquetWriter}[fmt](path, kind)
    return writer, done


__all__ = [
    "BATCH", "FIELDS", "FORMATS", "PART_ROWS", "ROW_GROUP", "CsvWriter", "JsonLinesWriter", "ParquetWriter", "Summary",
    "Writer", "done_paths", "error_row", "open_output", "output_files", "output_format", "read_output",
]  # fmt: skip
