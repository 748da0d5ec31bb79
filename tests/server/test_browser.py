"""The drawing page in a real headless Chromium (the Debian `chromium` package), driven by Playwright.

Never `playwright install`: it downloads a browser. `make test` installs chromium with apt-get.
Screenshots go to tests/artifacts/ only; docs/screenshot-draw.png is made by hand (see README).
"""

from __future__ import annotations

import json
import math
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no `chromium` on PATH: apt-get install chromium (make test does)"),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")
pytest.importorskip("fastapi", reason="the server needs the serve extra")

from conftest import IMAGES, ROOT  # noqa: E402
from live_server import live_server  # noqa: E402

expect = playwright_api.expect
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
SEVEN = [(70, 60), (210, 60), (120, 235)]
# A five-pointed star: plainly no digit at any brush width (a "#" sits near the strong model's even-odds line, and
# a "#" in its box is all straight lines: the reader takes those for ruled lines and answers blank).
STAR = [[(140, 30), (80, 250), (240, 110), (40, 110), (200, 250), (140, 30)]]


@pytest.fixture(scope="module")
def url(seed_recognizer):
    from digitrec.server import create_app

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with live_server(create_app(seed_recognizer)) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextmanager
def opened(browser, address: str, width: int = 1600, height: int = 900, **context):
    """A fresh page at `address`; on leaving, asserts the console showed no error (a 404 favicon included)."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, **context)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(address)
    page.expected_errors = []  # a test that expects a failed request names its console line here
    yield page
    ctx.close()
    errors = [e for e in errors if not any(x in e for x in page.expected_errors)]
    assert not errors, errors


@pytest.fixture
def page(browser, url):
    with opened(browser, url) as p:
        expect(p.locator("#model-info")).to_contain_text("seed")
        expect(p.locator('[data-layer="conv1"] canvas')).to_have_count(32)
        yield p


def stroke(page, points: list[tuple[float, float]], steps: int = 8) -> None:
    """Draw one mouse stroke through points given in pad units (0..280)."""
    box = page.locator("#pad").bounding_box()
    at = [(box["x"] + x / 280 * box["width"], box["y"] + y / 280 * box["height"]) for x, y in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for x, y in at[1:]:
        page.mouse.move(x, y, steps=steps)
    page.mouse.up()


def lit_maps(page, layer: str) -> int:
    """How many of a layer's feature-map canvases have any non-black pixel."""
    return page.evaluate(
        """(layer) => [...document.querySelectorAll(`[data-layer="${layer}"] canvas`)].filter((c) => {
            const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 30) return true;
            return false;
        }).length""",
        layer,
    )


LIT_MAPS_JS = """(layer) => [...document.querySelectorAll(`[data-layer="${layer}"] canvas`)].filter((c) => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 30) return true;
    return false;
}).length"""


def lit_in_view(page, layer: str, more_than: int = 0) -> int:
    """Scroll a layer's maps into view (only layers on screen are fetched), wait until more than `more_than` of
    its maps are lit and the column is no longer stale (the state checked, never a fixed time); count lit maps."""
    page.locator(f'[data-layer="{layer}"] .maps').scroll_into_view_if_needed()
    page.wait_for_function(
        f"""([l, n]) => !document.querySelector(`[data-layer='${{l}}']`).classList.contains('stale')
            && ({LIT_MAPS_JS})(l) > n""",
        arg=[layer, more_than],
    )
    return lit_maps(page, layer)


def hover_cell(page, layer: str, index: int, fx: float = 0.5, fy: float = 0.5) -> None:
    cell = page.locator(f'[data-layer="{layer}"] .map-cell').nth(index)
    cell.scroll_into_view_if_needed()
    box = cell.bounding_box()
    page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)


def settled(page) -> None:
    """Wait until the page has the answer for the pad as drawn: an earlier stroke's answer may show first."""
    expect(page.locator("#verdict")).to_have_attribute("aria-busy", "false", timeout=30_000)


def switch(page, model: str) -> None:
    page.select_option("#model", model)
    # NOTE: a generous cap, not a sleep: on a loaded machine strong's description (filters, curves) takes seconds
    expect(page.locator("#model-info")).to_contain_text(f"“{model}”", timeout=30_000)
    expect(page.locator("#network .layer").first).to_be_attached()


def release(held: list, model: str) -> None:
    """Let the held requests for `model` through (the page may have aborted them: then there is nothing to do)."""
    for route in [r for r in held if f"model={model}" in r.request.url]:
        held.remove(route)
        try:
            route.continue_()
        except playwright_api.Error as err:  # aborted by the page: Playwright refuses to continue it
            assert "abort" in str(err).lower() or "handled" in str(err).lower(), err


# ---------------------------------------------------------------- drawing and the network


def test_page_lays_out_the_network_from_the_model_summary(page):
    names = page.locator("#network .layer").evaluate_all("cols => cols.map((c) => c.dataset.layer)")
    assert names == ["input", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "dense1", "relu3", "dense2"]
    assert not page.locator('[data-layer="relu1"]').is_visible()  # ReLU columns behind a checkbox
    page.check("#show-relu")
    assert page.locator('[data-layer="relu1"]').is_visible()
    page.uncheck("#show-relu")
    assert "32×24×24" in page.locator('[data-layer="conv1"] header').inner_text()


def test_each_layer_is_explained_with_shape_and_parameter_arithmetic(page):
    texts = page.locator("#network .layer .explain").all_inner_texts()
    assert len(texts) == 10 and all(len(t) > 30 for t in texts)
    conv1 = page.locator('[data-layer="conv1"] .explain').inner_text()
    assert (
        "5×5" in conv1
        and "Output: 32 maps of 24×24." in conv1
        and "5·5·1·32 weights + 32 biases = 832 parameters." in conv1
    )
    assert "800·128 weights + 128 biases = 102,528" in page.locator('[data-layer="dense1"] .explain').inner_text()


def test_drawing_a_seven_predicts_7_and_lights_up_the_layers(page):
    stroke(page, SEVEN)
    expect(page.locator("#digit")).to_have_text("7", timeout=10_000)
    assert lit_maps(page, "input") == 1
    assert lit_in_view(page, "conv1", 16) > 16 and lit_in_view(page, "pool2", 4) > 4
    assert page.locator("#bars li.top").inner_text().startswith("7")
    # hover a conv1 cell: its value and the 5x5 input window that feeds it
    hover_cell(page, "conv1", 3, 0.45, 0.3)
    tip = page.locator("#tooltip")
    expect(tip).to_be_visible()
    assert "conv1" in tip.inner_text() and tip.locator("table tr").count() == 5
    assert page.locator('[data-layer="input"] .mark.source').count() == 1
    page.screenshot(path=str(ARTIFACTS / "draw-7.png"))
    # a conv2 cell is fed by a 3x3 window in every pool1 map
    hover_cell(page, "conv2", 0)
    assert page.locator('[data-layer="pool1"] .mark.source').count() == 32


def test_pooling_hover_shows_the_2x2_window_with_the_max_marked_on_the_visible_layer(page):
    stroke(page, SEVEN)
    expect(page.locator("#digit")).to_have_text("7", timeout=10_000)
    for index in range(32):  # a map whose centre cell is lit
        hover_cell(page, "pool1", index, 0.3, 0.3)
        tip = page.locator("#tooltip")
        expect(tip).to_contain_text("(exact)", timeout=10_000)
        cells = tip.locator("td")
        if max(float(c) for c in cells.all_inner_texts()) > 0.05:
            break
    assert cells.count() == 4 and tip.locator("td.max").count() == 1
    values = [float(c) for c in cells.all_inner_texts()]
    assert float(tip.locator("td.max").inner_text()) == max(values)
    # relu1 is hidden, so the window is drawn on conv1, which has the same geometry
    assert page.locator('[data-layer="relu1"] .mark.source').count() == 0
    assert page.locator('[data-layer="conv1"] .mark.source').count() == 1
    assert "marked on conv1" in tip.inner_text()


def test_hovered_value_is_exact(page, seed_recognizer):
    from digitrec.image.preprocess import prepare

    page.set_input_files("#file", str(IMAGES / "mnist-2.png"))
    expect(page.locator("#digit")).to_have_text("2", timeout=15_000)
    hover_cell(page, "conv1", 5, 0.5, 0.5)
    tip = page.locator("#tooltip")
    expect(tip).to_contain_text("(exact)", timeout=10_000)
    text = tip.inner_text()
    row, col = int(text.split("row ")[1].split(",")[0]), int(text.split("col ")[1].split(" ")[0])
    shown = float(text.split("= ")[1].split(" ")[0])
    real = seed_recognizer.activations(prepare(IMAGES / "mnist-2.png").image[None, None])["conv1"][0, 5, row, col]
    assert abs(shown - real) < 6e-5


def test_filters_are_shown_and_hovering_one_links_its_map(page):
    filters = page.locator("#filters canvas")
    expect(filters).to_have_count(32)
    assert page.locator("#filters-title").inner_text() == "conv1's 32 learned 5×5 filters"
    stroke(page, SEVEN)
    expect(page.locator("#digit")).to_have_text("7", timeout=10_000)
    filters.nth(3).hover()
    assert page.locator('[data-layer="conv1"] .map-cell').nth(3).get_attribute("class").split() == [
        "map-cell",
        "linked",
    ]
    expect(page.locator("#filter-map")).to_be_visible()
    assert "Filter 4" in page.locator("#filter-caption").inner_text()
    expect(page.locator("#snapshot-row")).to_be_visible()  # the shipped seed carries its conv1 snapshots


def test_training_curves_are_drawn_from_the_history(page):
    for curve in ("#curve-loss", "#curve-accuracy"):
        lines = page.locator(f"{curve} polyline")
        expect(lines).to_have_count(2)
        assert all(len(p.split()) == 5 for p in lines.evaluate_all("ls => ls.map((l) => l.getAttribute('points'))"))
    assert "5 epochs" in page.locator("#curves-caption").inner_text()


def test_model_switch_changes_the_layer_list_without_restart(page):
    switch(page, "strong")
    names = page.locator("#network .layer").evaluate_all("cols => cols.map((c) => c.dataset.layer)")
    assert names[:4] == ["input", "conv1", "bn1", "relu1"] and names[-1] == "dense"
    assert page.locator('[data-layer="dense"] .out-bars li').count() == 11
    stroke(page, SEVEN)
    expect(page.locator("#digit")).to_have_text("7", timeout=20_000)
    switch(page, "seed")
    assert page.locator("#network .layer").count() == 10
    expect(page.locator("#digit")).to_have_text("7", timeout=20_000)  # the drawing is read again


def test_seed_fits_1280_without_horizontal_scroll_and_strong_scrolls_in_its_panel(browser, url):
    with opened(browser, url, 1280, 800) as page:
        expect(page.locator('[data-layer="dense2"]')).to_be_visible()
        widths = "() => [document.documentElement.scrollWidth, innerWidth, network.scrollWidth, network.clientWidth]"
        page_w, inner, net_w, net_client = page.evaluate(widths)
        assert page_w <= inner and net_w <= net_client
        box = page.locator('[data-layer="dense2"]').bounding_box()
        assert box["x"] + box["width"] <= 1280
        page.screenshot(path=str(ARTIFACTS / "seed-1280.png"), full_page=True)
        switch(page, "strong")
        page_w, inner, net_w, net_client = page.evaluate(widths)
        assert page_w <= inner and net_w > net_client


def test_strong_model_windows_are_drawn_on_the_visible_layer(page):
    switch(page, "strong")
    stroke(page, SEVEN)
    expect(page.locator("#digit")).to_have_text("7", timeout=20_000)
    hover_cell(page, "conv2", 0)  # fed by relu1 (hidden): drawn on bn1, every map
    assert page.locator('[data-layer="bn1"] .mark.source').count() == 32
    assert page.locator("#tooltip canvas#tip-patches").count() == 1
    hover_cell(page, "pool1", 2)  # fed by relu2 (hidden): 2x2 on bn2
    assert page.locator('[data-layer="bn2"] .mark.source').count() == 1
    assert page.locator("#tooltip td.max").count() == 1


# ---------------------------------------------------------------- rejection


def test_refused_drawing_bars_verdict_and_reason_agree(page):
    switch(page, "strong")
    for s in STAR:
        stroke(page, s)
    settled(page)
    expect(page.locator("#digit")).to_have_text("Not a digit", timeout=20_000)
    expect(page.locator("#bars")).to_have_class("bars refused", timeout=15_000)
    expect(page.locator("#bars li").nth(10)).to_have_class("nondigit top", timeout=15_000)
    expect(page.locator("#confidence")).to_contain_text("looks like something else", timeout=15_000)
    bars = page.locator("#bars li")
    assert bars.count() == 11 and page.locator("#bars li.top").count() == 1
    expect(bars.nth(10).locator(".pct")).to_have_text(re.compile(r"^(5\d|[6-9]\d|100)(\.\d)?%$"), timeout=15_000)
    assert page.locator("#caveat").is_hidden()


def test_seed_answers_a_letter_with_a_caveat(page):
    for s in ([(60, 60), (220, 220)], [(220, 60), (60, 220)]):  # an X
        stroke(page, s)
    expect(page.locator("#digit")).not_to_have_text("–", timeout=10_000)
    expect(page.locator("#caveat")).to_be_visible()
    assert "no “not a digit” output" in page.locator("#caveat").inner_text()


# ---------------------------------------------------------------- uploads


@pytest.mark.parametrize("name", ["mnist-2.png", "photo-4.jpg"])
def test_upload_shows_crop_and_box(browser, url, name):
    with opened(browser, url, 1280, 800) as page:
        page.set_input_files("#file", str(IMAGES / name))
        expected = name.split("-")[1][0]
        expect(page.locator("#digit")).to_have_text(expected, timeout=15_000)
        expect(page.locator(".photo-box").first).to_be_visible()
        assert lit_maps(page, "input") == 1
        assert page.locator("#verdict").bounding_box()["y"] + 40 < 800  # the answer above the fold
        panel = page.locator(".result-panel").bounding_box()
        label = page.locator(".photo-box span").first.bounding_box()
        assert label["x"] + label["width"] <= panel["x"] + panel["width"] and label["y"] >= panel["y"]
        page.screenshot(path=str(ARTIFACTS / f"upload-{Path(name).stem}.png"))
        page.click("#undo")  # undo takes the photo away too
        expect(page.locator("#photo-figure")).to_be_hidden()
        expect(page.locator("#digit")).to_have_text("–")


def test_failed_upload_clears_the_previous_answer(page, tmp_path):
    page.set_input_files("#file", str(IMAGES / "mnist-2.png"))
    expect(page.locator("#digit")).to_have_text("2", timeout=15_000)
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    page.set_input_files("#file", str(bad))
    expect(page.locator("#error")).to_contain_text("not an image", timeout=10_000)
    page.expected_errors.append("status of 422")  # the refused upload itself
    expect(page.locator("#digit")).to_have_text("–")
    assert page.locator(".photo-box").count() == 0 and lit_maps(page, "input") == 0
    assert "could not be read" in page.locator("#photo-caption").inner_text()
    page.click("#clear")
    expect(page.locator("#error")).to_be_hidden()


def test_blank_and_tiff_uploads_promise_no_missing_box(page, tmp_path):
    from PIL import Image, ImageDraw

    blank = tmp_path / "blank.png"
    Image.new("L", (64, 64), 255).save(blank)
    page.set_input_files("#file", str(blank))
    expect(page.locator("#photo-caption")).to_contain_text("no ink found", timeout=10_000)
    assert page.locator(".photo-box").count() == 0
    tiff = tmp_path / "seven.tiff"
    img = Image.new("L", (200, 160), 255)
    ImageDraw.Draw(img).line([(60, 20), (140, 20), (88, 140)], fill=0, width=10)
    img.save(tiff)
    page.set_input_files("#file", str(tiff))
    expect(page.locator("#digit")).to_have_text("7", timeout=10_000)
    expect(page.locator("#photo-caption")).to_contain_text("cannot show this file type")
    assert page.locator("#photo").is_hidden()  # no broken-image icon


# ---------------------------------------------------------------- bandwidth, keyboard, phone


def test_drawing_an_eight_on_strong_sends_under_2_mb(browser, url):
    with opened(browser, url, 1920, 1600) as page:  # tall: the network's first columns are on screen while drawing
        switch(page, "strong")
        loop = [
            (140 + 45 * math.sin(t / 40 * 2 * math.pi), 95 - 45 * math.cos(t / 40 * 2 * math.pi)) for t in range(41)
        ]
        low = [
            (140 + 55 * math.sin(t / 40 * 2 * math.pi), 190 - 50 * math.cos(t / 40 * 2 * math.pi)) for t in range(41)
        ]
        page.evaluate("performance.clearResourceTimings(); performance.setResourceTimingBufferSize(10000)")
        stroke(page, loop, steps=6)
        stroke(page, low, steps=6)
        settled(page)
        expect(page.locator("#digit")).to_have_text("8", timeout=20_000)
        page.wait_for_function(f"({LIT_MAPS_JS})('bn1') > 0")  # the final (pen-up) answer is drawn
        sizes = page.evaluate(
            "performance.getEntriesByType('resource')"
            ".filter((e) => e.name.includes('api/activations')).map((e) => e.transferSize)"
        )
        assert len(sizes) >= 3 and sum(sizes) < 2_000_000, (len(sizes), sum(sizes))
        assert lit_maps(page, "bn1") > 0
        stale = page.locator("#network .layer.stale").evaluate_all("cols => cols.map((c) => c.dataset.layer)")
        assert stale, "every layer was sent, visible or not"  # the columns scrolled away inside the panel
        assert lit_in_view(page, stale[-1]) > 0  # fetched once scrolled into view


# ---------------------------------------------------------------- sequencing: the last model choice wins


def test_a_late_answer_for_the_first_model_never_overwrites_the_chosen_one(browser, url):
    """Issue 18 item 1: on a slow link, seed's /api/model answer arriving after strong's left seed's header."""
    held: list = []
    with opened(browser, url) as page:
        page.route(re.compile(r"/api/model\?model=seed"), lambda route: held.append(route))  # seed's description hangs
        with page.expect_request(re.compile(r"/api/model\?model=seed")):
            page.reload()
        page.select_option("#model", "strong")
        expect(page.locator("#model-info")).to_contain_text("“strong”", timeout=30_000)
        release(held, "seed")  # the stale answer arrives now (or was aborted)
        stroke(page, SEVEN)  # a round trip after the stale answer: its effect, if any, is on screen by then
        expect(page.locator("#digit")).to_have_text("7", timeout=20_000)
        expect(page.locator("#model-info")).to_contain_text("“strong”")
        assert page.locator("#bars li").count() == 11  # strong's bars, not seed's ten
        names = page.locator("#network .layer").evaluate_all("cols => cols.map((c) => c.dataset.layer)")
        assert names[:3] == ["input", "conv1", "bn1"], names


def test_switching_while_a_drawing_is_read_drops_the_old_models_answer(page):
    """Issue 18 item 1: the old model's answer was shown under the new model's name until the new one came."""
    held: list = []
    # every prediction waits for the test: the drawing's first request for seed is held (so it is in flight)
    page.route(re.compile(r"/api/activations\?model="), lambda route: held.append(route))
    with page.expect_request(re.compile(r"/api/activations\?model=seed")):
        stroke(page, SEVEN)
    with page.expect_request(re.compile(r"/api/activations\?model=strong")):
        page.select_option("#model", "strong")
        expect(page.locator("#model-info")).to_contain_text("“strong”", timeout=30_000)
        release(held, "seed")  # seed's answers, now stale, arrive (or were aborted)
    # strong's answer is still held: nothing but the empty bars may be on screen, not seed's reading
    expect(page.locator("#digit")).to_have_text("–")
    assert page.locator("#bars li").count() == 11
    assert page.locator("#bars li .pct").all_inner_texts() == ["–"] * 11
    page.unroute(re.compile(r"/api/activations\?model="))
    release(held, "strong")
    expect(page.locator("#bars li").nth(10).locator(".pct")).not_to_have_text("–", timeout=20_000)
    expect(page.locator("#digit")).not_to_have_text("–")


def test_keyboard_one_stop_per_layer_arrows_and_skip_link(page):
    switch(page, "strong")
    stops = page.evaluate("[...document.querySelectorAll('#network [tabindex]')].filter((e) => e.tabIndex >= 0).length")
    assert stops == page.locator("#network .maps").count() == page.locator("#network .layer").count() - 1  # not 865
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "network-panel"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the ReLU checkbox, then the input image
    page.keyboard.press("Tab")  # conv1
    expect(page.locator("#tooltip")).to_contain_text("conv1 map 1, row 0, col 0")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#tooltip")).to_contain_text("conv1 map 1, row 1, col 1")
    page.keyboard.press("PageDown")
    expect(page.locator("#tooltip")).to_contain_text("conv1 map 2, row 1, col 1")
    page.keyboard.press("Tab")
    expect(page.locator("#tooltip")).to_contain_text("bn1 map 1")


def test_phone_tap_picks_the_tapped_cell_and_the_tooltip_follows_the_map(browser, url):
    with opened(browser, url, 390, 844, has_touch=True, is_mobile=True, device_scale_factor=2) as page:
        expect(page.locator('[data-layer="conv1"] canvas')).to_have_count(32)
        page.tap("#example")
        expect(page.locator("#digit")).to_have_text("7", timeout=10_000)
        cell = page.locator('[data-layer="conv1"] .map-cell').nth(5)
        cell.scroll_into_view_if_needed()
        box = cell.bounding_box()
        page.touchscreen.tap(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.7)
        tip = page.locator("#tooltip")
        expect(tip).to_contain_text("conv1 map 6")
        text = tip.inner_text()
        row, col = int(text.split("row ")[1].split(",")[0]), int(text.split("col ")[1].split(" ")[0])
        assert row >= 12 and col >= 15  # not row 0, col 0
        # the exact values re-place the tooltip (kept inside the window) when they arrive: wait for them first
        expect(tip).to_contain_text("(exact)", timeout=15_000)
        cell_top = "() => document.querySelectorAll('[data-layer=\"conv1\"] .map-cell')[5].getBoundingClientRect().top"
        offset = f"() => tooltip.getBoundingClientRect().top - ({cell_top})()"
        before, top = page.evaluate(offset), page.evaluate(cell_top)
        page.evaluate(
            "window.scrollBy(0, scrollY > 0 ? -Math.min(200, scrollY) : 200)"
        )  # a wheel does nothing in a touch context
        page.wait_for_function(f"(t) => ({cell_top})() !== t", arg=top)  # the map moved on screen
        # the tooltip moved with it: same offset, or (when a late answer re-placed it) beside the cell, kept
        # inside the window as inspect.js places it; never left where it was on screen
        beside = f"""() => {{
            const t = tooltip.getBoundingClientRect(), c = ({cell_top})();
            return Math.abs(t.top - Math.max(4, Math.min(c, innerHeight - t.height - 4))) < 2;
        }}"""
        page.wait_for_function(f"(b) => Math.abs(({offset})() - b) < 2 || ({beside})()", arg=before)


# ---------------------------------------------------------------- docs offline, snapshots


def test_docs_and_redoc_render_offline(browser, url):
    blocked: list[str] = []

    def only_local(route):
        if route.request.url.startswith(url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with opened(browser, url + "/docs") as page:
        page.route("**/*", only_local)
        page.reload()
        expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=15_000)
        assert page.locator(".opblock-summary-path").filter(has_text="/api/predict").count() >= 1
    with opened(browser, url + "/redoc") as page:
        page.route("**/*", only_local)
        page.reload()
        expect(page.get_by_text("/api/activations").first).to_be_attached(timeout=15_000)
    assert not blocked, blocked


@pytest.fixture
def snapshot_model(tmp_path):
    """The shipped seed files copied under another name, with three conv1 snapshots added to the metadata."""
    from digitrec.store import SHIPPED_DIR

    for suffix in (".onnx", ".layers.onnx", ".safetensors"):
        shutil.copy(SHIPPED_DIR / f"seed{suffix}", tmp_path / f"snap{suffix}")
    meta = json.loads((SHIPPED_DIR / "seed.json").read_text())
    rng = np.random.default_rng(0)
    start = rng.normal(0, 0.2, 800)
    final = _seed_conv1().ravel()
    weights = [np.round(start + (final - start) * t, 5).tolist() for t in (0.0, 0.5, 1.0)]
    meta["name"] = "snap"
    meta["snapshots"] = {"layer": "conv1", "epochs": [0, 1, 2], "shape": [32, 1, 5, 5], "weights": weights}
    (tmp_path / "snap.json").write_text(json.dumps(meta))  # the digests cover the other files, not the JSON
    return tmp_path / "snap"


def _seed_conv1() -> np.ndarray:
    from safetensors.numpy import load_file

    from digitrec.store import SHIPPED_DIR

    return load_file(str(SHIPPED_DIR / "seed.safetensors"))["conv1.weight"]


def test_snapshot_slider_shows_the_filters_as_they_were_learned(browser, snapshot_model):
    from digitrec import Recognizer
    from digitrec.server import create_app

    pixels = (
        "() => [...document.querySelectorAll('#filters canvas')]"
        ".map((c) => [...c.getContext('2d').getImageData(0, 0, 5, 5).data].join()).join('|')"
    )
    with live_server(create_app(Recognizer.load(snapshot_model))) as base, opened(browser, base) as page:
        expect(page.locator("#snapshot-row")).to_be_visible()
        expect(page.locator("#snapshot-value")).to_have_text("after epoch 2")
        final = page.evaluate(pixels)
        page.focus("#snapshot")
        page.keyboard.press("Home")
        expect(page.locator("#snapshot-value")).to_have_text("epoch 0 (random start)")
        start = page.evaluate(pixels)
        assert start != final
        page.keyboard.press("End")
        assert page.evaluate(pixels) == final
        page.screenshot(path=str(ARTIFACTS / "snapshots.png"))
