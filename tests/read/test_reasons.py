"""What `predict` says about a picture of several characters: how many, and whether they are digits.

Printed strings are drawn from matplotlib's own fonts; handwritten lines are MNIST *test* digits. No mocks.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import IMAGES, printed
from PIL import Image, ImageDraw

from digitrec import Recognizer
from digitrec.cli import cli
from digitrec.read.strings import read_digits
from digitrec.synth import paper as synth


@pytest.fixture(scope="module")
def rec() -> Recognizer:
    return Recognizer.load()


def count_said(reason: str | None) -> int:
    """N of "several characters (N)"; 1 for any other answer (a digit, or a refusal as one picture)."""
    m = re.match(r"several characters \((\d+)\)", reason or "")
    return int(m.group(1)) if m else 1


PRINTED_GAP = pytest.mark.xfail(
    reason="known gap: the line model fine-tuned on other writers' digits (2026-12-03) reads cmr10's 13:45 as "
    "133445 (printed strings, never in its training: 77.8% -> 69.3% exact, 88.4% once flat lines are scaled as "
    "training's; this line fills 96% of its rows, under the 97% that triggers it: docs/accuracy.md)",
    strict=True,
)


@pytest.mark.parametrize(
    "text", ["0123456789", "12/05/2024", "555-0199", "3.14", "13:45", "2026"]
)  # fmt: skip
@pytest.mark.parametrize(
    "font", ["DejaVuSans.ttf", "DejaVuSerif.ttf", "cmr10.ttf"]
)  # fmt: skip
def test_printed_strings_are_counted_separators_too(rec, text, font, request):
    if (font, text) == ("cmr10.ttf", "13:45"):
        request.applymarker(PRINTED_GAP)
    pred = rec.predict(printed(text, font))
    assert pred.digit is None
    assert pred.reason == f"several characters ({len(text)}): use digitrec read"


@pytest.mark.parametrize("gap", [-2, 0, 3])
def test_touching_handwritten_digits_are_counted_near_right(rec, test_split, gap):
    rng = np.random.default_rng(11)
    errors = []
    for k in (2, 3, 5, 8, 10) * 2:
        idx = rng.choice(10_000, k, replace=False)
        line = synth.on_paper(synth.digit_line(test_split.images[idx], [gap] * (k - 1), rng), 3)
        errors.append(abs(count_said(rec.predict(line).reason) - k))
    assert np.mean(errors) <= 0.7, errors  # the width-and-ink count alone was off by 1.8-2.4 on such lines


@pytest.mark.parametrize("word", ["hello", "digits", "HELLO"])
def test_a_word_is_several_characters_not_digits(rec, word):
    pred = rec.predict(printed(word))
    assert pred.digit is None
    assert pred.reason == f"several characters ({len(word)}), not digits"
    assert "digitrec read" not in pred.reason


def test_read_indeed_finds_no_digits_in_a_word(rec):
    assert read_digits(rec, printed("hello")).digits == ""


@pytest.mark.parametrize("words", ["Baker Street", "Mr Smith", "house table", "Sir"])
def test_read_refuses_words_where_a_letter_or_two_read_as_digits(rec, words):
    """The line model reads letters as blank surely, but an S as 5, an o as 0: 44 of 100 printed word lines
    (DejaVu fonts) were answered with digits ("Baker Street" read "5"); most of their strokes got no character."""
    reading = read_digits(rec, printed(words, font="DejaVuSans-Oblique.ttf"))
    assert reading.digits == "", reading.lines
    assert reading.line_reasons[0] == "not digits: most of this line's strokes read as no character"


def test_an_address_reads_its_handwritten_postcode_only(rec, test_split):
    """Two printed lines above a handwritten number: the number is read, the words are not digits."""
    rng = np.random.default_rng(4)
    idx = rng.choice(10_000, 5, replace=False)
    digits = np.asarray(synth.on_paper(synth.digit_line(test_split.images[idx], [4, 5, 3, 6], rng), 2.0).convert("L"))
    page = Image.new("L", (max(600, digits.shape[1] + 40), 160 + digits.shape[0]), 255)
    for row, words in enumerate(("Jane Doe", "Baker Street")):
        page.paste(printed(words, font="DejaVuSans-Oblique.ttf", size=40), (20, 10 + 60 * row))
    page.paste(Image.fromarray(digits), (20, 140))
    reading = read_digits(rec, page)
    assert reading.digits == "".join(str(d) for d in test_split.labels[idx]), reading.lines


def test_read_refuses_a_shape_the_digit_model_is_sure_is_no_digit(rec):
    """Spirals and rings (nondigits' kinds never trained on) were read as 6, 0, 1: the line model has no "not a
    digit" answer; 16 of these 20 were. A line read as one character, one digit wide, that the digit model is sure
    is no digit is none (read as two characters, `61`, a spiral is still answered: pairs of digits lost more)."""
    from digitrec.synth import nondigits

    pictures = [draw(np.random.default_rng(seed)) for draw in (nondigits.spiral, nondigits.rings) for seed in range(10)]
    answered = [d for d in (read_digits(rec, p).digits for p in pictures) if d]
    assert len(answered) <= 8, answered
    ring = read_digits(rec, nondigits.rings(np.random.default_rng(2)))
    assert ring.line_reasons == ["not digits: the digit model takes this shape for no digit"]


def test_cli_predict_says_not_digits_for_a_word(tmp_path):
    path = tmp_path / "hello.png"
    printed("hello").save(path)
    result = CliRunner().invoke(cli, ["predict", str(path)])
    assert result.exit_code == 0, result.output
    assert "several characters (5), not digits" in result.output and "use digitrec read" not in result.output


def test_single_digits_never_open_the_line_reader():
    rec = Recognizer.load()
    for name in ("mnist-7.png", "photo-4.jpg", "chalk-8.png", "drawn-3.png"):
        assert rec.predict(IMAGES / name).reason is None
    assert rec._line_reader is None  # predict stays fast: the line model is opened only for several characters
    assert rec.predict(IMAGES / "multi-2026.png").reason == "several characters (4): use digitrec read"
    assert rec._line_reader is not None


@pytest.mark.parametrize("width", [6, 12, 18, 30])
def test_a_lone_dash_is_one_mark_not_many_touching_characters(rec, width):
    # A stroke far wider than tall was counted by its width as touching characters: a drawn dash became
    # "several characters (15)". A part only a stroke or two tall is one mark, whatever its width.
    img = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(img).line([(60, 140), (220, 140)], fill=0, width=width)
    pred = rec.predict(img)
    assert count_said(pred.reason) == 1 and pred.digit is None, pred.reason


def test_straight_lines_only_are_blank_and_say_so(rec):
    # A box with a "#" in it, all straight lines: the reader takes them for ruled lines, and its answer says that
    # (not "no ink found", which a user who drew it would know to be false).
    img = Image.new("L", (280, 280), 255)
    draw = ImageDraw.Draw(img)
    for line in ([(60, 100), (220, 100)], [(60, 180), (220, 180)], [(100, 50), (100, 230)], [(180, 50), (180, 230)],
                 [(50, 40), (230, 40), (230, 240), (50, 240), (50, 40)]):  # fmt: skip
        draw.line(line, fill=0, width=18, joint="curve")
    assert rec.predict(img).reason == "blank: only ruled lines, nothing written"
    assert rec.predict(Image.new("L", (280, 280), 255)).reason == "blank: no ink found"
