"""Shifted held-out digits, and calibrating a saved model on them.

Thresholds set on clean MNIST alone refuse every real shift in writer or
capture. So a model is calibrated on genuine digits it never trained on, made
to look like the digits users bring, each passed through `preprocess.prepare`
as a user's image would be:

    clean     held-out MNIST training digits as they are
    photo     the same digits photographed on paper (`synth.photo`)
    lowres    the same digits scanned at 8-14 px and enlarged, dark on light
    pen       rotated, with thinner or heavier strokes
    printed   typed digits in the training fonts (`digitrec.synth.printed`)
    binarised, boxfilled, soft8, pen, broken, styles
              other writers and capture chains (`digitrec.synth.writers`)

The set is built from MNIST train[55000:60000] (the strong model's `--holdout`)
and cached as an .npz under the user's cache folder. MNIST test and optdigits
are never used here: they are for evaluation only.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from ..image.preprocess import prepare
from ..store import atomic_write

HELD_OUT = 5000  # MNIST train[-HELD_OUT:]
SHIFTED = {"photo": 1200, "lowres": 1200, "pen": 1200, "printed": 1000, "writers": 600}  # writers: per kind
VERSION = 2  # bump when the recipe below changes, so caches are rebuilt


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "digitrec"


def _mnist_form(img: Image.Image | np.ndarray) -> np.ndarray:
    a = np.asarray(img, np.float32) / 255.0
    return np.round(prepare(a).image * 255).astype(np.uint8)


def _lowres(ink: np.ndarray, rng: np.random.Generator) -> Image.Image:
    side = int(rng.integers(8, 15))
    small = Image.fromarray(ink).resize((side, side), Image.BOX)
    resample = Image.NEAREST if rng.random() < 0.5 else Image.BILINEAR
    return Image.fromarray(255 - np.asarray(small.resize((112, 112), resample)))


def _pen(ink: np.ndarray, rng: np.random.Generator) -> Image.Image:
    big = Image.fromarray(ink).resize((84, 84), Image.BILINEAR).rotate(rng.uniform(-15, 15), resample=Image.BILINEAR)
    k = int(rng.choice([3, 5, 7]))
    return big.filter(ImageFilter.MaxFilter(k) if rng.random() < 0.6 else ImageFilter.MinFilter(3))


def build(images: np.ndarray, labels: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Held-out digits uint8 (N, 28, 28) + labels -> (images uint8 (M, 28, 28), labels (M,), kind names (M,))."""
    from . import paper as synth
    from . import printed
    from . import writers as writerstyles

    rng = np.random.default_rng(seed)
    out_x, out_y, out_k = [images], [labels.astype(np.int64)], ["clean"] * len(images)
    makers = {"photo": synth.photo, "lowres": _lowres, "pen": _pen}
    for kind, make in makers.items():
        pick = rng.choice(len(images), SHIFTED[kind], replace=False)
        out_x.append(np.stack([_mnist_form(make(images[i], rng).convert("L")) for i in pick]))
        out_y.append(labels[pick].astype(np.int64))
        out_k += [kind] * len(pick)
    for kind in writerstyles.MAKERS:
        pool = np.flatnonzero(np.isin(labels, list(writerstyles.STYLE_EDITS))) if kind == "styles" else len(images)
        pick = rng.choice(pool, SHIFTED["writers"], replace=False)
        pictures, kept = writerstyles.render(images[pick], labels[pick], kind, rng)
        out_x.append(np.stack([writerstyles.to_mnist(p) for p in pictures]))
        out_y.append(kept.astype(np.int64))
        out_k += [kind] * len(kept)
    typed, typed_labels = printed.make(SHIFTED["printed"], seed=seed + 7)
    out_x.append(typed)
    out_y.append(typed_labels)
    out_k += ["printed"] * len(typed)
    return np.concatenate(out_x), np.concatenate(out_y), np.array(out_k)


def load(data_dir: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The shifted calibration set (built once, then read from the cache): images, labels, kinds."""
    from ..io.mnist import dataset_checksums, load_split

    key = hashlib.sha256(f"{VERSION}{dataset_checksums(data_dir)}".encode()).hexdigest()[:12]
    path = cache_dir() / f"calibration-{key}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as f:
            return f["images"], f["labels"], f["kinds"]
    train = load_split("train", data_dir)
    images, labels, kinds = build(train.images[-HELD_OUT:], train.labels[-HELD_OUT:])
    try:
        atomic_write(path, lambda tmp: np.savez_compressed(open(tmp, "wb"), images=images, labels=labels, kinds=kinds))
    except OSError:
        pass  # a read-only home: build again next time
    return images, labels, kinds
