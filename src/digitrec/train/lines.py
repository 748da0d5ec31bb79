"""Train the line reader (`digitrec train --lines`): CTC on synthetic lines composed from MNIST training digits, saved as a line model.

Setup -> Data (lines drawn on the fly by worker processes) -> Model
(`models.line`) -> Train (Adam, one-cycle, `torch.nn.functional.ctc_loss`)
-> Validate (exact lines on held-out training digits) -> Save (safetensors,
ONNX with a dynamic width, JSON). MNIST test digits are never used here; the
benchmark (bench/read_accuracy.py) reads lines made from them.
"""

from __future__ import annotations

import datetime as _dt
import math
import shlex
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..errors import DigitrecError, require_torch
from ..read.lines import ALPHABET, LINE_HEIGHT, STRIDE, ctc_greedy, normalize_line
from ..read.session import open_session
from ..read.verdicts import softmax
from ..store import LINE_INPUT_CONTRACT, check_writable, model_files, read_metadata, stem_of, write_metadata

TRAIN_DIGITS = 55_000  # MNIST train[:55000] draws training lines; train[55000:] draws validation lines


@dataclass
class LineConfig:
    """A line-reader recipe: `steps` batches of `batch_size` synthetic lines."""

    steps: int = 6000
    batch_size: int = 64
    lr: float = 2e-3
    seed: int = 0
    width: int = 32
    capture: float = 0.3  # share of lines passed through the photo/scan simulation
    nondigit: float = 0.05  # share of lines holding no digits (target: empty)
    hard: float = 0.0  # share of hard lines (linesynth.hard_line: 1s by 4s, 7s and separators, formats, short lines)
    warp: float = 0.0  # share of digits reshaped as other writers might write them (linesynth.warp_digit)
    printed: float = 0.0  # share of lines printed in the training fonts (synth.fonts.PRINTED_TRAIN)
    styles: float = 0.0  # share of the training digits redrawn as other writers and scans give them (synth.writers)
    clear_marks: bool = False  # separators keep clear of their digits (overlapped, a point can hide in a stroke)
    workers: int = 1
    device: str = "auto"
    validate: int = 1000  # validation lines
    init: str = ""  # start from this saved or shipped line model's weights (fine-tuning) instead of a fresh network


OPTION_HELP = {
    "init": "fine-tune: start from this line model's weights (a shipped name such as 'line', or a path)",
    "hard": "share of hard lines: 1s beside 4s, 7s and separators, flagged and slanted 1s, formats, 1-3 characters",
    "warp": "share of digits turned, stretched, sheared and elastically bent as other writers write them",
    "styles": "share of the training digits redrawn as other writers and scans give them (synth.writers)",
    "printed": "share of lines printed in the training fonts (digit strings and formats)",
    "clear_marks": "separators drawn clear of the digits beside them (overlapped, a point hides in a stroke)",
    "lr": "peak learning rate of the one-cycle schedule (fine-tuning wants less than from scratch)",
}


def _char_ids(text: str) -> list[int]:
    return [ALPHABET.index(c) + 1 for c in text]


class LineStream:
    """An endless, seeded stream of (line float32 (32, W), text) for one worker."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, config: LineConfig, seed: int) -> None:
        from ..synth.fonts import LETTERS_TRAIN, PRINTED_TRAIN, load_fonts
        from ..synth.lines import SLANTED, slant

        self.images, self.labels, self.config = images, labels, config
        self.rng = np.random.default_rng(seed)
        self.fonts = load_fonts(LETTERS_TRAIN, sizes=(20, 26, 32))
        self.printed = load_fonts(PRINTED_TRAIN, sizes=(22, 28, 34)) if config.printed > 0 else []
        ones = np.flatnonzero(labels == 1)
        self.slanted = ones[slant(images[ones]) >= SLANTED] if config.hard > 0 else ones[:0]

    def sample(self) -> tuple[np.ndarray, str]:
        from ..synth import lines as linesynth

        rng, c = self.rng, self.config
        if rng.random() < c.nondigit:
            line, text = linesynth.nondigit_line(rng, self.fonts), ""
        elif c.printed > 0 and rng.random() < c.printed:  # no extra draw without printed lines, as for hard ones
            line, text = linesynth.printed_line(rng, self.printed)
        elif c.hard > 0 and rng.random() < c.hard:  # no extra draw without hard lines: seeded streams stay as they were
            line, text = linesynth.hard_line(self.images, self.labels, rng, self.slanted, c.clear_marks)
        else:
            line, text = linesynth.compose(self.images, self.labels, rng, warp=c.warp, clear_marks=c.clear_marks)
        ink = linesynth.capture(line, rng) if rng.random() < c.capture else line.astype(np.float32) / 255
        return normalize_line(ink)[0], text


def _batches(images: np.ndarray, labels: np.ndarray, config: LineConfig):
    """A torch DataLoader of padded batches: (x (B, 1, 32, W), targets, input lengths, target lengths)."""
    torch = require_torch()

    class Lines(torch.utils.data.IterableDataset):
        def __iter__(self):
            info = torch.utils.data.get_worker_info()
            stream = LineStream(images, labels, config, config.seed * 1000 + (info.id if info else 0))
            while True:
                yield [stream.sample() for _ in range(config.batch_size)]

    return torch.utils.data.DataLoader(
        Lines(), batch_size=None, num_workers=config.workers, collate_fn=collate, persistent_workers=config.workers > 0,
        prefetch_factor=4 if config.workers > 0 else None,
    )  # fmt: skip


def collate(samples: list[tuple[np.ndarray, str]]):
    """Pad lines to one width (a multiple of STRIDE) and pack the CTC targets."""
    torch = require_torch()
    width = max(s[0].shape[1] for s in samples)
    width = int(math.ceil(width / STRIDE) * STRIDE)
    x = np.zeros((len(samples), 1, LINE_HEIGHT, width), np.float32)
    for i, (line, _) in enumerate(samples):
        x[i, 0, :, : line.shape[1]] = line
    targets = [i for _, text in samples for i in _char_ids(text)]
    input_lengths = [int(math.ceil(s[0].shape[1] / STRIDE)) for s in samples]
    return (
        torch.from_numpy(x), torch.tensor(targets, dtype=torch.long),
        torch.tensor(input_lengths, dtype=torch.long), torch.tensor([len(t) for _, t in samples], dtype=torch.long),
    )  # fmt: skip


def validation_set(
    images: np.ndarray, labels: np.ndarray, n: int, seed: int, hard: float = 0.0, clear_marks: bool = False
) -> list[tuple[np.ndarray, str]]:
    """`n` fixed lines (half captured) from the given digits, for exact-line accuracy; `hard`: share of hard lines."""
    config = LineConfig(capture=0.5, nondigit=0.0, hard=hard, clear_marks=clear_marks)
    stream = LineStream(images, labels, config, seed)
    return [stream.sample() for _ in range(n)]


def exact_rate(model: Any, lines: list[tuple[np.ndarray, str]], device: str) -> float:
    """Share of `lines` whose greedy reading by the torch `model` is exactly right."""
    torch = require_torch()
    model.eval()
    right = 0
    with torch.no_grad():
        for line, text in lines:
            logits = model(torch.from_numpy(line[None, None]).to(device))[0].float().cpu().numpy()
            right += "".join(c.char for c in ctc_greedy(softmax(logits))) == text
    model.train()
    return right / max(len(lines), 1)


STYLES_SEED = 7  # the draw of the digits redrawn by `styles` (fixed: a recipe's pool is the same on every run)


def with_styles(images: np.ndarray, labels: np.ndarray, share: float) -> tuple[np.ndarray, np.ndarray]:
    """uint8 (N, 28, 28) training digits and labels (N,) with `share` of them replaced by digits redrawn as other
    writers and scans give them (`synth.writers.make`, from the same digits); N stays. No change at share 0."""
    if share <= 0:
        return images, labels
    from ..synth import writers

    drawn, drawn_labels, _ = writers.make(images, labels, int(share * len(images)), seed=STYLES_SEED)
    keep = np.random.default_rng(STYLES_SEED).permutation(len(images))[: len(images) - len(drawn)]
    return np.concatenate([drawn, images[keep]]), np.concatenate([drawn_labels, labels[keep]])


def fit_lines(config: LineConfig, progress: bool = True, train: Any = None) -> tuple[Any, dict[str, Any]]:
    """Train a line model on `train` (MNIST's training split, loaded when None); returns (torch model on CPU in
    eval mode, metrics)."""
    torch = require_torch()
    import torch.nn.functional as F

    from ..io.mnist import load_split
    from .loop import _progress, pick_device
    from .models import build

    device = pick_device(config.device)
    torch.manual_seed(config.seed)
    train = load_split("train") if train is None else train
    images, labels = with_styles(train.images[:TRAIN_DIGITS], train.labels[:TRAIN_DIGITS], config.styles)
    held = train.images[TRAIN_DIGITS:], train.labels[TRAIN_DIGITS:]
    val = validation_set(*held, config.validate, config.seed + 99, clear_marks=config.clear_marks)
    val_hard = validation_set(*held, config.validate, config.seed + 98, hard=1.0, clear_marks=config.clear_marks)
    model = build("line", classes=len(ALPHABET) + 1, width=config.width)
    before = {}
    if config.init:
        model.load_state_dict(load_line_weights(config.init, config.width))
        model = model.to(device)
        before = {"init_validation_exact_lines": exact_rate(model, val, device)}
        before["init_validation_exact_hard_lines"] = exact_rate(model, val_hard, device)
        print(f"init {config.init}: {before}")
    model = model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=config.steps, pct_start=0.15)
    start, losses = time.perf_counter(), []
    with _progress(progress) as bar:
        task = bar.add_task("Lines", total=config.steps, loss=0.0, acc=0.0)
        for step, (x, targets, in_lens, tgt_lens) in enumerate(_batches(images, labels, config)):
            if step == config.steps:
                break
            log_probs = model(x.to(device, non_blocking=True)).log_softmax(2).transpose(0, 1)  # (T, N, C)
            loss = F.ctc_loss(log_probs.float(), targets.to(device), in_lens, tgt_lens, zero_infinity=True)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            losses.append(loss.detach())
            if step % 50 == 49 or step == config.steps - 1:
                bar.update(task, completed=step + 1, loss=torch.stack(losses[-50:]).mean().item())
    seconds = time.perf_counter() - start
    accuracy, hard = exact_rate(model, val, device), exact_rate(model, val_hard, device)
    model = model.to("cpu").eval()
    metrics = {
        "validation_exact_lines": round(accuracy, 4),
        "validation_exact_hard_lines": round(hard, 4),
        "validation_lines": len(val),
        **{k: round(v, 4) for k, v in before.items()},
        "train_seconds": round(seconds, 1),
    }
    return model, metrics


def load_line_weights(model: str, width: int) -> dict[str, Any]:
    """The torch weights of saved or shipped line model `model` (a name or a path), checked to fit this recipe."""
    import json

    from safetensors.torch import load_file

    from ..errors import ModelError
    from ..store import resolve

    stem = resolve(model)
    meta = json.loads(model_files(stem)["json"].read_text())
    hparams = meta.get("architecture", {}).get("hparams", {})
    if meta.get("kind") != "line" or hparams.get("width") != width:
        raise ModelError(f"{model}: --init needs a line model of width {width}, not {meta.get('kind')} {hparams}")
    return load_file(str(model_files(stem)["safetensors"]))


def save_line_model(
    model: Any, out: str | Path, config: LineConfig, metrics: dict[str, Any], device: str, force: bool = False,
    check: list[np.ndarray] | None = None, command: str | None = None,
) -> Path:  # fmt: skip
    """Write `out`.safetensors, `out`.onnx (dynamic batch and width) and then `out`.json, once; returns the stem.

    The ONNX graph is checked against torch on the `check` lines ((32, W) float32 each) before anything is
    written, and the largest probability difference is recorded in the metrics. `command` is the recipe's
    command line (default: this process's).
    """
    from .modelio import write_weights
    from .models import count_parameters

    stem = stem_of(out)
    check_writable(stem, force)
    data = line_onnx_bytes(model)
    if check is not None:
        metrics = {**metrics, "onnx_max_probability_difference": check_line_export(model, data, check)}
    meta = {
        "name": stem.name,
        "kind": "line",
        "architecture": {
            "name": "line",
            "hparams": {"classes": len(ALPHABET) + 1, "width": config.width},
            "parameters": count_parameters(model),
        },
        "input": LINE_INPUT_CONTRACT,
        "output": {"kind": "logits (N, W/4, classes)", "blank": 0, "alphabet": ALPHABET, "stride": STRIDE},
        "training": {
            **asdict(config),
            "device": device,
            "digits": f"MNIST train[:{TRAIN_DIGITS}]",
            "command": command or shlex.join(["python", "-m", "digitrec.train.lines", *sys.argv[1:]]),
            **({"fine_tuned_from": _origin(config.init)} if config.init else {}),
        },
        "metrics": metrics,
        "digitrec_version": __version__,
        "torch_version": require_torch().__version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    write_weights(stem, model, {"onnx": data})
    write_metadata(stem, meta)
    return stem


def _origin(model: str) -> dict[str, Any]:
    """What a fine-tune started from: the model's name, weights digest, recipe command and validation figure."""
    import json

    from ..store import resolve

    meta = json.loads(model_files(resolve(model))["json"].read_text())
    return {
        "model": model,
        "safetensors_sha256": meta.get("files", {}).get("safetensors", {}).get("sha256"),
        "command": meta.get("training", {}).get("command"),
        "steps": meta.get("training", {}).get("steps"),
        "validation_exact_lines": meta.get("metrics", {}).get("validation_exact_lines"),
    }


def line_onnx_bytes(model: Any) -> bytes:
    """The line network as ONNX: input "line" (N, 1, 32, W), output "logits" (N, W/4, classes)."""
    torch = require_torch("exporting to ONNX")
    import io

    buf = io.BytesIO()
    torch.onnx.export(
        model.eval(), (torch.zeros(1, 1, LINE_HEIGHT, 64),), buf, input_names=["line"], output_names=["logits"],
        dynamic_axes={"line": {0: "batch", 3: "width"}, "logits": {0: "batch", 1: "steps"}}, opset_version=17, dynamo=False,
    )  # fmt: skip
    return buf.getvalue()


def check_line_export(model: Any, onnx: Path | bytes, lines: list[np.ndarray]) -> float:
    """Largest |probability| difference between torch and ONNX Runtime (`onnx`: a file or the graph's bytes)
    over `lines` ((32, W) float32 each)."""
    torch = require_torch()
    session = open_session(onnx)
    worst = 0.0
    with torch.no_grad():
        for line in lines:
            x = line[None, None].astype(np.float32)
            a = softmax(model(torch.from_numpy(x))[0].numpy())
            b = softmax(session.run(["logits"], {"line": x})[0][0])
            worst = max(worst, float(np.abs(a - b).max()))
    return worst


CHECK_LINES = 50  # held-out lines on which the saved ONNX graph is checked against torch
CHECK_SEED = 7


def train_and_save(
    config: LineConfig, out: str | Path, force: bool = False, progress: bool = True, command: str | None = None
) -> tuple[Path, dict[str, Any]]:
    """Train a line model with `config` and save it at `out` (checked against ONNX Runtime); (stem, metrics)."""
    check_writable(stem_of(out), force)  # before training: fail in a second, not after
    from ..io.mnist import load_split

    train = load_split("train")  # NOTE: once: its first TRAIN_DIGITS train, the rest validate and check
    model, metrics = fit_lines(config, progress, train)
    images, labels = train.images[TRAIN_DIGITS:], train.labels[TRAIN_DIGITS:]
    check = [line for line, _ in validation_set(images, labels, CHECK_LINES, CHECK_SEED)]
    stem = save_line_model(model, out, config, metrics, config.device, force, check, command)
    return stem, read_metadata(stem)["metrics"]


def main(argv: list[str] | None = None) -> None:
    """`python -m digitrec.train.lines --out STEM [--steps N] ...`: train and save a line model.

    The same as `digitrec train --lines`, kept for the recipes recorded in shipped models.
    """
    import argparse

    p = argparse.ArgumentParser(prog="python -m digitrec.train.lines", description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="model stem to write (STEM.onnx, STEM.safetensors, STEM.json)")
    p.add_argument("--force", action="store_true", help="overwrite an existing model at --out")
    for name, value in asdict(LineConfig()).items():
        flag, info = f"--{name.replace('_', '-')}", OPTION_HELP.get(name)
        if isinstance(value, bool):  # NOTE: type=bool would read "--clear-marks False" as True
            p.add_argument(flag, action="store_true", help=info)
        else:
            p.add_argument(flag, type=type(value), default=value, help=info)
    args = p.parse_args(argv)
    config = LineConfig(**{k: getattr(args, k) for k in asdict(LineConfig())})
    command = shlex.join(["python", "-m", "digitrec.train.lines", *(sys.argv[1:] if argv is None else argv)])
    stem, metrics = train_and_save(config, args.out, args.force, command=command)
    print(f"saved {stem}: {metrics}")


if __name__ == "__main__":
    try:
        main()
    except DigitrecError as e:
        sys.exit(f"error: {e}")
