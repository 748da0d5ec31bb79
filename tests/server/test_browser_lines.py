"""The page on an uploaded line of digits, a blank upload, and the layout around the curves and the network.

A real server and headless Chromium; the line is drawn from MNIST *test* digits by `linesynth` with a drawn
hyphen, set on paper. Every wait is for a state on the page, never for a fixed time.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image
from test_browser import CHROMIUM, IMAGES, browser, opened, playwright_api, switch  # noqa: F401 - `browser` is a fixture

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no `chromium` on PATH: apt-get install chromium (make test does)"),
]
pytest.importorskip("fastapi", reason="the server needs the serve extra")

from live_server import live_server  # noqa: E402

expect = playwright_api.expect
LINE = "555-0199"
ANSWER_MS = 30_000  # a cap on a busy machine, not a sleep
# A full label is "5 · 100%" or "5 · 94.9%"; a narrow box keeps the character alone.
LABEL = re.compile(r"^([0-9\-/.,:])( · \d{1,3}(\.\d)?%)?$")
# Below the tallest map column in view, the network panel may keep its scrollbar and padding, no more.
MAX_EMPTY_PX = 60


@pytest.fixture(scope="module")
def url(seed_recognizer):
    from digitrec.server import create_app

    with live_server(create_app(seed_recognizer)) as base:
        yield base


@pytest.fixture(scope="module")
def line_png(tmp_path_factory, test_split, seed_recognizer):
    """555-0199 handwritten (7 MNIST test digits and a drawn hyphen), dark on paper; read right by the reader."""
    from digitrec.read.strings import read_digits
    from digitrec.synth import lines as linesynth
    from digitrec.synth import paper as synth

    line, _ = linesynth.compose(test_split.images, test_split.labels, np.random.default_rng(0), LINE)
    img = synth.on_paper(line, 3)
    assert read_digits(seed_recognizer, img).digits == LINE  # the page is tested, not the reader
    path = tmp_path_factory.mktemp("line") / "phone.png"
    img.save(path)
    return path


def labels(page) -> list[dict]:
    """Each box label: its text, whether it is cut (scrolls inside itself) and whether it leaves the photo."""
    return page.evaluate(
        """() => { const wrap = document.querySelector('.photo-wrap').getBoundingClientRect();
          return [...document.querySelectorAll('.photo-box span')].map((s) => { const b = s.getBoundingClientRect();
            return { text: s.textContent, cut: s.scrollWidth > s.clientWidth,
                     outside: b.left < wrap.left - 0.5 || b.right > wrap.right + 0.5 || b.top < wrap.top - 0.5 }; }); }"""
    )


def test_uploaded_line_is_counted_labelled_and_told_truthfully(browser, url, line_png):  # noqa: F811 - the imported fixture
    with opened(browser, url, 1280, 800) as page:
        expect(page.locator("#model-info")).to_contain_text("seed", timeout=ANSWER_MS)
        page.set_input_files("#file", str(line_png))
        caption = page.locator("#photo-caption")
        expect(caption).to_contain_text(f"7 digits and 1 separator read as a line: “{LINE}”", timeout=ANSWER_MS)
        expect(caption).to_contain_text("whole picture squeezed into one square")
        assert "most central" not in caption.inner_text()
        expect(page.locator("#digit")).to_have_text("Several characters")
        verdict = page.locator("#confidence")
        expect(verdict).to_contain_text(f"read them as a line: “{LINE}”")
        assert "digitrec" not in verdict.inner_text()  # never a CLI command on the page
        expect(page.locator(".photo-box span")).to_have_count(len(LINE))
        shown = labels(page)
        assert [LABEL.match(s["text"]).group(1) for s in shown] == list(LINE)  # the hyphen is "-", not "?"
        assert not [s for s in shown if s["cut"] or s["outside"]], shown


def test_a_single_digit_keeps_its_full_label(browser, url):  # noqa: F811 - the imported fixture
    with opened(browser, url, 1280, 800) as page:
        expect(page.locator("#model-info")).to_contain_text("seed", timeout=ANSWER_MS)
        page.set_input_files("#file", str(IMAGES / "photo-4.jpg"))
        expect(page.locator("#digit")).to_have_text("4", timeout=ANSWER_MS)
        expect(page.locator(".photo-box span")).to_have_text(re.compile(r"^4 · \d{1,3}(\.\d)?%$"))
        assert not [s for s in labels(page) if s["cut"] or s["outside"]]


def test_blank_upload_is_headed_blank(browser, url, tmp_path):  # noqa: F811 - the imported fixture
    blank = tmp_path / "white.png"
    Image.new("L", (120, 90), 255).save(blank)
    with opened(browser, url, 1280, 800) as page:
        expect(page.locator("#model-info")).to_contain_text("seed", timeout=ANSWER_MS)
        page.set_input_files("#file", str(blank))
        expect(page.locator("#digit")).to_have_text("Blank", timeout=ANSWER_MS)
        expect(page.locator("#confidence")).to_have_text(re.compile(r"no ink found", re.I))
        expect(page.locator("#photo-caption")).to_contain_text("no ink found")


def test_curve_legend_stands_apart_and_strong_leaves_no_empty_band_at_1280(browser, url):  # noqa: F811 - the imported fixture
    with opened(browser, url, 1280, 800) as page:
        expect(page.locator("#curves-caption")).to_contain_text("epochs", timeout=ANSWER_MS)
        key = page.locator(".key.val").bounding_box()
        text = page.locator("#curves-caption").bounding_box()
        assert key["y"] + key["height"] <= text["y"], (key, text)  # the legend ends before the sentence starts
        switch(page, "strong")
        expect(page.locator('[data-layer="conv5"] canvas')).to_have_count(128, timeout=ANSWER_MS)
        band = page.evaluate(
            """() => { const net = document.getElementById('network').getBoundingClientRect();
              const inView = [...document.querySelectorAll('#network .layer')].map((l) => l.getBoundingClientRect())
                .filter((b) => b.width && b.left < net.right);
              return net.bottom - Math.max(...inView.map((b) => b.bottom)); }"""
        )
        assert band <= MAX_EMPTY_PX, band
