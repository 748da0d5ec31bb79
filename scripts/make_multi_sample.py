"""Write images/multi-2026.png: the year written with a pen on lined paper (run from the repository root).

A sample for `digitrec read`: four pen-drawn digits (the stroke paths of
make_sample_images.py, with random jitter and slant) in blue ink on ruled
paper, unevenly spaced, with a shadow gradient and paper grain. Deterministic.
`digitrec predict images/` reads it as one digit, as it reads every image there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from make_sample_images import draw_digit

OUT = Path("images")
DIGITS = "2026"


def multi_sample(digits: str, rng: np.random.Generator) -> Image.Image:
    """Pen digits on ruled paper: RGB, about 165 px per digit wide."""
    w, h = 165 * len(digits) + 110, 340
    paper = np.full((h, w, 3), (238, 234, 222), np.float32)
    for y in range(30, h, 40):
        paper[y : y + 2] = (185, 200, 228)  # ruled lines
    img = Image.fromarray(paper.astype(np.uint8))
    x = 70.0
    for d in digits:
        s = rng.uniform(150, 175)  # digit height
        top = 95 + rng.normal(0, 6)
        draw_digit(int(d), (w, h), (x, top, x + s * 0.62, top + s), int(rng.uniform(7, 9)), rng, color=(28, 42, 125), canvas=img)
        x += s * 0.62 + rng.uniform(35, 80)
    a = np.asarray(img, np.float32)
    xs = np.linspace(0, 1, w)[None, :, None]
    ys = np.linspace(0, 1, h)[:, None, None]
    shade = 1.0 - 0.35 * np.clip(xs * 0.8 + ys * 0.5 - 0.3, 0, 1)  # a shadow towards the bottom right
    a = a * shade + rng.normal(0, 2.5, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.8))


def main() -> None:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"multi-{DIGITS}.png"
    multi_sample(DIGITS, np.random.default_rng(2026)).save(path, optimize=True)
    print(path)


if __name__ == "__main__":
    main()
