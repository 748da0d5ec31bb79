"""The hard lines the line model is fine-tuned on, and `train_lines --init`. Real MNIST digits, real shipped models."""

from __future__ import annotations

import numpy as np
import pytest

from digitrec.read.lines import ALPHABET
from digitrec.synth import lines as linesynth


def test_hard_text_is_in_the_alphabet_and_crowds_ones():
    rng = np.random.default_rng(0)
    texts = [linesynth.hard_text(rng) for _ in range(400)]
    assert all(t and set(t) <= set(ALPHABET) for t in texts)
    digits = "".join(ch for t in texts for ch in t if ch.isdigit())
    assert digits.count("1") > 0.3 * len(digits)  # 1s are the point
    assert sum(len(t) <= 3 for t in texts) > 20  # short lines are a share
    assert any("/" in t for t in texts) and any(":" in t for t in texts) and any("-" in t for t in texts)


def test_slanted_style_draws_only_slanted_ones(test_split):
    images, labels = test_split.images[:3000], test_split.labels[:3000]
    ones = np.flatnonzero(labels == 1)
    slanted = ones[linesynth.slant(images[ones]) >= linesynth.SLANTED]
    upright = ones[linesynth.slant(images[ones]) < 0.05]
    style = linesynth.Style(slanted=slanted, slanted_share=1.0)
    for seed in range(6):
        part = linesynth._digit_part(images, labels, 1, 24.0, np.random.default_rng(seed), style)
        assert part.shape[0] == linesynth.ROW and part.max() > 0
    assert len(upright) and len(slanted)


def test_warped_digits_keep_their_ink_whole_and_change_shape(test_split):
    rng = np.random.default_rng(0)
    for image in test_split.images[:20]:
        warped = linesynth.warp_digit(image, rng)
        room = linesynth.WARP_ROOM
        assert warped.shape == (28 + 2 * room, 28 + 2 * room)
        edge = np.concatenate([warped[0], warped[-1], warped[:, 0], warped[:, -1]])
        assert edge.max() == 0  # nothing pushed off the picture
        assert 0.7 < warped.astype(float).sum() / image.astype(float).sum() < 1.4  # the same strokes, reshaped
        assert not np.array_equal(linesynth._digit_crop(warped), linesynth._digit_crop(image))


def test_lines_without_warp_are_drawn_as_before(test_split):
    """The shipped model's seeded recipe: warp 0 makes no extra random draw, so the same seed draws the same line."""
    images, labels = test_split.images[:3000], test_split.labels[:3000]
    plain, _ = linesynth.compose(images, labels, np.random.default_rng(5))
    again, _ = linesynth.compose(images, labels, np.random.default_rng(5), warp=0.0)
    warped, _ = linesynth.compose(images, labels, np.random.default_rng(5), warp=1.0)
    assert np.array_equal(plain, again) and not np.array_equal(plain, warped)


def test_flag_adds_ink_at_the_top_of_a_one(test_split):
    for i in np.flatnonzero(test_split.labels == 1)[:10]:
        crop = linesynth._digit_crop(test_split.images[i])
        flagged = linesynth._flag(crop, np.random.default_rng(int(i)))
        third = crop.shape[0] // 3
        assert flagged.shape[0] == crop.shape[0] and flagged.shape[1] >= crop.shape[1]
        assert (flagged[:third] > 0).sum() > (crop[:third] > 0).sum()  # the flag is up there
        assert (flagged[-third:] > 0).sum() == (crop[-third:] > 0).sum()  # the foot is untouched


def test_thin_separators_have_less_ink():
    def ink(thin: bool) -> float:
        rng = np.random.default_rng(1)
        return float(np.mean([linesynth._separator("/", 24.0, rng, thin)[0].sum() for _ in range(50)]))

    assert ink(True) < 0.7 * ink(False)


def test_tight_style_overlaps_more_than_the_usual_mix(test_split):
    images, labels = test_split.images, test_split.labels
    widths = {}
    for tight in (False, True):
        style = linesynth.Style(tight=tight)
        widths[tight] = np.mean(
            [linesynth.compose(images, labels, np.random.default_rng(s), "48174", style)[0].shape[1] for s in range(30)]
        )
    assert widths[True] < widths[False]


def test_hard_line_text_matches_what_was_drawn(test_split):
    rng = np.random.default_rng(3)
    ones = np.flatnonzero(test_split.labels == 1)
    for _ in range(20):
        line, text = linesynth.hard_line(test_split.images, test_split.labels, rng, ones)
        assert line.dtype == np.uint8 and line.shape[0] == linesynth.ROW and line.max() > 0
        assert 1 <= len(text) <= 14


def test_init_loads_the_shipped_line_model_and_refuses_a_digit_model():
    pytest.importorskip("torch")
    from digitrec.errors import ModelError
    from digitrec.train.lines import load_line_weights
    from digitrec.train.models import build

    model = build("line", classes=len(ALPHABET) + 1, width=32)
    model.load_state_dict(load_line_weights("line", 32))  # strict: every weight fits
    with pytest.raises(ModelError, match="line model"):
        load_line_weights("seed", 32)


def test_clear_marks_keep_every_dot_apart_from_the_digits(test_split):
    import cv2

    def merged(clear: bool, seed: int) -> bool:
        """Whether the dot of "0.5" shares a connected stroke with a digit (3 strokes or more when apart)."""
        line, _ = linesynth.compose(
            test_split.images, test_split.labels, np.random.default_rng(seed), "0.5", clear_marks=clear
        )
        count, *_ = cv2.connectedComponentsWithStats((line > 60).astype(np.uint8), connectivity=8)
        return count - 1 < 3

    assert any(merged(False, seed) for seed in range(40))  # the usual gaps overlap: a dot can hide in a digit
    assert not any(merged(True, seed) for seed in range(40))
    same = [
        linesynth.compose(test_split.images, test_split.labels, np.random.default_rng(1), "12", clear_marks=c)[0]
        for c in (False, True)
    ]
    assert np.array_equal(*same)  # digits only: drawn as before


def test_printed_lines_draw_their_text_in_a_training_font():
    from digitrec.synth.fonts import PRINTED_TRAIN, load_fonts

    fonts = load_fonts(PRINTED_TRAIN[:2], sizes=(28,))
    rng = np.random.default_rng(4)
    for _ in range(10):
        line, text = linesynth.printed_line(rng, fonts)
        assert text and set(text) <= set(ALPHABET) and line.dtype == np.uint8 and line.shape[0] == linesynth.ROW
        cols = np.flatnonzero(line.max(0) > 128)
        assert cols.size and cols[-1] - cols[0] >= 8 * len(text)  # every character takes room: none was dropped
