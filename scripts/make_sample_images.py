"""Regenerate the sample images in images/ (deterministic; run from the repository root).

Two kinds of samples, named <kind>-<digit>.<ext> so tests know the answer:
- mnist-*.png: MNIST test digits saved as PNG (white on black, 28x28), as the notebook's users had them;
- drawn-*/photo-*/chalk-*: digits drawn as pen strokes (hand-made stroke paths with random jitter),
  the way a drawing app or a phone photo of a note would give them: black ink on a transparent
  canvas, blue ink on lined paper with a shadow and JPEG noise, chalk on a dark board. They are
  generated, not camera photos; see README "Sample images".
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from digitrec.io.mnist import load_split

OUT = Path("images")

# Stroke paths in a unit box (x right, y down), one list of polylines per digit.
def _arc(cx, cy, rx, ry, a0, a1, n=24):
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(a0, a1, n)]  # fmt: skip


STROKES = {
    0: [_arc(0.5, 0.5, 0.3, 0.42, -90, 275)],
    1: [[(0.35, 0.25), (0.55, 0.08), (0.55, 0.92)]],
    2: [_arc(0.5, 0.32, 0.3, 0.24, 200, 380) + [(0.2, 0.9), (0.85, 0.9)]],
    3: [_arc(0.48, 0.3, 0.28, 0.21, 200, 450) + _arc(0.48, 0.7, 0.32, 0.22, -90, 160)],
    4: [[(0.62, 0.92), (0.62, 0.08), (0.15, 0.66), (0.88, 0.66)]],
    5: [[(0.78, 0.1), (0.3, 0.1), (0.26, 0.45)] + _arc(0.5, 0.66, 0.3, 0.26, -130, 150)],
    6: [[(0.7, 0.1), (0.4, 0.35)] + _arc(0.5, 0.66, 0.28, 0.26, 200, 560)],
    7: [[(0.15, 0.1), (0.85, 0.1), (0.4, 0.92)]],
    8: [_arc(0.5, 0.28, 0.23, 0.2, 90, 450), _arc(0.5, 0.7, 0.29, 0.22, -90, 270)],
    9: [_arc(0.5, 0.32, 0.27, 0.23, 0, 360), [(0.77, 0.32), (0.68, 0.92)]],
}


def draw_digit(d: int, size: tuple[int, int], box: tuple[float, float, float, float], width: int,
               rng: np.random.Generator, color=0, canvas=None) -> Image.Image:  # fmt: skip
    """Pen strokes of digit `d` inside `box` (x0, y0, x1, y1 in pixels) on `canvas` (default white L image)."""
    img = canvas if canvas is not None else Image.new("L", size, 255)
    draw = ImageDraw.Draw(img)
    x0, y0, x1, y1 = box
    slant = rng.uniform(-0.15, 0.15)
    for line in STROKES[d]:
        pts = []
        for x, y in line:
            x = x + slant * (0.5 - y) + rng.normal(0, 0.012)
            y = y + rng.normal(0, 0.012)
            pts.append((x0 + x * (x1 - x0), y0 + y * (y1 - y0)))
        draw.line(pts, fill=color, width=width, joint="curve")
        for p in (pts[0], pts[-1]):
            r = width / 2
            draw.ellipse([p[0] - r, p[1] - r, p[0] + r, p[1] + r], fill=color)
    return img


def paper_photo(d: int, rng: np.random.Generator) -> Image.Image:
    """Blue ink on lined paper, off-centre, with a shadow gradient, grain and JPEG compression."""
    w, h = 640, 480
    paper = np.full((h, w, 3), (235, 232, 220), np.float32)
    for y in range(40, h, 36):
        paper[y : y + 2] = (190, 205, 230)  # ruled lines
    img = Image.fromarray(paper.astype(np.uint8))
    cx, cy = rng.uniform(200, 440), rng.uniform(150, 330)
    s = rng.uniform(110, 170)
    draw_digit(d, (w, h), (cx - s * 0.35, cy - s / 2, cx + s * 0.35, cy + s / 2), int(rng.uniform(5, 10)), rng,
               color=(30, 40, 120), canvas=img)  # fmt: skip
    a = np.asarray(img, np.float32)
    xs = np.linspace(0, 1, w)[None, :, None]
    ys = np.linspace(0, 1, h)[:, None, None]
    shade = 1.0 - 0.45 * np.clip(1.2 - xs - 0.6 * ys, 0, 1)  # a shadow from the top-left corner
    a = a * shade + rng.normal(0, 6, a.shape)
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.2))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=70)
    return Image.open(io.BytesIO(buf.getvalue()))


def transparent_drawing(d: int, rng: np.random.Generator) -> Image.Image:
    """Black strokes on a fully transparent 400x400 canvas, as drawing apps export."""
    ink = draw_digit(d, (400, 400), (110, 50, 290, 350), 22, rng, color=255, canvas=Image.new("L", (400, 400), 0))
    rgba = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    rgba.putalpha(ink)
    return rgba


def chalk(d: int, rng: np.random.Generator) -> Image.Image:
    """White chalk on a dark green board, with grain."""
    w, h = 500, 400
    board = np.zeros((h, w, 3), np.float32) + (40, 62, 48)
    ink = np.asarray(draw_digit(d, (w, h), (180, 60, 320, 340), 14, rng, color=255, canvas=Image.new("L", (w, h), 0)), np.float32) / 255
    ink *= rng.uniform(0.6, 1.0, ink.shape)  # chalk is patchy
    a = board * (1 - ink[..., None]) + 225 * ink[..., None] + rng.normal(0, 5, board.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def main() -> None:
    OUT.mkdir(exist_ok=True)
    test = load_split("test")
    for d in (0, 2, 7, 9):
        i = int(np.flatnonzero(test.labels == d)[0])
        Image.fromarray(test.images[i]).save(OUT / f"mnist-{d}.png")
    rng = np.random.default_rng(7)
    for d in (3, 5):
        transparent_drawing(d, rng).save(OUT / f"drawn-{d}.png")
    for d in (4, 6):
        paper_photo(d, rng).save(OUT / f"photo-{d}.jpg", quality=85)
    chalk(8, rng).save(OUT / "chalk-8.png")
    print("\n".join(sorted(str(p) for p in OUT.iterdir())))


if __name__ == "__main__":
    main()
