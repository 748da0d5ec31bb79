"""`digitrec read` on printed digit strings: matplotlib's printed fonts, digits and formats, exact strings per font.

    .venv/bin/python bench/printed_strings.py                       # the shipped line model, 15 strings per font
    .venv/bin/python bench/printed_strings.py --line-model PATH -n 30

No line model was trained on printed lines (`digitrec train --lines --printed`
exists, the shipped model does not use it), so this measures how far reading
handwriting carries to print. Fonts: synth.fonts' PRINTED_TRAIN (the digit
model trained on them) and PRINTED_EVAL (no model did); sizes 24-64 px, black
on white, 20 px margin. Half the strings are 3-8 digits, half a format of
read_accuracy's (dates with plausible values, times, decimals, phones).
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from read_accuracy import FORMATS

from digitrec import Recognizer
from digitrec.read.strings import read_digits
from digitrec.synth import fonts
from digitrec.synth import lines as linesynth

MARGIN = 20


def printed(text: str, font: str, size: int) -> Image.Image:
    """`text` in black on white in one of matplotlib's fonts."""
    f = ImageFont.truetype(str(fonts.font_dir() / font), size)
    left, top, right, bottom = f.getbbox(text)
    img = Image.new("L", (right - left + 2 * MARGIN, bottom - top + 2 * MARGIN), 255)
    ImageDraw.Draw(img).text((MARGIN - left, MARGIN - top), text, fill=0, font=f)
    return img


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=15, help="strings per font (default 15)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--line-model", default=None, help="line model name or path (default: the shipped line)")
    args = parser.parse_args()
    rec = Recognizer.load(line_model=args.line_model)
    rng = np.random.default_rng(args.seed)
    results: dict[str, list[bool]] = {}
    for font in fonts.PRINTED_TRAIN + fonts.PRINTED_EVAL:
        for _ in range(args.n):
            if rng.random() < 0.5:
                text = linesynth.format_text(FORMATS[rng.integers(len(FORMATS))], rng)
            else:
                text = "".join(str(d) for d in rng.integers(0, 10, rng.integers(3, 9)))
            size = int(rng.integers(24, 64))
            results.setdefault(font, []).append(read_digits(rec, printed(text, font, size)).digits == text)
    for font, right in results.items():
        label = "eval" if font in fonts.PRINTED_EVAL else "train"
        print(f"{font:28s} {label:6s} {np.mean(right):7.1%}")
    every = [r for right in results.values() for r in right]
    print(f"{'all':35s} {np.mean(every):7.1%} of {len(every)} strings exact")


if __name__ == "__main__":
    main()
