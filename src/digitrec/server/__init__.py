"""The web server behind `digitrec serve`: a drawing page, live layer views and a REST API.

Needs the `serve` extra (fastapi, uvicorn, python-multipart).

    >>> from digitrec import Recognizer
    >>> from digitrec.server import create_app
    >>> app = create_app(Recognizer.load("seed"))     # then: uvicorn.run(app)
"""

from __future__ import annotations

from .app import DEFAULT_MAX_BYTES, create_app

__all__ = ["DEFAULT_MAX_BYTES", "create_app"]
