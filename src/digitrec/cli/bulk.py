"""Bulk runs of `predict` and `read` (--output, --engine ray): their options, rows to a file, progress, SIGTERM."""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from .common import interrupted, resume_command

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from rich.progress import Progress, TaskID

    from ..io.writers import Summary, Writer
    from ..read.bulk import Rows


def bulk_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options `predict` and `read` share for large jobs: output file, resume, engine, progress."""
    options = [
        click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write results to this file instead of stdout: .jsonl/.json (JSON lines), .csv or .parquet; flushed as it goes."),
        click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet"]), default=None, help="Output format (default: from the --output suffix); needs --output."),
        click.option("--resume", is_flag=True, help="Skip the files already in --output and append the rest."),
        click.option("--force", is_flag=True, help="Overwrite an existing --output, or the files of an earlier run in --show-preprocessed."),
        click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True, help="local: worker processes on this machine; ray: a Ray cluster (needs digitrec[cluster])."),
        click.option("--address", default=None, help="Ray cluster address (auto, HOST:6379, ray://HOST:10001); default: start a local Ray instance."),
        click.option("--progress/--no-progress", default=None, help="Progress bar with files/s and ETA on stderr (default: when stderr is a terminal and --output is given)."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def check_flags(
    paths: tuple[str, ...],
    output: str | None,
    fmt: str | None,
    resume: bool,
    force: bool,
    engine: str,
    show_preprocessed: str | None,
    per_image: dict[str, bool],
) -> None:
    """Refuse flags that would be silently ignored in this combination (usage error, exit status 2)."""
    bulk_mode = output is not None or engine == "ray"
    if output is None:
        for flag, on in (("--resume", resume), ("--format", fmt), ("--force", force and not show_preprocessed)):
            if on:
                raise click.UsageError(f"{flag} applies to --output only")
    if resume and force:
        raise click.UsageError(
            "--resume and --force contradict each other: --resume appends to --output, --force replaces it"
        )
    if bulk_mode:
        where = "--output" if output is not None else "--engine ray"
        for flag, on in per_image.items():
            if on:
                raise click.UsageError(
                    f"{flag} does not apply with {where}: its rows have fixed fields (see docs/scaling.md 'Bulk reading')"
                )
        if show_preprocessed:
            raise click.UsageError(
                f"--show-preprocessed does not apply with {where}: bulk runs write rows only, no pictures; "
                "run without it to write the pictures the network saw (see docs/scaling.md 'Bulk reading')"
            )
        if "-" in paths:
            raise click.UsageError(f"- (an image on stdin) does not apply with {where}")


def ray_takes_defaults(engine: str, reject: str, expect: str | None = None, digits_only: bool = False) -> None:
    """Ray's actors read with the defaults: refuse options they would silently drop."""
    if engine == "ray" and (reject != "normal" or expect or digits_only):
        raise click.UsageError(
            "--reject strict|off, --expect and --digits-only are not yet supported with --engine ray (its actors "
            "read with the defaults); with --output on this machine they are"
        )


@dataclass(frozen=True)
class BulkJob:
    """A predict/read run with --output or --engine ray: what to read, how, and where the rows go.

    `kind`: "predict", "read" or "cells"; `reading`: how to read (reject; for read and cells also expect and
    digits_only); `failed`: inputs already refused before the run (a missing path), for the exit status.
    """

    kind: str
    targets: list[str]
    model: str | None = None
    workers: int | None = None
    output: str | None = None
    fmt: str | None = None
    resume: bool = False
    force: bool = False
    engine: str = "local"
    address: str | None = None
    progress: bool | None = None
    failed: int = 0
    reading: dict[str, Any] = field(default_factory=dict)


def run_bulk(job: BulkJob) -> None:
    """Run `job`: rows to a file (or JSON lines on stdout), errors to stderr; exit 1 if any input failed."""
    from ..io import writers
    from ..io.decode import count_images
    from ..read import bulk

    if job.kind == "read":
        bulk.check_line_model(job.model)  # NOTE: before the output is opened and any worker starts
    if job.output is None:
        writer, done = writers.JsonLinesWriter(None, job.kind, stream=click.get_text_stream("stdout")), set()
    else:
        writer, done = writers.open_output(job.output, job.fmt, job.kind, job.resume, job.force)
    rows = bulk.rows_for(job.kind, job.model, job.targets, done, job.workers, job.engine, job.address, **job.reading)
    show = job.progress if job.progress is not None else (job.output is not None and sys.stderr.isatty())
    local = [t for t in job.targets if "://" not in t]
    try:
        with _term_as_interrupt():
            summary = _write_rows(rows, writer, show, total_from=lambda: count_images(local) - len(done))
    except KeyboardInterrupt:
        if job.output is None:
            raise interrupted(f"after {writer.rows:,} rows") from None
        raise interrupted(f"{writer.rows:,} rows written to {job.output}; continue with: {resume_command()}") from None
    if job.output is not None:
        click.echo(
            f"{job.output}: {summary.written:,} rows ({summary.errors:,} errors), {rows.skipped:,} already there, "
            f"{summary.seconds:.1f}s, {summary.rate:,.0f} files/s", err=True,
        )  # fmt: skip
    if summary.errors or job.failed:
        sys.exit(1)


@contextlib.contextmanager
def _term_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt while inside, so writers close (and Parquet parts get their footer) on `kill`.

    The previous handler comes back on the way out.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _write_rows(rows: Rows, writer: Writer, progress: bool, total_from: Callable[[], int]) -> Summary:
    """Write `rows` with `writer` (closing it) and return its Summary; errors on stderr, above the bar if shown."""
    bar = task = None
    if progress:
        bar, task = _progress_bar(total_from)
        bar.start()

    def on_row(row: dict[str, Any]) -> None:
        if row.get("error") is not None:
            if bar:
                bar.console.print(f"error: {row['error']}", markup=False, highlight=False)
            else:
                click.echo(f"error: {row['error']}", err=True)
        if bar:
            bar.advance(task)

    try:
        with writer:
            summary = writer.write_all(rows, on_row)
    finally:
        if bar:
            bar.stop()
    summary.skipped = rows.skipped
    return summary


def _progress_bar(total_from: Callable[[], int]) -> tuple[Progress, TaskID]:
    """A rich progress bar on stderr with files/s and, once `total_from()` has counted the files, the ETA.

    The count runs in a background thread, so reading starts at once.
    """
    import threading

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    # NOTE: rates over the whole run, not rich's sliding window: rows arrive in bursts of a batch.
    class RateColumn(ProgressColumn):
        def render(self, task) -> Text:
            rate = task.completed / task.elapsed if task.elapsed else 0.0
            return Text(f"{rate:,.0f} files/s")

    class EtaColumn(ProgressColumn):
        def render(self, task) -> Text:
            rate = task.completed / task.elapsed if task.elapsed else 0.0
            if task.total is None or not rate:
                return Text("ETA -")
            left = max(task.total - task.completed, 0) / rate
            return Text(f"ETA {int(left // 3600)}:{int(left % 3600 // 60):02d}:{int(left % 60):02d}")

    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
        TimeElapsedColumn(), EtaColumn(), console=Console(stderr=True),
    )  # fmt: skip
    task = progress.add_task("reading", total=None)
    threading.Thread(target=lambda: progress.update(task, total=max(total_from(), 0)), daemon=True).start()
    return progress, task
