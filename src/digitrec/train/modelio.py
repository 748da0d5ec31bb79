"""Torch weights in and out of the model store: write a trained network as a digitrec model, load one back.

The store (`digitrec.store`) names the files and reads their metadata without
torch; this module is its torch side, for training and export only, so the
reading path never imports it.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import __version__
from ..errors import require_torch
from ..store import INPUT_CONTRACT, check_writable, model_files, read_metadata, stem_of, write_metadata

if TYPE_CHECKING:
    from torch import nn

CHECK_SAMPLE = 500  # test images on which a saved ONNX graph is checked against torch


def write_model(
    model: nn.Module,
    out: str | Path,
    meta: dict[str, Any],
    force: bool = False,
    check_images: np.ndarray | None = None,
) -> Path:
    """Write `out`.safetensors, `out`.onnx, `out`.layers.onnx and then `out`.json; returns the stem.

    Each file is written atomically. The ONNX graph is checked against torch on
    up to CHECK_SAMPLE of `check_images` (uint8 (N, 28, 28)) when given, and the
    largest probability difference is recorded in the metrics.
    """
    from .export import check_export, onnx_bytes

    stem = stem_of(out)
    check_writable(stem, force)
    model = model.to("cpu").eval()
    arch = {"architecture": meta["architecture"]["name"]}
    write_weights(stem, model, {"onnx": onnx_bytes(model, arch), "layers": onnx_bytes(model, arch, layers=True)})
    meta = _model_metadata(model, stem, meta)
    if check_images is not None:
        # NOTE: an evenly spaced 500 of them: agreement is a numerical property, and all 10,000
        # made the check the slowest step after training (seconds on 2 cores).
        sample = check_images[:: max(1, len(check_images) // CHECK_SAMPLE)][:CHECK_SAMPLE]
        diff = check_export(model, model_files(stem)["onnx"], sample)
        meta["metrics"] = {**meta.get("metrics", {}), "onnx_max_probability_difference": diff}
    write_metadata(stem, meta)
    return stem


def write_weights(stem: Path, model: nn.Module, graphs: dict[str, bytes]) -> None:
    """Write `stem`.safetensors and each ONNX graph of `graphs` ("onnx", "layers": its bytes), each atomically.

    The JSON (`store.write_metadata`) is the caller's last step: it records these files' digests.
    """
    from safetensors.torch import save_file

    from ..store import atomic_write

    files = model_files(stem)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    atomic_write(files["safetensors"], lambda tmp: save_file(state, str(tmp), metadata={"format": "pt"}))
    for kind, data in graphs.items():
        atomic_write(files[kind], lambda tmp, data=data: tmp.write_bytes(data))


def _model_metadata(model: nn.Module, stem: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """`meta` completed with what every model's JSON holds: name, input contract, outputs, layers, version, date."""
    from .export import labels_for
    from .models import count_parameters, layer_shapes

    meta = {
        "name": stem.name,
        **meta,
        "input": INPUT_CONTRACT,
        "output": {
            "kind": "logits",
            "labels": labels_for(int(meta["architecture"].get("hparams", {}).get("classes", 10))),
        },
        "temperature": meta.get("temperature", 1.0),
        "digitrec_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    layers = [
        {"name": name, "type": kind, "output_shape": list(shape), "parameters": params}
        for name, kind, shape, params in layer_shapes(model)
    ]
    meta["architecture"] = {**meta["architecture"], "parameters": count_parameters(model), "layers": layers}
    return meta


def load_torch(model: str | Path | None = None) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the torch network of a saved or shipped model from its safetensors weights."""
    require_torch("loading torch weights")
    from safetensors.torch import load_file

    from ..store import resolve
    from .models import build

    stem = resolve(model)
    meta = read_metadata(stem, need="safetensors")
    net = build(meta["architecture"]["name"], **meta["architecture"].get("hparams", {}))
    net.load_state_dict(load_file(str(model_files(stem)["safetensors"])))
    return net.eval(), meta


__all__ = ["CHECK_SAMPLE", "load_torch", "write_model", "write_weights"]
