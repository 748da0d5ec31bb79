"""`digitrec serve`: the drawing page and the REST API (the server package), on a socket bound first."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..errors import ConfigError
from .common import MODEL_HELP

if TYPE_CHECKING:
    import socket


@click.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Interface to listen on (0.0.0.0: every interface)."
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--model", default=None, help=MODEL_HELP)
@click.option(
    "--max-bytes",
    type=click.IntRange(1),
    default=10_000_000,
    show_default=True,
    help="Largest request body accepted; bigger ones get a 413.",
)
def serve(host: str, port: int, model: str | None, max_bytes: int) -> None:
    """Serve the drawing page, live layer views and the REST API (needs digitrec[serve]).

    \b
    Open http://127.0.0.1:8000/ to draw digits; the API is under /api, its docs at /docs:
      curl -F file=@images/mnist-7.png http://127.0.0.1:8000/api/predict
    """
    try:
        import fastapi  # noqa: F401
        import fastapi_offline  # noqa: F401
        import uvicorn
    except ImportError as e:
        from ..errors import MissingExtra

        raise MissingExtra(e.name or "fastapi", "serve", "digitrec serve") from None
    from ..read.digits import Recognizer
    from ..server import create_app

    app = create_app(Recognizer.load(model), max_bytes=max_bytes)
    sock = _listen(host, port)  # NOTE: bound before saying "serving", so a busy port is an error, not a lie
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"digitrec: serving model {app.state.recognizer.name} at http://{shown}:{port}/  (API docs: /docs; Ctrl+C stops)"
    )
    uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning")).run(sockets=[sock])


def _listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port (ConfigError when taken or not allowed); uvicorn listens on it."""
    import socket

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {e.strerror or e}; is another server running? pick another --port"
        ) from None
    return sock
