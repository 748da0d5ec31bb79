"""PDF pages and HEIC photos as pictures: forms arrive as scanned PDFs and as photos from phones.

    digitrec read scan.pdf              # every page: scan.pdf#page=1, scan.pdf#page=2, ...
    digitrec read "scan.pdf#page=2"     # one page
    digitrec predict IMG_0042.HEIC

Each PDF page is rendered at RENDER_DPI by pypdfium2 (the `pdf` extra: a
wheel that ships its own PDFium binary); HEIC/HEIF files open through the
pillow-heif plugin (the `heic` extra). `path#page=N` (N from 1) names a page
in every output. Without the extra a file is refused in one line that names
the extra to install; the rest of a batch still runs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from PIL import Image

from ..errors import BadImage

PDF_SUFFIXES = {".pdf"}
HEIF_SUFFIXES = {".heic", ".heif"}
DOCUMENT_SUFFIXES = PDF_SUFFIXES | HEIF_SUFFIXES
RENDER_DPI = 200  # a scan's usual resolution: a handwritten digit is 60-150 px tall, as the models like it
PDF_POINTS_PER_INCH = 72
_PAGE = re.compile(r"^(?P<path>.+)#page=(?P<page>\d+)$")
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")


def page_name(path: str | os.PathLike, page: int) -> str:
    """The name of page `page` (from 1) of a PDF: "scan.pdf#page=2"."""
    return f"{os.fspath(path)}#page={page}"


def split_page(name: str) -> tuple[str, int | None]:
    """("scan.pdf", 2) for "scan.pdf#page=2"; (name, None) for a name without a page (or a file so named)."""
    m = _PAGE.match(name)
    if m is None or os.path.exists(name):
        return name, None
    return m["path"], int(m["page"])


def is_pdf(data: bytes) -> bool:
    """True when `data` (a file's first bytes) starts a PDF."""
    return data[:5] == b"%PDF-"


def is_heif(data: bytes) -> bool:
    """True when `data` (a file's first bytes) starts an HEIC/HEIF file (an ISO box `ftyp` of a HEIF brand)."""
    return data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS


def _pdfium(label: str):
    try:
        import pypdfium2
    except ImportError:
        raise BadImage(_needs(label, "PDF", "pypdfium2", "pdf")) from None
    return pypdfium2


def _needs(label: str, kind: str, package: str, extra: str) -> str:
    return f'{label}: {kind} input needs {package}, which is not installed: pip install "digitrec[{extra}]"'


def _open_pdf(source: str | os.PathLike | bytes, label: str):
    """A pypdfium2 PdfDocument (the caller closes it). Raises BadImage for a broken PDF or without the extra."""
    pdfium = _pdfium(label)
    try:
        return pdfium.PdfDocument(source)
    except pdfium.PdfiumError as e:
        raise BadImage(f"{label}: not a readable PDF ({e})") from None


def page_count(source: str | os.PathLike | bytes, label: str | None = None) -> int:
    """How many pages a PDF file (path or bytes) has. Raises BadImage for a broken PDF or without the extra."""
    label = label or (os.fspath(source) if not isinstance(source, bytes) else "<pdf>")
    doc = _open_pdf(source, label)
    try:
        return len(doc)
    finally:
        doc.close()


def render_pdf_page(
    source: str | os.PathLike | bytes, page: int = 1, label: str | None = None, max_pixels: int = 80_000_000
) -> Image.Image:
    """Page `page` (from 1) of a PDF file (path or bytes) as a gray Pillow image at RENDER_DPI (less for a page so
    large that it would pass `max_pixels`).

    Raises BadImage for a broken PDF, a page it does not have, or without the `pdf` extra.
    """
    label = label or (os.fspath(source) if not isinstance(source, bytes) else "<pdf>")
    doc = _open_pdf(source, label)
    try:
        if not 1 <= page <= len(doc):
            raise BadImage(f"{label}: no page {page} (the PDF has {len(doc)})")
        width, height = doc[page - 1].get_size()  # in points
        scale = min(RENDER_DPI / PDF_POINTS_PER_INCH, (max_pixels / max(width * height, 1.0)) ** 0.5)
        bitmap = doc[page - 1].render(scale=scale, grayscale=True)
        return bitmap.to_pil().convert("L")
    finally:
        doc.close()


def open_heif(fp, label: str) -> Image.Image:
    """An HEIC/HEIF file object as a Pillow image (through pillow-heif). Raises BadImage without the `heic` extra."""
    try:
        import pillow_heif
    except ImportError:
        raise BadImage(_needs(label, "HEIC", "pillow-heif", "heic")) from None
    pillow_heif.register_heif_opener()
    return Image.open(fp)


def pdf_pages(path: str) -> list[str]:
    """The page names of a PDF file ("scan.pdf#page=1", ...); [path] itself when it cannot be counted, so reading
    it gives its own one-line error."""
    try:
        return [page_name(path, i) for i in range(1, page_count(path) + 1)] or [path]
    except BadImage:
        return [path]


def is_pdf_path(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in PDF_SUFFIXES


__all__ = [
    "DOCUMENT_SUFFIXES", "HEIF_SUFFIXES", "PDF_SUFFIXES", "RENDER_DPI", "is_heif", "is_pdf", "is_pdf_path",
    "open_heif", "page_count", "page_name", "pdf_pages", "render_pdf_page", "split_page",
]  # fmt: skip
