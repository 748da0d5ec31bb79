"""The `digitrec` command: a thin layer over the Python API (parse, call, print).

Heavy modules (onnxruntime, torch, matplotlib) are imported inside the
command that needs them, so `digitrec --help` and `digitrec predict` start fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .errors import DigitrecError

MODEL_HELP = "A shipped model name (seed, strong) or a model file path (STEM, STEM.json or STEM.onnx). Default: the shipped default model."
DATA_HELP = "Directory holding the MNIST IDX .gz files and SHA256SUMS (default: the copy carried in data/mnist)."


class DigitrecGroup(click.Group):
    """Turns DigitrecError into a one-line message and exit status 1, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DigitrecError as e:
            raise click.ClickException(str(e)) from None


@click.group(cls=DigitrecGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digitrec")
def cli() -> None:
    """Read handwritten digits with a CNN trained on MNIST.

    \b
    Quick start:
      digitrec predict                 read every image in ./images with the shipped model
      digitrec predict photo.jpg --json
      digitrec evaluate --model seed   scores on the 10,000 MNIST test digits
      digitrec train                   train the notebook's network (needs digitrec[train])
    """


# ---------------------------------------------------------------- train


@cli.command()
@click.option("--arch", type=click.Choice(["seed", "strong"]), default="seed", show_default=True, help="Network to train.")
@click.option("--epochs", type=click.IntRange(1), default=5, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=200, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=1e-3, show_default=True, help="Adam learning rate (peak rate with --schedule onecycle).")
@click.option("--schedule", type=click.Choice(["constant", "onecycle"]), default="constant", show_default=True, help="Learning-rate schedule; the notebook used a constant rate.")
@click.option("--augment/--no-augment", default=False, show_default=True, help="Random affine, elastic, stroke, blur, noise, contrast and occlusion augmentation.")
@click.option("--width", type=click.IntRange(4), default=None, help="Channels of the first layers (strong network only; default 32).")
@click.option("--nondigit", type=click.FloatRange(0, 1), default=0.0, show_default=True, help="Add synthetic non-digit pictures (letters, shapes, noise) as an 11th class, this fraction of each batch (strong network only).")
@click.option("--holdout", type=click.IntRange(0), default=0, show_default=True, help="Keep the last N training images out of training, to calibrate confidence and rejection.")
@click.option("--seed", "seed_", type=int, default=0, show_default=True, help="Random seed: the same seed gives the same run on the same machine.")
@click.option("--out", type=click.Path(dir_okay=False), default="models/digitrec-seed", show_default=True, help="Where to save: writes OUT.safetensors, OUT.onnx and OUT.json.")
@click.option("--force", is_flag=True, help="Overwrite an existing model at --out.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--limit", type=click.IntRange(1), default=None, help="Train on the first N training images only (quick tries).")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
@click.option("--min-accuracy", type=click.FloatRange(0, 1), default=None, help="Fail (exit 1) if the final test accuracy is below this, e.g. 0.989.")
@click.option("--dry-run", is_flag=True, help="One batch of one epoch, then save: checks the whole path in seconds.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its last checkpoint (OUT.ckpt.*), with the same options.")
@click.option("--quiet", is_flag=True, help="No summary table or progress bars.")
def train(arch, epochs, batch_size, lr, schedule, augment, width, nondigit, holdout, seed_, out, force, device, limit, data_dir, min_accuracy, dry_run, resume, quiet):
    """Train a network on MNIST and save it (default: the notebook's recipe).

    Prints a Keras-style summary, a progress bar per epoch, and the test-set
    loss and accuracy after every epoch. Needs the `train` extra (torch).
    The full training state is checkpointed after every epoch (OUT.ckpt.*,
    removed once the model is saved), so --resume continues after a crash.

    \b
    Several processes or machines (DistributedDataParallel, gloo on CPU, NCCL on GPU):
      torchrun --nproc-per-node 2 -m digitrec train --limit 20000
      torchrun --nnodes 2 --nproc-per-node 4 --rdzv-backend c10d --rdzv-endpoint HOST:29400 -m digitrec train
    --batch-size is the global batch (split across processes), so --lr needs no change.
    """
    from .errors import require_torch

    require_torch("digitrec train")
    from . import distributed, models
    from . import train as training
    from .calibrate import calibrate_model
    from .checkpoint import paths as checkpoint_paths
    from .checkpoint import remove as remove_checkpoint
    from .data import load_mnist
    from .store import check_writable, stem_of

    world = distributed.world_from_env()
    stem = stem_of(out)
    check_writable(stem, force)  # fail before training, not after
    if not resume and checkpoint_paths(stem)[1].exists() and not force:
        raise click.ClickException(f"{checkpoint_paths(stem)[1]}: a checkpoint of an unfinished run exists; pass --resume to continue it or --force to start over")
    train_set, test_set = load_mnist(data_dir)
    hparams = {}
    if arch == "strong":
        hparams = {"width": width or 32, "classes": 11 if nondigit > 0 else 10}
    elif width or nondigit:
        raise click.UsageError("--width and --nondigit apply to --arch strong only; seed is the notebook's network as it was")
    config = training.TrainConfig(
        arch=arch, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed_, device=device, limit=limit,
        schedule=schedule, augment=augment, hparams=hparams, holdout=holdout, nondigit=nondigit, dry_run=dry_run,
    )  # fmt: skip
    quiet = quiet or not world.is_main
    if not quiet:
        click.echo(f"train: {train_set.images.shape} {train_set.images.dtype}, test: {test_set.images.shape}", err=True)
        if world.distributed:
            click.echo(f"torchrun: {world.size} processes, global batch {batch_size} ({batch_size / world.size:g} per process)", err=True)
        click.echo(models.summarize(models.build(arch, **hparams), arch), err=True)
    result = training.fit(
        config, data=(train_set, test_set), on_epoch=lambda e: click.echo(training.format_epoch(e, epochs)),
        progress=not quiet, checkpoint=stem, resume=resume,
    )  # fmt: skip
    if world.is_main:
        final = result.final
        click.echo(f"Test loss: {final.val_loss:.4f}")
        click.echo(f"Test accuracy: {final.val_accuracy:.4f}")
        training.save(result, stem, force=force, data_dir=data_dir, check_images=test_set.images)
        cal = calibrate_model(str(stem), data_dir, train=train_set)
        remove_checkpoint(stem)
        click.echo(f"calibrated: temperature {cal['temperature']}, rejection thresholds on {cal['rejection']['calibrated_on']}")
        click.echo(f"saved {stem}.safetensors, {stem}.onnx, {stem}.layers.onnx, {stem}.json ({result.seconds:.1f}s on {result.device})")
    distributed.shutdown()
    if min_accuracy is not None and result.final.val_accuracy < min_accuracy:
        raise training.TrainingError(f"test accuracy {result.final.val_accuracy:.4f} is below --min-accuracy {min_accuracy}")


@cli.command()
@click.option("--model", default=None, help=MODEL_HELP)
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
@click.option("--accept", type=click.FloatRange(0.5, 1.0), default=0.995, show_default=True, help="Share of held-out real digits that must stay accepted as digits.")
def calibrate(model, data_dir, accept):
    """Fit a model's confidence temperature and "not a digit" thresholds; stored in its metadata.

    Uses the training images the model did not train on (--holdout when it was
    trained); `digitrec train` runs this itself after saving.
    """
    from .calibrate import calibrate_model

    click.echo(json.dumps(calibrate_model(model, data_dir, accept), indent=2))


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["onnx"]), default="onnx", show_default=True)
@click.option("--model", default=None, help=MODEL_HELP)
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="The .onnx file to write.")
@click.option("--layers", is_flag=True, help="Also output every layer's activations (slower graph, for visualisation).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
def export(fmt, model, out, layers, force, data_dir):
    """Write a standalone ONNX model for use outside digitrec (ONNX Runtime Web, mobile, C++...).

    The graph takes "image" float32 (N, 1, 28, 28) in [0, 1] (white digit on black,
    preprocessed as MNIST) and returns "logits"; its metadata_props carry the
    preprocessing contract, the labels, the temperature and the rejection
    thresholds. It is rebuilt from the model's safetensors weights with torch
    and checked against torch on the 10,000 MNIST test digits.
    """
    from .data import load_split
    from .export import check_export, write_onnx
    from .train import load_torch

    target = Path(out)
    if target.exists() and not force:
        raise click.ClickException(f"{target} already exists; pass --force to overwrite it")
    net, meta = load_torch(model)
    extra = {k: meta[k] for k in ("name", "architecture", "temperature", "rejection", "metrics") if k in meta}
    extra["metrics"] = {k: v for k, v in extra.get("metrics", {}).items() if k != "history"}
    write_onnx(net, target, metadata=extra, layers=layers)
    diff = check_export(net, target, load_split("test", data_dir).images)
    click.echo(f"wrote {target} ({target.stat().st_size:,} bytes); max |p_onnx - p_torch| on MNIST test = {diff:.1e}")


# ---------------------------------------------------------------- evaluate


@cli.command()
@click.option("--model", default=None, help=MODEL_HELP)
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
@click.option("--report", "report_dir", type=click.Path(file_okay=False), default=None, help="Also write confusion_matrix.png and misclassified.png into this directory.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (loss, accuracy, per_class, confusion_matrix).")
def evaluate(model, data_dir, report_dir, as_json):
    """Score a model on the 10,000 MNIST test digits.

    Prints loss, accuracy, per-class precision/recall/F1 and the confusion matrix.
    """
    from .data import load_split
    from .evaluate import score, write_report
    from .infer import Recognizer

    rec = Recognizer.load(model)
    test = load_split("test", data_dir)
    probs = rec.predict_arrays(test.images)
    ev = score(probs, test.labels)
    report = write_report(ev, test.images, test.labels, probs, report_dir, rec.name) if report_dir else []
    if as_json:
        click.echo(json.dumps({"model": rec.name, **ev.as_dict(), "report": [str(p) for p in report]}))
        return
    _print_evaluation(rec.name, ev)
    for p in report:
        click.echo(f"wrote {p}")


def _print_evaluation(name: str, ev) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    errors = int(ev.confusion.sum() - ev.confusion.trace())
    console.print(f"model [bold]{name}[/] on MNIST test ({int(ev.confusion.sum()):,} digits)")
    console.print(f"Test loss: {ev.loss:.4f}")
    console.print(f"Test accuracy: {ev.accuracy:.4f}  ({errors} errors, calibration error {ev.ece:.4f})")
    per_class = Table(title="per class", title_justify="left")
    for col in ("digit", "precision", "recall", "F1", "support"):
        per_class.add_column(col, justify="right")
    for d in range(10):
        per_class.add_row(str(d), f"{ev.precision[d]:.4f}", f"{ev.recall[d]:.4f}", f"{ev.f1[d]:.4f}", str(ev.support[d]))
    console.print(per_class)
    cm = Table(title="confusion matrix (rows: true digit, columns: predicted)", title_justify="left")
    cm.add_column("true", justify="right", style="bold")
    for d in range(10):
        cm.add_column(str(d), justify="right")
    for i in range(10):
        cells = [f"[bold green]{v}[/]" if i == j else (f"[red]{v}[/]" if v else "[dim]·[/]") for j, v in enumerate(ev.confusion[i])]
        cm.add_row(str(i), *cells)
    console.print(cm)


def _bulk_options(command):
    """The options `predict` and `read` share for large jobs: output file, resume, engine, progress."""
    options = [
        click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write results to this file instead of stdout: .jsonl/.json (JSON lines), .csv or .parquet; flushed as it goes."),
        click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet"]), default=None, help="Output format (default: from the --output suffix)."),
        click.option("--resume", is_flag=True, help="Skip the files already in --output and append the rest."),
        click.option("--force", is_flag=True, help="Overwrite an existing --output."),
        click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True, help="local: worker processes on this machine; ray: a Ray cluster (needs digitrec[cluster])."),
        click.option("--address", default=None, help="Ray cluster address (auto, HOST:6379, ray://HOST:10001); default: start a local Ray instance."),
        click.option("--progress/--no-progress", default=None, help="Progress bar with files/s and ETA on stderr (default: when stderr is a terminal and --output is given)."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


# ---------------------------------------------------------------- predict


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--model", default=None, help=MODEL_HELP)
@click.option("--top-k", type=click.IntRange(1, 10), default=1, show_default=True, help="Show the K most likely digits.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line per image: path, digit, confidence, probabilities.")
@click.option("--show-preprocessed", type=click.Path(file_okay=False), default=None, help="Write the 28x28 image the network saw for each input into this directory.")
@click.option("--workers", type=click.IntRange(1), default=None, help="Processes for decoding and preprocessing (default: all cores); with --engine ray, recognizer actors (default: one per 32 CPUs).")
@_bulk_options
def predict(paths, model, top_k, as_json, show_preprocessed, workers, output, fmt, resume, force, engine, address, progress):
    """Read the digit in each image file or folder (default: ./images).

    \b
    Folders are searched recursively for PNG, JPEG, BMP, GIF, TIFF and WebP files.
    A file name that does not exist is also looked up in ./images, as the
    notebook did. Any size, gray or colour, with or without alpha, dark ink on
    light paper or light ink on dark. Unreadable files get a one-line error on
    stderr; the others are still read; the exit status is 1 if any file failed.

    \b
    Bulk reading (bounded memory, resumable; see README "Bulk reading"):
      digitrec predict scans/ --output results.parquet           --resume after a crash
      digitrec predict s3://bucket/scans --engine ray --address auto -o results.parquet
    """
    targets = [_find_image(p) for p in paths] or [_find_image("images")]
    if output or engine == "ray":
        _bulk("predict", targets, model, workers, output, fmt, resume, force, engine, address, progress)
        return
    from .infer import Recognizer
    from .preprocess import iter_image_paths

    rec = Recognizer.load(model)
    failed = 0
    for pred in rec.predict_paths(iter_image_paths(targets), workers=workers):
        if pred.error:
            failed += 1
            click.echo(f"error: {pred.error}", err=True)
            if not as_json:
                continue
        if show_preprocessed and pred.image is not None:
            _save_preprocessed(pred, Path(show_preprocessed))
        if as_json:
            click.echo(json.dumps(pred.as_dict(top_k if top_k > 1 else None)))
        else:
            click.echo(_format_prediction(pred, top_k))
    if failed:
        sys.exit(1)


def _bulk(kind, targets, model, workers, output, fmt, resume, force, engine, address, progress) -> None:
    """predict/read with --output or --engine ray: rows to a file (or JSON lines on stdout), errors to stderr."""
    from . import bulk

    if output is None:
        if resume or force:
            raise click.UsageError("--resume and --force need --output")
        writer, done = bulk.JsonLinesWriter(None, kind, stream=click.get_text_stream("stdout")), set()
    else:
        writer, done = bulk.open_output(output, fmt, kind, resume, force)
    skipped = [0]
    if engine == "ray":
        from .cluster import ray_rows

        rows = ray_rows(model, targets, kind, done, address, workers, skipped=skipped)
    elif kind == "predict":
        from .infer import Recognizer

        rows = bulk.predict_rows(Recognizer.load(model), targets, done, workers, skipped)
    else:
        rows = bulk.read_rows(model, targets, done, workers, skipped)
    show = progress if progress is not None else (output is not None and sys.stderr.isatty())
    local = [t for t in targets if "://" not in t]
    summary = bulk.run(
        rows, writer, progress=show, total_from=lambda: bulk.count_images(local) - len(done),
        on_error=lambda e: click.echo(f"error: {e}", err=True),
    )  # fmt: skip
    if output is not None:
        click.echo(
            f"{output}: {summary.written:,} rows ({summary.errors:,} errors), {skipped[0]:,} already there, "
            f"{summary.seconds:.1f}s, {summary.rate:,.0f} files/s", err=True,
        )  # fmt: skip
    if summary.errors:
        sys.exit(1)


def _find_image(path: str) -> str:
    """The notebook's rule: a bare name that is not here is looked up in images/."""
    p = Path(path)
    if not p.exists() and len(p.parts) == 1 and (Path("images") / p).exists():
        return str(Path("images") / p)
    return path


def _format_prediction(pred, top_k: int) -> str:
    if pred.digit is None:
        return f"{pred.path}\t-\t{pred.reason}"
    if top_k == 1:
        return f"{pred.path}\t{pred.digit}\t{pred.confidence:.4f}"
    return f"{pred.path}\t" + "  ".join(f"{d}:{p:.4f}" for d, p in pred.top(top_k))


def _save_preprocessed(pred, out_dir: Path) -> None:
    from PIL import Image

    out_dir.mkdir(parents=True, exist_ok=True)
    name = Path(pred.path).name.rsplit(".", 1)[0] if pred.path else "image"
    target = out_dir / f"{name}.28x28.png"
    Image.fromarray((pred.image * 255).round().astype("uint8")).save(target)


# ---------------------------------------------------------------- models


@cli.command(name="models")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def list_models(as_json):
    """List the models shipped inside the package, with their test accuracy."""
    from .store import SHIPPED_DIR, default_model, read_metadata, shipped_models

    rows = []
    for name in shipped_models():
        meta = read_metadata(SHIPPED_DIR / name)
        rows.append({
            "name": name,
            "default": name == default_model(),
            "architecture": meta["architecture"]["name"],
            "parameters": meta["architecture"]["parameters"],
            "test_accuracy": meta["metrics"]["test_accuracy"],
            "command": meta["training"].get("command"),
        })  # fmt: skip
    if as_json:
        click.echo(json.dumps(rows))
        return
    for r in rows:
        star = "*" if r["default"] else " "
        click.echo(f"{star} {r['name']:<8} {r['architecture']:<8} {r['parameters']:>9,} params  test accuracy {r['test_accuracy']:.4f}")


# ---------------------------------------------------------------- serve


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--model", default=None, help=MODEL_HELP)
@click.option("--max-bytes", type=click.IntRange(1), default=10_000_000, show_default=True, help="Largest request body accepted; bigger ones get a 413.")
def serve(host, port, model, max_bytes):
    """Serve the drawing page, live layer views and the REST API (needs digitrec[serve]).

    \b
    Open http://127.0.0.1:8000/ to draw digits; the API is under /api, its docs at /docs:
      curl -F file=@images/mnist-7.png http://127.0.0.1:8000/api/predict
    """
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as e:
        from .errors import MissingExtra

        raise MissingExtra(e.name or "fastapi", "serve", "digitrec serve") from None
    from .infer import Recognizer
    from .server import create_app

    app = create_app(Recognizer.load(model), max_bytes=max_bytes)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"digitrec: serving model {app.state.recognizer.name} at http://{shown}:{port}/  (API docs: /docs; Ctrl+C stops)")
    uvicorn.run(app, host=host, port=port, log_level="warning")


# ---------------------------------------------------------------- read


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--model", default=None, help=MODEL_HELP)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line per image: path, digits, lines, boxes (box [left, top, right, bottom] in image pixels, digit, confidence, line).")
@_bulk_options
@click.option("--workers", type=click.IntRange(1), default=None, help="With --output or --engine ray: reading processes (default: all cores) or Ray actors.")
def read(paths, model, as_json, output, fmt, resume, force, engine, address, workers, progress):
    """Read every digit in each image: a number, a code, a line of digits.

    \b
    Prints the file and its digits left to right, leading zeros kept:
      digitrec read images/multi-2026.png         ->  images/multi-2026.png  2026
      digitrec read scan.jpg --json               boxes and confidence per digit
    Digits are found as strokes of ink; broken strokes (a 5's detached bar, a 4
    drawn in two strokes) are joined and touching digits are split where the
    network reads the parts better. Several lines are read top to bottom and
    printed separated by a space. Folders are searched as by predict.
    Unreadable files get a one-line error on stderr; the others are still read;
    the exit status is 1 if any file failed.
    """
    if output or engine == "ray":
        _bulk("read", [_find_image(p) for p in paths], model, workers, output, fmt, resume, force, engine, address, progress)
        return
    from .infer import Recognizer
    from .preprocess import iter_image_paths
    from .segment import read_digits

    rec = Recognizer.load(model)
    failed = 0
    for path in iter_image_paths([_find_image(p) for p in paths]):
        try:
            reading = read_digits(rec, path)
        except DigitrecError as e:
            failed += 1
            click.echo(f"error: {e}", err=True)
            if as_json:
                click.echo(json.dumps({"path": path, "digits": None, "error": str(e)}))
            continue
        if as_json:
            click.echo(json.dumps(reading.as_dict()))
        else:
            click.echo(f"{path}\t{reading.digits}" if reading.digits else f"{path}\t-\tno digits found")
    if failed:
        sys.exit(1)


def main() -> None:
    cli(prog_name="digitrec")


if __name__ == "__main__":
    main()
