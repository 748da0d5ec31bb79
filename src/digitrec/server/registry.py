"""The models one server can answer with: the one it was started with, plus the shipped ones, loaded on first use.

Clients pick one by name (`?model=seed`); only the served model, shipped names and the
user's personal models (`digitrec teach`, by name) are accepted, so a request can never
make the server open an arbitrary path.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ..errors import DigitrecError
from ..store import default_model, personal_models, shipped_models
from .inputs import RequestError

if TYPE_CHECKING:
    from ..read.digits import Recognizer


class Registry:
    """Name -> Recognizer; `get(None)` is the model the server was started with."""

    def __init__(self, served: Recognizer) -> None:
        self.served = served
        self._loaded: dict[str, Recognizer] = {served.name: served}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        """The served model first, then the shipped models, then the personal models."""
        return [self.served.name] + [n for n in shipped_models() + personal_models() if n != self.served.name]

    def get(self, name: str | None) -> Recognizer:
        """The named model, loading a shipped one once; a RequestError (404) for any other name."""
        if not name or name == self.served.name:
            return self.served
        if name not in shipped_models() + personal_models():
            raise RequestError(404, f"unknown model {name!r}: choose one of {', '.join(self.names())}")
        with self._lock:  # NOTE: two first requests for one model would otherwise load it twice
            if name not in self._loaded:
                from ..read.digits import Recognizer

                recognizer = Recognizer.load(name)
                try:
                    recognizer.layer_names()  # opens the all-layers graph under the lock, as create_app does
                except DigitrecError:
                    pass  # no .layers.onnx: /api/activations answers 503 for this model, the rest works
                self._loaded[name] = recognizer
            return self._loaded[name]

    def forget(self, name: str) -> None:
        """Drop a loaded model (a personal model just replaced), so the next request loads the new files."""
        with self._lock:
            if name != self.served.name:
                self._loaded.pop(name, None)

    def describe(self) -> list[dict[str, Any]]:
        """One entry per model: name, served (the server's own), default (the package default), loaded, personal."""
        mine = set(personal_models())
        return [
            {
                "name": n,
                "served": n == self.served.name,
                "default": n == default_model(),
                "loaded": n in self._loaded,
                "personal": n in mine,
            }
            for n in self.names()
        ]
