"""The drawing page in a real headless Chromium (the Debian `chromium` package), driven by Playwright.

Never `playwright install`: it downloads a browser. `make test` installs chromium with apt-get.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

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

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="module")
def page(seed_recognizer):
    from digitrec.server import create_app

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with live_server(create_app(seed_recognizer)) as url, playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        playwright_api.expect(page.locator("#model-info")).to_contain_text("seed")
        yield page
        browser.close()
        assert not errors, errors


def stroke(page, points: list[tuple[float, float]]) -> None:
    """Draw one mouse stroke through points given in pad units (0..280)."""
    box = page.locator("#pad").bounding_box()
    at = [(box["x"] + x / 280 * box["width"], box["y"] + y / 280 * box["height"]) for x, y in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for x, y in at[1:]:
        page.mouse.move(x, y, steps=8)
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


def test_page_lays_out_the_network_from_the_model_summary(page):
    names = page.locator("#network .layer").evaluate_all("cols => cols.map((c) => c.dataset.layer)")
    assert names == ["input", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "dense1", "relu3", "dense2"]
    assert not page.locator('[data-layer="relu1"]').is_visible()  # ReLU columns behind a checkbox
    page.check("#show-relu")
    assert page.locator('[data-layer="relu1"]').is_visible()
    page.uncheck("#show-relu")
    assert page.locator('[data-layer="conv1"] canvas').count() == 32
    assert "32×24×24" in page.locator('[data-layer="conv1"] header').inner_text()


def test_drawing_a_seven_predicts_7_and_lights_up_the_layers(page):
    page.click("#clear")
    stroke(page, [(70, 60), (210, 60), (120, 235)])
    playwright_api.expect(page.locator("#digit")).to_have_text("7", timeout=10_000)
    assert lit_maps(page, "input") == 1
    assert lit_maps(page, "conv1") > 16 and lit_maps(page, "pool2") > 4
    assert page.locator("#bars li.top").inner_text().startswith("7")
    # hover a conv1 cell: its value and the 5x5 input window that feeds it
    cell = page.locator('[data-layer="conv1"] .map-cell').nth(3)
    cell.scroll_into_view_if_needed()
    box = cell.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.3)
    tip = page.locator("#tooltip")
    playwright_api.expect(tip).to_be_visible()
    assert "conv1" in tip.inner_text() and tip.locator("table tr").count() == 5
    assert page.locator('[data-layer="input"] .mark.source').count() == 1
    page.screenshot(path=str(ARTIFACTS / "draw-7.png"))
    page.screenshot(path=str(ROOT / "docs" / "screenshot-draw.png"))
    # a conv2 cell is fed by a 3x3 window in every pool1 map
    conv2 = page.locator('[data-layer="conv2"] .map-cell').first
    conv2.scroll_into_view_if_needed()
    box = conv2.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert page.locator('[data-layer="pool1"] .mark.source').count() == 32
    page.mouse.move(5, 5)


def test_drawing_a_zero_predicts_0(page):
    page.click("#clear")
    playwright_api.expect(page.locator("#digit")).to_have_text("–")
    ring = [(140 + 60 * math.sin(t / 24 * 2 * math.pi), 140 - 90 * math.cos(t / 24 * 2 * math.pi)) for t in range(26)]
    stroke(page, ring)
    playwright_api.expect(page.locator("#digit")).to_have_text("0", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "draw-0.png"))


def test_undo_and_keyboard_example(page):
    page.click("#clear")
    stroke(page, [(70, 60), (210, 60), (120, 235)])
    playwright_api.expect(page.locator("#digit")).to_have_text("7", timeout=10_000)
    stroke(page, [(90, 150), (190, 150)])  # a bar across: still a 7 or not, undo takes it away
    page.keyboard.press("Control+z")
    playwright_api.expect(page.locator("#digit")).to_have_text("7", timeout=10_000)
    page.click("#clear")
    page.focus("#example")
    page.keyboard.press("Enter")  # the first example is a 7
    playwright_api.expect(page.locator("#digit")).to_have_text("7", timeout=10_000)


@pytest.mark.parametrize("name", ["mnist-2.png", "photo-4.jpg"])
def test_upload_shows_crop_and_box(page, name):
    page.set_input_files("#file", str(IMAGES / name))
    expected = name.split("-")[1][0]
    playwright_api.expect(page.locator("#digit")).to_have_text(expected, timeout=15_000)
    playwright_api.expect(page.locator("#photo-figure")).to_be_visible()
    playwright_api.expect(page.locator(".photo-box").first).to_be_visible()
    assert lit_maps(page, "input") == 1
    page.screenshot(path=str(ARTIFACTS / f"upload-{Path(name).stem}.png"))


def test_upload_of_a_non_image_shows_the_error(page, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    page.set_input_files("#file", str(bad))
    playwright_api.expect(page.locator("#error")).to_contain_text("not an image", timeout=10_000)
    page.click("#clear")
    playwright_api.expect(page.locator("#error")).to_be_hidden()
