"""Strings as people write them, read by the shipped line model: --expect, digits only, slanted 1s, short lines.

Every line is composed from MNIST *test* digits (never train) by `linesynth`.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from digitrec.cli import cli
from digitrec.read.strings import read_digits
from digitrec.synth import lines as linesynth
from digitrec.synth import paper as synth


def image_of(test_split, text: str, seed: int) -> Image.Image:
    line, _ = linesynth.compose(test_split.images, test_split.labels, np.random.default_rng(seed), text)
    return synth.on_paper(line, 3)


def exact_rate(recognizer, test_split, fmt: str, expect: str, n: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    right = 0
    for k in range(n):
        text = linesynth.format_text(fmt, rng)
        right += read_digits(recognizer, image_of(test_split, text, seed * 1000 + k), expect=expect).digits == text
    return right / n


def test_expect_reads_generated_dates(seed_recognizer, test_split):
    assert exact_rate(seed_recognizer, test_split, "dd/dd/dddd", "dd/dd/dddd", 25, seed=21) >= 0.8  # measured 0.92


def test_expect_reads_generated_phone_numbers(seed_recognizer, test_split):
    rate = exact_rate(seed_recognizer, test_split, "ddd-dddd", "ddd-dddd|ddd-ddd-dddd", 25, seed=22)
    assert rate >= 0.8  # measured 0.96


def test_digits_only_strings_with_slanted_ones_never_gain_a_separator(seed_recognizer, test_split):
    slanted = (test_split.labels != 1) | (linesynth.slant(test_split.images) >= 0.3)
    images, labels = test_split.images[slanted], test_split.labels[slanted]
    rng = np.random.default_rng(23)
    for _ in range(30):
        text = "".join(str(d) for d in np.where(rng.random(5) < 0.5, 1, rng.integers(0, 10, 5)))
        line, _ = linesynth.compose(images, labels, rng, text)
        digits = read_digits(seed_recognizer, synth.on_paper(line, 3)).digits
        assert digits.isdigit(), f"{text} read as {digits}"


@pytest.mark.parametrize("text", ["51", "321", "21", "7", "10", "11"])
def test_short_clear_strings_are_never_refused(seed_recognizer, test_split, text):
    for seed in range(3):
        reading = read_digits(seed_recognizer, image_of(test_split, text, seed))
        assert reading.line_reasons == [None] and reading.digits, reading.as_dict()


def test_a_date_read_without_its_pattern_keeps_its_slashes(seed_recognizer, test_split):
    assert read_digits(seed_recognizer, image_of(test_split, "12/05", 5)).digits == "12/05"


def test_expect_json_contract_in_the_cli(test_split, tmp_path):
    path = tmp_path / "date.png"
    image_of(test_split, "12/05", 5).save(path)
    runner = CliRunner()
    ok = runner.invoke(cli, ["read", str(path), "--json", "--expect", "dd/dd|dd/dd/dddd"])
    assert ok.exit_code == 0, ok.output
    d = json.loads(ok.output)
    assert d["digits"] == "12/05" and d["lines"] == ["12/05"] and d["expect"] == "dd/dd|dd/dd/dddd"
    assert d["digits_only"] is False and d["line_reasons"] == [None] and 0 < d["line_confidence"][0] <= 1
    none = json.loads(runner.invoke(cli, ["read", str(path), "--json", "--expect", "ddd-dddd"]).output)
    assert none["digits"] is None and none["lines"] == [None] and none["boxes"] == []
    assert none["line_reasons"][0].startswith("no reading matches ddd-dddd")
    text = runner.invoke(cli, ["read", str(path), "--expect", "ddd-dddd"])
    assert text.exit_code == 0 and text.output.startswith(f"{path}\t-\tno reading matches ddd-dddd")
    digits = json.loads(runner.invoke(cli, ["read", str(path), "--json", "--digits-only"]).output)
    assert digits["digits"].isdigit() and digits["digits_only"] is True and digits["expect"] is None


@pytest.mark.parametrize("args", [["--expect", "dd/xx"], ["--expect", ""], ["--expect", "d/d", "--digits-only"]])
def test_cli_bad_pattern_is_a_one_line_error_with_status_2(test_split, tmp_path, args):
    path = tmp_path / "date.png"
    image_of(test_split, "12/05", 5).save(path)
    result = CliRunner().invoke(cli, ["read", str(path), *args])
    assert result.exit_code == 2
    assert "expect:" in result.output and len(result.output.strip().splitlines()) == 1


def test_api_read_takes_expect_and_digits_only(seed_recognizer, test_split):
    pytest.importorskip("fastapi", reason="the server needs the serve extra")
    httpx = pytest.importorskip("httpx")
    from live_server import live_server

    from digitrec.server import create_app

    buf = io.BytesIO()
    image_of(test_split, "12/05", 5).save(buf, "PNG")
    files = {"file": ("date.png", buf.getvalue(), "image/png")}
    with live_server(create_app(seed_recognizer)) as url, httpx.Client(base_url=url, timeout=30) as client:
        d = client.post("/api/read", params={"expect": "dd/dd"}, files=files).json()
        assert d["digits"] == "12/05" and d["expect"] == "dd/dd" and d["digits_only"] is False
        none = client.post("/api/read", params={"expect": "ddddddd"}, files=files).json()
        assert none["digits"] is None and none["lines"] == [None] and none["line_reasons"][0].startswith("no reading")
        only = client.post("/api/read", params={"digits_only": "true"}, files=files).json()
        assert only["digits"].isdigit() and only["digits_only"] is True
        bad = client.post("/api/read", params={"expect": "dd/xx"}, files=files)
        assert bad.status_code == 422 and bad.json()["error"].startswith("expect:")
