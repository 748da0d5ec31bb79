"""Train a network on MNIST, the notebook's way by default, and save it as a digitrec model.

Setup -> Prepare the data -> Build the model -> Train -> Evaluate -> Save, as in
the Keras MNIST example. The loop is written for a 2-core CPU: the whole training
set stays one uint8 tensor (47 MB) and each batch is sliced out of it and scaled
on the fly, instead of a per-sample DataLoader; activations use channels_last,
which makes the CPU max-pool several times faster.
"""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import CheckpointError, ConfigError, TrainingError, require_torch
from ..io.mnist import Split, dataset_checksums, load_mnist
from ..store import check_writable, stem_of
from .modelio import load_torch, write_model  # noqa: F401 - load_torch's home is modelio; kept importable from here

if TYPE_CHECKING:
    import torch
    from torch import nn

DEFAULT_OUT = Path("models") / "digitrec-seed"


@dataclass
class TrainConfig:
    """A training recipe. The defaults are the notebook's: seed network, Adam 1e-3, 5 epochs of batch 200."""

    arch: str = "seed"
    epochs: int = 5
    batch_size: int = 200
    lr: float = 1e-3
    seed: int = 0
    device: str = "auto"
    limit: int | None = None
    schedule: str = "constant"  # "constant" (the notebook) or "onecycle"
    augment: bool = False
    label_smoothing: float = 0.0
    weight_decay: float = 0.0
    hparams: dict[str, Any] = field(default_factory=dict)
    holdout: int = 0  # the last N training images are kept out of training, for calibration
    nondigit: float = 0.0  # extra "not a digit" pictures per batch, as a fraction of the batch (class 10)
    printed: float = 0.0  # extra printed digits (digitrec.synth.printed) per batch, as a fraction of the batch
    styles: float = 0.0  # extra digits of other writers and scans (digitrec.synth.writers) per batch, a fraction
    init: str | None = None  # start from this saved model's weights (fine-tuning) instead of a fresh network
    channels_last: bool = True
    dry_run: bool = False
    snapshots: bool = False  # record conv1's weights at the start and after every epoch (digitrec.train.snapshots)


@dataclass
class EpochResult:
    epoch: int
    loss: float
    accuracy: float
    val_loss: float
    val_accuracy: float
    seconds: float


@dataclass
class TrainResult:
    model: Any  # torch.nn.Module, trained, in eval mode, on the CPU
    config: TrainConfig
    history: list[EpochResult]
    seconds: float
    device: str
    world: Any = None  # digitrec.train.distributed.World of this process
    snapshots: dict[str, Any] | None = None  # digitrec.train.snapshots metadata entry, with config.snapshots

    @property
    def final(self) -> EpochResult:
        return self.history[-1]


def training_size(config: TrainConfig, available: int) -> int:
    """How many training images a run uses: the first `available - holdout`, at most `limit`."""
    n = available - config.holdout if config.limit is None else min(config.limit, available - config.holdout)
    if n < 1:
        raise ConfigError(
            f"no training images left (--limit {config.limit}, --holdout {config.holdout} of {available:,}); "
            f"--holdout must be below {available:,}"
        )
    return n


def pick_device(name: str = "auto") -> str:
    """ "auto" -> "cuda" when a GPU is visible, else "cpu"; "cuda" without a GPU is an error."""
    torch = require_torch()
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA GPU is visible to torch (this torch build may be CPU-only)")
    if name not in ("cpu", "cuda"):
        raise ConfigError(f"--device {name}: choose auto, cpu or cuda")
    return name


def to_input(images: torch.Tensor, channels_last: bool = True) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) in [0, 1], the network's input."""
    torch = require_torch()
    x = images.unsqueeze(1).float().div_(255.0)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def _eval_sums(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch: int = 1000):
    """(loss sum, correct count, count) tensors of `model` on uint8 images (N, 28, 28) and int64 labels (N,)."""
    torch = require_torch()
    import torch.nn.functional as F

    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=images.device)
    correct = torch.zeros((), dtype=torch.int64, device=images.device)
    with torch.no_grad():
        for i in range(0, len(labels), batch):
            logits = model(to_input(images[i : i + batch]))[:, :10]  # digits only, also for 11-class models
            y = labels[i : i + batch]
            loss_sum += F.cross_entropy(logits, y, reduction="sum").double()
            correct += (logits.argmax(1) == y).sum()
    return loss_sum, correct, torch.tensor(len(labels), dtype=torch.float64, device=images.device)


def _schedule(config: TrainConfig, optimizer, steps_per_epoch: int):
    torch = require_torch()
    if config.schedule == "constant":
        return None
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.lr, epochs=config.epochs, steps_per_epoch=steps_per_epoch, pct_start=0.25
        )
    raise ConfigError(f"unknown schedule {config.schedule!r}; choose constant or onecycle")


@dataclass
class _Run:
    """What one training run works on: data on the device, the network, its optimizer and random generators."""

    model: nn.Module  # the network that is saved
    net: nn.Module  # the same, wrapped in DistributedDataParallel under torchrun
    optimizer: Any
    scheduler: Any
    augment: Any
    extras: dict[str, tuple]  # extra picture banks (non-digits, printed digits): images, labels, per batch, generator
    generators: dict[str, Any]  # every random generator a checkpoint saves, by name
    x_train: torch.Tensor  # uint8 (n, 28, 28)
    y_train: torch.Tensor  # int64 (n,)
    x_test: torch.Tensor  # uint8 (N, 28, 28): this process's shard of MNIST test
    y_test: torch.Tensor  # int64 (N,)
    world: Any
    device: str
    steps: int  # optimizer steps per epoch


def _setup(config: TrainConfig, data: tuple[Split, Split], world, device: str, generator) -> _Run:
    """Prepare the data (uint8 tensors on the device, scaled per batch) and build the model and its optimizer."""
    torch = require_torch()
    from . import distributed

    train, test = data
    n = training_size(config, len(train))
    distributed.check_sizes(world, n, config.batch_size)
    x_train = torch.from_numpy(np.ascontiguousarray(train.images[:n])).to(device)
    y_train = torch.from_numpy(train.labels[:n].astype(np.int64)).to(device)
    x_test = torch.from_numpy(np.ascontiguousarray(test.images[world.rank :: world.size])).to(device)
    y_test = torch.from_numpy(test.labels[world.rank :: world.size].astype(np.int64)).to(device)

    model = _model(config, device)
    net = model
    if world.distributed:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[world.local_rank] if device.startswith("cuda") else None)
    on_gpu = device.startswith("cuda")
    if on_gpu:
        torch.backends.cudnn.benchmark = True  # fixed shapes: pick the fastest conv kernels once
    # fused: one kernel for the whole Adam update on a GPU (hundreds of launches fewer per epoch).
    fused = {"fused": True} if on_gpu else {"foreach": True}
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, eps=1e-7, weight_decay=config.weight_decay, **fused)
    steps = n // config.batch_size + (n % config.batch_size >= world.size)
    scheduler = _schedule(config, optimizer, steps)
    generators = {"sampler": generator}
    augment = None
    if config.augment:
        from .augment import Augmenter

        augment = Augmenter(seed=config.seed + world.rank, device=device)
        generators["augment"] = augment.g
    extras = _extra_banks(config, world, device, (train.images[:n], train.labels[:n]))
    for name, (_, _, _, gen) in extras.items():
        generators[name] = gen
    return _Run(model, net, optimizer, scheduler, augment, extras, generators, x_train, y_train, x_test, y_test,
                world, device, steps)  # fmt: skip


def _model(config: TrainConfig, device: str):
    """The network to train, on `device`: fresh, or with the weights of `config.init` (fine-tuning)."""
    torch = require_torch()
    from .models import build

    model = build(config.arch, **config.hparams)
    if config.init:
        from safetensors.torch import load_file

        from ..store import model_files, resolve

        model.load_state_dict(load_file(str(model_files(resolve(config.init))["safetensors"])))
    model = model.to(device)
    return model.to(memory_format=torch.channels_last) if config.channels_last else model


def _batch(run: _Run, config: TrainConfig, order: torch.Tensor, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """This process's part of batch `step`: float32 (B, 1, 28, 28) inputs (extra banks added, augmented), int64 labels."""
    torch = require_torch()
    from . import distributed

    batch = order[step * config.batch_size : (step + 1) * config.batch_size]
    idx = distributed.shard(batch, run.world)
    x = to_input(run.x_train[idx], config.channels_last)
    y = run.y_train[idx]
    for bank, labels, count, gen in run.extras.values():
        pick = torch.randint(len(bank), (count,), generator=gen).to(run.device)
        x = torch.cat([x, to_input(bank[pick], config.channels_last)])
        y = torch.cat([y, labels[pick]])
    if run.augment is not None:
        x = run.augment(x)
    return x, y


def train_epoch(run: _Run, config: TrainConfig, epoch: int, bar, show: bool) -> tuple[float, float, float]:
    """One pass over the training set: (mean loss, accuracy, seconds), loss and accuracy summed over processes."""
    torch = require_torch()
    import torch.nn.functional as F

    from . import distributed

    t0 = time.perf_counter()
    run.net.train()
    order = torch.randperm(len(run.y_train), generator=run.generators["sampler"]).to(run.device)
    title = "Dry run (one batch)" if config.dry_run else f"Epoch {epoch}/{config.epochs}"
    task = bar.add_task(title, total=1 if config.dry_run else run.steps, loss=0.0, acc=0.0)
    loss_sum = torch.zeros((), device=run.device)
    correct = torch.zeros((), device=run.device, dtype=torch.int64)
    seen = torch.zeros((), device=run.device)
    for step in range(run.steps):
        x, y = _batch(run, config, order, step)
        logits = run.net(x)
        loss = F.cross_entropy(logits, y, label_smoothing=config.label_smoothing)
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        run.optimizer.step()
        if run.scheduler is not None:
            run.scheduler.step()
        # NOTE: accumulate on the device; a .item() per step would stall a GPU pipeline.
        loss_sum += loss.detach() * len(y)
        correct += (logits.detach().argmax(1) == y).sum()
        seen += len(y)
        if show and (
            step % 10 == 9 or step == run.steps - 1 or config.dry_run
        ):  # .item() syncs: only for a visible bar
            bar.update(task, completed=step + 1, loss=(loss_sum / seen).item(), acc=(correct / seen).item())
        if config.dry_run:
            break
    if run.device.startswith("cuda"):
        torch.cuda.synchronize()  # the loop only queued the work; time it done
    seconds = time.perf_counter() - t0
    loss_sum, correct, seen = distributed.all_sum(loss_sum, correct, seen)
    return (loss_sum / seen).item(), (correct / seen).item(), seconds


def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy on uint8 images (N, 28, 28) and int64 labels (N,), summed over processes."""
    from . import distributed

    loss_sum, correct, count = distributed.all_sum(*_eval_sums(model, images, labels))
    return (loss_sum / count).item(), (correct / count).item()


# NOTE: just over 60 lines: splitting it further would scatter one linear sequence of steps.
def _resumed(stem: Path, config: TrainConfig, run: _Run) -> tuple[int, list[EpochResult]]:
    """(epochs done, their results) of the run checkpointed at `stem`, its state loaded into `run`; (0, [])
    without a checkpoint."""
    from . import checkpoint as ckpt

    if not ckpt.paths(stem)[1].exists():
        return 0, []
    done, rows = ckpt.load(stem, config, run.world.size, run.model, run.optimizer, run.scheduler, run.generators)
    return done, [EpochResult(**r) for r in rows]


def fit(
    config: TrainConfig = TrainConfig(),
    data: tuple[Split, Split] | None = None,
    data_dir: str | Path | None = None,
    on_epoch: Callable[[EpochResult], None] | None = None,
    progress: bool = True,
    checkpoint: str | Path | None = None,
    resume: bool = False,
) -> TrainResult:
    """Train `config.arch` on MNIST train, validating on MNIST test after every epoch.

    Under torchrun each process trains on its shard of every global batch
    (see `digitrec.train.distributed`); metrics are summed over processes, and only
    rank 0 shows progress and calls `on_epoch`. With `checkpoint` (a model stem)
    the full training state is saved atomically after every epoch, and `resume`
    continues from it.
    """
    torch = require_torch()

    from . import allocator, distributed
    from . import checkpoint as ckpt
    from . import snapshots as snapshot

    allocator.tune()  # before the first big tensor: keeps per-step buffers out of mmap/munmap (issue 12)
    start = time.perf_counter()
    world = distributed.world_from_env()
    device = distributed.init(world, pick_device(config.device))
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)  # the shuffle: the same in every process
    run = _setup(config, data if data is not None else load_mnist(data_dir), world, device, generator)

    stem = stem_of(checkpoint) if checkpoint is not None else None
    done, history = _resumed(stem, config, run) if resume and stem is not None else (0, [])
    first = done + 1
    snaps = snapshot.start(config.snapshots, run.model, stem, first)

    show = progress and world.is_main
    bar = _progress(show)
    with bar:
        for epoch in range(first, config.epochs + 1):
            loss, accuracy, seconds = train_epoch(run, config, epoch, bar, show)
            val_loss, val_accuracy = evaluate(run.model, run.x_test, run.y_test)
            result = EpochResult(epoch, loss, accuracy, val_loss, val_accuracy, seconds)
            history.append(result)
            snapshot.epoch_done(snaps, epoch, stem if world.is_main else None)
            if stem is not None and world.is_main:
                ckpt.save(
                    stem, epoch, config, world.size, run.model, run.optimizer, run.scheduler, run.generators, history
                )
            distributed.barrier()
            if on_epoch is not None and world.is_main:
                on_epoch(result)
            if config.dry_run:
                break
    model = run.model.to("cpu", memory_format=torch.contiguous_format).eval()
    snapshots = snaps.to_meta() if snaps is not None else None
    return TrainResult(model, config, history, time.perf_counter() - start, device, world, snapshots)


BANK_SIZE = 10_000  # pictures drawn once per run for each extra bank
STYLES_BANK = 20_000  # writer and scan styles: six kinds, so a larger bank


def _extra_banks(config: TrainConfig, world, device: str, digits: tuple[np.ndarray, np.ndarray]) -> dict[str, tuple]:
    """{name: (uint8 images (B, 28, 28), int64 labels (B,), count per batch, torch generator)} on `device`.

    "nondigit": synthetic not-a-digit pictures, class 10; "printed": digits in
    the training fonts; "styles": the run's own training `digits` (uint8 (n, 28, 28), labels) as other
    writers and scans give them. Each process picks with its own generator (torchrun).
    """
    torch = require_torch()
    banks = {}
    shares = (
        ("nondigit", config.nondigit, 7919),
        ("printed", config.printed, 104729),
        ("styles", config.styles, 1299709),
    )
    for name, share, salt in shares:
        count = round(config.batch_size * share / world.size)
        if not count:
            continue
        if name == "nondigit":
            from ..synth.nondigits import make

            images, labels = make(BANK_SIZE, seed=config.seed)[0], np.full(BANK_SIZE, 10, np.int64)
        elif name == "printed":
            from ..synth.printed import make

            images, labels = make(BANK_SIZE, seed=config.seed)
        else:
            from ..synth.writers import make

            images, labels, _ = make(*digits, STYLES_BANK, seed=config.seed)
        gen = torch.Generator().manual_seed(config.seed + salt * (world.rank + 1))
        banks[name] = (torch.from_numpy(images).to(device), torch.from_numpy(labels).to(device), count, gen)
    return banks


def _progress(enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("loss {task.fields[loss]:.4f}  accuracy {task.fields[acc]:.4f}"),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    )


def format_epoch(r: EpochResult, epochs: int, dry_run: bool = False) -> str:
    """The notebook's per-epoch line: loss, accuracy, val_loss, val_accuracy."""
    return (
        f"{'Dry run (one batch)' if dry_run else f'Epoch {r.epoch}/{epochs}'} - {r.seconds:.1f}s - loss: {r.loss:.4f} - accuracy: {r.accuracy:.4f}"
        f" - val_loss: {r.val_loss:.4f} - val_accuracy: {r.val_accuracy:.4f}"
    )


def training_metadata(result: TrainResult, data_dir: str | Path | None = None) -> dict[str, Any]:
    """Metadata of a finished run: recipe, command, data checksums, metrics, versions, date."""
    config, final = result.config, result.final
    return {
        "architecture": {"name": config.arch, "hparams": config.hparams},
        "training": {
            **{k: v for k, v in asdict(config).items() if k not in ("hparams", "device")},
            "optimizer": "Adam(eps=1e-7)",
            "loss": "categorical cross-entropy",
            "device": result.device,
            "seconds": round(result.seconds, 1),
            "seconds_per_epoch": [round(e.seconds, 2) for e in result.history],
            "command": shlex.join(["digitrec", *sys.argv[1:]])
            if Path(sys.argv[0]).name == "digitrec"
            else shlex.join(sys.argv),
        },
        "data": {"mnist_sha256": dataset_checksums(data_dir)},
        "metrics": {
            "test_loss": round(final.val_loss, 6),
            "test_accuracy": round(final.val_accuracy, 6),
            "train_loss": round(final.loss, 6),
            "train_accuracy": round(final.accuracy, 6),
            "history": [asdict(e) for e in result.history],
        },
        "torch_version": require_torch().__version__,
        **({"snapshots": result.snapshots} if result.snapshots else {}),
    }


def save(
    result: TrainResult,
    out: str | Path = DEFAULT_OUT,
    force: bool = False,
    data_dir: str | Path | None = None,
    check_images: np.ndarray | None = None,
) -> Path:
    """Save a finished run (weights, ONNX graphs, metadata); returns the stem."""
    return write_model(result.model, out, training_metadata(result, data_dir), force, check_images)


def run(
    config: TrainConfig,
    out: str | Path | None = DEFAULT_OUT,
    force: bool = False,
    min_accuracy: float | None = None,
    *,
    data: tuple[Split, Split] | None = None,
    data_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    echo: Callable[[str], None] = print,
) -> TrainResult:
    """The whole `digitrec train`: check the target, train, check the accuracy floor, save, calibrate.

    `out` None saves nothing (a dry run). Refuses before training to overwrite
    a model or a checkpoint without `force` (ModelError, CheckpointError) and
    to `resume` without a checkpoint (CheckpointError). Below `min_accuracy`
    nothing is saved, the checkpoint is removed and TrainingError is raised.
    Messages (epochs, scores, files) go to `echo`; only rank 0 prints under torchrun.
    """
    from . import checkpoint as ckpt
    from . import distributed
    from .calibrate import calibrate_model

    stem = stem_of(out) if out is not None else None
    check_target(stem, force, resume)
    train_set, test_set = data if data is not None else load_mnist(data_dir)
    world = distributed.world_from_env()
    say = echo if world.is_main else (lambda _: None)
    result = fit(
        config, data=(train_set, test_set), on_epoch=lambda e: say(format_epoch(e, config.epochs, config.dry_run)),
        progress=progress, checkpoint=stem, resume=resume,
    )  # fmt: skip
    final = result.final
    say(
        f"Test loss: {final.val_loss:.4f} (raw cross-entropy; evaluate prints the calibrated one)\nTest accuracy: {final.val_accuracy:.4f}"
    )
    if min_accuracy is not None and final.val_accuracy < min_accuracy:
        if stem is not None and world.is_main:
            ckpt.remove(stem)
        distributed.shutdown()
        raise TrainingError(
            f"test accuracy {final.val_accuracy:.4f} is below --min-accuracy {min_accuracy}; the model was not saved"
        )
    if stem is not None and world.is_main:
        save(result, stem, force=force, data_dir=data_dir, check_images=test_set.images)
        cal = calibrate_model(str(stem), data_dir=data_dir, force=True)
        ckpt.remove(stem)
        say(
            f"calibrated: temperature {cal['temperature']}, rejection thresholds on {cal['rejection']['calibrated_on']}"
        )
        say(
            f"saved {stem}.safetensors, {stem}.onnx, {stem}.layers.onnx, {stem}.json ({result.seconds:.1f}s on {result.device})"
        )
    distributed.shutdown()
    return result


def check_target(stem: Path | None, force: bool, resume: bool) -> None:
    """Fail before training, not after: an existing model or checkpoint, or --resume with nothing to resume."""
    from .checkpoint import paths

    if stem is None:
        if resume:
            raise ConfigError("--resume needs a model to continue: a dry run saves no checkpoint")
        return
    check_writable(stem, force)
    state = paths(stem)[1]
    if resume and not state.exists():
        raise CheckpointError(f"{state}: no checkpoint to resume from; run without --resume to start afresh")
    if not resume and state.exists() and not force:
        raise CheckpointError(
            f"{state}: a checkpoint of an unfinished run exists; pass --resume to continue it or --force to start over"
        )
