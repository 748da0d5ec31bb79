"""Base-model features that teaching replays and scores against, computed once per base model and cached.

`bank(recognizer)` holds:

- replay: features of REPLAY_PER_DIGIT MNIST *training* digits of each class
  (a seeded sample of train[:REPLAY_FROM], the part every shipped model
  trained on; train[REPLAY_FROM:] stays free for tuning teaching) and of
  REPLAY_NONDIGITS font-free non-digit pictures (`digitrec.synth.nondigits`
  shapes, grids, scribbles, ...; class 10), which the new dense layer must keep
  reading as before;
- test: features of the 10,000 MNIST test digits, only to *report* the
  change a personal model makes on MNIST: nothing is fitted, weighted or
  chosen on them (MNIST test is evaluation-only in this project).

The cache is one safetensors file in `store.user_home()/cache`, named by the
SHA-256 of the base's `.layers.onnx`, so a retrained base gets a fresh bank.
Building it takes a few seconds (mostly the 10,000 test digits); later
teaching reads it in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..store import atomic_write, user_home

if TYPE_CHECKING:
    from ..read.digits import Recognizer

REPLAY_PER_DIGIT = 600  # MNIST training digits per class replayed (200 forgot 0.1-0.3 points more on train[55000:])
REPLAY_FROM = 55_000  # replay digits come from train[:REPLAY_FROM]; the models' --holdout 5000 keeps the rest out
REPLAY_SOURCE = "mnist-train"  # recorded in the cache's metadata, and checked by the tests
REPLAY_NONDIGITS = 400  # non-digit pictures replayed (class 10), for models with that class
NONDIGIT_KINDS = ("shape", "grid", "smudge", "scribble", "face", "blob", "hatching", "noise", "nested")
SEED = 0
VERSION = 3  # bump when what goes into the bank changes (2: non-digits that crop to a 0 or a 1 left out; 3: 600 per digit from train[:55000], indices kept)


@dataclass(frozen=True)
class Bank:
    """Replay features float32 (R, D) and labels int64 (R,); MNIST test features float32 (10000, D) and labels.

    `replay_index` int64 (R,): the MNIST *training* index of each replayed
    digit, -1 for a non-digit picture; `source`: where the replay came from.
    """

    replay_features: np.ndarray
    replay_labels: np.ndarray
    test_features: np.ndarray
    test_labels: np.ndarray
    replay_index: np.ndarray
    source: str = REPLAY_SOURCE

    @property
    def replay(self) -> tuple[np.ndarray, np.ndarray]:
        return self.replay_features, self.replay_labels


def cache_path(recognizer: Recognizer) -> Path:
    digest = recognizer.meta.get("files", {}).get("layers", {}).get("sha256", "unknown")
    return user_home() / "cache" / f"replay-v{VERSION}-{digest[:16]}.safetensors"


def features(recognizer: Recognizer, images: np.ndarray, batch: int = 64) -> np.ndarray:
    """float32 (N, 28, 28) in [0, 1] -> float32 (N, D): the input of the model's last dense layer."""
    session = recognizer._layers()
    name = session.get_outputs()[-1].name  # NOTE: .layers.onnx outputs every layer but the last, in order
    x = np.ascontiguousarray(images, np.float32)[:, None]
    parts = [session.run([name], {"image": x[i : i + batch]})[0] for i in range(0, len(x), batch)]
    dim = session.get_outputs()[-1].shape[-1]
    return np.concatenate(parts).reshape(len(x), -1) if parts else np.zeros((0, dim), np.float32)


def nondigit_images(n: int, seed: int = SEED) -> np.ndarray:
    """`n` font-free non-digit pictures in MNIST form, float32 (n, 28, 28) in [0, 1] (no matplotlib needed)."""
    from ..image.preprocess import prepare
    from ..synth import nondigits

    rng = np.random.default_rng(seed)
    makers = [getattr(nondigits, k) for k in NONDIGIT_KINDS]
    out = np.zeros((n, 28, 28), np.float32)
    for i in range(n):
        picture = np.asarray(makers[i % len(makers)](rng), np.float32) / 255.0
        out[i] = prepare(picture).image
        if nondigits.is_digit_like(np.round(out[i] * 255).astype(np.uint8)):  # cropped to a 0 or a 1: no non-digit
            out[i] = prepare(np.asarray(nondigits.grid(rng), np.float32) / 255.0).image
    return out


def replay_indices(train_labels: np.ndarray) -> np.ndarray:
    """The MNIST training indices replayed: REPLAY_PER_DIGIT of each digit from train[:REPLAY_FROM], seeded."""
    rng = np.random.default_rng(SEED)
    pool = train_labels[:REPLAY_FROM]
    return np.concatenate([rng.choice(np.flatnonzero(pool == d), REPLAY_PER_DIGIT, replace=False) for d in range(10)])


def _replay_images(classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Replay pictures float32 (R, 28, 28), labels int64 (R,) and MNIST training index (-1: non-digit)."""
    from ..io.mnist import load_split

    train = load_split("train")
    idx = replay_indices(train.labels)
    images = train.images[idx].astype(np.float32) / 255.0
    labels = train.labels[idx].astype(np.int64)
    if classes > 10:
        images = np.concatenate([images, nondigit_images(REPLAY_NONDIGITS)])
        labels = np.concatenate([labels, np.full(REPLAY_NONDIGITS, 10, np.int64)])
        idx = np.concatenate([idx, np.full(REPLAY_NONDIGITS, -1)])
    return images, labels, idx.astype(np.int64)


def build(recognizer: Recognizer) -> Bank:
    """Compute the bank for `recognizer`'s model (seconds)."""
    from ..io.mnist import load_split

    classes = len(recognizer.meta.get("output", {}).get("labels", range(10)))
    classes = max(classes, int(recognizer.meta["architecture"].get("hparams", {}).get("classes", 10)))
    images, labels, index = _replay_images(classes)
    test = load_split("test")  # NOTE: measured only (TeachReport's MNIST figures), never fitted on
    return Bank(
        features(recognizer, images),
        labels,
        features(recognizer, test.images.astype(np.float32) / 255.0),
        test.labels.astype(np.int64),
        index,
    )


def bank(recognizer: Recognizer, note=None) -> Bank:
    """The cached bank of `recognizer`'s model, built (and `note(message)` called) on first use."""
    from safetensors.numpy import load_file, save_file

    path = cache_path(recognizer)
    if path.is_file():
        try:
            t = load_file(str(path))
            return Bank(
                t["replay_features"], t["replay_labels"], t["test_features"], t["test_labels"], t["replay_index"]
            )
        except Exception:  # noqa: BLE001 - a damaged cache is rebuilt, never trusted
            pass
    if note:
        note(f"computing {recognizer.name}'s feature bank once (MNIST replay and test), cached in {path.parent}")
    b = build(recognizer)
    tensors = {k: np.ascontiguousarray(v) for k, v in b.__dict__.items() if isinstance(v, np.ndarray)}
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata={"replay_source": b.source}))
    return b
