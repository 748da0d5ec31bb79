"""Forms bench: digits in boxes, on lines, on ruled and graph paper, in comb fields and tables (MNIST *test* digits).

    nice -n 19 .venv/bin/python bench/forms.py              # 100 pictures per kind, seed 0
    nice -n 19 .venv/bin/python bench/forms.py -n 30 --captured

Pictures come from `digitrec.synth.forms` (see its docstring for the kinds);
with --captured each is also photographed/scanned (tilt, shading, blur,
noise, JPEG). Per kind it reports:

    single-digit kinds  `predict` right (the digit read, not refused), and `read` right (the text is the digit)
    comb                `read_cells` exact (the comb field's joined value), and plain `read` exact
    table               `read_cells` cells exact (each cell's value, "" for empty), and tables all exact

and pictures per second. `--plain` adds MNIST test digits drawn plainly on
paper through `predict` and `read`: the no-regression check. Public API only.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from digitrec import Recognizer
from digitrec.io.mnist import Split, load_split
from digitrec.read.cells import read_cells
from digitrec.read.strings import read_digits
from digitrec.synth import forms as formsynth

HELDOUT = 55000  # train[55000:]: training digits neither shipped model trained on (both held them out)
SINGLE = ("boxed", "boxed-touching", "underlined", "ruled", "graph")


def _single(rec: Recognizer, kind: str, n: int, rng: np.random.Generator, test, captured: bool) -> str:
    right_p = right_r = 0
    start = time.perf_counter()
    for _ in range(n):
        img, truth = formsynth.draw(kind, test.images, test.labels, rng)
        img = formsynth.captured(img, rng) if captured else img
        right_p += rec.predict(img).digit == truth
        right_r += read_digits(rec, img).digits == str(truth)
    rate = 2 * n / (time.perf_counter() - start)
    return f"{kind:16s} predict right {right_p / n:6.1%}   read right {right_r / n:6.1%}   {rate:5.1f} reads/s"


def _comb(rec: Recognizer, n: int, rng: np.random.Generator, test, captured: bool) -> str:
    exact = plain = 0
    start = time.perf_counter()
    for _ in range(n):
        img, truth = formsynth.draw("comb", test.images, test.labels, rng)
        img = formsynth.captured(img, rng) if captured else img
        cells = read_cells(rec, img)
        exact += bool(cells.fields) and cells.fields[0].value == truth
        plain += read_digits(rec, img).digits == truth
    rate = 2 * n / (time.perf_counter() - start)
    return f"{'comb':16s} cells exact   {exact / n:6.1%}   read exact {plain / n:6.1%}   {rate:5.1f} reads/s"


def _table(rec: Recognizer, n: int, rng: np.random.Generator, test, captured: bool) -> str:
    right = total = whole = 0
    start = time.perf_counter()
    for _ in range(n):
        img, truth = formsynth.draw("table", test.images, test.labels, rng)
        img = formsynth.captured(img, rng) if captured else img
        got = {(c.row, c.column): c.value for c in read_cells(rec, img).cells}
        ok = [got.get((r, c)) == v for r, row in enumerate(truth) for c, v in enumerate(row)]
        right, total, whole = right + sum(ok), total + len(ok), whole + all(ok)
    rate = n / (time.perf_counter() - start)
    return f"{'table':16s} cells exact   {right / total:6.1%}   tables exact {whole / n:6.1%}   {rate:5.1f} reads/s"


def _plain(rec: Recognizer, n: int, rng: np.random.Generator, test) -> str:
    from PIL import Image

    right_p = right_r = 0
    start = time.perf_counter()
    for i in rng.choice(len(test.images), n, replace=False):
        img = Image.fromarray(255 - test.images[i]).resize((112, 112), Image.BILINEAR)
        right_p += rec.predict(img).digit == int(test.labels[i])
        right_r += read_digits(rec, img).digits == str(int(test.labels[i]))
    rate = 2 * n / (time.perf_counter() - start)
    return f"{'plain':16s} predict right {right_p / n:6.1%}   read right {right_r / n:6.1%}   {rate:5.1f} reads/s"


def _digits(which: str) -> Split:
    """The digits forms are drawn with: MNIST test (the figures), or train[55000:] ("heldout", for diagnosis)."""
    if which == "test":
        return load_split("test")
    train = load_split("train")
    return Split(train.images[HELDOUT:], train.labels[HELDOUT:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=100, help="pictures per kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--captured", action="store_true", help="photograph/scan every picture")
    parser.add_argument("--plain", action="store_true", help="also plain MNIST test digits (no rulings)")
    parser.add_argument("--kinds", default=",".join((*SINGLE, "comb", "table")))
    parser.add_argument(
        "--digits", default="test", choices=["test", "heldout"],
        help="MNIST test (the reported figures) or train[55000:], which no shipped model trained on (diagnosis)",
    )  # fmt: skip
    args = parser.parse_args()
    test = _digits(args.digits)
    rec = Recognizer.load(threads=2)
    rng = np.random.default_rng(args.seed)
    print(f"{args.n} pictures per kind, seed {args.seed}, {args.digits} digits{', captured' if args.captured else ''}")
    for kind in args.kinds.split(","):
        if kind == "comb":
            print(_comb(rec, args.n, rng, test, args.captured), flush=True)
        elif kind == "table":
            print(_table(rec, max(1, args.n // 4), rng, test, args.captured), flush=True)
        else:
            print(_single(rec, kind, args.n, rng, test, args.captured), flush=True)
    if args.plain:
        print(_plain(rec, args.n, rng, test))


if __name__ == "__main__":
    main()
