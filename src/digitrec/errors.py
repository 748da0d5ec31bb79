"""Exceptions raised by digitrec.

    DigitrecError
     ├── DataError        MNIST/IDX files missing, corrupt or not matching their checksums
     ├── BadImage         an input image that cannot be read (missing, not an image, truncated, too large)
     ├── ModelError       a model file that is missing, does not match its metadata, or would be overwritten
     │    └── ModelNotFound
     ├── ExportError      the ONNX export disagrees with torch
     └── MissingExtra     an optional dependency (e.g. torch for training) is not installed

Every message is one line that names the offending file or value, so the CLI can
print it as-is and the server can return it as a 4xx body.
"""

from __future__ import annotations


class DigitrecError(Exception):
    """Base class of every error digitrec raises on purpose."""


class DataError(DigitrecError):
    """A data file is missing, corrupt, truncated or fails its checksum."""


class BadImage(DigitrecError):
    """An image file or array cannot be turned into a digit picture."""


class ModelError(DigitrecError):
    """A model file is unusable, inconsistent with its metadata, or would be overwritten."""


class ModelNotFound(ModelError):
    """No model with the given name or path exists."""


class ExportError(DigitrecError):
    """Exporting a model failed or produced outputs that disagree with torch."""


class MissingExtra(DigitrecError):
    """An optional dependency is needed for this command."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs {package}, which is not installed: "
            f'pip install "digitrec[{extra}]"  (or: pip install -e ".[{extra}]" in a clone)'
        )


def require_torch(purpose: str = "training"):
    """Import torch or raise MissingExtra naming the `train` extra."""
    try:
        import torch
    except ImportError:
        raise MissingExtra("torch", "train", purpose) from None
    return torch
