"""Turn a request body into an image source, or a RequestError naming what was wrong.

Accepted bodies (all POST endpoints take the same three forms, plus a raw image):

    multipart/form-data         field `file`: an image file
    application/json            {"image": "<base64 PNG/JPEG or data: URL>"} or {"array": [[28 x 28 numbers]]}
    image/*, application/octet-stream   the image file itself

Bodies are read through `BodyLimit`, which stops reading at `max_bytes`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import BadImage, ImageTooLarge

ARRAY_SIDE = 28
DATA_URL = re.compile(r"^data:[\w/+.-]*(;[\w=.-]+)*;base64,", re.IGNORECASE)


class RequestError(Exception):
    """A client error: the HTTP status and a one-line message for the JSON body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BodyTooLarge(RequestError):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request body too large (limit {max_bytes:,} bytes)")


class BodyLimit:
    """ASGI middleware: refuse bodies over `max_bytes`, by Content-Length up front or while streaming.

    A declared length over the limit is answered here without reading anything;
    a chunked or understated body raises BodyTooLarge from `receive` as soon as
    the count passes the limit, which the app's handler turns into a 413.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            error = BodyTooLarge(self.max_bytes)
            response = JSONResponse({"error": error.message}, status_code=413, headers={"Connection": "close"})
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited, send)


def pick_page(source: Any, name: str | None, page: int | None) -> tuple[Any, str | None]:
    """The `page`th page (from 1) of a PDF body as a Pillow image, named "NAME#page=N"; any other source as it is.

    Without `page` a PDF reads as its first page (as `digitrec predict scan.pdf`). Raises RequestError (422)
    for a page asked of a body that is no PDF, BadImage for a page the PDF lacks or without the `pdf` extra.
    """
    from ..io.documents import is_pdf, page_name, render_pdf_page

    if page is None:
        return source, name
    if not (isinstance(source, bytes) and is_pdf(source)):
        raise RequestError(422, f"page={page}: only a PDF body has pages")
    label = name or "upload.pdf"
    return render_pdf_page(source, page, label), page_name(label, page)


async def read_source(request: Request) -> tuple[bytes | np.ndarray, str | None]:
    """The image in a request body -> (encoded image bytes or float32 (28, 28) array in [0, 1], name)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        return await _from_form(request)
    if kind == "application/json" or kind.endswith("+json"):
        return _from_json(await request.body())
    if kind.startswith("image/") or kind == "application/octet-stream":
        body = await request.body()
        if not body:
            raise RequestError(400, "empty request body: expected an image")
        return body, None
    raise RequestError(
        415,
        f"unsupported content type {kind or '(none)'!r}: send multipart/form-data with a `file` field, "
        'JSON {"image": base64} or {"array": [[...]]}, or the image itself as image/*',
    )


async def _from_form(request: Request) -> tuple[bytes, str | None]:
    try:
        form = await request.form(max_files=1, max_fields=8)
    except RequestError:
        raise
    except Exception as e:  # noqa: BLE001 - python-multipart raises several types for a malformed body
        raise RequestError(400, f"malformed multipart body ({e})") from None
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise RequestError(422, "multipart body has no file in field `file`")
    data = await upload.read()
    if not data:
        raise RequestError(422, f"{upload.filename or 'file'}: empty file")
    return data, upload.filename or None


def _from_json(body: bytes) -> tuple[bytes | np.ndarray, str | None]:
    try:
        doc: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RequestError(400, "request body is not valid JSON") from None
    if not isinstance(doc, dict) or ("image" in doc) == ("array" in doc):
        raise RequestError(422, 'JSON body must be an object with exactly one of "image" (base64) or "array" (28x28)')
    name = doc.get("name") if isinstance(doc.get("name"), str) else None
    if "image" in doc:
        return decode_base64(doc["image"]), name
    return parse_array(doc["array"]), name


def decode_base64(value: Any) -> bytes:
    """A base64 string, optionally a `data:image/png;base64,...` URL -> the encoded image bytes."""
    if not isinstance(value, str) or not value.strip():
        raise RequestError(422, '"image" must be a non-empty base64 string or data: URL')
    text = DATA_URL.sub("", value.strip(), count=1)
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise RequestError(422, '"image" is not valid base64') from None


def parse_array(value: Any) -> np.ndarray:
    """28 rows of 28 numbers in [0, 1] or [0, 255] -> float32 (28, 28) in [0, 1]."""
    try:
        a = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise RequestError(422, '"array" must be 28 rows of 28 numbers') from None
    if a.shape != (ARRAY_SIDE, ARRAY_SIDE):
        raise RequestError(422, f'"array" has shape {a.shape}: expected 28 rows of 28 numbers')
    if not np.isfinite(a).all() or a.min() < 0 or a.max() > 255:
        raise RequestError(422, '"array" values must be finite numbers in 0..1 or 0..255')
    return a / 255.0 if a.max() > 1.0 else a


def bad_image_status(error: BadImage) -> int:
    """413 for images too large to decode safely (pixel limits, decompression bombs), 422 for anything else."""
    return 413 if isinstance(error, ImageTooLarge) else 422
