"""The REST API under /api: predict, read, activations, health, models, model.

Every POST endpoint takes the same bodies (see `inputs`) and an optional `?model=NAME`
(the served model or a shipped one, see `registry`); inference runs in the thread
pool, so a slow image never blocks the event loop.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np
from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from .. import __version__
from ..image.preprocess import Prepared, prepare
from ..read.cells import read_cells
from ..read.digits import Prediction
from ..read.strings import expectation, read_digits
from . import schemas
from .explain import explain
from .inputs import RequestError, pick_page, read_source
from .layers import first_filters, layer_views, shown_layers

if TYPE_CHECKING:
    from ..read.digits import Recognizer
    from .registry import Registry

router = APIRouter()

IMAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "image": {"type": "string", "description": "base64 image file or data: URL"},
                        "array": {
                            "type": "array",
                            "description": "28 rows of 28 numbers in 0..1 or 0..255",
                            "items": {"type": "array", "items": {"type": "number"}},
                        },
                        "name": {"type": "string", "description": "echoed back as `path`"},
                    },
                }
            },
            "image/png": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
POST_ERRORS = schemas.errors(400, 404, 413, 415, 422, 503)
MODEL_QUERY = Query(
    None, description="a model name from GET /api/models (default: the model the server was started with)"
)


def _registry(request: Request) -> Registry:
    return request.app.state.registry


def _recognizer(request: Request, name: str | None = None) -> Recognizer:
    return _registry(request).get(name)


# ---------------------------------------------------------------- info


@router.get("/health", response_model=schemas.Health)
def health(request: Request) -> dict[str, Any]:
    """Liveness: the version and the served model's name."""
    return {
        "status": "ok",
        "version": __version__,
        "model": _recognizer(request).name,
    }


@router.get("/models", response_model=schemas.Models)
def models(request: Request) -> dict[str, Any]:
    """The models this server answers with: pass a name as `?model=` to any endpoint."""
    return {"models": _registry(request).describe()}


@router.post("/teach", responses=schemas.errors(400, 404, 409, 413, 422))
async def teach(request: Request, body: schemas.TeachRequest) -> dict[str, Any]:
    """Write a personal model from drawings with labels (or a sheet photo); returns its name and figures.

    The figures are those of `digitrec teach --json`: samples per digit, per-digit
    accuracy before and after (cross-validated), MNIST test before and after.
    """
    from ..errors import ModelError
    from ..teach.learn import from_images, from_sheet, merge
    from ..teach.learn import teach as run_teach
    from ..teach.personal import check_name
    from .inputs import decode_base64

    try:
        check_name(body.name, body.force)
    except ModelError as e:  # NOTE: a taken name is the client's conflict (409), not a broken server model (503)
        raise RequestError(409, str(e)) from None
    parts = []
    if body.samples:
        images = [decode_base64(s.image) for s in body.samples]
        parts.append(
            from_images(images, [s.label for s in body.samples], [f"drawing {i + 1}" for i in range(len(images))])
        )
    if body.sheet:
        parts.append(from_sheet(decode_base64(body.sheet), "sheet photo"))
    if not parts:
        raise RequestError(422, 'give "samples" (images with labels) or "sheet" (a photo of a filled sheet)')
    report = await run_in_threadpool(run_teach, merge(parts), body.name, body.base, body.force)
    _registry(request).forget(body.name)
    request.app.state.model_info.pop(body.name, None)  # a replaced model's page info (metrics) is stale
    return report.as_dict()


@router.get(
    "/teach/sheet",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "the printable teaching sheet"}},
)
def teach_sheet() -> Response:
    """The printable teaching sheet as a PNG (as `digitrec teach --sheet sheet.png`): fill it, photograph it, upload it."""
    import io

    from PIL import Image

    from ..teach.sheet import render_sheet

    buf = io.BytesIO()
    Image.fromarray(render_sheet()).save(buf, format="PNG", optimize=True)
    headers = {"Content-Disposition": 'inline; filename="digitrec-teaching-sheet.png"'}
    return Response(buf.getvalue(), media_type="image/png", headers=headers)


def model_info(recognizer: Recognizer) -> dict[str, Any]:
    """What the page needs to draw and explain a model (see `schemas.ModelInfo`)."""
    meta = recognizer.meta
    arch = meta.get("architecture", {})
    shown = shown_layers(meta)
    for i, view in enumerate(shown):
        view["last"] = i == len(shown) - 1
        view["explain"] = explain(view)
    return {
        "name": recognizer.name,
        "architecture": arch.get("name"),
        "parameters": arch.get("parameters"),
        "layers": arch.get("layers", []),
        "shown": shown,
        "metrics": meta.get("metrics", {}),
        "temperature": meta.get("temperature", 1.0),
        "outputs": (shown[-1]["output_shape"] or [10])[0] if shown else 10,
        "filters": first_filters(meta, _weights(recognizer)),
        "snapshots": meta.get("snapshots"),
    }


def _weights(recognizer: Recognizer) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    from ..store import model_files, read_metadata

    stem = recognizer.path.with_suffix("")
    try:
        read_metadata(stem, need="safetensors")  # checks its digest
    except Exception:  # noqa: BLE001 - no weights file: the page shows no filters, the rest works
        return {}
    return load_file(str(model_files(stem)["safetensors"]))


@router.get("/model", response_model=schemas.ModelInfo, responses=schemas.errors(404, 503))
def model(request: Request, model: str | None = MODEL_QUERY) -> dict[str, Any]:
    """A model: name, architecture, parameter count, layer table with explanations, metrics and history, filters."""
    recognizer = _recognizer(request, model)
    cache = request.app.state.model_info
    if recognizer.name not in cache:
        cache[recognizer.name] = model_info(recognizer)
    return cache[recognizer.name]


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


PAGE = Query(None, ge=1, description="PDF body: the page to read, from 1 (default: the first page)")
REJECT = Query(
    "normal",
    pattern="^(strict|normal|off)$",
    description="When to refuse: strict, normal or off (see `digitrec predict --help`).",
)


@router.post(
    "/predict",
    openapi_extra=IMAGE_BODY,
    response_model=None,
    responses={200: {"model": schemas.Prediction}, **POST_ERRORS},
)
async def predict(
    request: Request, model: str | None = MODEL_QUERY, reject: str = REJECT, page: int | None = PAGE
) -> dict[str, Any]:
    """Read one digit: digit (null when none, with `reason`), confidence, probabilities, preprocessed 28x28, box."""
    recognizer = _recognizer(request, model)
    source, name = await run_in_threadpool(pick_page, *await read_source(request), page)
    return await run_in_threadpool(_predict, recognizer, source, name, reject)


# ---------------------------------------------------------------- read

EXPECT = Query(
    None,
    description="a pattern each line must match: d a digit, d+ one or more, other characters as written, "
    "alternatives with | (e.g. dd/dd/dddd, ddd-dddd|ddd-ddd-dddd, d+.dd); see `digitrec read --expect`",
)


@router.post(
    "/read",
    openapi_extra=IMAGE_BODY,
    response_model=None,
    responses={200: {"model": schemas.Reading}, **POST_ERRORS},
)
async def read(
    request: Request,
    model: str | None = MODEL_QUERY,
    reject: str = REJECT,
    expect: str | None = EXPECT,
    digits_only: bool = Query(False, description="never read a separator (see `digitrec read --digits-only`)"),
    cells: bool = Query(
        False,
        description="Read forms cell by cell: fields (comb values joined) and one entry per cell with grid, row, "
        "column, box, value.",
    ),
    page: int | None = PAGE,
) -> dict[str, Any]:
    """Read every digit string in an image: text per line (separators kept), line confidence, one box per character.

    With `expect`, each line is the likeliest reading matching the pattern, or null with its reason.
    """
    expectation(expect, digits_only)  # a bad pattern is a 422 before the image is read
    recognizer = _recognizer(request, model)
    source, name = await run_in_threadpool(pick_page, *await read_source(request), page)
    reading = read_cells if cells else read_digits
    read = functools.partial(reading, expect=expect, digits_only=digits_only)
    result = await run_in_threadpool(read, recognizer, source, name, reject)
    return result.as_dict()


# ---------------------------------------------------------------- activations


def _nondigit(recognizer: Recognizer, x: np.ndarray) -> float | None:
    """P("not a digit") of one (1, 1, 28, 28) input, as the verdict uses it; None for 10-output models."""
    if recognizer.meta.get("architecture", {}).get("hparams", {}).get("classes", 10) < 11:
        return None
    return round(float(recognizer.classify(x, "off").nondigit[0]), 6)


def _activations(
    recognizer: Recognizer, source: bytes | np.ndarray, name: str | None, wanted: set[str] | None, bits: int
) -> dict[str, Any]:
    prep = prepare(source, name)
    out = prediction_fields(recognizer.predict_prepared(prep, name), prep)
    acts = recognizer.activations(prep.image[None, None])
    out["model"] = recognizer.name
    out["nondigit"] = _nondigit(recognizer, prep.image[None, None])
    out["layers"] = layer_views(recognizer.meta, acts, wanted, bits)
    return out


@router.post(
    "/activations",
    openapi_extra=IMAGE_BODY,
    response_model=None,
    responses={200: {"model": schemas.Activations}, **POST_ERRORS},
)
async def activations(
    request: Request,
    model: str | None = MODEL_QUERY,
    layers: str | None = Query(
        None, description="comma-separated layer names to send values for (default: all but ReLU)"
    ),
    bits: int = Query(
        8, description="8 or 4: values quantised with the layer's min and max (4: two per byte); 32: exact float32"
    ),
) -> dict[str, Any]:
    """The prediction plus each shown layer's output (base64), for the page's network view.

    ReLU layers carry no values: they are max(0, x) of the layer before. Send `layers` to get fewer.
    """
    if bits not in (4, 8, 32):
        raise RequestError(422, f"bits: {bits} is not 4, 8 or 32")
    wanted = {n.strip() for n in layers.split(",") if n.strip()} if layers is not None else None
    recognizer = _recognizer(request, model)
    source, name = await read_source(request)
    return await run_in_threadpool(_activations, recognizer, source, name, wanted, bits)
