"""create_app(recognizer): the FastAPI app behind `digitrec serve`.

/api/...   the REST API (server/api.py), JSON in and out, errors as {"error": "..."}
/docs      OpenAPI documentation (Swagger UI, and ReDoc at /redoc), assets served by
           the fastapi-offline package, so they work without a network
/          the drawing page (server/static/), shipped as package data, no CDN
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException

from .. import __version__
from ..errors import BadImage, DigitrecError, ModelError
from . import api
from .inputs import BodyLimit, RequestError, bad_image_status
from .registry import Registry

if TYPE_CHECKING:
    from ..read.digits import Recognizer

DEFAULT_MAX_BYTES = 10_000_000
STATIC = Path(__file__).parent / "static"


def create_app(recognizer: Recognizer, max_bytes: int = DEFAULT_MAX_BYTES) -> FastAPI:
    """The app serving `recognizer` (loaded once by the caller); bodies over `max_bytes` get a 413."""
    app = FastAPIOffline(
        title="digitrec",
        version=__version__,
        description="Read handwritten digits with a CNN trained on MNIST, and look inside it.",
        favicon_url="/favicon.svg",
        redoc_url=None,  # served by _add_redoc: the bundle as shipped loads its logo from a CDN
    )
    app.state.recognizer = recognizer
    app.state.registry = Registry(recognizer)
    app.state.model_info = {}
    app.state.max_bytes = max_bytes
    _warm_layers(recognizer)
    app.add_middleware(GZipMiddleware, minimum_size=1000)  # activations shrink to about a third
    app.add_middleware(BodyLimit, max_bytes=max_bytes)
    _add_error_handlers(app)
    app.include_router(api.router, prefix="/api", tags=["digits"])
    _add_fallbacks(app)
    _add_redoc(app)
    app.mount("/", StaticFiles(directory=STATIC, html=True), name="static")
    return app


def _add_redoc(app: FastAPI) -> None:
    """/redoc from fastapi-offline's bundle, its one CDN address (the "powered by" logo) pointed at our favicon."""
    import fastapi_offline
    from fastapi.openapi.docs import get_redoc_html
    from fastapi.responses import HTMLResponse, Response

    bundle = Path(fastapi_offline.__file__).parent / "static" / "redoc.standalone.js"
    cached: list[bytes] = []

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="digitrec - ReDoc",
            redoc_js_url="/redoc.standalone.js",
            redoc_favicon_url="/favicon.svg",
            with_google_fonts=False,
        )

    @app.get("/redoc.standalone.js", include_in_schema=False)
    async def redoc_js() -> Response:
        if not cached:
            cached.append(bundle.read_bytes().replace(b"https://cdn.redoc.ly/redoc/logo-mini.svg", b"/favicon.svg"))
        return Response(cached[0], media_type="text/javascript")


def _add_fallbacks(app: FastAPI) -> None:
    """405 (with Allow) for a known /api path asked with the wrong method, 404 for an unknown one, /favicon.ico.

    Without this the page's static mount at / would answer both with a plain 404.
    """
    methods: dict[str, set[str]] = {}
    for route in api.router.routes:
        methods.setdefault(f"/api{route.path}", set()).update(getattr(route, "methods", None) or ())

    @app.api_route(
        "/api/{rest:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
        include_in_schema=False,
    )
    async def api_fallback(request: Request, rest: str) -> JSONResponse:
        allowed = methods.get(f"/api/{rest}")
        if allowed:
            allow = ", ".join(sorted(allowed))
            return JSONResponse(
                {"error": f"{request.method} /api/{rest}: method not allowed (use {allow})"}, 405, {"Allow": allow}
            )
        return _error(404, "Not Found")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")


def _warm_layers(recognizer: Recognizer) -> None:
    # NOTE: opens the all-layers graph now, so concurrent first requests don't race to open it.
    try:
        recognizer.layer_names()
    except DigitrecError:
        pass  # a model without its .layers.onnx: /api/activations answers 503, the rest works


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestError)
    async def request_error(request: Request, e: RequestError) -> JSONResponse:
        return _error(e.status, e.message)

    @app.exception_handler(BadImage)
    async def bad_image(request: Request, e: BadImage) -> JSONResponse:
        return _error(bad_image_status(e), str(e))

    @app.exception_handler(ModelError)
    async def model_error(request: Request, e: ModelError) -> JSONResponse:
        return _error(503, str(e))

    @app.exception_handler(DigitrecError)
    async def digitrec_error(request: Request, e: DigitrecError) -> JSONResponse:
        return _error(422, str(e))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(e.detail)}, status_code=e.status_code, headers=e.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, e: RequestValidationError) -> JSONResponse:
        first = e.errors()[0] if e.errors() else {}
        return _error(422, f"{'.'.join(str(p) for p in first.get('loc', []))}: {first.get('msg', 'invalid request')}")
