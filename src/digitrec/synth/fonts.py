"""The one table of fonts: which draw training pictures and which are kept for evaluation, never both.

All are fonts matplotlib ships (DejaVu, STIX, Computer Modern; `font_dir`). Training draws printed digits in
PRINTED_TRAIN (`digitrec.synth.printed`) and non-digit letters, words and lines in LETTERS_TRAIN
(`digitrec.synth.nondigits`, `digitrec.train.lines`); the benches draw printed digits in PRINTED_EVAL and
non-digit words, Greek and symbols in LETTERS_EVAL (`bench/generalize.py`). TRAIN_FONTS and EVAL_FONTS are
disjoint (tests/test_fonts.py), so "fonts never used in training" holds for every kind of picture.
"""

from __future__ import annotations

from pathlib import Path

from PIL import ImageFont

# NOTE: the training lists are what the shipped models were trained on; a change retrains nothing but makes
# the next run's data differ. The evaluation lists hold no font any training list has: DejaVuSans-BoldOblique
# and STIXGeneralItalic (letter training) left PRINTED_EVAL; DejaVuSerif, DejaVuSansMono and STIXGeneral
# (printed training) left LETTERS_EVAL for untrained fonts with the same glyphs: DejaVuSerif-BoldItalic,
# DejaVuSansMono-Bold and DejaVuSansMono-BoldOblique (no untrained STIX font has the symbols).
PRINTED_TRAIN = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSansMono.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Italic.ttf", "STIXGeneral.ttf", "STIXGeneralBol.ttf", "cmr10.ttf", "cmss10.ttf",
)  # fmt: skip
LETTERS_TRAIN = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "STIXGeneralItalic.ttf", "cmr10.ttf", "cmss10.ttf", "cmti10.ttf",
)  # fmt: skip
PRINTED_EVAL = ("DejaVuSansMono-Bold.ttf", "DejaVuSerif-Bold.ttf", "STIXGeneralBolIta.ttf", "cmtt10.ttf", "cmb10.ttf")
# Greek and symbols need DejaVu: the Computer Modern files hold TeX's glyphs only, STIX's bold italic no symbols.
LETTERS_EVAL = (
    "DejaVuSerif-BoldItalic.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSansMono-BoldOblique.ttf",
)  # fmt: skip
TRAIN_FONTS = tuple(dict.fromkeys(PRINTED_TRAIN + LETTERS_TRAIN))
EVAL_FONTS = tuple(dict.fromkeys(PRINTED_EVAL + LETTERS_EVAL))


def font_dir() -> Path:
    """The DejaVu, STIX and Computer Modern fonts that matplotlib ships (matplotlib comes with the train extra)."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def load_fonts(names: tuple[str, ...], sizes: tuple[int, ...] = (40, 48)) -> list[ImageFont.FreeTypeFont]:
    return [ImageFont.truetype(str(font_dir() / f), size) for f in names for size in sizes]
