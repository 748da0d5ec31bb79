"""The page's Teach panel in a real headless Chromium: draw each digit, teach, see the figures, use the new model.

The server teaches for real (POST /api/teach on the seed model, personal models written to a temporary
DIGITREC_HOME); every wait is for a state on the page, never for a fixed time.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image
from test_browser import ARTIFACTS, CHROMIUM, browser, opened, playwright_api  # noqa: F401 - `browser` is a fixture

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no `chromium` on PATH: apt-get install chromium (make test does)"),
]
pytest.importorskip("fastapi", reason="the server needs the serve extra")

from live_server import live_server  # noqa: E402

expect = playwright_api.expect
TEACHING_MS = 300_000  # a first teaching computes the base's feature bank (MNIST replay and test) on a busy CPU
# One crude stroke list per digit, in pad units (0..280); each is drawn three times, moved a little.
STROKES = {
    0: [[(140 + 60 * np.sin(t), 140 - 90 * np.cos(t)) for t in np.linspace(0, 2 * np.pi, 25)]],
    1: [[(120, 80), (150, 50), (150, 235)]],
    2: [[(85, 95), (110, 58), (170, 55), (196, 100), (170, 150), (85, 230), (210, 230)]],
    3: [[(85, 60), (195, 60), (130, 135), (200, 180), (160, 235), (85, 220)]],
    4: [[(175, 235), (175, 48), (80, 170), (215, 170)]],
    5: [[(195, 55), (95, 55), (90, 130), (175, 125), (195, 185), (150, 235), (85, 215)]],
    6: [[(180, 50), (100, 130), (95, 210), (150, 235), (190, 190), (150, 150), (100, 175)]],
    7: [[(70, 60), (210, 60), (120, 235)]],
    8: [[(140, 140), (100, 95), (140, 50), (180, 95), (140, 140), (95, 190), (140, 235), (185, 190), (140, 140)]],
    9: [[(185, 100), (140, 55), (95, 95), (140, 140), (185, 100), (180, 235)]],
}


@pytest.fixture(scope="module")
def url(seed_recognizer, tmp_path_factory):
    from digitrec.server import create_app

    home = tmp_path_factory.mktemp("home")
    old = os.environ.get("DIGITREC_HOME")
    os.environ["DIGITREC_HOME"] = str(home)  # personal models of this module go to a throwaway folder
    try:
        with live_server(create_app(seed_recognizer)) as base:
            yield base
    finally:
        if old is None:
            os.environ.pop("DIGITREC_HOME")
        else:
            os.environ["DIGITREC_HOME"] = old


@pytest.fixture
def page(browser, url):  # noqa: F811 - `browser` is the imported fixture
    with opened(browser, url) as p:
        expect(p.locator("#model-info")).to_contain_text("seed")
        p.locator("#teach-panel").scroll_into_view_if_needed()
        yield p


def draw(page, strokes: list[list[tuple[float, float]]], shift: tuple[float, float]) -> None:
    """Draw strokes (pad units, 0..280) on the teaching pad, moved by `shift`."""
    pad = page.locator("#teach-pad")
    pad.evaluate("(e) => e.scrollIntoView({ block: 'center' })")  # the whole pad on screen, not an edge of it
    box = pad.bounding_box()
    for points in strokes:
        at = [
            (box["x"] + (x + shift[0]) / 280 * box["width"], box["y"] + (y + shift[1]) / 280 * box["height"])
            for x, y in points
        ]
        page.mouse.move(*at[0])
        page.mouse.down()
        for x, y in at[1:]:
            page.mouse.move(x, y, steps=3)
        page.mouse.up()


def test_panel_asks_each_digit_in_turn_counts_and_teaches_a_model_for_the_switch(page):
    expect(page.locator("#teach-digit")).to_have_text("0")
    expect(page.locator("#teach-go")).to_be_disabled()
    expect(page.locator("#teach-add")).to_be_disabled()  # nothing drawn yet
    for d in range(10):
        for k in range(3):
            expect(page.locator("#teach-digit")).to_have_text(str(d))  # the page asks for the digits in turn
            draw(page, STROKES[d], (12 * (k - 1), 8 * (1 - k)))
            expect(page.locator("#teach-add")).to_be_enabled()
            expect(page.locator("#teach-add")).to_have_text(f"Add this {d}")
            page.click("#teach-add")
            expect(page.locator(f'#teach-counts [data-digit="{d}"] .n')).to_have_text(f"{k + 1}/3")
        if d < 9:
            expect(page.locator("#teach-go")).to_be_disabled()
    expect(page.locator("#teach-total")).to_contain_text("30 drawings: ready to teach")
    page.click("#teach-undo")  # take one back: the page asks for that digit again
    expect(page.locator("#teach-digit")).to_have_text("9")
    expect(page.locator("#teach-go")).to_be_disabled()
    draw(page, STROKES[9], (0, 0))
    page.click("#teach-add")
    page.fill("#teach-name", "mine")
    page.focus("#teach-go")
    page.keyboard.press("Enter")  # the Teach button works from the keyboard
    expect(page.locator("#teach-status")).to_contain_text("Teaching “mine” from “seed”")
    expect(page.locator("#teach-result")).to_be_visible(timeout=TEACHING_MS)
    cells = page.locator("#teach-row-count td").all_inner_texts()
    assert cells == ["3"] * 10 + ["30"]
    after = page.locator("#teach-row-after td").all_inner_texts()
    assert len(after) == 11 and all(t.endswith("%") for t in after)  # cross-validated: every digit has 3
    expect(page.locator("#teach-summary")).to_contain_text("MNIST test digits")
    expect(page.locator("#model")).to_have_value("mine")  # the new model is chosen in the switch...
    expect(page.locator("#model-info")).to_contain_text("“mine”")  # ...and loaded by the page
    page.locator("#teach-panel").screenshot(path=ARTIFACTS / "teach-panel.png")
    listed = page.request.get(page.url + "api/models").json()["models"]
    assert {m["name"]: m["personal"] for m in listed}["mine"] is True


def test_a_filled_sheet_photo_teaches_and_a_taken_name_is_refused(page, tmp_path):
    from digitrec.io.mnist import load_split
    from digitrec.teach.sheet import fill, photograph, render_sheet

    train = load_split("train")  # NOTE: the test split is for evaluation only, never taught
    digits = {(d, c): train.images[np.flatnonzero(train.labels == d)[c]] for d in range(10) for c in range(4)}
    photo = photograph(fill(render_sheet(), digits), 20.0, np.random.default_rng(1))
    Image.fromarray(photo).save(tmp_path / "sheet.jpg", quality=85)
    page.fill("#teach-name", "sheet")
    page.set_input_files("#teach-sheet", str(tmp_path / "sheet.jpg"))
    expect(page.locator("#teach-result")).to_be_visible(timeout=TEACHING_MS)
    assert page.locator("#teach-row-count td").all_inner_texts() == ["4"] * 10 + ["40"]
    expect(page.locator("#teach-status")).to_contain_text("“sheet” is ready")
    expect(page.locator("#model")).to_have_value("sheet")

    page.expected_errors = ["409"]  # the browser logs the refused request
    page.set_input_files("#teach-sheet", str(tmp_path / "sheet.jpg"))
    expect(page.locator("#teach-error")).to_contain_text("Replace my model of that name", timeout=TEACHING_MS)
    expect(page.locator("#teach-sheet")).to_be_enabled()  # ready for another try
