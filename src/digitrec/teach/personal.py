"""Personal models on disk: a base model with its last dense layer replaced, written without torch or onnx.

A personal model is a model like any other (STEM.json, STEM.safetensors,
STEM.onnx, STEM.layers.onnx in `store.personal_dir()`), so every command reads
it. Its graphs are its base's graphs byte for byte except the dense layer's
weight and bias: those tensors are stored as raw little-endian float32 in the
ONNX protobuf, so the new values (same shapes, same byte length) are written
over the old ones. That needs neither the `onnx` package (train extra) nor a
graph rebuild, keeps the base's speed exactly, and `write_personal` checks
the patched graph's logits against numpy before keeping it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, ModelError, ModelNotFound
from ..store import (
    atomic_write,
    check_writable,
    model_files,
    personal_dir,
    personal_models,
    shipped_models,
    write_metadata,
)
from .head import Head

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
GRAPH_TOLERANCE = 1e-3  # largest |logit| difference between the patched graph and numpy's dense layer


def dense_keys(meta: dict[str, Any]) -> tuple[str, str]:
    """The safetensors keys of the last layer (the dense one a personal model re-fits): (weight, bias)."""
    last = meta["architecture"]["layers"][-1]
    if last.get("type") != "Linear":
        raise ModelError(f"{meta.get('name')}: its last layer is a {last.get('type')}, not a dense layer to re-fit")
    return f"{last['name']}.weight", f"{last['name']}.bias"


def load_head(stem: Path, meta: dict[str, Any]) -> Head:
    """The dense layer of model `stem` from its safetensors weights."""
    from safetensors.numpy import load_file

    weight, bias = dense_keys(meta)
    tensors = load_file(str(model_files(stem)["safetensors"]))
    return Head(tensors[weight].astype(np.float32), tensors[bias].astype(np.float32))


def check_name(name: str, force: bool) -> Path:
    """The stem a personal model called `name` is written to; raises when the name is unusable or taken."""
    if not NAME_PATTERN.fullmatch(name or ""):
        raise ConfigError(f"model name {name!r}: use 1-64 letters, digits, - or _ (starting with a letter or digit)")
    if name in shipped_models() + shipped_models("line"):
        raise ModelError(f"{name}: a shipped model's name; shipped models are read-only, choose another name")
    stem = personal_dir() / name
    if name in personal_models() and not force:
        raise ModelError(f"{name}: a personal model of that name exists ({stem}.json); pass --force to replace it")
    check_writable(stem, force)
    return stem


def patch_graph(data: bytes, old: Head, new: Head, label: str) -> bytes:
    """ONNX bytes with the tensors of `old` replaced by those of `new` (same shapes); each must occur once."""
    for before, after in ((old.weight, new.weight), (old.bias, new.bias)):
        a = np.ascontiguousarray(before, "<f4").tobytes()
        b = np.ascontiguousarray(after, "<f4").tobytes()
        if data.count(a) != 1:
            raise ModelError(f"{label}: the dense layer's {before.shape} tensor is not stored once as raw float32")
        data = data.replace(a, b)
    return data


def _check_graph(data: bytes, head: Head, images: np.ndarray, features: np.ndarray, label: str) -> None:
    from ..read.session import open_session

    session = open_session(data)
    logits = session.run(["logits"], {"image": images})[0]
    diff = float(np.abs(logits - head.logits(features)).max())
    if diff > GRAPH_TOLERANCE:
        raise ModelError(f"{label}: the patched graph differs from the new dense layer by {diff:.1e} in logits")


def write_personal(
    stem: Path,
    base_stem: Path,
    base_meta: dict[str, Any],
    head: Head,
    meta: dict[str, Any],
    check: tuple[np.ndarray, np.ndarray],
) -> Path:
    """Write personal model `stem` from its base and new `head`; `check` = (images (K,1,28,28), their features).

    Files are written atomically, the JSON last (with the digests), so a
    crash never leaves a model whose JSON describes missing files.
    """
    from safetensors.numpy import load_file, save_file

    old = load_head(base_stem, base_meta)
    base_files, files = model_files(base_stem), model_files(stem)
    for kind in ("onnx", "layers"):
        if not base_files[kind].is_file():
            continue
        data = patch_graph(base_files[kind].read_bytes(), old, head, str(base_files[kind]))
        _check_graph(data, head, *check, str(base_files[kind]))
        atomic_write(files[kind], lambda tmp, data=data: tmp.write_bytes(data))
    tensors = load_file(str(base_files["safetensors"]))
    weight, bias = dense_keys(base_meta)
    tensors[weight], tensors[bias] = head.weight, head.bias
    atomic_write(files["safetensors"], lambda tmp: save_file(tensors, str(tmp), metadata={"format": "pt"}))
    write_metadata(stem, meta)
    return stem


def remove_personal(name: str) -> list[Path]:
    """Delete personal model `name`'s files; returns them. Shipped models cannot be removed."""
    if name in shipped_models() + shipped_models("line"):
        raise ModelError(f"{name}: a shipped model; only personal models can be removed")
    if name not in personal_models():
        known = ", ".join(personal_models()) or "none"
        raise ModelNotFound(f"{name}: no personal model of that name (personal models: {known})")
    files = [p for p in model_files(personal_dir() / name).values() if p.exists()]
    json_file = model_files(personal_dir() / name)["json"]
    json_file.unlink()  # NOTE: the JSON first: a half-removed model is then simply absent, never half-listed
    for p in files:
        if p != json_file:
            p.unlink()
    return files
