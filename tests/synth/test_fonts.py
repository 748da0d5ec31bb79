"""The one font table: training and evaluation fonts are disjoint, every file exists, every use reads the table."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")  # the fonts ship with matplotlib (the train extra)

from digitrec.synth import fonts, nondigits, printed  # noqa: E402


def test_training_and_evaluation_fonts_are_disjoint():
    assert set(fonts.TRAIN_FONTS) == set(fonts.PRINTED_TRAIN) | set(fonts.LETTERS_TRAIN)
    assert set(fonts.EVAL_FONTS) == set(fonts.PRINTED_EVAL) | set(fonts.LETTERS_EVAL)
    assert not set(fonts.TRAIN_FONTS) & set(fonts.EVAL_FONTS)


@pytest.mark.parametrize("name", sorted(set(fonts.TRAIN_FONTS) | set(fonts.EVAL_FONTS)))
def test_every_font_file_exists_and_loads(name):
    assert (fonts.font_dir() / name).is_file(), name
    (font,) = fonts.load_fonts((name,), sizes=(40,))
    assert font.getbbox("7")[2] > 0


def test_the_font_lists_are_the_table_not_copies():
    """No module keeps a font list of its own: the ones training and the benches draw from are the table's."""
    assert not hasattr(nondigits, "TRAIN_FONTS") and not hasattr(nondigits, "EVAL_FONTS")
    assert not hasattr(printed, "TRAIN_FONTS") and not hasattr(printed, "EVAL_FONTS")
    assert printed.render.__defaults__[-1] is fonts.PRINTED_TRAIN


def test_evaluation_letter_fonts_draw_greek_and_symbols():
    """Non-digit evaluation draws Greek and symbols: a font without them draws empty boxes (a 0) instead."""
    from fontTools.ttLib import TTFont  # comes with matplotlib

    for name in fonts.LETTERS_EVAL:
        cmap = TTFont(str(fonts.font_dir() / name)).getBestCmap()
        missing = {c for c in nondigits.GREEK + nondigits.SYMBOLS + nondigits.LETTERS if ord(c) not in cmap}
        assert missing <= set("★☆✓"), (name, missing)  # DejaVu's serif and oblique faces lack these three
