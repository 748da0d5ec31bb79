"""The layers the page shows, worked out from a model's layer table (metadata `architecture.layers`).

The table records each layer's name, type, output shape and parameter count, but no
kernel sizes. For the layer types digitrec builds they follow from those numbers:

    Conv2d       parameters = k*k*c_in*c_out (+ c_out with bias)  -> kernel k, then stride and padding
    MaxPool2d    side_out = side_in / k                           -> kernel = stride = k
    BatchNorm2d, ReLU, Dropout                                    -> each cell sees the same cell below

So the window of the layer below that feeds any cell is known for any model of
conv, pool and batch-norm layers, not only `seed`. This module is the one place
that decides which layers are shown (SKIPPED_TYPES) and derives that geometry.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

INPUT_SHAPE = [1, 28, 28]
SKIPPED_TYPES = frozenset({"Dropout", "Flatten"})  # same values as the layer before them at inference
ELEMENTWISE_TYPES = frozenset({"ReLU", "BatchNorm2d", "Dropout"})
DERIVED_TYPES = frozenset({"ReLU"})  # the page computes max(0, x) from the layer before: never sent


def _conv_kernel(params: int, c_in: int, c_out: int) -> tuple[int, bool] | None:
    """(kernel side, has bias) from a Conv2d's parameter count, or None when no square kernel fits."""
    for bias in (True, False):
        rest = params - (c_out if bias else 0)
        if rest > 0 and rest % (c_in * c_out) == 0:
            k = math.isqrt(rest // (c_in * c_out))
            if k * k * c_in * c_out == rest:
                return k, bias
    return None


def _conv_stride_padding(n: int, m: int, k: int) -> tuple[int, int] | None:
    """Stride and padding that take side n to side m with kernel k: m = (n + 2p - k) // s + 1."""
    for s in (1, 2, 3):
        for p in range(k // 2 + 1):
            if (n + 2 * p - k) // s + 1 == m and n + 2 * p >= k:
                return s, p
    return None


def window(layer: dict[str, Any], below: list[int]) -> dict[str, Any] | None:
    """The window of the layer below (output shape `below`) that feeds one cell of `layer`, or None.

    {"kernel", "stride", "padding", "channels": "all" (every map below) | "same" (the same map)}
    plus "bias" for convolutions. Works for (C, H, W) layers only.
    """
    out = layer.get("output_shape") or []
    kind = layer.get("type", "")
    if len(out) != 3 or len(below) != 3:
        return None
    n, m = below[1], out[1]
    if kind in ELEMENTWISE_TYPES:
        return {"kernel": 1, "stride": 1, "padding": 0, "channels": "same"}
    if kind.startswith("Conv"):
        found = _conv_kernel(int(layer.get("parameters") or 0), below[0], out[0])
        geometry = found and _conv_stride_padding(n, m, found[0])
        if not geometry:
            return None
        return {"kernel": found[0], "stride": geometry[0], "padding": geometry[1], "channels": "all", "bias": found[1]}
    if "Pool" in kind and m and n % m == 0:
        k = n // m
        return {"kernel": k, "stride": k, "padding": 0, "channels": "same", "op": "max" if "Max" in kind else "mean"}
    return None


def shown_layers(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The shown layers, input to output: name, type, output_shape, parameters, input_shape, window.

    `window["from"]` names the shown layer that feeds this one; the last layer is the output.
    """
    table = meta.get("architecture", {}).get("layers", [])
    views: list[dict[str, Any]] = []
    below_name, below_shape = "input", list(INPUT_SHAPE)
    shape_in = list(INPUT_SHAPE)
    for layer in table:
        if layer.get("type") in SKIPPED_TYPES:
            shape_in = layer.get("output_shape") or shape_in
            continue
        view = {k: layer.get(k) for k in ("name", "type", "output_shape", "parameters")}
        view["input_shape"] = shape_in
        view["derived"] = layer.get("type") in DERIVED_TYPES
        geometry = window(layer, below_shape)
        view["window"] = dict(geometry, **{"from": below_name}) if geometry else None
        views.append(view)
        below_name, below_shape = layer["name"], layer.get("output_shape") or below_shape
        shape_in = below_shape
    return views


def encode_map(a: np.ndarray, bits: int = 8) -> dict[str, Any]:
    """float32 array -> {shape, min, max, bits, data}: quantised to 4 or 8 bits, or exact float32, base64.

    With L = 2**bits - 1 levels, value = min + q / L * (max - min), so a value errs by at most (max - min) / 2L.
    4 bits pack two values per byte, the first in the high nibble (the page uses them while a stroke is drawn).
    """
    lo, hi = float(a.min()), float(a.max())
    if bits == 32:
        data = np.ascontiguousarray(a, "<f4").tobytes()
    else:
        levels = (1 << bits) - 1
        scaled = (a - lo) / (hi - lo) * levels if hi > lo else np.zeros_like(a)
        q = np.round(scaled).astype(np.uint8).ravel()
        if bits == 4:
            q = np.pad(q, (0, len(q) % 2))
            q = (q[0::2] << 4) | q[1::2]
        data = q.tobytes()
    return {
        "shape": list(a.shape),
        "min": round(lo, 5),
        "max": round(hi, 5),
        "bits": bits,
        "data": base64.b64encode(data).decode("ascii"),
    }


def layer_views(
    meta: dict[str, Any], acts: dict[str, np.ndarray], wanted: set[str] | None = None, bits: int = 8
) -> list[dict[str, Any]]:
    """Every shown layer with its values (`encode_map`), except derived (ReLU) layers and those not `wanted`.

    Derived and unwanted layers keep their entry (geometry, no `data`) so the page can lay them out.
    """
    views = shown_layers(meta)
    for i, view in enumerate(views):
        key = view["name"] if view["name"] in acts else ("logits" if i == len(views) - 1 else None)
        send = key is not None and not view["derived"] and (wanted is None or view["name"] in wanted)
        if send:
            view.update(encode_map(acts[key][0], bits))
        else:
            view["shape"] = view["output_shape"]
    return views


def first_filters(meta: dict[str, Any], weights: dict[str, np.ndarray]) -> dict[str, Any] | None:
    """The first convolution's filters {layer, shape, weights (rounded)} from the model's tensors, or None."""
    table = meta.get("architecture", {}).get("layers", [])
    conv = next((layer["name"] for layer in table if layer.get("type", "").startswith("Conv")), None)
    w = weights.get(f"{conv}.weight") if conv else None
    if w is None or w.ndim != 4:
        return None
    return {
        "layer": conv,
        "shape": list(w.shape),
        "weights": np.round(w.astype(np.float64), 5).reshape(len(w), -1).tolist(),
    }
