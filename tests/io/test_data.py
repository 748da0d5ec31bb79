import gzip
import shutil
import struct

import numpy as np
import pytest

from digitrec.errors import DataError
from digitrec.io.mnist import IMAGE_MAGIC, LABEL_MAGIC, default_data_dir, load_mnist, load_split, parse_idx


def idx_images(n: int, rows: int = 28, cols: int = 28) -> bytes:
    return (
        struct.pack(">IIII", IMAGE_MAGIC, n, rows, cols)
        + bytes(range(256)) * (n * rows * cols // 256)
        + bytes(n * rows * cols % 256)
    )


def test_load_mnist_returns_uint8_arrays_with_canonical_counts():
    train, test = load_mnist()
    assert train.images.shape == (60_000, 28, 28) and train.images.dtype == np.uint8
    assert test.images.shape == (10_000, 28, 28) and test.labels.dtype == np.uint8
    assert np.bincount(test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert train.labels[:5].tolist() == [5, 0, 4, 1, 9] and test.labels[:5].tolist() == [7, 2, 1, 0, 4]


def test_parse_idx_reads_good_bytes():
    raw = idx_images(3)
    a = parse_idx(raw, IMAGE_MAGIC)
    assert a.shape == (3, 28, 28) and a.dtype == np.uint8
    labels = parse_idx(struct.pack(">II", LABEL_MAGIC, 4) + bytes([1, 2, 3, 9]), LABEL_MAGIC)
    assert labels.tolist() == [1, 2, 3, 9]


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"\x00\x00", "truncated IDX header"),
        (struct.pack(">IIII", 0x0803 + 1, 1, 28, 28) + bytes(784), "bad IDX magic"),
        (idx_images(2)[:-10], "payload"),
        (idx_images(2) + b"extra", "payload"),
    ],
)
def test_parse_idx_rejects_corrupt_bytes(raw, message):
    with pytest.raises(DataError, match=message):
        parse_idx(raw, IMAGE_MAGIC, "x.idx")


@pytest.fixture
def mnist_copy(tmp_path):
    target = tmp_path / "mnist"
    shutil.copytree(default_data_dir(), target)
    for p in target.iterdir():
        p.chmod(0o644)
    return target


def test_checksum_mismatch_is_reported_with_file_name(mnist_copy):
    f = mnist_copy / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(f.read_bytes())
    data[-20] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz: SHA-256 does not match"):
        load_split("test", mnist_copy)


def test_truncated_file_with_matching_checksum_is_still_caught(mnist_copy):
    # Rewrite a shorter label file and its checksum: the IDX length check must catch it.
    f = mnist_copy / "t10k-labels-idx1-ubyte.gz"
    raw = gzip.decompress(f.read_bytes())[:-100]
    f.write_bytes(gzip.compress(raw))
    from digitrec.io.mnist import sha256_file

    sums = (mnist_copy / "SHA256SUMS").read_text().splitlines()
    sums = [f"{sha256_file(f)}  {f.name}" if ln.endswith(f.name) else ln for ln in sums]
    (mnist_copy / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    with pytest.raises(DataError, match="payload"):
        load_split("test", mnist_copy)


def test_missing_directory_names_the_option(tmp_path):
    with pytest.raises(DataError, match="--data"):
        load_split("test", tmp_path / "nowhere")


def test_missing_file_is_reported(mnist_copy):
    (mnist_copy / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz: file missing"):
        load_split("test", mnist_copy)
