"""How well `predict` counts the characters of a picture of several: geometry alone, then with the line reader.

    nice -n 19 .venv/bin/python bench/count_characters.py

Kinds: `printed` (digit strings, dates, phone numbers, decimals, times in 6 of
matplotlib's fonts at 24, 48 and 96 px), `hand GAP` (2 to 10 MNIST *test*
digits side by side from `synth.digit_line`, GAP px apart at MNIST scale,
negative: overlapping, on paper 3x) and `single` (500 MNIST test digits, which
must count 1). `parts` is `preprocess.count_characters`; `reason` is the N of
"several characters (N)" that `Recognizer.predict` says (1 when it answers).
Per kind: share exactly right and mean absolute error.
"""

from __future__ import annotations

import re

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from digitrec import Recognizer
from digitrec.image.preprocess import prepare
from digitrec.io.mnist import load_split
from digitrec.synth import paper as synth
from digitrec.synth.fonts import font_dir

FONTS = (
    "DejaVuSans.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSans-Bold.ttf",
    "cmr10.ttf",
    "STIXGeneral.ttf",
)
TEXTS = ("0123456789", "12/05/2024", "555-0199", "3.14", "42", "2026", "13:45", "7")
GAPS = (-4, -2, 0, 3)


def printed(text: str, font: str, size: int, pad: int = 20) -> Image.Image:
    """`text` in `font`, black on white, with `pad` px of paper around it."""
    f = ImageFont.truetype(str(font_dir() / font), size)
    left, top, right, bottom = f.getbbox(text)
    img = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 255)
    ImageDraw.Draw(img).text((pad - left, pad - top), text, fill=0, font=f)
    return img


def cases() -> dict[str, list[tuple[Image.Image, int]]]:
    test = load_split("test")
    rng = np.random.default_rng(5)
    out: dict[str, list[tuple[Image.Image, int]]] = {"printed": []}
    for text in TEXTS:
        out["printed"] += [(printed(text, f, s), len(text)) for f in FONTS for s in (24, 48, 96)]
    for gap in GAPS:
        kind = out.setdefault(f"hand {gap}", [])
        for k in (2, 3, 5, 8, 10) * 3:
            idx = rng.choice(10_000, k, replace=False)
            kind.append((synth.on_paper(synth.digit_line(test.images[idx], [gap] * (k - 1), rng), 3), k))
    out["single"] = [(synth.on_paper(test.images[i], 3), 1) for i in rng.choice(10_000, 500, replace=False)]
    return out


def said(reason: str | None) -> int:
    m = re.match(r"several characters \((\d+)\)", reason or "")
    return int(m.group(1)) if m else 1


def main() -> None:
    rec = Recognizer.load()
    for kind, items in cases().items():
        truth = np.array([n for _, n in items])
        parts = np.array([prepare(img).parts for img, _ in items])
        reason = np.array([said(rec.predict(img).reason) for img, _ in items])
        print(
            f"{kind:10s} n={len(items):3d}  parts: {np.mean(parts == truth):.0%} exact, error {np.abs(parts - truth).mean():.2f}"
            f"  reason: {np.mean(reason == truth):.0%} exact, error {np.abs(reason - truth).mean():.2f}"
        )


if __name__ == "__main__":
    main()
