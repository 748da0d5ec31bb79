"""The REST API under /api: predict, read, activations, health, model.

Every POST endpoint takes the same bodies (see `inputs`); inference runs in the
thread pool, so a slow image never blocks the event loop.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from .. import __version__
from ..infer import Prediction
from ..preprocess import Prepared, prepare
from .inputs import read_source

if TYPE_CHECKING:
    from ..infer import Recognizer

router = APIRouter()

SKIPPED_TYPES = {"Dropout", "Flatten"}  # same values as the layer before them at inference
PATCH_ARCHITECTURES = {"seed"}  # valid padding, stride 1 convolutions: kernel = input side - output side + 1
IMAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}, "required": ["file"]}
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "image": {"type": "string", "description": "base64 image file or data: URL"},
                        "array": {"type": "array", "description": "28 rows of 28 numbers in 0..1 or 0..255", "items": {"type": "array", "items": {"type": "number"}}},
                        "name": {"type": "string", "description": "echoed back as `path`"},
                    },
                }
            },
            "image/png": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _recognizer(request: Request) -> Recognizer:
    return request.app.state.recognizer


def read_digits_function() -> Callable[..., Any] | None:
    """`digitrec.segment.read_digits` when this build has it, else None."""
    try:
        from ..segment import read_digits
    except ImportError:
        return None
    return read_digits


# ---------------------------------------------------------------- info


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    """Liveness: the loaded model's name and which optional endpoints work."""
    return {"status": "ok", "version": __version__, "model": _recognizer(request).name, "read": read_digits_function() is not None}


@router.get("/model")
def model(request: Request) -> dict[str, Any]:
    """The loaded model: name, architecture, parameter count, layer table, metrics."""
    meta = _recognizer(request).meta
    arch = meta.get("architecture", {})
    return {
        "name": _recognizer(request).name,
        "architecture": arch.get("name"),
        "parameters": arch.get("parameters"),
        "layers": arch.get("layers", []),
        "metrics": meta.get("metrics", {}),
        "temperature": meta.get("temperature", 1.0),
    }


# ---------------------------------------------------------------- predict


def prediction_fields(pred: Prediction, prep: Prepared) -> dict[str, Any]:
    """`Prediction.as_dict()` plus the 28x28 image the network saw and the ink's box."""
    out = pred.as_dict()
    out["preprocessed"] = np.round(prep.image.astype(np.float64), 3).tolist()
    out["box"] = list(prep.box) if prep.box is not None else None
    return out


def _predict(recognizer: Recognizer, source: bytes | np.ndarray, name: str | None, reject: str) -> dict[str, Any]:
    prep = prepare(source, name)
    return prediction_fields(recognizer.predict_prepared(prep, name, reject), prep)


REJECT = Query("normal", pattern="^(strict|normal|off)$", description="When to refuse: strict, normal or off (see `digitrec predict --help`).")


@router.post("/predict", openapi_extra=IMAGE_BODY)
async def predict(request: Request, reject: str = REJECT) -> dict[str, Any]:
    """Read one digit: digit (null when none, with `reason`), confidence, probabilities, preprocessed 28x28, box."""
    source, name = await read_source(request)
    return await run_in_threadpool(_predict, _recognizer(request), source, name, reject)


# ---------------------------------------------------------------- read


@router.post("/read", openapi_extra=IMAGE_BODY)
async def read(request: Request, reject: str = REJECT) -> dict[str, Any]:
    """Read every digit string in an image: text per line (separators kept), line confidence, one box per character."""
    from .inputs import RequestError

    read_digits = read_digits_function()
    if read_digits is None:
        raise RequestError(501, "multi-digit reading (digitrec.segment.read_digits) is not available in this build")
    source, name = await read_source(request)
    result = await run_in_threadpool(read_digits, _recognizer(request), source, name, reject)
    return result.as_dict()


# ---------------------------------------------------------------- activations


def encode_map(a: np.ndarray) -> dict[str, Any]:
    """float32 array -> {shape, min, max, data}: uint8 base64, value = min + q / 255 * (max - min)."""
    lo, hi = float(a.min()), float(a.max())
    scaled = (a - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(a)
    q = np.round(scaled).astype(np.uint8)
    return {"shape": list(a.shape), "min": round(lo, 5), "max": round(hi, 5), "data": base64.b64encode(q.tobytes()).decode("ascii")}


def layer_views(meta: dict[str, Any], acts: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """One entry per shown layer (model-summary fields + encoded values), input to output.

    For architectures with known geometry, conv and pool entries carry `patch`:
    which layer feeds them and the window (kernel, stride) each output cell sees.
    """
    arch = meta.get("architecture", {})
    table = arch.get("layers", [])
    views: list[dict[str, Any]] = []
    below, below_side = "input", 28
    for i, layer in enumerate(table):
        if layer.get("type") in SKIPPED_TYPES:
            continue
        key = layer["name"] if layer["name"] in acts else ("logits" if i == len(table) - 1 else None)
        if key is None:
            continue
        view = {k: layer.get(k) for k in ("name", "type", "output_shape", "parameters")}
        view.update(encode_map(acts[key][0]))
        shape = layer.get("output_shape") or []
        if arch.get("name") in PATCH_ARCHITECTURES and len(shape) == 3:
            side = shape[1]
            if layer["type"].startswith("Conv"):
                view["patch"] = {"from": below, "kernel": below_side - side + 1, "stride": 1, "channels": "all"}
            elif "Pool" in layer["type"]:
                k = below_side // side
                view["patch"] = {"from": below, "kernel": k, "stride": k, "channels": "same"}
        views.append(view)
        below, below_side = layer["name"], (shape[1] if len(shape) == 3 else below_side)
    return views


def _activations(recognizer: Recognizer, source: bytes | np.ndarray, name: str | None) -> dict[str, Any]:
    prep = prepare(source, name)
    out = prediction_fields(recognizer.predict_prepared(prep, name), prep)
    acts = recognizer.activations(prep.image[None, None])
    out["layers"] = layer_views(recognizer.meta, acts)
    return out


@router.post("/activations", openapi_extra=IMAGE_BODY)
async def activations(request: Request) -> dict[str, Any]:
    """The prediction plus every layer's output, each quantised to uint8 (base64) with its min and max."""
    source, name = await read_source(request)
    return await run_in_threadpool(_activations, _recognizer(request), source, name)
