"""The teaching sheet: a printable page of labelled boxes, and reading a phone photo of it filled in.

    >>> from digitrec.teach.sheet import write_sheet, read_sheet
    >>> write_sheet("sheet.png")                      # or sheet.pdf; print it, write one digit per box
    >>> boxes = read_sheet("photo.jpg")               # every box: its digit label and its picture

The page (PAGE_W x PAGE_H pixels, A4 at 150 dpi) has an OpenCV ArUco
marker (4x4 dictionary, ids 0-3) in each corner and ROWS rows of PER_DIGIT
boxes, row d for digit d. In a photo the four markers are found (any
rotation, perspective and uneven light that leaves them readable), the page
is warped back to its printed geometry by the homography from their centres,
and each box's inside is cut; boxes with (almost) no ink are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BadImage, ConfigError

PAGE_W, PAGE_H = 1240, 1754  # A4 at 150 dpi
MARKER = 120  # marker side, pixels
MARGIN = 60  # page edge to marker
ROWS = 10  # one row per digit
PER_DIGIT = 6  # boxes per digit (the issue asks for five or more)
GRID_LEFT, GRID_TOP, GRID_BOTTOM = 230, 300, PAGE_H - 260
BOX = 130  # box side, pixels
INSET = 0.12  # share of a box cut off each side, so the printed frame never counts as ink
INK_DARK = 0.25  # darker than the box's paper by this much (of the paper's level) is ink
INK_SHARE = 0.004  # boxes with less ink than this share of their inside are empty
BOX_GRAY = 150  # the printed frame's gray: visible, light enough not to pass for a stroke


@dataclass
class Box:
    """One box of a read sheet: its digit `label`, row/column, the cut picture uint8 (S, S) gray, and `empty`."""

    label: int
    column: int
    picture: np.ndarray
    empty: bool


def _dictionary():
    import cv2

    return cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)


def marker_centres() -> np.ndarray:
    """float32 (4, 2): the printed centres of markers 0-3 (top-left, top-right, bottom-right, bottom-left)."""
    a, b = MARGIN + MARKER / 2, PAGE_W - MARGIN - MARKER / 2
    c = PAGE_H - MARGIN - MARKER / 2
    return np.array([[a, a], [b, a], [b, c], [a, c]], np.float32)


def box_origin(row: int, column: int) -> tuple[int, int]:
    """Top-left pixel of box (row, column) on the printed page."""
    pitch_y = (GRID_BOTTOM - GRID_TOP) / ROWS
    pitch_x = (PAGE_W - MARGIN - GRID_LEFT) / PER_DIGIT
    return int(GRID_LEFT + column * pitch_x + (pitch_x - BOX) / 2), int(GRID_TOP + row * pitch_y + (pitch_y - BOX) / 2)


def render_sheet() -> np.ndarray:
    """The printable page, uint8 (PAGE_H, PAGE_W), black on white."""
    import cv2
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (PAGE_W, PAGE_H), 255)
    draw = ImageDraw.Draw(page)
    for i, (x, y) in enumerate(marker_centres()):
        marker = cv2.aruco.generateImageMarker(_dictionary(), i, MARKER)
        page.paste(Image.fromarray(marker), (int(x - MARKER / 2), int(y - MARKER / 2)))
    big, small = ImageFont.load_default(72), ImageFont.load_default(26)
    draw.text(
        (PAGE_W / 2, MARGIN + 20), "digitrec teaching sheet", fill=0, font=ImageFont.load_default(40), anchor="mt"
    )
    draw.text(
        (PAGE_W / 2, MARGIN + 80), "One digit per box, as you usually write it. Leave a box empty to skip it.",
        fill=0, font=small, anchor="mt",
    )  # fmt: skip
    for row in range(ROWS):
        for col in range(PER_DIGIT):
            x, y = box_origin(row, col)
            draw.rectangle([x, y, x + BOX, y + BOX], outline=BOX_GRAY, width=3)
        x, y = box_origin(row, 0)
        draw.text((x - 70, y + BOX / 2), str(row), fill=0, font=big, anchor="mm")
    draw.text(
        (PAGE_W / 2, PAGE_H - MARGIN - 20),
        "Photograph the whole page, all four corner squares in view: digitrec teach photo.jpg --name NAME",
        fill=0, font=small, anchor="mb",
    )  # fmt: skip
    return np.asarray(page)


def write_sheet(path: str | Path, force: bool = False) -> Path:
    """Write the page to `path`: .png (or any image suffix Pillow writes) or .pdf (A4 at 150 dpi)."""
    from PIL import Image

    from ..errors import OutputExists
    from ..store import atomic_write

    path = Path(path)
    if path.exists() and not force:
        raise OutputExists(f"{path}: already exists; pass --force to overwrite it")
    fmt = {".pdf": "PDF", ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}.get(path.suffix.lower())
    if fmt is None:
        raise ConfigError(f"{path}: write the sheet as .png, .jpg or .pdf")
    page = Image.fromarray(render_sheet())
    atomic_write(path, lambda tmp: page.save(tmp, format=fmt, resolution=150.0))
    return path


def find_markers(gray: np.ndarray) -> np.ndarray:
    """uint8 (H, W) photo -> float32 (4, 2) centres of markers 0-3 in it; BadImage when one is missing."""
    import cv2

    detector = cv2.aruco.ArucoDetector(_dictionary(), cv2.aruco.DetectorParameters())
    corners, ids, _ = detector.detectMarkers(gray)
    found = {int(i): c.reshape(4, 2).mean(0) for c, i in zip(corners, ids.ravel())} if ids is not None else {}
    missing = [i for i in range(4) if i not in found]
    if missing:
        raise BadImage(f"corner marker(s) {missing} not found: photograph the whole sheet, all four corners in view")
    return np.array([found[i] for i in range(4)], np.float32)


def warp_page(gray: np.ndarray) -> np.ndarray:
    """uint8 (H, W) photo of the sheet -> uint8 (PAGE_H, PAGE_W): the page as printed, straightened."""
    import cv2

    m = cv2.getPerspectiveTransform(find_markers(gray), marker_centres())
    return cv2.warpPerspective(gray, m, (PAGE_W, PAGE_H), flags=cv2.INTER_AREA, borderValue=255)


def is_empty(picture: np.ndarray) -> bool:
    """True when uint8 (S, S) holds (almost) no ink darker than its own paper (shadows are not ink)."""
    a = picture.astype(np.float32)
    paper = np.percentile(a, 90)
    return float(((paper - a) > INK_DARK * max(paper, 1.0)).mean()) < INK_SHARE


def cut_boxes(page: np.ndarray) -> list[Box]:
    """Every box of a straightened page uint8 (PAGE_H, PAGE_W), row by row."""
    cut = int(BOX * INSET)
    boxes = []
    for row in range(ROWS):
        for col in range(PER_DIGIT):
            x, y = box_origin(row, col)
            picture = page[y + cut : y + BOX - cut, x + cut : x + BOX - cut].copy()
            boxes.append(Box(row, col, picture, is_empty(picture)))
    return boxes


def read_sheet(source) -> list[Box]:
    """A photo (path, bytes, array...) of a filled sheet -> its boxes; BadImage when the markers are not all found."""
    from ..io.decode import load_gray

    name = str(source) if isinstance(source, (str, Path)) else "<sheet>"
    gray, _ = load_gray(source, name)
    try:
        return cut_boxes(warp_page((np.clip(gray, 0, 1) * 255).astype(np.uint8)))
    except BadImage as e:
        raise BadImage(f"{name}: {e}") from None


def show_boxes(boxes: list[Box], path: str | Path) -> Path:
    """Write a picture of the cut boxes, one row per digit, its label on the left; skipped boxes crossed out."""
    import cv2
    from PIL import Image, ImageDraw, ImageFont

    from ..store import atomic_write

    side, pad = 72, 8
    img = Image.new("RGB", (side + (side + pad) * PER_DIGIT + pad, (side + pad) * ROWS + pad), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(40)
    for b in boxes:
        x, y = side + pad + b.column * (side + pad), pad + b.label * (side + pad)
        img.paste(Image.fromarray(cv2.resize(b.picture, (side, side), interpolation=cv2.INTER_AREA)), (x, y))
        if b.empty:
            draw.line([x, y, x + side, y + side], fill="red", width=3)
            draw.line([x + side, y, x, y + side], fill="red", width=3)
        draw.text((side / 2, y + side / 2), str(b.label), fill="black", font=font, anchor="mm")
    atomic_write(Path(path), lambda tmp: img.save(tmp, format="PNG"))
    return Path(path)


# ---------------------------------------------------------------- synthetic filled sheets (tests, benches)


def fill(page: np.ndarray, digits: dict[tuple[int, int], np.ndarray]) -> np.ndarray:
    """Draw MNIST-form digits uint8 (28, 28) white-on-black into boxes {(row, column): digit} of a page copy."""
    import cv2

    page = page.copy()
    inner = int(BOX * (1 - 2 * INSET)) - 8
    for (row, col), digit in digits.items():
        x, y = box_origin(row, col)
        ink = cv2.resize(digit, (inner, inner), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255.0
        x0, y0 = x + (BOX - inner) // 2, y + (BOX - inner) // 2
        region = page[y0 : y0 + inner, x0 : x0 + inner].astype(np.float32)
        page[y0 : y0 + inner, x0 : x0 + inner] = (region * (1 - np.clip(ink * 1.2, 0, 1))).astype(np.uint8)
    return page


def photograph(page: np.ndarray, turn: float, rng: np.random.Generator) -> np.ndarray:
    """uint8 page -> uint8 (H, W) phone-like photo: on a table, turned `turn` degrees, mild perspective, shadow, noise."""
    import cv2

    h, w = page.shape
    out_w, out_h = int(w * 1.5), int(h * 1.3)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    centre = np.array([out_w / 2, out_h / 2], np.float32)
    rot = cv2.getRotationMatrix2D((0, 0), turn, 0.8)[:, :2].astype(np.float32)
    dst = (src - [w / 2, h / 2]) @ rot.T + centre
    dst += rng.uniform(-0.03, 0.03, dst.shape).astype(np.float32) * [w, h]  # mild perspective
    m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    photo = cv2.warpPerspective(page, m, (out_w, out_h), borderValue=90).astype(np.float32)
    xs = np.linspace(0, 1, out_w)[None, :]
    ys = np.linspace(0, 1, out_h)[:, None]
    shadow = 1.0 - 0.45 * np.clip((xs + ys - 0.9) * 2, 0, 1)  # a soft shadow across one corner
    photo = photo * shadow * 0.9 + 10 + rng.normal(0, 4, photo.shape)
    return cv2.GaussianBlur(np.clip(photo, 0, 255).astype(np.uint8), (3, 3), 0)
