"""One ONNX Runtime session factory: every model digitrec runs is opened here, with the same settings.

>>> from digitrec.read.session import open_session
>>> session = open_session("model.onnx", threads=2)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import ModelError

MOST_THREADS = 4  # default intra-op threads: more gives little on these small models and starves decoding workers
QUIET = 3  # ORT log level "error": its warnings about unused initializers are noise to a user


def default_threads() -> int:
    """Intra-op threads when the caller names none: the CPU count, at most MOST_THREADS."""
    return min(os.cpu_count() or 1, MOST_THREADS)


def open_session(model: str | Path | bytes, threads: int | None = None) -> Any:
    """An `onnxruntime.InferenceSession` on CPU for `model` (a path or the ONNX bytes), `threads` intra-op threads.

    One model at a time per session (inter-op 1), and idle threads sleep at
    once: by default ORT threads spin for a while, and in bulk reading the
    decoding workers need that CPU. A file ORT cannot load is a ModelError
    naming it.
    """
    import onnxruntime as ort  # lazy: `--help` and the training side never load it

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or default_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = QUIET
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    source = model if isinstance(model, bytes) else str(model)
    try:
        return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - ORT raises its own exception types
        name = "the ONNX bytes" if isinstance(model, bytes) else model
        raise ModelError(f"{name}: ONNX Runtime cannot load it ({e})") from None
