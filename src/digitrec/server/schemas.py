"""Response and error schemas for the OpenAPI document (/openapi.json, /docs, /redoc).

They document what the endpoints return; the endpoints still return plain dicts, so a
field added to `Prediction.as_dict` reaches clients without a change here (extra="allow").
The fields of `Prediction` and `Reading` that are also results-file columns come from
the row spec, `digitrec.io.rows`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..io import rows


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Error(BaseModel):
    """Every 4xx and 5xx answer."""

    error: str = Field(
        description="one line: what was wrong, e.g. 'bad.png: not an image (cannot identify image file)'"
    )


class Health(Open):
    status: str = Field(examples=["ok"])
    version: str
    model: str = Field(description="the model the server was started with")


class ModelEntry(BaseModel):
    name: str
    served: bool = Field(description="the model the server was started with (used when no `model` is given)")
    default: bool = Field(description="the package's default model")
    loaded: bool
    personal: bool = Field(False, description="a personal model written by `digitrec teach` or POST /api/teach")


class TeachSample(BaseModel):
    image: str = Field(description="base64 image file or data: URL of one digit")
    label: int = Field(ge=0, le=9)


class TeachRequest(BaseModel):
    name: str = Field(description="the personal model to write (letters, digits, - and _)")
    base: str | None = Field(None, description="the model to start from (default: the server's default model)")
    force: bool = Field(False, description="replace a personal model of the same name")
    samples: list[TeachSample] = Field([], description="drawings with their digit; three or more of each digit")
    sheet: str | None = Field(None, description="base64 photo of a filled teaching sheet (digitrec teach --sheet)")


class Models(BaseModel):
    models: list[ModelEntry]


class LayerInfo(Open):
    name: str
    type: str = Field(examples=["Conv2d"])
    output_shape: list[int]
    input_shape: list[int]
    parameters: int
    window: dict[str, Any] | None = Field(
        None, description="the window of layer `from` that feeds one cell: kernel, stride, padding, channels (all|same)"
    )
    explain: dict[str, str] = Field(description="plain sentences: what, shape, parameters")


class ModelInfo(Open):
    name: str
    architecture: str | None
    parameters: int | None
    layers: list[dict[str, Any]] = Field(description="the metadata's layer table, every layer")
    shown: list[LayerInfo] = Field(description="the layers the page draws, input to output")
    metrics: dict[str, Any] = Field(description="test accuracy and loss; `history`: one entry per training epoch")
    temperature: float
    outputs: int = Field(description="10, or 11 for a model with a 'not a digit' class")
    filters: dict[str, Any] | None = Field(None, description="the first convolution's learned filters (shape, values)")
    snapshots: dict[str, Any] | None = Field(
        None, description="the first convolution's filters after each epoch, when recorded"
    )


def row_fields(kind: str, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields of a `kind` row from the row spec (`digitrec.io.rows`), for `create_model`; `optional` ones may be
    absent (the rest are always there, null or not). The error field is left out: an error is an Error answer."""
    out = {}
    for name in rows.fields(kind):
        if name != "error":
            spec = rows.BY_NAME[name]
            default = None if name in optional else ...
            out[name] = (rows.python_type(spec.type), Field(default, description=spec.doc))
    return out


# NOTE: the row fields come from the row spec, the same that writes results files; the rest are the API's own.
Prediction = create_model(
    "Prediction",
    __base__=Open,
    __doc__="One digit read from an upload.",
    **row_fields("predict", optional=("path", "best_digit", "best_probability", "reason")),
    preprocessed=(list[list[float]], Field(description="the 28x28 image the network saw, 0..1")),
    box=(list[int] | None, Field(description="[left, top, right, bottom] of the ink, in the image's pixels")),
)


class Layer(Open):
    name: str
    type: str
    shape: list[int]
    min: float | None = None
    max: float | None = None
    bits: int | None = Field(
        None,
        description="8 or 4: q, value = min + q/(2**bits-1)*(max-min), 4 bits two per byte high nibble first; "
        "32: little-endian float32",
    )
    data: str | None = Field(
        None, description="base64 values, row-major; absent for ReLU layers (max(0, layer before))"
    )


class Activations(Prediction):
    model: str
    nondigit: float | None = Field(None, description="probability of the 'not a digit' output, for 11-output models")
    layers: list[Layer]


Reading = create_model(
    "Reading",
    __base__=Open,
    __doc__="Every digit string read in an upload.",
    **row_fields("read", optional=("path",)),
    expect=(str | None, Field(None, description="the pattern asked for, if any")),
    digits_only=(bool, Field(False, description="whether separators were never read")),
)


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` entry documenting `statuses` as Error bodies."""
    words = {
        400: "malformed body",
        404: "unknown model",
        405: "method not allowed",
        413: "body or image too large",
        415: "unsupported content type",
        422: "unreadable image or invalid JSON fields",
        501: "not available in this build",
        503: "model files missing or damaged",
    }
    return {s: {"model": Error, "description": words.get(s, "error")} for s in statuses}
