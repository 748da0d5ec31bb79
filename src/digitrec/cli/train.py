"""`digitrec train`, `calibrate` and `export`: making models (train/ does the work; needs torch but calibrate)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import ConfigError, OutputExists
from .common import DATA_HELP, MODEL_HELP, interrupted, resume_command


@click.command()
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
    help="Add printed digits rendered from the training fonts, this fraction of each batch (strong network only), "
    "so typed numbers read too. With --lines: this share of the lines is printed digit strings and formats.",
)
@click.option(
    "--styles",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Add digits as other writers and scans give them (black-and-white 12-16 px scans, digits filling their box, "
    "8x8 counts, marker and fine pens, broken strokes, European 1s, crossed 7s, slashed 0s), made from the training "
    "digits, this fraction of each batch (strong network only). With --lines: this share of the digits lines are "
    "drawn from is redrawn so.",
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
    "--nondigit (share of lines without digits, default 0.05), --styles and --printed (default 0), --init (a line model to "
    "fine-tune), --seed, --out "
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
    "--warp",
    type=click.FloatRange(0, 1),
    default=None,
    help="--lines: share of digits turned, stretched, sheared and elastically bent as other writers write them "
    "(default 0).",
)
@click.option(
    "--clear-marks",
    is_flag=True,
    default=None,
    help="--lines: draw separators clear of the digits beside them (overlapping, a point can hide in a stroke).",
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
    warp: float | None,
    clear_marks: bool | None,
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
    The shipped line model's recipe: a base, then a fine-tune on other writers' digits (the base is
    recorded in line.json as fine_tuned_from; --init takes its path):
      digitrec train --lines --out line-base --steps 6000 --workers 5 --device cuda
      digitrec train --lines --out src/digitrec/weights/line --init line-base --styles 0.22 --clear-marks
        --steps 1500 --lr 0.0003 --seed 3 --device cpu
    """
    from ..errors import require_torch

    require_torch("digitrec train")
    ctx = click.get_current_context()
    if lines:
        _train_lines(ctx)
        return
    _refuse_given(ctx, LINE_ONLY, "applies to --lines only")
    from ..io.mnist import load_mnist
    from ..store import stem_of
    from ..train import distributed, models
    from ..train import loop as training

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


LINE_ONLY = ("steps", "capture", "hard", "warp", "clear_marks", "workers", "validate")
DIGIT_ONLY = (
    "arch", "epochs", "schedule", "augment", "holdout", "limit", "data_dir", "min_accuracy",
    "dry_run", "resume", "snapshots",
)  # fmt: skip
LINE_SHARED = {
    "batch_size": "batch_size", "lr": "lr", "seed_": "seed", "width": "width", "nondigit": "nondigit", "styles": "styles",
    "printed": "printed",
}  # fmt: skip
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
    from ..train.lines import LineConfig, train_and_save

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
    from ..train import models

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
    from ..store import stem_of
    from ..train.checkpoint import paths as checkpoint_paths

    if target is None or not main:
        return interrupted("nothing saved")
    state = checkpoint_paths(stem_of(target))[1]
    if not state.exists():
        return interrupted(f"no checkpoint yet (one is written after every epoch, as {state}); nothing saved")
    done = json.loads(state.read_text()).get("epoch", "?")
    return interrupted(f"checkpoint {state} holds epoch {done} of {epochs}; continue with: {resume_command()}")


@click.command()
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
    from ..store import resolve
    from ..train.calibrate import calibrate_model, is_shipped

    if out is None and is_shipped(resolve(model)):
        raise ConfigError(
            f"{resolve(model).name}: shipped models are read-only; pass --out NEW to write a calibrated copy"
        )
    meta = calibrate_model(model, out, data_dir, force)
    click.echo(json.dumps(meta, indent=2))
    written = resolve(out) if out else resolve(model)
    click.echo(f"wrote {written}.json" + (" (with copies of its model files)" if out else ""), err=True)


@click.command()
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
    from ..io.mnist import load_split
    from ..train.export import check_export, check_exportable, standalone_metadata, write_onnx
    from ..train.modelio import load_torch

    check_exportable(model)
    target = Path(out) if Path(out).suffix.lower() == ".onnx" else Path(f"{out}.onnx")
    if target.exists() and not force:
        raise OutputExists(f"{target} already exists; pass --force to overwrite it")
    net, meta = load_torch(model)
    write_onnx(net, target, metadata=standalone_metadata(meta), layers=layers)
    diff = check_export(net, target, load_split("test", data_dir).images)
    click.echo(f"wrote {target} ({target.stat().st_size:,} bytes); max |p_onnx - p_torch| on MNIST test = {diff:.1e}")
