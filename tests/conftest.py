"""Shared fixtures: real MNIST, the real shipped model, digits drawn with Pillow. No mocks."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "images"


@pytest.fixture(scope="session")
def test_split():
    from digitrec.io.mnist import load_split

    return load_split("test")


@pytest.fixture(scope="session")
def seed_recognizer():
    from digitrec import Recognizer

    return Recognizer.load("seed")


def draw_seven(size=(200, 160), box=(60, 20, 140, 140), width=10, ink=0, paper=255, mode="L") -> Image.Image:
    """A pen-drawn 7 (dark on light by default) inside `box` of a `size` canvas."""
    img = Image.new(mode, size, paper)
    x0, y0, x1, y1 = box
    ImageDraw.Draw(img).line([(x0, y0), (x1, y0), (x0 + (x1 - x0) * 0.35, y1)], fill=ink, width=width, joint="curve")
    return img


def sample_digit(name: str) -> int:
    """images/<kind>-<digit>.<ext> -> digit."""
    return int(Path(name).stem.rsplit("-", 1)[1])


@pytest.fixture
def mnist_png(tmp_path, test_split):
    """The first MNIST test digit (a 7) written as a PNG file."""
    path = tmp_path / "seven.png"
    Image.fromarray(test_split.images[0]).save(path)
    assert test_split.labels[0] == 7
    return path


def center_of_mass(a: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(a.shape)
    return float((ys * a).sum() / a.sum()), float((xs * a).sum() / a.sum())


@pytest.fixture
def two_images(tmp_path):
    """A folder of two images: a single digit and a line of four."""
    d = tmp_path / "in"
    d.mkdir()
    for name in ("mnist-7.png", "multi-2026.png"):
        shutil.copy(IMAGES / name, d / name)
    return d


class Crash(Exception):
    """A training run killed after its first epoch (`crash_after_first_epoch`)."""


def crash_after_first_epoch(fit, config, data, stem) -> None:
    """Run `fit` (`digitrec.train.loop.fit`) checkpointing at `stem`, killed by Crash once epoch 1 is saved."""

    def crash(epoch_result):
        if epoch_result.epoch == 1:
            raise Crash

    with pytest.raises(Crash):
        fit(config, data=data, progress=False, checkpoint=stem, on_epoch=crash)


def printed(text: str, font: str = "DejaVuSans.ttf", size: int = 48, pad: int = 20) -> Image.Image:
    """`text` printed black on white in one of matplotlib's own fonts (no font from the system)."""
    from PIL import ImageFont

    from digitrec.synth.fonts import font_dir

    f = ImageFont.truetype(str(font_dir() / font), size)
    left, top, right, bottom = f.getbbox(text)
    img = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 255)
    ImageDraw.Draw(img).text((pad - left, pad - top), text, fill=0, font=f)
    return img


def clean_string(split, rng: np.random.Generator, lengths: tuple[int, int] = (3, 7)) -> tuple[str, Image.Image]:
    """A clean string of `split`'s digits on paper (gray), 2-10 px apart, its length in [lo, hi): (truth, picture)."""
    from digitrec.synth import paper as synth

    idx = rng.integers(0, len(split.images), int(rng.integers(*lengths)))
    line = synth.digit_line(split.images[idx], [int(g) for g in rng.integers(2, 11, len(idx) - 1)], rng)
    return "".join(str(d) for d in split.labels[idx]), synth.on_paper(line, 3.0).convert("L")
