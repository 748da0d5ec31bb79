"""The models one server can answer with: the one it was started with, plus the shipped ones, loaded on first use.

Clients pick one by name (`?model=seed`); only the served model and shipped names are
accepted, so a request can never make the server open an arbitrary path.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ..errors import DigitrecError
from ..store import default_model, shipped_models
from .inputs import RequestError

if TYPE_CHECKING:
    from ..infer import Recognizer


class Registry:
    """Name -> Recognizer; `get(None)` is the model the server was started with."""

    def __init__(self, served: Recognizer) -> None:
        self.served = served
        self._loaded: dict[str, Recognizer] = {served.name: served}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        """The served model first, then the shipped models."""
        return [self.served.name] + [n for n in shipped_models() if n != self.served.name]

    def get(self, name: str | None) -> Recognizer:
        """The named model, loading a shipped one once; a RequestError (404) for any other name."""
        if not name or name == self.served.name:
            return self.served
        if name not in shipped_models():
            raise RequestError(404, f"unknown model {name!r}: choose one of {', '.join(self.names())}")
        with self._lock:  # NOTE: two first requests for one model would otherwise load it twice
            if name not in self._loaded:
                from ..infer import Recognizer

                recognizer = Recognizer.load(name)
                try:
                    recognizer.layer_names()  # opens the all-layers graph under the lock, as create_app does
                except DigitrecError:
                    pass  # no .layers.onnx: /api/activations answers 503 for this model, the rest works
                self._loaded[name] = recognizer
            return self._loaded[name]

    def describe(self) -> list[dict[str, Any]]:
        """One entry per model: name, served (the server's own), default (the package default), loaded."""
        return [
            {"name": n, "served": n == self.served.name, "default": n == default_model(), "loaded": n in self._loaded}
            for n in self.names()
        ]
