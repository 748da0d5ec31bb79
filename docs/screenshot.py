"""Remake docs/screenshot-draw.png, the README's picture of the page (the tests never write under docs/).

PYTHONPATH=src .venv/bin/python docs/screenshot.py      # needs the dev extra and Debian's chromium
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    from live_server import live_server
    from playwright.sync_api import expect, sync_playwright

    from digitrec import Recognizer
    from digitrec.server import create_app

    with live_server(create_app(Recognizer.load("seed"))) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox", "--headless=new"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(url)
        expect(page.locator('[data-layer="conv1"] canvas')).to_have_count(32)
        page.click("#example")
        expect(page.locator("#digit")).to_have_text("7", timeout=10_000)
        page.locator("#filters canvas").nth(5).hover()
        for index in range(32):  # the first pooling cell with a lit window
            cell = page.locator('[data-layer="pool1"] .map-cell').nth(index)
            cell.scroll_into_view_if_needed()
            box = cell.bounding_box()
            page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.3)
            expect(page.locator("#tooltip")).to_contain_text("(exact)", timeout=10_000)
            if float(page.locator("#tooltip td.max").inner_text()) > 0.3:
                break
        page.screenshot(path=str(ROOT / "docs" / "screenshot-draw.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
