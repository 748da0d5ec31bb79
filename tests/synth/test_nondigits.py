"""The "not a digit" training pictures contain nothing a person would read as a digit.

A closed oval is a 0 and a single straight stroke is a 1: training either as
"not a digit" teaches the network to refuse plain digits (the European 0s and
1s that were refused). Checked on the pictures as the network sees them, after
`prepare` has cropped them (a crop can leave one line of a hatching).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

pytest.importorskip("matplotlib")  # the fonts of the letter kinds

from digitrec.synth import nondigits  # noqa: E402
from digitrec.synth.nondigits import is_closed_oval, is_single_stroke  # noqa: E402

SAMPLES = 1500


def test_the_checks_catch_a_zero_and_a_one() -> None:
    ring = np.zeros((28, 28), np.uint8)
    cv2.ellipse(ring, (14, 14), (6, 9), 0, 0, 360, 255, 2)
    bar = np.zeros((28, 28), np.uint8)
    cv2.line(bar, (13, 4), (15, 23), 255, 2)
    flat = np.zeros((28, 28), np.uint8)
    cv2.line(flat, (4, 14), (23, 15), 255, 2)  # a dash is no digit: it may stay a non-digit
    assert is_closed_oval(ring) and not is_single_stroke(ring)
    assert is_single_stroke(bar) and not is_closed_oval(bar)
    assert not is_single_stroke(flat)


def test_no_training_kind_is_a_ring_or_a_single_stroke() -> None:
    images, kinds = nondigits.make(SAMPLES, seed=3)
    rings = [k for im, k in zip(images, kinds) if is_closed_oval(im)]
    strokes = [k for im, k in zip(images, kinds) if is_single_stroke(im)]
    assert not rings, f"rings among training non-digits: {sorted(set(rings))} ({len(rings)})"
    assert not strokes, f"single strokes among training non-digits: {sorted(set(strokes))} ({len(strokes)})"


def test_no_training_kind_draws_rings_or_strokes_often() -> None:
    """The redraw in `make` is a guard, not the design: the raw kinds are rarely a 0 or a 1 once cropped."""
    import importlib

    prepare = importlib.import_module("digitrec.image.preprocess").prepare
    pictures, kinds = nondigits.render(600, seed=5)
    crops = [np.round(prepare(p.astype(np.float32) / 255).image * 255).astype(np.uint8) for p in pictures]
    bad = [k for im, k in zip(crops, kinds) if nondigits.is_digit_like(im)]
    assert len(bad) <= 12, f"kinds often cropped to a 0 or a 1: {sorted(set(bad))} ({len(bad)} of 600)"


def test_evaluation_kinds_are_kept_apart() -> None:
    assert set(nondigits.kinds("train")).isdisjoint(nondigits.kinds("eval"))
