"""Torch -> ONNX export, checked against torch on real digits."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import __version__
from ..errors import ExportError, require_torch
from ..store import INPUT_CONTRACT, LABELS, atomic_write

if TYPE_CHECKING:
    from torch import nn


def check_exportable(model: str | Path | None) -> None:
    """Refuse, in one line, a model `export` cannot rebuild: a line model (its graph takes lines of any width,
    not 28x28 digits; the ONNX file it ships with is already standalone, with a dynamic width)."""
    from ..errors import ModelError
    from ..store import model_files, read_metadata, resolve

    stem = resolve(model)
    meta = read_metadata(stem, need="onnx")
    if meta.get("kind", "digit") != "digit":
        raise ModelError(
            f"{model}: a {meta['kind']} model; export writes single-digit models. Its own ONNX file is already "
            f'standalone (input "line" float32 (N, 1, 32, W), any width W): {model_files(stem)["onnx"]}'
        )


OPSET = 17
# How a program outside digitrec turns the "logits" output into digitrec's answers (metadata_props).
FORMULAS = {
    "digitrec.output": "logits (N, C): C = 10 digits, or 11 with a last 'not a digit' class",
    "digitrec.temperature_formula": "probabilities = softmax(logits[:, :10] / temperature)",
    "digitrec.rejection_formula": (
        "not a digit when energy = logsumexp(logits[:, :10]) < rejection.energy_threshold, "
        "or (11 outputs) softmax(logits)[:, 10] > rejection.nondigit_threshold"
    ),
}


def labels_for(classes: int) -> list:
    """The label of each output: the digits 0-9, then "not a digit" for an 11th class."""
    return [*LABELS, *(["not a digit"] if classes > len(LABELS) else [])]


def _with_layers(model: nn.Sequential) -> tuple[nn.Module, list[str]]:
    """Wrap a Sequential so it returns (logits, output of every layer but the last), and name those outputs."""
    torch = require_torch()

    class Layers(torch.nn.Module):
        def __init__(self, seq: nn.Sequential) -> None:
            super().__init__()
            self.seq = seq

        def forward(self, x):
            outs = []
            for layer in list(self.seq)[:-1]:
                x = layer(x)
                outs.append(x)
            return (self.seq[-1](x), *outs)

    names = [f"layer.{name}" for name, _ in model.named_children()][:-1]
    return Layers(model), ["logits", *names]


def onnx_bytes(model: nn.Module, metadata: dict[str, Any] | None = None, layers: bool = False) -> bytes:
    """Serialise `model` (eval mode, CPU, float32) to ONNX with a dynamic batch axis.

    Input "image" (N, 1, 28, 28) float32 in [0, 1]; output "logits" (N, 10) float32.
    With `layers`, also one output "layer.<name>" per layer of the Sequential, for
    visualisation; that graph is ~2x slower (ONNX Runtime cannot fuse across an
    output), so it is a separate file, loaded only when activations are asked for.
    The preprocessing contract, labels and `metadata` go into the graph's metadata_props,
    so the file is usable outside digitrec.
    """
    torch = require_torch("exporting to ONNX")
    import onnx

    model = model.to("cpu", memory_format=torch.contiguous_format).eval()
    with torch.no_grad():
        classes = int(model(torch.zeros(1, *INPUT_CONTRACT["shape"])).shape[1])
    outputs = ["logits"]
    if layers:
        model, outputs = _with_layers(model)
    buf = io.BytesIO()
    # NOTE: the TorchScript exporter: the dynamo one needs onnxscript tracing and is ~10x slower here.
    torch.onnx.export(
        model,
        (torch.zeros(1, *INPUT_CONTRACT["shape"]),),
        buf,
        input_names=["image"],
        output_names=outputs,
        dynamic_axes={name: {0: "batch"} for name in ["image", *outputs]},
        opset_version=OPSET,
        dynamo=False,
    )
    graph = onnx.load_from_string(buf.getvalue())
    props = {
        "digitrec.input": json.dumps(INPUT_CONTRACT),
        "digitrec.labels": json.dumps(labels_for(classes)),
        **FORMULAS,
        "digitrec.version": __version__,
    }
    for key, value in (metadata or {}).items():
        props[f"digitrec.{key}"] = value if isinstance(value, str) else json.dumps(value)
    for key, value in props.items():
        graph.metadata_props.add(key=key, value=value)
    return graph.SerializeToString()


STANDALONE_FIELDS = ("name", "architecture", "temperature", "rejection", "metrics")  # what a standalone .onnx carries


def standalone_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    """The fields of a model's metadata that `digitrec export` writes into the .onnx: no training history."""
    extra = {k: meta[k] for k in STANDALONE_FIELDS if k in meta}
    extra["metrics"] = {k: v for k, v in extra.get("metrics", {}).items() if k != "history"}
    return extra


def write_onnx(
    model: nn.Module, path: str | Path, metadata: dict[str, Any] | None = None, layers: bool = False
) -> Path:
    """Export `model` to `path` atomically; returns the path."""
    path = Path(path)
    data = onnx_bytes(model, metadata, layers)
    atomic_write(path, lambda tmp: tmp.write_bytes(data))
    return path


def max_probability_difference(model: nn.Module, onnx_path: str | Path, images: np.ndarray, batch: int = 1000) -> float:
    """Largest |p_torch - p_onnx| over `images` uint8 (N, 28, 28): the two runtimes must agree."""
    torch = require_torch("checking an export")
    from ..read.session import open_session

    session = open_session(onnx_path)
    model = model.to("cpu").eval()
    worst = 0.0
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = images[i : i + batch, None].astype(np.float32) / 255.0
            p_torch = torch.softmax(model(torch.from_numpy(x)), 1).numpy()
            logits = session.run(["logits"], {"image": x})[0]
            p_onnx = np.exp(logits - logits.max(1, keepdims=True))
            p_onnx /= p_onnx.sum(1, keepdims=True)
            worst = max(worst, float(np.abs(p_torch - p_onnx).max()))
    return worst


def check_export(model: nn.Module, onnx_path: str | Path, images: np.ndarray, tolerance: float = 1e-4) -> float:
    """Raise ExportError when ONNX Runtime and torch disagree by more than `tolerance` in probability."""
    diff = max_probability_difference(model, onnx_path, images)
    if diff > tolerance:
        raise ExportError(
            f"{onnx_path}: ONNX Runtime differs from torch by {diff:.2e} in probability (> {tolerance:.0e})"
        )
    return diff
