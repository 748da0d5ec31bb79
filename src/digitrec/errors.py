"""Exceptions raised by digitrec.

    DigitrecError
     ├── DataError        MNIST/IDX files missing, corrupt or not matching their checksums
     ├── BadImage         an input image that cannot be read (missing, not an image, truncated, too large)
     │    └── ImageTooLarge   more pixels than the limit, or a decompression bomb
     ├── ModelError       a model file that is missing, does not match its metadata, or would be overwritten
     │    └── ModelNotFound
     ├── ConfigError      an option value or combination that cannot work (unknown suffix, too few images...)
     ├── OutputExists     a file would be overwritten without --force
     ├── CheckpointError  a training checkpoint that is missing, unreadable or from other settings
     ├── TrainingError    training finished below the accuracy floor asked for
     ├── ExportError      the ONNX export disagrees with torch
     └── MissingExtra     an optional dependency (e.g. torch for training) is not installed

Every message is one line that names the offending file or value, so the CLI can
print it as-is and the server can return it as a 4xx body. `EXIT_CODES` maps
each kind to the CLI's exit status (first match in the class's MRO wins).
"""

from __future__ import annotations


class DigitrecError(Exception):
    """Base class of every error digitrec raises on purpose."""


class DataError(DigitrecError):
    """A data file is missing, corrupt, truncated or fails its checksum."""


class BadImage(DigitrecError):
    """An image file or array cannot be turned into a digit picture."""


class ImageTooLarge(BadImage):
    """An image with more pixels than allowed (or a decompression bomb)."""


class ModelError(DigitrecError):
    """A model file is unusable, inconsistent with its metadata, or would be overwritten."""


class ModelNotFound(ModelError):
    """No model with the given name or path exists."""


class ConfigError(DigitrecError):
    """An option value or combination of options that cannot work."""


class OutputExists(DigitrecError):
    """A file would be overwritten, and overwriting was not asked for (--force)."""


class CheckpointError(DigitrecError):
    """A training checkpoint is missing, unreadable, or was made with other settings."""


class TrainingError(DigitrecError):
    """Training finished below the accuracy floor that was asked for."""


class ExportError(DigitrecError):
    """Exporting a model failed or produced outputs that disagree with torch."""


class MissingExtra(DigitrecError):
    """An optional dependency is needed for this command."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs {package}, which is not installed: "
            f'pip install "digitrec[{extra}]"  (or: pip install -e ".[{extra}]" in a clone)'
        )


# Exit status of the CLI per error kind: 1 = some input or the run failed, 2 = usage or configuration error.
EXIT_CODES: dict[type[DigitrecError], int] = {
    BadImage: 1,
    TrainingError: 1,
    ExportError: 1,
    DataError: 2,
    ModelError: 2,
    ConfigError: 2,
    OutputExists: 2,
    CheckpointError: 2,
    MissingExtra: 2,
    DigitrecError: 1,
}


def cannot_read(label: object, error: BaseException) -> str:
    """The one-line message for an image that failed in a way we did not foresee (the BadImage text otherwise)."""
    return f"{label}: cannot read image ({type(error).__name__}: {error})"


def exit_code(error: DigitrecError) -> int:
    """The CLI exit status for `error`: its nearest class in EXIT_CODES."""
    return next(EXIT_CODES[c] for c in type(error).__mro__ if c in EXIT_CODES)


def require_torch(purpose: str = "training"):
    """Import torch or raise MissingExtra naming the `train` extra."""
    try:
        import torch
    except ImportError:
        raise MissingExtra("torch", "train", purpose) from None
    return torch
