"""Synthetic pictures of digits on paper, for evaluation sets, benchmarks and tests.

Feed these only MNIST *test* digits (or other held-out ink): pictures made from
training digits would flatter every figure measured with them.

Lines of digits: `digit_line` lays them out, `on_paper` and `photo` picture them.
One digit as a photo or scan: `digit_photo(digit, condition, rng)`, one of
`CONDITIONS` (pen, marker, chalk, lined paper, shadows, EXIF-rotated JPEGs, ...);
`digitrec.synth.photos` writes whole labelled sets of these.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter


def digit_line(images: np.ndarray, gaps: list[int], rng: np.random.Generator) -> np.ndarray:
    """MNIST digits uint8 (k, 28, 28), white on black -> one line uint8 (28 + 8, W), white on black.

    Each digit is cut to its ink columns and placed `gaps[i]` pixels after the
    previous one (negative: overlapping), shifted up or down by up to 2 pixels.
    """
    parts = []
    for img in images:
        cols = np.flatnonzero(img.max(0) > 0)
        parts.append(img[:, cols[0] : cols[-1] + 1] if cols.size else img[:, 10:18])
    width = sum(p.shape[1] for p in parts) + sum(gaps) + 16
    line = np.zeros((36, max(width, 16)), np.uint8)
    x = 8
    for i, p in enumerate(parts):
        y = 4 + int(rng.integers(-2, 3))
        region = line[y : y + 28, x : x + p.shape[1]]
        np.maximum(region, p, out=region)
        x += p.shape[1] + (gaps[i] if i < len(gaps) else 0)
    return line


def on_paper(ink: np.ndarray, scale: float) -> Image.Image:
    """uint8 (H, W) white-on-black ink -> dark ink on white paper, enlarged `scale` times."""
    h, w = ink.shape
    return Image.fromarray(255 - ink).resize((round(w * scale), round(h * scale)), Image.BILINEAR)


def photo(ink: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """uint8 (H, W) white-on-black ink -> a JPEG 'photo': a bigger tinted sheet, blue-black ink, shading, blur, noise."""
    scale = rng.uniform(3, 6)
    big = (
        np.asarray(
            Image.fromarray(ink).resize((round(ink.shape[1] * scale), round(ink.shape[0] * scale)), Image.BILINEAR),
            np.float32,
        )
        / 255
    )
    h, w = big.shape
    H, W = int(h * rng.uniform(1.8, 3.0)), int(w * rng.uniform(1.2, 1.6))
    y0, x0 = int(rng.integers(0, H - h)), int(rng.integers(0, W - w))
    alpha = np.zeros((H, W), np.float32)
    alpha[y0 : y0 + h, x0 : x0 + w] = big * rng.uniform(0.75, 1.0)
    paper = np.array([rng.uniform(200, 245), rng.uniform(195, 240), rng.uniform(180, 225)], np.float32)
    pen = np.array([rng.uniform(10, 60), rng.uniform(10, 60), rng.uniform(60, 130)], np.float32)
    a = paper * (1 - alpha[..., None]) + pen * alpha[..., None]
    gx, gy = np.linspace(0, 1, W)[None, :], np.linspace(0, 1, H)[:, None]
    angle = rng.uniform(0, 2 * np.pi)
    shade = 1.0 - rng.uniform(0.2, 0.45) * np.clip(np.cos(angle) * gx + np.sin(angle) * gy, 0, 1)
    a = a * shade[..., None] + rng.normal(0, rng.uniform(2, 7), a.shape)
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=int(rng.integers(55, 90)))
    return Image.open(io.BytesIO(buf.getvalue()))


# ---------------------------------------------------------------- one digit as a photo or scan

CONDITIONS = ("pen", "thin", "marker", "coloured", "lined", "shadow", "chalk", "transparent", "exif", "small", "specks")
PAPERS = {
    "white": (0.95, 0.95, 0.93),
    "cream": (0.96, 0.93, 0.82),
    "yellow": (0.98, 0.93, 0.55),
    "pink": (0.97, 0.80, 0.85),
    "blue": (0.75, 0.86, 0.97),
    "green": (0.78, 0.93, 0.78),
}
INKS = {"black": (0.08, 0.08, 0.1), "blue": (0.1, 0.15, 0.55), "graphite": (0.3, 0.3, 0.32), "red": (0.6, 0.08, 0.1)}


def _field(rng: np.random.Generator, h: int, w: int, cells: int = 5) -> np.ndarray:
    """Smooth random field float32 (h, w) with mean 0 and std about 1: paper texture, lighting."""
    small = rng.normal(0, 1, (cells, cells)).astype(np.float32)
    return np.asarray(Image.fromarray(small, "F").resize((w, h), Image.BICUBIC), np.float32)


def digit_mask(digit: np.ndarray, height: int, stroke: str, rng: np.random.Generator) -> np.ndarray:
    """MNIST uint8 (28, 28) -> pen coverage float32 (height, height) in [0, 1], strokes as `stroke` pen.

    The strokes are shaped at most 196 px tall (rank filters cost the square of
    their size), then enlarged and their edges sharpened again.
    """
    side = min(height, 196)
    up = np.asarray(Image.fromarray(digit).resize((side, side), Image.BICUBIC), np.float32) / 255.0
    level = {"pen": 0.55, "thin": 0.8, "marker": 0.3, "chalk": 0.5}[stroke]
    mask = np.clip((up - level) * (side / 28) / 2 + 0.5, 0.0, 1.0)  # edges about 2 px wide
    img = Image.fromarray(mask.astype(np.float32), "F")
    if stroke == "thin":
        img = img.filter(ImageFilter.MinFilter(max(3, (side // 60) | 1)))
    elif stroke == "marker":
        img = img.filter(ImageFilter.MaxFilter(max(3, (side // 16) | 1)))
    if height > side:
        img = img.resize((height, height), Image.BILINEAR)
    mask = np.asarray(img, np.float32)
    if height > side:
        mask = np.clip((mask - 0.5) * (height / side) / 2 + 0.5, 0.0, 1.0)
    if stroke == "chalk":  # grainy, broken chalk strokes
        mask = mask * np.clip(rng.uniform(0.35, 1.3, mask.shape), 0, 1).astype(np.float32)
    return mask


def _transparent_png(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    """Black strokes on a transparent *black* canvas, as drawing apps export them: PNG bytes."""
    side = int(rng.integers(280, 700))
    height = int(side * rng.uniform(0.5, 0.85))
    mask = digit_mask(digit, height, "pen", rng)
    alpha = np.zeros((side, side), np.float32)
    y, x = (int(rng.integers(0, side - height + 1)) for _ in range(2))
    alpha[y : y + height, x : x + height] = mask
    rgba = np.zeros((side, side, 4), np.uint8)
    rgba[..., 3] = np.round(alpha * 255).astype(np.uint8)  # NOTE: RGB stays black under zero alpha
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    return buf.getvalue()


def _paper_and_ink(condition: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Paper and ink colours, float32 (3,) RGB in [0, 1]."""
    if condition == "chalk":
        paper = np.array([rng.uniform(0.08, 0.2), rng.uniform(0.12, 0.28), rng.uniform(0.1, 0.2)], np.float32)
        return paper, np.full(3, rng.uniform(0.8, 0.95), np.float32)
    name = (
        str(rng.choice(list(PAPERS)[2:])) if condition == "coloured" else str(rng.choice(["white", "white", "cream"]))
    )
    ink = np.array(INKS[str(rng.choice(["black", "blue", "blue", "graphite", "red"]))], np.float32)
    return np.array(PAPERS[name], np.float32), ink


def _shading(condition: str, rng: np.random.Generator, h: int, w: int, box: tuple[int, int, int]) -> np.ndarray:
    """Paper texture times lighting float32 (h, w) around 1; `box` (y, x, height) is where the digit sits."""
    y, x, height = box
    # NOTE: texture and lighting are smooth, so they are made small and enlarged: a 3000x2000 photo stays cheap.
    shade = 1.0 + 0.02 * _field(rng, h, w, 24)
    if condition == "chalk":  # chalk dust smeared across the board
        shade += 0.3 * np.clip(_field(rng, h, w, 8), 0, None)
    sh, sw = max(2, h // 8), max(2, w // 8)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32) * 8
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * xx / w + np.sin(angle) * yy / h
    light = 1.0 - rng.uniform(0.0, 0.25) * (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    if condition == "shadow":  # a soft-edged shadow across the page, often over the digit
        a2 = rng.uniform(0, 2 * np.pi)
        side = np.cos(a2) * (xx - (x + height / 2)) + np.sin(a2) * (yy - (y + height / 2)) + rng.normal(0, height / 4)
        soft = max(4.0, height * rng.uniform(0.05, 0.3))
        light = light * (1.0 - rng.uniform(0.35, 0.6) / (1.0 + np.exp(-np.clip(side / soft, -50, 50))))
    return shade * np.asarray(Image.fromarray(light.astype(np.float32), "F").resize((w, h), Image.BILINEAR), np.float32)


def _marks(img: np.ndarray, condition: str, rng: np.random.Generator, height: int, paper: np.ndarray) -> None:
    """Ruled lines or specks of dirt drawn into the page float32 (h, w, 3), in place (the page is ours)."""
    h, w = img.shape[:2]
    if condition == "lined":
        spacing = max(8, int(height * rng.uniform(0.55, 0.9)))
        thick = max(1, round(min(w, h) / 600))
        line = np.array([0.55, 0.7, 0.9], np.float32)
        for r in range(int(rng.integers(0, spacing)), h, spacing):
            img[r : r + thick] *= 0.4 + 0.6 * line / paper
    if condition == "specks":  # dirt: small dark dots anywhere on the page
        for _ in range(int(rng.integers(3, 9))):
            r = int(rng.integers(1, max(2, min(w, h) // 150) + 1))
            cy, cx = int(rng.integers(r, h - r)), int(rng.integers(r, w - r))
            img[cy - r : cy + r, cx - r : cx + r] *= 0.3


def _camera_jpeg(img: np.ndarray, condition: str, rng: np.random.Generator) -> bytes:
    """The page float32 (h, w, 3) in [0, 1] -> JPEG bytes after lens blur and sensor noise.

    "exif" stores the pixels turned the other way with an Orientation tag, so only a
    reader that applies the tag sees the digit upright.
    """
    h, w = img.shape[:2]
    photo = Image.fromarray(np.round(np.clip(img, 0, 1) * 255).astype(np.uint8), "RGB")
    photo = photo.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2) * max(1.0, min(w, h) / 800)))
    noise = rng.standard_normal((h, w), dtype=np.float32) * rng.uniform(2, 8)
    photo = Image.fromarray(np.clip(np.asarray(photo, np.float32) + noise[..., None], 0, 255).astype(np.uint8), "RGB")
    buf = io.BytesIO()
    quality = int(rng.integers(40, 92))
    if condition == "exif":
        orientation = int(rng.choice([3, 6, 8]))
        stored = {3: Image.ROTATE_180, 6: Image.ROTATE_90, 8: Image.ROTATE_270}[orientation]
        exif = Image.Exif()
        exif[0x0112] = orientation
        photo.transpose(stored).save(buf, "JPEG", quality=quality, exif=exif.tobytes())
    else:
        photo.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def digit_photo(digit: np.ndarray, condition: str, rng: np.random.Generator, max_side: int = 2000) -> tuple[bytes, str]:
    """One MNIST test digit uint8 (28, 28) -> (encoded image file, suffix) for `condition`, one of `CONDITIONS`.

    Canvases are 300 to `max_side` px a side; "small" puts a digit of 3-7% of the
    height on a canvas 1.2-1.5x `max_side` wide (3000x2000 at the default).
    """
    if condition == "transparent":
        return _transparent_png(digit, rng), ".png"
    if condition == "small":
        w, h = int(rng.integers(1.2 * max_side, 1.5 * max_side + 1)), int(rng.integers(0.8 * max_side, max_side + 1))
        height = int(h * rng.uniform(0.03, 0.07))
    else:
        w, h = (int(v) for v in rng.integers(300, max_side + 1, 2))
        height = int(min(w, h) * rng.uniform(0.25, 0.75))
    random_pen = str(rng.choice(["pen", "pen", "thin", "marker"]))  # drawn always: the same seed gives the same files
    stroke = {"thin": "thin", "marker": "marker", "chalk": "chalk"}.get(condition, random_pen)
    mask = digit_mask(digit, height, stroke, rng)
    y, x = int(rng.integers(0, h - height + 1)), int(rng.integers(0, w - height + 1))
    paper, ink = _paper_and_ink(condition, rng)
    shade = _shading(condition, rng, h, w, (y, x, height))
    img = paper * shade[..., None]
    _marks(img, condition, rng, height, paper)
    region = img[y : y + height, x : x + height]
    region[:] = region * (1 - mask[..., None]) + (ink * shade[y : y + height, x : x + height, None]) * mask[..., None]
    return _camera_jpeg(img, condition, rng), ".jpg"
