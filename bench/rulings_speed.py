"""What ruling removal costs on pictures WITHOUT rulings: `read_digits` and `prepare` with it on and off.

    nice -n 19 .venv/bin/python bench/rulings_speed.py            # 30 pictures per kind, 3 repeats
    nice -n 19 .venv/bin/python bench/rulings_speed.py -n 50 -r 5

Kinds, all from MNIST *test* digits: `plain` (one digit enlarged 4x, dark on
light, 112 px), `gray` (the same at low contrast: gray ink on gray paper, so
it takes the photo path), `line` (5 digits from `synth.digit_line` on paper,
3x) and `photo` (a 5-digit line through `synth.photo`). "off" swaps
`find_rulings`, `remove_rulings` and `with_faint_lines` in the reading
modules for no-ops: the pipeline as it was before rulings. On and off
alternate per picture, so the machine's load drifts alike on both.

Per-process CPU time (time.process_time), the median over pictures and
repeats, in ms; `share` is the median share of find_rulings in the "on" time.
"""

from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np
from PIL import Image

from digitrec import Recognizer
from digitrec.image import preprocess, rulings
from digitrec.image.preprocess import prepare
from digitrec.io.mnist import load_split
from digitrec.read import strings as segment
from digitrec.read.strings import read_digits
from digitrec.synth import paper as synth

GRAY_PAPER, GRAY_INK = 170, 110  # low contrast: 60 levels between paper and ink


def _pictures(kind: str, n: int, test, rng: np.random.Generator) -> list[Image.Image]:
    out = []
    for _ in range(n):
        if kind in ("plain", "gray"):
            digit = test.images[int(rng.integers(len(test.images)))]
            if kind == "gray":
                digit = (digit.astype(np.float32) * (GRAY_PAPER - GRAY_INK) / 255 + (255 - GRAY_PAPER)).astype(np.uint8)
            out.append(Image.fromarray(255 - digit).resize((112, 112), Image.BILINEAR))
            continue
        picks = rng.choice(len(test.images), 5, replace=False)
        line = synth.digit_line(test.images[picks], [int(g) for g in rng.integers(2, 8, 4)], rng)
        out.append(synth.on_paper(line, 3.0) if kind == "line" else synth.photo(line, rng))
    return out


@contextlib.contextmanager
def _rulings_off():
    """The reading modules without ruling removal (as before it): find nothing, remove nothing, no faint lines."""
    empty = lambda ink: rulings.Rulings(np.zeros(ink.shape, bool))  # noqa: E731
    swaps = {
        (preprocess, "find_rulings"): empty,
        (preprocess, "remove_rulings"): lambda ink, found=None: ink,
        (segment, "find_rulings"): empty,
        (segment, "remove_rulings"): lambda ink, found=None: ink,
        (segment, "with_faint_lines"): lambda ink, strength, along=False: ink,
    }
    saved = {key: getattr(*key) for key in swaps}
    for (module, name), fn in swaps.items():
        setattr(module, name, fn)
    try:
        yield
    finally:
        for (module, name), fn in saved.items():
            setattr(module, name, fn)


class _Clock:
    """find_rulings wrapped in the reading modules, its CPU time summed."""

    def __init__(self) -> None:
        self.spent = 0.0
        self.inner = rulings.find_rulings

    def __call__(self, ink: np.ndarray) -> rulings.Rulings:
        start = time.process_time()
        try:
            return self.inner(ink)
        finally:
            self.spent += time.process_time() - start


def _time(fn, img) -> float:
    start = time.process_time()
    fn(img)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=30, help="pictures per kind")
    parser.add_argument("-r", "--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", default="plain,gray,line,photo")
    args = parser.parse_args()
    test = load_split("test")
    rec = Recognizer.load(threads=1)
    rng = np.random.default_rng(args.seed)
    clock = _Clock()
    preprocess.find_rulings = segment.find_rulings = rulings.find_rulings = clock  # remove_rulings calls it too
    calls = {"read": lambda img: read_digits(rec, img), "prepare": prepare}
    print(f"{args.n} pictures per kind x {args.repeats} repeats; CPU ms per picture (median)")
    for kind in args.kinds.split(","):
        pictures = _pictures(kind, args.n, test, rng)
        for name, fn in calls.items():
            fn(pictures[0])  # warm-up: lazy imports, the model's sessions
            on, off, share = [], [], []
            for _ in range(args.repeats):
                for img in pictures:
                    clock.spent = 0.0
                    on.append(_time(fn, img))
                    share.append(clock.spent / max(on[-1], 1e-9))
                    with _rulings_off():
                        off.append(_time(fn, img))
            a, b = 1000 * float(np.median(on)), 1000 * float(np.median(off))
            print(
                f"{kind:6s} {name:8s} on {a:6.1f}   off {b:6.1f}   {a / b - 1:+6.1%}   "
                f"find_rulings share {np.median(share):5.1%}",
                flush=True,
            )


if __name__ == "__main__":
    main()
