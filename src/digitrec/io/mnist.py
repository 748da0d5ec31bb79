"""Read MNIST from IDX files into uint8 numpy arrays, verifying every byte.

The package carries its own copy of MNIST in `digitrec/mnist/` (package data, so
a clone and an installed wheel both have it; see its README for provenance and
licence). `load_mnist()` checks the SHA-256 of each `.gz` file
against `SHA256SUMS` and validates the IDX header (magic number, dimensions,
length) before returning anything, so a corrupt or truncated download is a
clear `DataError`, never silently wrong training data.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError

FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
SIZES = {"train": 60_000, "test": 10_000}
IMAGE_MAGIC = 0x00000803
LABEL_MAGIC = 0x00000801


@dataclass(frozen=True)
class Split:
    """One MNIST split: images uint8 (N, 28, 28) with 0 = background, 255 = ink; labels uint8 (N,) in 0..9."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


PACKAGED = Path(__file__).resolve().parent.parent / "mnist"


def default_data_dir() -> Path:
    """Where MNIST is looked for: $DIGITREC_DATA, else the copy inside the package (`digitrec/mnist`)."""
    env = os.environ.get("DIGITREC_DATA")
    return Path(env) if env else PACKAGED


def read_checksums(data_dir: Path) -> dict[str, str]:
    """Parse `SHA256SUMS` (`<hex>  <name>` lines) into {name: hex}."""
    sums_file = data_dir / "SHA256SUMS"
    if not sums_file.is_file():
        raise DataError(f"{sums_file}: checksum file missing (is --data pointing at an MNIST copy?)")
    sums = {}
    for line in sums_file.read_text().splitlines():
        if line.strip():
            digest, name = line.split()
            sums[name.lstrip("*")] = digest.lower()
    return sums


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def parse_idx(raw: bytes, magic: int, name: str = "<bytes>") -> np.ndarray:
    """Decode one uncompressed IDX file of unsigned bytes.

    Checks the magic number, that the header declares the dimensions the magic
    promises, and that the payload is exactly as long as the dimensions say.
    Returns uint8 of shape (count,) for labels or (count, rows, cols) for images.
    """
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{name}: truncated IDX header ({len(raw)} bytes)")
    (found,) = struct.unpack(">I", raw[:4])
    if found != magic:
        raise DataError(f"{name}: bad IDX magic number 0x{found:08x}, expected 0x{magic:08x}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise DataError(f"{name}: IDX payload is {len(raw)} bytes, header dims {dims} need {expected}")
    # NOTE: a writable copy: torch.from_numpy warns on (and must not share) read-only buffers.
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims).copy()


def _read_gz(path: Path, expected_sha: str | None) -> bytes:
    if not path.is_file():
        raise DataError(f"{path}: file missing")
    if expected_sha is not None and sha256_file(path) != expected_sha:
        raise DataError(f"{path}: SHA-256 does not match SHA256SUMS (corrupt or replaced file)")
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"{path}: cannot decompress ({e})") from None


def load_split(split: str = "train", data_dir: str | Path | None = None, verify: bool = True) -> Split:
    """Load one split ("train" or "test") as uint8 arrays, checksummed and validated."""
    if split not in FILES:
        raise DataError(f"unknown split {split!r}; use 'train' or 'test'")
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    if not data_dir.is_dir():
        raise DataError(f"{data_dir}: MNIST directory not found (pass --data DIR or set DIGITREC_DATA)")
    sums = read_checksums(data_dir) if verify else {}
    image_name, label_name = FILES[split]
    for name in (image_name, label_name):
        if verify and name not in sums:
            raise DataError(f"{data_dir / 'SHA256SUMS'}: no checksum for {name}")
    images = parse_idx(_read_gz(data_dir / image_name, sums.get(image_name)), IMAGE_MAGIC, image_name)
    labels = parse_idx(_read_gz(data_dir / label_name, sums.get(label_name)), LABEL_MAGIC, label_name)
    if images.shape[1:] != (28, 28):
        raise DataError(f"{image_name}: images are {images.shape[1:]}, expected (28, 28)")
    if len(images) != len(labels):
        raise DataError(f"{data_dir}: {len(images)} images but {len(labels)} labels in {split}")
    if labels.size and labels.max() > 9:
        raise DataError(f"{label_name}: label {labels.max()} outside 0..9")
    return Split(images, labels)


def load_mnist(data_dir: str | Path | None = None, verify: bool = True) -> tuple[Split, Split]:
    """Load (train, test): uint8 images (N, 28, 28) and uint8 labels (N,), 60,000 and 10,000 of them."""
    return load_split("train", data_dir, verify), load_split("test", data_dir, verify)


def dataset_checksums(data_dir: str | Path | None = None) -> dict[str, str]:
    """The SHA-256 of each MNIST file, recorded in model metadata so a model names its data."""
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    return read_checksums(data_dir)
