"""PDF pages and HEIC photos read like any picture; without their extras, refused in one line naming the extra."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from digitrec.cli import cli
from digitrec.errors import BadImage
from digitrec.io.decode import count_images, iter_image_paths, open_image
from digitrec.io.documents import page_name, split_page
from digitrec.io.mnist import load_split


@pytest.fixture(scope="module")
def digits():
    """Three MNIST test digits drawn dark on white, 168 px, and their labels."""
    test = load_split("test")
    idx = [0, 1, 2]
    pictures = [Image.fromarray(255 - np.kron(test.images[i], np.ones((6, 6), np.uint8))).convert("RGB") for i in idx]
    return pictures, [int(test.labels[i]) for i in idx]


@pytest.fixture
def pdf(tmp_path, digits):
    pictures, _ = digits
    path = tmp_path / "scan.pdf"
    pictures[0].save(path, save_all=True, append_images=pictures[1:], resolution=200)
    return path


def test_page_names_round_trip(tmp_path):
    assert split_page(page_name("a/scan.pdf", 3)) == ("a/scan.pdf", 3)
    assert split_page("a/scan.pdf") == ("a/scan.pdf", None)
    odd = tmp_path / "odd#page=2"  # a file really so named is that file
    odd.write_bytes(b"x")
    assert split_page(str(odd)) == (str(odd), None)


def test_each_pdf_page_is_a_picture_read_right(pdf, digits):
    _, labels = digits
    pages = list(iter_image_paths([str(pdf.parent)]))
    assert pages == [page_name(pdf, i) for i in (1, 2, 3)]
    assert count_images([str(pdf.parent)]) == 3
    result = CliRunner().invoke(cli, ["predict", "--json", str(pdf)])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("{")]
    import json

    got = [(json.loads(r)["path"], json.loads(r)["digit"]) for r in rows]
    assert got == [(page_name(pdf, i + 1), labels[i]) for i in range(3)]


def test_a_named_page_and_pdf_bytes(pdf, digits):
    _, labels = digits
    from digitrec import Recognizer
    from digitrec.read.strings import read_digits

    rec = Recognizer.load()
    assert read_digits(rec, page_name(pdf, 2)).digits == str(labels[1])
    assert rec.predict(pdf.read_bytes()).digit == labels[0]  # bytes: the first page
    page = open_image(page_name(pdf, 1))
    assert 150 < page.height < 190  # 168 px at 200 dpi, rendered back at 200 dpi


def test_a_page_the_pdf_lacks_is_one_line(pdf):
    with pytest.raises(BadImage, match=r"scan\.pdf#page=7: no page 7 \(the PDF has 3\)"):
        open_image(page_name(pdf, 7))


def test_heic_is_read(tmp_path, digits):
    pillow_heif = pytest.importorskip("pillow_heif")
    pictures, labels = digits
    pillow_heif.register_heif_opener()
    path = tmp_path / "photo.HEIC"
    pictures[1].save(path, format="HEIF", quality=95)
    assert list(iter_image_paths([str(tmp_path)])) == [str(path)]
    from digitrec import Recognizer

    rec = Recognizer.load()
    assert rec.predict(str(path)).digit == labels[1]
    assert rec.predict(io.BytesIO(path.read_bytes())).digit == labels[1]


@pytest.mark.parametrize("module, extra", [("pypdfium2", "pdf"), ("pillow_heif", "heic")])
def test_without_the_extra_one_line_names_it(module, extra, tmp_path, pdf, digits, monkeypatch):
    pillow_heif = pytest.importorskip("pillow_heif")
    path = pdf
    if extra == "heic":
        pillow_heif.register_heif_opener()
        path = tmp_path / "photo.heic"
        digits[0][0].save(path, format="HEIF")
        # NOTE: the plugin registered above must be forgotten too, or Pillow opens the file without it
        monkeypatch.setattr(Image, "OPEN", {k: v for k, v in Image.OPEN.items() if k != "HEIF"})
        monkeypatch.setattr(Image, "ID", [i for i in Image.ID if i != "HEIF"])
    monkeypatch.setitem(sys.modules, module, None)  # import fails: as if the extra were not installed
    with pytest.raises(BadImage) as e:
        open_image(str(path))
    message = str(e.value)
    assert "\n" not in message and str(path) in message and f'pip install "digitrec[{extra}]"' in message
    ok = tmp_path / "ok.png"
    digits[0][2].save(ok)
    result = CliRunner().invoke(cli, ["predict", str(path), str(ok)])
    assert f"digitrec[{extra}]" in result.output and f"{ok}\t{digits[1][2]}" in result.output  # the batch goes on


def test_the_api_reads_the_pdf_page_asked_for(pdf, digits, seed_recognizer):
    """POST /api/read and /api/predict with ?page=N read that page of a PDF body; a page it lacks, or a page asked
    of a PNG, is a one-line error."""
    pytest.importorskip("pypdfium2")
    httpx = pytest.importorskip("httpx")
    from live_server import live_server

    from digitrec.server import create_app

    _, labels = digits
    body = {"file": ("scan.pdf", pdf.read_bytes(), "application/pdf")}
    with live_server(create_app(seed_recognizer)) as url, httpx.Client(base_url=url, timeout=60) as client:
        for page in (1, 2, 3):
            read = client.post(f"/api/read?page={page}", files=body).json()
            assert (read["digits"], read["path"]) == (str(labels[page - 1]), f"scan.pdf#page={page}")
            assert client.post(f"/api/predict?page={page}", files=body).json()["digit"] == labels[page - 1]
        assert client.post("/api/read", files=body).json()["digits"] == str(labels[0])
        lacking = client.post("/api/read?page=7", files=body)
        assert lacking.status_code in (400, 422) and "no page 7 (the PDF has 3)" in lacking.text
        png = io.BytesIO()
        digits[0][0].save(png, "PNG")
        not_pdf = client.post("/api/read?page=2", files={"file": ("d.png", png.getvalue(), "image/png")})
        assert not_pdf.status_code == 422 and "only a PDF body has pages" in not_pdf.text
