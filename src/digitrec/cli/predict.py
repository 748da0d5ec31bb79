"""`digitrec predict`: the digit in each image, one line (or JSON object) per image."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from .bulk import BulkJob, bulk_options, check_flags, ray_takes_defaults, run_bulk
from .common import (
    MODEL_HELP,
    REJECT_HELP,
    find_targets,
    interrupted,
    reject_option,
    show_preprocessed_option,
    stdin_bytes,
    workers_option,
)
from .crops import CropWriter

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..read.digits import Prediction, Recognizer


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--model", default=None, help=MODEL_HELP)
@click.option(
    "--top-k",
    type=click.IntRange(1, 10),
    default=1,
    show_default=True,
    help="Show the K most likely digits (also for refused images, in --json).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object per line per image; fields in docs/cli.md 'JSON output'."
)
@show_preprocessed_option(
    "Write the 28x28 image the network saw for each input into this directory (NAME.28x28.png; NAME~2... when names repeat)."
)
@workers_option(
    "Processes for decoding and preprocessing (default: all cores); with --engine ray, recognizer actors (default: one per 32 CPUs)."
)
@reject_option(REJECT_HELP)
@bulk_options
# NOTE: over 60 lines only through its one-option-per-line signature and its --help text; the logic is short.
def predict(
    paths: tuple[str, ...],
    model: str | None,
    top_k: int,
    as_json: bool,
    show_preprocessed: str | None,
    workers: int | None,
    reject: str,
    output: str | None,
    fmt: str | None,
    resume: bool,
    force: bool,
    engine: str,
    address: str | None,
    progress: bool | None,
) -> None:
    """Read the digit in each image file or folder (default: ./images); - reads one image from stdin.

    \b
    Folders are searched recursively for PNG, JPEG, BMP, GIF, TIFF and WebP files.
    A file name that does not exist is also looked up in ./images, as the
    notebook did. Any size, gray or colour, with or without alpha, dark ink on
    light paper or light ink on dark. Unreadable files and empty folders get a
    one-line error on stderr; the others are still read; the exit status is 1
    if any input failed.

    \b
    JSON fields: path, digit, confidence, probabilities; a refused image has digit
    and confidence null and best_digit, best_probability, reason; errors and blank
    images have confidence and probabilities null (docs/cli.md "JSON output").

    \b
    Bulk reading (bounded memory, resumable; see docs/scaling.md "Bulk reading"):
      digitrec predict scans/ --output results.parquet           --resume after a crash
      digitrec predict s3://bucket/scans --engine ray --address auto -o results.parquet
    """
    per_image = {"--top-k": top_k > 1, "--json": as_json and output is not None}
    check_flags(paths, output, fmt, resume, force, engine, show_preprocessed, per_image)
    targets, failed = find_targets(paths)
    if output or engine == "ray":
        ray_takes_defaults(engine, reject)
        where = {"output": output, "fmt": fmt, "resume": resume, "force": force, "engine": engine, "address": address}
        run_bulk(BulkJob("predict", targets, model, workers, **where, progress=progress, failed=failed,
                         reading={"reject": reject}))  # fmt: skip
        return
    crops = CropWriter(show_preprocessed, force) if show_preprocessed else None
    failed += _predict_each(targets, model, reject, workers, top_k, as_json, crops)
    if failed:
        sys.exit(1)


def _predict_each(
    targets: list[str], model: str | None, reject: str, workers: int | None, top_k: int, as_json: bool,
    crops: CropWriter | None,
) -> int:  # fmt: skip
    """predict without --output: a line (or JSON object) per image on stdout, errors on stderr; returns failures."""
    from ..read.digits import Recognizer

    rec = Recognizer.load(model, reject=reject)
    failed = done = 0
    try:
        for pred in _predictions(rec, targets, workers):
            done += 1
            if pred.error:
                failed += 1
                click.echo(f"error: {pred.error}", err=True)
                if not as_json:
                    continue
            if crops and pred.image is not None:
                crops.write(pred.path, pred.image)
            click.echo(
                json.dumps(pred.as_dict(top_k if top_k > 1 else None)) if as_json else _format_prediction(pred, top_k)
            )
    except KeyboardInterrupt:
        raise interrupted(
            f"after {done:,} images; for a run that can be resumed, write to a file: -o results.jsonl"
        ) from None
    return failed


def _predictions(rec: Recognizer, targets: list[str], workers: int | None) -> Iterator[Prediction]:
    """Predictions for every image under `targets` in order; `-` is one image read from stdin."""
    from ..errors import BadImage
    from ..io.decode import iter_image_paths
    from ..read.digits import Prediction

    group: list[str] = []
    for t in [*targets, None]:
        if t != "-" and t is not None:
            group.append(t)
            continue
        if group:
            yield from rec.predict_paths(iter_image_paths(group), workers=workers)
            group = []
        if t == "-":
            try:
                yield rec.predict(stdin_bytes(), name="-")
            except BadImage as e:
                yield Prediction("-", None, None, None, error=str(e))


def _format_prediction(pred: Prediction, top_k: int) -> str:
    if pred.digit is None:
        return f"{pred.path}\t-\t{pred.reason}"
    if top_k == 1:
        return f"{pred.path}\t{pred.digit}\t{pred.confidence:.4f}"
    return f"{pred.path}\t" + "  ".join(f"{d}:{p:.4f}" for d, p in pred.top(top_k))
