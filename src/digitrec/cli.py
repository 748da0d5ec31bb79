"""The `digitrec` command: a thin layer over the Python API (parse, call, print).

Heavy modules (onnxruntime, torch, matplotlib) are imported inside the
command that needs them, so `digitrec --help` and `digitrec predict` start fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import __version__
from .errors import ConfigError, DigitrecError, OutputExists, exit_code

if TYPE_CHECKING:  # names for the hints only: the commands import what they run inside themselves
    import socket
    from collections.abc import Callable, Iterator

    from rich.progress import Progress, TaskID

    from .io.writers import Summary, Writer
    from .read.bulk import Rows
    from .read.digits import Prediction, Recognizer
    from .read.evaluate import Evaluation
    from .read.strings import Reading

MODEL_HELP = "A shipped model name (seed, strong), a personal model's name (digitrec teach) or a model file path (STEM, STEM.json or STEM.onnx). Default: the shipped default model."
LINE_MODEL_HELP = (
    "The line model that reads (read reads each line whole with a line model, not the single-digit seed/strong): "
    "a shipped line model name (line; `digitrec models` lists it) or a model file path. Default: the shipped line."
)
REJECT_HELP = (
    "When to answer 'not a digit' rather than a digit: normal (the default: refuses pictures unlike any digit while "
    "keeping 99% of real, imperfect digits), strict (also refuses digits read with low confidence: fewer errors, more "
    "refusals), off (always answer the best guess, several characters too; a blank picture still has none)."
)
WEAK_DIGIT = 0.9  # `read` text output brackets digits read with less confidence than this
DATA_HELP = (
    "Directory holding the MNIST IDX .gz files and SHA256SUMS (default: $DIGITREC_DATA, else the copy in the package)."
)


EXIT_HELP = """\b
Exit status (every command):
  0    success
  1    some inputs failed (unreadable images, empty folders), or the run failed (--min-accuracy)
  2    usage or configuration error (bad option, unknown model, output exists, missing data or extra)
  130  interrupted (Ctrl+C); bulk runs and training say how to --resume
"""


class Failure(click.ClickException):
    """A DigitrecError on its way out: one line on stderr and the exit status of its kind (errors.EXIT_CODES)."""

    def __init__(self, error: DigitrecError) -> None:
        super().__init__(str(error))
        self.exit_code = exit_code(error)


class DigitrecGroup(click.Group):
    """The one place where errors become exit statuses: DigitrecError by kind, Ctrl+C 130; never a traceback."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["digitrec.argv"] = list(args)  # to print the --resume command after Ctrl+C
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DigitrecError as e:
            raise Failure(e) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            raise click.exceptions.Exit(130) from None


def _interrupted(message: str) -> click.exceptions.Exit:
    """Say what an interrupted command left behind; the caller raises the result (exit status 130)."""
    click.echo(f"interrupted: {message}", err=True)
    return click.exceptions.Exit(130)


def _resume_command() -> str:
    """The command line that continues this run: the same arguments, --force dropped, --resume added."""
    import shlex

    args = [a for a in click.get_current_context().meta.get("digitrec.argv", []) if a != "--force"]
    return shlex.join(["digitrec", *args, *([] if "--resume" in args else ["--resume"])])


@click.group(cls=DigitrecGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_HELP)
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
@click.option(
    "--arch", type=click.Choice(["seed", "strong"]), default="seed", show_default=True, help="Network to train."
)
@click.option("--epochs", type=click.IntRange(1), default=5, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=200, show_default=True)
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=1e-3,
    show_default=True,
    help="Adam learning rate (peak rate with --schedule onecycle).",
)
@click.option(
    "--schedule",
    type=click.Choice(["constant", "onecycle"]),
    default="constant",
    show_default=True,
    help="Learning-rate schedule; the notebook used a constant rate.",
)
@click.option(
    "--augment/--no-augment",
    default=False,
    show_default=True,
    help="Random affine, elastic, stroke, blur, noise, contrast and occlusion augmentation.",
)
@click.option(
    "--width",
    type=click.IntRange(4),
    default=None,
    help="Channels of the first layers (strong network only; default 32).",
)
@click.option(
    "--nondigit",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Add synthetic non-digit pictures (letters, shapes, noise) as an 11th class, this fraction of each batch (strong network only).",
)
@click.option(
    "--printed",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Add printed digits rendered from the training fonts, this fraction of each batch (strong network only), so typed numbers read too.",
)
@click.option(
    "--styles",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Add digits as other writers and scans give them (black-and-white 12-16 px scans, digits filling their box, "
    "8x8 counts, marker and fine pens, broken strokes, European 1s, crossed 7s, slashed 0s), made from the training "
    "digits, this fraction of each batch (strong network only).",
)
@click.option(
    "--init",
    "init",
    default=None,
    metavar="MODEL",
    help="Start from this saved model's weights (same architecture) instead of a fresh network: fine-tuning.",
)
@click.option(
    "--holdout",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Keep the last N training images out of training, to calibrate confidence and rejection.",
)
@click.option(
    "--seed",
    "seed_",
    type=int,
    default=0,
    show_default=True,
    help="Random seed: the same seed gives the same run on the same machine.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default="models/digitrec-seed",
    show_default=True,
    help="Where to save: writes OUT.safetensors, OUT.onnx and OUT.json.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing model at --out.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option(
    "--limit", type=click.IntRange(1), default=None, help="Train on the first N training images only (quick tries)."
)
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
@click.option(
    "--min-accuracy",
    type=click.FloatRange(0, 1),
    default=None,
    help="Fail (exit 1) and save nothing if the final test accuracy is below this, e.g. 0.989.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="One batch of one epoch: checks the whole path in seconds. Saves nothing unless --out is given.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue an interrupted run from its last checkpoint (OUT.ckpt.*), with the same options; refused when there is none.",
)
@click.option("--quiet", is_flag=True, help="No summary table or progress bars.")
@click.option(
    "--snapshots",
    is_flag=True,
    help="Record conv1's weights at the start and after every epoch in the model's metadata (the page's filter slider).",
)
@click.option(
    "--lines",
    is_flag=True,
    help="Train a line model (reads whole lines for `digitrec read`) instead of a digit network: CTC on synthetic "
    "lines of MNIST training digits. Takes --batch-size (default 64), --lr (default 0.002), --width (default 32), "
    "--nondigit (share of lines without digits, default 0.05), --init (a line model to fine-tune), --seed, --out "
    "(default models/digitrec-line), --force, --device, --quiet and the options below.",
)
@click.option("--steps", type=click.IntRange(1), default=None, help="--lines: training batches (default 6000).")
@click.option(
    "--capture",
    type=click.FloatRange(0, 1),
    default=None,
    help="--lines: share of lines passed through the photo/scan simulation (default 0.3).",
)
@click.option(
    "--hard",
    type=click.FloatRange(0, 1),
    default=None,
    help="--lines: share of hard lines: 1s beside 4s, 7s and separators, flagged and slanted 1s, formats, "
    "1-3 characters (default 0).",
)
@click.option(
    "--workers", type=click.IntRange(0), default=None, help="--lines: processes drawing training lines (default 1)."
)
@click.option(
    "--validate", type=click.IntRange(1), default=None, help="--lines: held-out validation lines (default 1000)."
)
# NOTE: over 60 lines only through its one-option-per-line signature and its --help text; the logic is short.
def train(
    arch: str,
    epochs: int,
    batch_size: int,
    lr: float,
    schedule: str,
    augment: bool,
    width: int | None,
    nondigit: float,
    printed: float,
    styles: float,
    init: str | None,
    holdout: int,
    seed_: int,
    out: str,
    force: bool,
    device: str,
    limit: int | None,
    data_dir: str | None,
    min_accuracy: float | None,
    dry_run: bool,
    resume: bool,
    quiet: bool,
    snapshots: bool,
    lines: bool,
    steps: int | None,
    capture: float | None,
    hard: float | None,
    workers: int | None,
    validate: int | None,
) -> None:
    """Train a network on MNIST and save it (default: the notebook's recipe); --lines trains a line model.

    Prints a Keras-style summary, a progress bar per epoch, and the test-set
    loss and accuracy after every epoch. Needs the `train` extra (torch).
    The full training state is checkpointed after every epoch (OUT.ckpt.*,
    removed once the model is saved), so --resume continues after a crash.

    \b
    Several processes or machines (DistributedDataParallel, gloo on CPU, NCCL on GPU):
      torchrun --nproc-per-node 2 -m digitrec train --limit 20000
      torchrun --nnodes 2 --nproc-per-node 4 --rdzv-backend c10d --rdzv-endpoint HOST:29400 -m digitrec train
    --batch-size is the global batch (split across processes), so --lr needs no change.

    \b
    The shipped line model's recipe:
      digitrec train --lines --out src/digitrec/weights/line --steps 6000 --workers 5 --device cuda
    """
    from .errors import require_torch

    require_torch("digitrec train")
    ctx = click.get_current_context()
    if lines:
        _train_lines(ctx)
        return
    _refuse_given(ctx, LINE_ONLY, "applies to --lines only")
    from .io.mnist import load_mnist
    from .store import stem_of
    from .train import distributed, models
    from .train import loop as training

    explicit_out = ctx.get_parameter_source("out") != click.core.ParameterSource.DEFAULT
    if dry_run and resume:
        raise click.UsageError("--dry-run saves no checkpoint, so it cannot --resume")
    target = out if (explicit_out or not dry_run) else None  # a dry run saves only where asked to
    hparams = {}
    if arch == "strong":
        hparams = {"width": width or 32, "classes": 11 if nondigit > 0 else 10}
    elif width or nondigit or printed or styles:
        raise click.UsageError(
            "--width, --nondigit, --printed and --styles apply to --arch strong only; seed is the notebook's network as it was"
        )
    config = training.TrainConfig(
        arch=arch, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed_, device=device, limit=limit,
        schedule=schedule, augment=augment, hparams=hparams, holdout=holdout, nondigit=nondigit, printed=printed, dry_run=dry_run,
        snapshots=snapshots, styles=styles, init=init,
    )  # fmt: skip
    if target is not None:
        training.check_target(stem_of(target), force, resume)  # before loading data: fail in a second, not after
    train_set, test_set = load_mnist(data_dir)
    n = training.training_size(config, len(train_set))
    world = distributed.world_from_env()
    quiet = quiet or not world.is_main
    if not quiet:
        _print_header(train_set, test_set, n, holdout, world, batch_size, models.build(arch, **hparams), arch)
    try:
        training.run(
            config, target, force, min_accuracy, data=(train_set, test_set), data_dir=data_dir, resume=resume,
            progress=not quiet, echo=click.echo,
        )  # fmt: skip
    except KeyboardInterrupt:
        raise _training_interrupted(target, world.is_main, epochs) from None
    if target is None and world.is_main:
        click.echo("dry run: nothing saved (pass --out to save the model)")


LINE_ONLY = ("steps", "capture", "hard", "workers", "validate")
DIGIT_ONLY = (
    "arch", "epochs", "schedule", "augment", "printed", "styles", "holdout", "limit", "data_dir", "min_accuracy",
    "dry_run", "resume", "snapshots",
)  # fmt: skip
LINE_SHARED = {"batch_size": "batch_size", "lr": "lr", "seed_": "seed", "width": "width", "nondigit": "nondigit"}
LINE_OUT = "models/digitrec-line"


def _given(ctx: click.Context, names: tuple[str, ...]) -> list[str]:
    """The parameters among `names` given on the command line (not left at their defaults)."""
    return [n for n in names if ctx.get_parameter_source(n) != click.core.ParameterSource.DEFAULT]


def _refuse_given(ctx: click.Context, names: tuple[str, ...], why: str) -> None:
    given = _given(ctx, names)
    if given:
        option = next(p for p in ctx.command.params if p.name == given[0]).opts[-1]
        raise click.UsageError(f"{option} {why}")


def _train_lines(ctx: click.Context) -> None:
    """`train --lines`: the line model's training (`digitrec.train.lines`), with the options that apply to it."""
    from .train.lines import LineConfig, train_and_save

    _refuse_given(ctx, DIGIT_ONLY, "trains digit networks, not --lines")
    p = ctx.params
    chosen = {field: p[name] for name, field in LINE_SHARED.items() if name in _given(ctx, (name,))}
    chosen |= {name: p[name] for name in LINE_ONLY if p[name] is not None}
    config = LineConfig(**chosen, device=p["device"], init=p["init"] or "")
    out = p["out"] if _given(ctx, ("out",)) else LINE_OUT
    stem, metrics = train_and_save(config, out, p["force"], progress=not p["quiet"], command=_command_line(ctx))
    click.echo(f"saved {stem}: {metrics}")


def _command_line(ctx: click.Context) -> str:
    """The recipe as a `digitrec` command: the options given on the command line, as parsed (whatever ran it)."""
    import shlex

    words = ["digitrec", ctx.info_name or "train"]
    for param in ctx.command.params:
        if isinstance(param, click.Option) and param.name in _given(ctx, (param.name,)):
            value = ctx.params[param.name]
            words += [param.opts[-1]] if param.is_flag else [param.opts[-1], str(value)]
    return shlex.join(words)


def _print_header(train_set, test_set, n: int, holdout: int, world, batch_size: int, net, arch: str) -> None:
    """The data shapes actually used, the torchrun layout and the Keras-style summary, on stderr."""
    from .train import models

    whole = len(train_set)
    used = "" if n == whole else f" (first {n:,} of {whole:,}{f', last {holdout:,} held out' if holdout else ''})"
    shape = (n, *train_set.images.shape[1:])
    click.echo(f"train: {shape} {train_set.images.dtype}{used}, test: {test_set.images.shape}", err=True)
    if world.distributed:
        per = batch_size / world.size
        click.echo(f"torchrun: {world.size} processes, global batch {batch_size} ({per:g} per process)", err=True)
    click.echo(models.summarize(net, arch), err=True)


def _training_interrupted(target: str | None, main: bool, epochs: int) -> click.exceptions.Exit:
    """The one-line Ctrl+C message of `train`: what was saved and how to resume."""
    from .store import stem_of
    from .train.checkpoint import paths as checkpoint_paths

    if target is None or not main:
        return _interrupted("nothing saved")
    state = checkpoint_paths(stem_of(target))[1]
    if not state.exists():
        return _interrupted(f"no checkpoint yet (one is written after every epoch, as {state}); nothing saved")
    done = json.loads(state.read_text()).get("epoch", "?")
    return _interrupted(f"checkpoint {state} holds epoch {done} of {epochs}; continue with: {_resume_command()}")


@cli.command()
@click.option("--model", default=None, help=MODEL_HELP)
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a calibrated copy of the model here (OUT.json, OUT.onnx, ...) and leave the model alone.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Rewrite the model's own metadata (without --out), or overwrite an existing --out model.",
)
def calibrate(model: str | None, data_dir: str | None, out: str | None, force: bool) -> None:
    """Fit a model's confidence temperature and "not a digit" thresholds; stored in its metadata.

    \b
    Uses the 5,000 training images a strong model was not trained on (--holdout),
    as they are and made to look like photos, low-resolution scans, other pens
    and printed digits, so thresholds hold for real, imperfect digits. Sets the
    "normal" and "strict" operating points of --reject (docs/accuracy.md).
    `digitrec train` runs this itself after saving. Shipped models are
    read-only: calibrate a copy with --out. Your own model's metadata is
    rewritten only with --force.
    """
    from .store import resolve
    from .train.calibrate import calibrate_model, is_shipped

    if out is None and is_shipped(resolve(model)):
        raise ConfigError(
            f"{resolve(model).name}: shipped models are read-only; pass --out NEW to write a calibrated copy"
        )
    meta = calibrate_model(model, out, data_dir, force)
    click.echo(json.dumps(meta, indent=2))
    written = resolve(out) if out else resolve(model)
    click.echo(f"wrote {written}.json" + (" (with copies of its model files)" if out else ""), err=True)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["onnx"]), default="onnx", show_default=True)
@click.option("--model", default=None, help=MODEL_HELP)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    required=True,
    help="The .onnx file to write (.onnx is added when missing).",
)
@click.option("--layers", is_flag=True, help="Also output every layer's activations (slower graph, for visualisation).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP)
def export(fmt: str, model: str | None, out: str, layers: bool, force: bool, data_dir: str | None) -> None:
    """Write a standalone ONNX model for use outside digitrec (ONNX Runtime Web, mobile, C++...).

    The graph takes "image" float32 (N, 1, 28, 28) in [0, 1] (white digit on black,
    preprocessed as MNIST) and returns "logits"; its metadata_props carry the
    preprocessing contract, the labels, the temperature and the rejection
    thresholds. It is rebuilt from the model's safetensors weights with torch
    and checked against torch on the 10,000 MNIST test digits.
    """
    from .io.mnist import load_split
    from .train.export import check_export, check_exportable, write_onnx
    from .train.modelio import load_torch

    check_exportable(model)
    target = Path(out) if Path(out).suffix.lower() == ".onnx" else Path(f"{out}.onnx")
    if target.exists() and not force:
        raise OutputExists(f"{target} already exists; pass --force to overwrite it")
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
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Also write confusion_matrix.png and misclassified.png into this directory.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object (loss, accuracy, per_class, confusion_matrix)."
)
@click.option("--force", is_flag=True, help="Overwrite the files of an earlier --report in that directory.")
def evaluate(model: str | None, data_dir: str | None, report_dir: str | None, as_json: bool, force: bool) -> None:
    """Score a model on the 10,000 MNIST test digits.

    Prints loss, accuracy, per-class precision/recall/F1 and the confusion matrix.
    """
    from .io.mnist import load_split
    from .read.digits import Recognizer
    from .read.evaluate import check_report_dir, score, write_report

    if force and not report_dir:
        raise click.UsageError("--force applies to --report only")
    if report_dir:
        check_report_dir(report_dir, force)  # before the work, not after
    rec = Recognizer.load(model)
    test = load_split("test", data_dir)
    probs = rec.predict_arrays(test.images)
    ev = score(probs, test.labels)
    report = write_report(ev, test.images, test.labels, probs, report_dir, rec.name, force=force) if report_dir else []
    if as_json:
        click.echo(json.dumps({"model": rec.name, **ev.as_dict(), "report": [str(p) for p in report]}))
        return
    _print_evaluation(rec.name, ev)
    for p in report:
        click.echo(f"wrote {p}")


def _print_evaluation(name: str, ev: Evaluation) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    errors = int(ev.confusion.sum() - ev.confusion.trace())
    console.print(f"model [bold]{name}[/] on MNIST test ({int(ev.confusion.sum()):,} digits)")
    # NOTE: `train` prints the network's raw cross-entropy; this is the calibrated one (logits / temperature,
    # digits only, through ONNX Runtime), so the two differ slightly for the same model.
    console.print(f"Test loss: {ev.loss:.4f} (calibrated probabilities: logits / temperature, 10 digits)")
    console.print(f"Test accuracy: {ev.accuracy:.4f}  ({errors} errors, calibration error {ev.ece:.4f})")
    per_class = Table(title="per class", title_justify="left")
    for col in ("digit", "precision", "recall", "F1", "support"):
        per_class.add_column(col, justify="right")
    for d in range(10):
        per_class.add_row(
            str(d), f"{ev.precision[d]:.4f}", f"{ev.recall[d]:.4f}", f"{ev.f1[d]:.4f}", str(ev.support[d])
        )
    console.print(per_class)
    cm = Table(title="confusion matrix (rows: true digit, columns: predicted)", title_justify="left")
    cm.add_column("true", justify="right", style="bold")
    for d in range(10):
        cm.add_column(str(d), justify="right")
    for i in range(10):
        cells = [
            f"[bold green]{v}[/]" if i == j else (f"[red]{v}[/]" if v else "[dim]·[/]")
            for j, v in enumerate(ev.confusion[i])
        ]
        cm.add_row(str(i), *cells)
    console.print(cm)


def _bulk_options(command: Callable[..., None]) -> Callable[..., None]:
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


def _check_flags(
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


def _targets(paths: tuple[str, ...]) -> tuple[list[str], int]:
    """The inputs to read and how many were empty folders (each reported as an error).

    No argument means ./images, as in the notebook; a bare file name that is not
    here is looked up in images/; `-` stays `-` (one image read from stdin).
    """
    from .io.decode import has_images

    if not paths:
        if not Path("images").is_dir():
            raise click.UsageError(
                "no images given, and there is no ./images folder here (the notebook's default); "
                "name image files or folders, e.g. `digitrec predict photo.jpg scans/`, or - for stdin"
            )
        paths = ("images",)
    targets, empty = [], 0
    for p in paths:
        p = p if p == "-" else _find_image(p)
        if os.path.isdir(p) and not has_images(p):
            click.echo(f"error: no images found in {p}", err=True)
            empty += 1
            continue
        targets.append(p)
    return targets, empty


def _stdin_bytes() -> bytes:
    return click.get_binary_stream("stdin").read()


# ---------------------------------------------------------------- predict


@cli.command()
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
@click.option(
    "--show-preprocessed",
    type=click.Path(file_okay=False),
    default=None,
    help="Write the 28x28 image the network saw for each input into this directory (NAME.28x28.png; NAME~2... when names repeat).",
)
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=None,
    help="Processes for decoding and preprocessing (default: all cores); with --engine ray, recognizer actors (default: one per 32 CPUs).",
)
@click.option(
    "--reject", type=click.Choice(["strict", "normal", "off"]), default="normal", show_default=True, help=REJECT_HELP
)
@_bulk_options
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
    _check_flags(paths, output, fmt, resume, force, engine, show_preprocessed, per_image)
    targets, failed = _targets(paths)
    if output or engine == "ray":
        _ray_takes_defaults(engine, reject)
        args = (targets, model, workers, output, fmt, resume, force, engine, address, progress, failed)
        _bulk("predict", *args, reading={"reject": reject})
        return
    from .read.digits import Recognizer

    crops = _CropWriter(show_preprocessed, force) if show_preprocessed else None
    rec = Recognizer.load(model, reject=reject)
    done = 0
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
        raise _interrupted(
            f"after {done:,} images; for a run that can be resumed, write to a file: -o results.jsonl"
        ) from None
    if failed:
        sys.exit(1)


def _ray_takes_defaults(engine: str, reject: str, expect: str | None = None, digits_only: bool = False) -> None:
    """Ray's actors read with the defaults: refuse options they would silently drop."""
    if engine == "ray" and (reject != "normal" or expect or digits_only):
        raise click.UsageError(
            "--reject strict|off, --expect and --digits-only are not yet supported with --engine ray (its actors "
            "read with the defaults); with --output on this machine they are"
        )


def _predictions(rec: Recognizer, targets: list[str], workers: int | None) -> Iterator[Prediction]:
    """Predictions for every image under `targets` in order; `-` is one image read from stdin."""
    from .errors import BadImage
    from .io.decode import iter_image_paths
    from .read.digits import Prediction

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
                yield rec.predict(_stdin_bytes(), name="-")
            except BadImage as e:
                yield Prediction("-", None, None, None, error=str(e))


def _bulk(
    kind: str,
    targets: list[str],
    model: str | None,
    workers: int | None,
    output: str | None,
    fmt: str | None,
    resume: bool,
    force: bool,
    engine: str,
    address: str | None,
    progress: bool | None,
    failed: int = 0,
    reading: dict[str, Any] | None = None,
) -> None:
    """predict/read with --output or --engine ray: rows to a file (or JSON lines on stdout), errors to stderr.

    `reading`: how to read (reject; for read and cells also expect and digits_only).
    """
    reading = reading or {}
    from .io import writers
    from .io.decode import count_images
    from .read import bulk

    if kind == "read":
        bulk.check_line_model(model)  # NOTE: before the output is opened and any worker starts
    if output is None:
        writer, done = writers.JsonLinesWriter(None, kind, stream=click.get_text_stream("stdout")), set()
    else:
        writer, done = writers.open_output(output, fmt, kind, resume, force)
    if engine == "ray":
        from .read.ray import ray_rows

        rows = ray_rows(model, targets, kind, done, address, workers)
    elif kind == "predict":
        from .read.digits import Recognizer

        rows = bulk.predict_rows(Recognizer.load(model, reject=reading.get("reject", "normal")), targets, done, workers)
    else:
        rows = bulk.read_rows(model, targets, done, workers, cells=kind == "cells", **reading)
    show = progress if progress is not None else (output is not None and sys.stderr.isatty())
    local = [t for t in targets if "://" not in t]
    try:
        with _term_as_interrupt():
            summary = _write_rows(rows, writer, show, total_from=lambda: count_images(local) - len(done))
    except KeyboardInterrupt:
        if output is None:
            raise _interrupted(f"after {writer.rows:,} rows") from None
        raise _interrupted(f"{writer.rows:,} rows written to {output}; continue with: {_resume_command()}") from None
    if output is not None:
        click.echo(
            f"{output}: {summary.written:,} rows ({summary.errors:,} errors), {rows.skipped:,} already there, "
            f"{summary.seconds:.1f}s, {summary.rate:,.0f} files/s", err=True,
        )  # fmt: skip
    if summary.errors or failed:
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


def _find_image(path: str) -> str:
    """The notebook's rule: a bare name that is not here is looked up in images/."""
    p = Path(path)
    if not p.exists() and len(p.parts) == 1 and (Path("images") / p).exists():
        return str(Path("images") / p)
    return path


def _format_prediction(pred: Prediction, top_k: int) -> str:
    if pred.digit is None:
        return f"{pred.path}\t-\t{pred.reason}"
    if top_k == 1:
        return f"{pred.path}\t{pred.digit}\t{pred.confidence:.4f}"
    return f"{pred.path}\t" + "  ".join(f"{d}:{p:.4f}" for d, p in pred.top(top_k))


class _CropWriter:
    """Writes the 28x28 images the network saw into a folder, as NAME.28x28.png (atomically).

    Never over the files of an earlier run without `force` (checked before any
    work), and never one input's over another's: a second a.png (from another
    folder) becomes a~2.28x28.png.
    """

    def __init__(self, folder: str, force: bool) -> None:
        self.folder = Path(folder)
        self.used: set[str] = set()
        if not force and self.folder.is_dir() and next(self.folder.glob("*.28x28.png"), None) is not None:
            raise OutputExists(
                f"{self.folder}: holds preprocessed images of an earlier run; pass --force to overwrite them, or name another folder"
            )

    def write(self, path: str | None, image, part: str = "") -> Path:
        """Save `image` float32 (28, 28) in [0, 1] for input `path` (`part`: e.g. ".0" for a digit of `read`)."""
        from PIL import Image

        from .store import atomic_write

        base = (Path(path).name.rsplit(".", 1)[0] if path and path != "-" else "stdin") + part
        name, n = base, 1
        while name in self.used:
            n += 1
            name = f"{base}~{n}"
        self.used.add(name)
        target = self.folder / f"{name}.28x28.png"
        picture = Image.fromarray((image * 255).round().astype("uint8"))
        atomic_write(target, lambda tmp: picture.save(tmp, format="PNG"))
        return target


# ---------------------------------------------------------------- models


@cli.command(name="models")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def list_models(as_json: bool) -> None:
    """List the models shipped inside the package: single-digit models (predict, serve; * the default) with
    their MNIST test accuracy, line models (read --model) with their share of validation lines read exactly,
    and your personal models (digitrec teach)."""
    from .store import model_rows

    rows = model_rows()
    if as_json:
        click.echo(json.dumps(rows))
        return
    for r in rows:
        star = "*" if r["default"] else " "
        score = (
            f"test accuracy {r['test_accuracy']:.4f}"
            if r["kind"] in ("digit", "personal")
            else "line model (read --model)"
            + (f": {r['validation_exact_lines']:.1%} of validation lines exact" if r["validation_exact_lines"] else "")
        )
        if r.get("personal"):
            score += f"  personal, from {r['personal']['base']}"
        click.echo(f"{star} {r['name']:<8} {r['architecture']:<8} {r['parameters']:>9,} params  {score}")


# ---------------------------------------------------------------- teach


@cli.command()
@click.argument("samples", nargs=-1, type=click.Path())
@click.option("--name", default=None, help="Name of the personal model to write (letters, digits, - and _).")
@click.option("--base", default=None, help="Model to start from. " + MODEL_HELP)
@click.option("--force", is_flag=True, help="Replace a personal model of the same name (or an existing --sheet file).")
@click.option("--remove", "remove", default=None, metavar="NAME", help="Delete personal model NAME and stop.")
@click.option(
    "--sheet",
    "sheet_out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a printable teaching sheet (.png or .pdf) and stop.",
)
@click.option(
    "--show",
    "show_out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a picture of the boxes cut from sheet photos, with their labels.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def teach(
    samples: tuple[str, ...], name: str | None, base: str | None, force: bool, remove: str | None,
    sheet_out: str | None, show_out: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Teach a model your handwriting: write a personal model from a few of your own digits (seconds, no torch).

    \b
    SAMPLES: folders with sub-folders 0..9 (or files named like 3_anything.png),
    or photos of a filled teaching sheet. Five or more of each digit work best.
      digitrec teach my-digits/ --name mine          then: digitrec predict --model mine x.png
      digitrec teach --sheet sheet.pdf               print it, fill it in, photograph it:
      digitrec teach photo.jpg --name mine --show boxes.png
      digitrec teach --remove mine
    Before/after accuracy on your samples is by cross-validation (never on a sample it learned).
    """
    from .teach.learn import collect, report_lines
    from .teach.learn import teach as run_teach

    if remove:
        from .teach.personal import remove_personal

        gone = remove_personal(remove)
        click.echo(json.dumps({"removed": remove, "files": [str(p) for p in gone]}) if as_json else f"removed {remove}")
        return
    if sheet_out:
        from .teach.sheet import write_sheet

        click.echo(f"wrote {write_sheet(sheet_out, force)}: print it, write one digit per box, photograph it")
        return
    if not samples or not name:
        raise ConfigError(
            "teach needs SAMPLES and --name NAME (or --sheet OUT, or --remove NAME); see digitrec teach --help"
        )
    found = collect(list(samples))
    if show_out and found.boxes:
        from .teach.sheet import show_boxes

        click.echo(
            f"wrote {show_boxes(found.boxes, show_out)}: the boxes cut from the sheet, with their labels", err=True
        )
    report = run_teach(found, name, base, force, note=lambda m: click.echo(m, err=True))
    click.echo(json.dumps(report.as_dict()) if as_json else "\n".join(report_lines(report)))


# ---------------------------------------------------------------- serve


@cli.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Interface to listen on (0.0.0.0: every interface)."
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--model", default=None, help=MODEL_HELP)
@click.option(
    "--max-bytes",
    type=click.IntRange(1),
    default=10_000_000,
    show_default=True,
    help="Largest request body accepted; bigger ones get a 413.",
)
def serve(host: str, port: int, model: str | None, max_bytes: int) -> None:
    """Serve the drawing page, live layer views and the REST API (needs digitrec[serve]).

    \b
    Open http://127.0.0.1:8000/ to draw digits; the API is under /api, its docs at /docs:
      curl -F file=@images/mnist-7.png http://127.0.0.1:8000/api/predict
    """
    try:
        import fastapi  # noqa: F401
        import fastapi_offline  # noqa: F401
        import uvicorn
    except ImportError as e:
        from .errors import MissingExtra

        raise MissingExtra(e.name or "fastapi", "serve", "digitrec serve") from None
    from .read.digits import Recognizer
    from .server import create_app

    app = create_app(Recognizer.load(model), max_bytes=max_bytes)
    sock = _listen(host, port)  # NOTE: bound before saying "serving", so a busy port is an error, not a lie
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"digitrec: serving model {app.state.recognizer.name} at http://{shown}:{port}/  (API docs: /docs; Ctrl+C stops)"
    )
    uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning")).run(sockets=[sock])


def _listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port (ConfigError when taken or not allowed); uvicorn listens on it."""
    import socket

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {e.strerror or e}; is another server running? pick another --port"
        ) from None
    return sock


# ---------------------------------------------------------------- read


@cli.command()
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
@click.option(
    "--reject",
    type=click.Choice(["strict", "normal", "off"]),
    default="normal",
    show_default=True,
    help="When to refuse a line as 'not digits': normal refuses lines that read as nothing or mostly unsure (letters, scribble), strict also refuses lines read with under 80% confidence, off answers every line in which the line model reads a digit (a line where it reads none still has no answer).",
)
@click.option(
    "--mark-below",
    type=click.FloatRange(0, 1),
    default=WEAK_DIGIT,
    show_default=True,
    help="Text output: a character read with less confidence than this is shown in brackets, e.g. 12/[0]5.",
)
@click.option(
    "--show-preprocessed",
    type=click.Path(file_okay=False),
    default=None,
    help="Write each character's ink as the reader saw it into this directory (NAME.K.28x28.png, K from 0 in reading order).",
)
@click.option(
    "--cells",
    is_flag=True,
    help="Read forms cell by cell: one result per cell of each grid (comb field, table, boxed field) with its row, column, box and value; a comb field's cells also joined into one value; an empty cell is an empty value.",
)
@_bulk_options
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=None,
    help="With --output or --engine ray: reading processes (default: all cores) or Ray actors.",
)
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
    _check_flags(paths, output, fmt, resume, force, engine, show_preprocessed, per_image)
    from .read.strings import expectation

    expectation(expect, digits_only)  # a bad pattern fails here, before any image
    if cells and (engine == "ray" or show_preprocessed):
        raise click.UsageError("--cells does not apply with --engine ray or --show-preprocessed")
    targets, failed = _targets(paths)
    if cells and not output:
        sys.exit(1 if _read_cells(targets, model, reject, as_json, expect, digits_only) or failed else 0)
    if output or engine == "ray":
        _ray_takes_defaults(engine, reject, expect, digits_only)
        args = (targets, model, workers, output, fmt, resume, force, engine, address, progress, failed)
        reading = {"reject": reject, "expect": expect, "digits_only": digits_only}
        _bulk("cells" if cells else "read", *args, reading=reading)
        return
    from .io.decode import iter_image_paths
    from .read.digits import Recognizer
    from .read.strings import read_digits

    crops = _CropWriter(show_preprocessed, force) if show_preprocessed else None
    rec = Recognizer.load(None, reject=reject, line_model=model)
    rec.line_reader()  # a line model that cannot be used fails here, before any file
    done = 0
    try:
        for path in iter_image_paths(targets):
            done += 1
            try:
                source = _stdin_bytes() if path == "-" else path
                reading = read_digits(rec, source, name=path, expect=expect, digits_only=digits_only)
            except DigitrecError as e:
                failed += 1
                click.echo(f"error: {e}", err=True)
                if as_json:
                    click.echo(json.dumps({"path": path, "digits": None, "error": str(e)}))
                continue
            for k, box in enumerate(reading.boxes if crops else []):
                crops.write(path, box.image, f".{k}")
            click.echo(json.dumps(reading.as_dict()) if as_json else f"{path}\t{_marked_text(reading, mark_below)}")
    except KeyboardInterrupt:
        raise _interrupted(
            f"after {done:,} images; for a run that can be resumed, write to a file: -o results.jsonl"
        ) from None
    if failed:
        sys.exit(1)


def _read_cells(
    targets: list[str], model: str | None, reject: str, as_json: bool, expect: str | None, digits_only: bool
) -> int:
    """`read --cells` to stdout: per image its fields and cells (JSON) or one line per grid row; returns failures."""
    from .io.decode import iter_image_paths
    from .read.cells import read_cells
    from .read.digits import Recognizer

    rec = Recognizer.load(model, reject=reject)
    failed = 0
    for path in iter_image_paths(targets):
        try:
            source = _stdin_bytes() if path == "-" else path
            reading = read_cells(rec, source, name=path, expect=expect, digits_only=digits_only)
        except DigitrecError as e:
            failed += 1
            click.echo(f"error: {e}", err=True)
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


def _marked_text(reading: Reading, mark_below: float) -> str:
    """The text of a Reading, lines separated by spaces, weak characters as [d]."""
    lines: dict[int, str] = {}
    for b in reading.boxes:
        char = b.char or ("?" if b.digit is None else str(b.digit))
        mark = f"[{char}]" if b.confidence < mark_below and char != "?" else char
        lines[b.line] = lines.get(b.line, "") + mark
    text = " ".join(t for _, t in sorted(lines.items()) if t.strip("?"))
    return text or "-\t" + next((r for r in reading.line_reasons if r), "no digits found")


def main() -> None:
    cli(prog_name="digitrec")


if __name__ == "__main__":
    main()
