"""Accuracy and speed of `read_digits` on generated digit strings (MNIST test digits only).

    .venv/bin/python bench/read_accuracy.py            # 500 strings per kind, seed 0
    .venv/bin/python bench/read_accuracy.py -n 100 --reject off

Each string is 3 to 6 real MNIST *test* digits (never train: the line model was
trained on lines of training digits) placed left to right with a random
vertical jitter, then:

    clean     dark ink on white, gaps of 2 to 10 MNIST pixels between digits
    photo     the same on a bigger sheet: paper colour, blue-black ink, shading
              gradient, blur, sensor noise, JPEG
    touching  clean, but digits 1 px apart to 3 px overlapping, so most touch
    touching-photo  both
    separators  dates, decimals, times and phone numbers (12/05, 3.14, 555-0199)
              with pen-drawn separators, by `linesynth.compose` (another
              generator than the four above), on paper

Reports, per kind, exact-string accuracy (the whole string right), per-character
accuracy (1 - edit distance / length), the share of strings with a refused
line, and images per second (one process, 2 ONNX Runtime threads). Public API only.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from PIL import Image

from digitrec import Recognizer, linesynth, synth
from digitrec.data import load_split
from digitrec.segment import read_digits

SPACING = {"spaced": (2, 10), "touching": (-3, 1)}
KINDS = {
    "clean": ("spaced", False), "photo": ("spaced", True), "touching": ("touching", False),
    "touching-photo": ("touching", True), "separators": ("formats", False), "slanted-ones": ("ones", False),
    "dates": ("dd/dd/dddd", False), "phones": ("ddd-dddd|ddd-ddd-dddd", False), "amounts": ("d+.dd", False),
}  # fmt: skip
EXPECT = {"dates": "dd/dd/dddd", "phones": "ddd-dddd|ddd-ddd-dddd", "amounts": "d+.dd"}  # read with --expect
FORMATS = ("dd/dd", "dd/dd/dddd", "dd.dd.dddd", "d.dd", "dd.dd", "ddd-dddd", "ddd-ddd-dddd", "dd:dd", "d,ddd")
SLANTED = 0.3  # a 1 leaning at least this much (columns per row) reads like a "/" (linesynth.slant)


def make_string(test, kind: str, rng: np.random.Generator) -> tuple[str, Image.Image]:
    """One generated image of 3-6 MNIST test digits and its true digit string."""
    spacing, photo = KINDS[kind]
    if spacing == "ones":
        return _slanted_ones(test, rng)
    if spacing != "spaced" and spacing != "touching":
        fmts = FORMATS if spacing == "formats" else spacing.split("|")
        fmt = fmts[int(rng.integers(len(fmts)))]
        if "d+" in fmt:
            fmt = fmt.replace("d+", "d" * int(rng.integers(1, 5)))
        text = "".join(str(rng.integers(10)) if c == "d" else c for c in fmt)
        line, _ = linesynth.compose(test.images, test.labels, rng, text)
        return text, synth.on_paper(line, rng.uniform(2, 4))
    k = int(rng.integers(3, 7))
    idx = rng.integers(0, len(test), k)
    lo, hi = SPACING[spacing]
    line = synth.digit_line(test.images[idx], [int(g) for g in rng.integers(lo, hi + 1, k - 1)], rng)
    img = synth.photo(line, rng) if photo else synth.on_paper(line, rng.uniform(2, 4))
    return "".join(str(d) for d in test.labels[idx]), img


def _slanted_ones(test, rng: np.random.Generator) -> tuple[str, Image.Image]:
    """3-6 digits, about half of them 1s that lean like a "/" (at least one), close or touching, on paper."""
    ones = np.flatnonzero((test.labels == 1) & (linesynth.slant(test.images) >= SLANTED))
    others = np.flatnonzero(test.labels != 1)
    k = int(rng.integers(3, 7))
    one = rng.random(k) < 0.5
    one[rng.integers(k)] = True
    idx = np.where(one, rng.choice(ones, k), rng.choice(others, k))
    line = synth.digit_line(test.images[idx], [int(g) for g in rng.integers(-2, 7, k - 1)], rng)
    return "".join(str(d) for d in test.labels[idx]), synth.on_paper(line, rng.uniform(2, 4))


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def run(rec: Recognizer, kind: str, n: int, seed: int, show: int = 0) -> dict[str, float]:
    test = load_split("test")
    rng = np.random.default_rng([seed, list(KINDS).index(kind)])
    cases = [make_string(test, kind, rng) for _ in range(n)]
    start = time.perf_counter()
    readings = [read_digits(rec, img) for _, img in cases]
    seconds = time.perf_counter() - start
    read = [r.digits for r in readings]
    rejected = sum(any(r.line_reasons) for r in readings)
    exact = sum(r == t for r, (t, _) in zip(read, cases))
    digits = sum(len(t) for t, _ in cases)
    errors = sum(min(edit_distance(r, t), len(t)) for r, (t, _) in zip(read, cases))
    wrong = [(t, r) for r, (t, _) in zip(read, cases) if r != t]
    for t, r in wrong[:show]:
        print(f"  {kind}: true {t} read {r}")
    return {"exact": exact / n, "per_digit": 1 - errors / digits, "rejected": rejected / n, "images_per_s": n / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=500, help="strings per kind (default 500)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default=None, help="shipped model name or path (default: the shipped default)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated subset of " + ", ".join(KINDS))
    parser.add_argument("--show", type=int, default=0, help="print up to this many misreadings per kind")
    parser.add_argument("--reject", default="normal", choices=["strict", "normal", "off"], help="line refusal mode")
    args = parser.parse_args()
    rec = Recognizer.load(args.model, threads=2, reject=args.reject)
    print(
        f"line model {rec.line_reader().meta['name']}, {args.n} strings per kind, seed {args.seed}, --reject {args.reject}"
    )
    print(f"{'kind':<16}{'exact string':>14}{'per char':>12}{'refused':>10}{'images/s':>10}")
    for kind in args.kinds.split(","):
        r = run(rec, kind, args.n, args.seed, args.show)
        print(f"{kind:<16}{r['exact']:>14.1%}{r['per_digit']:>12.1%}{r['rejected']:>10.1%}{r['images_per_s']:>10.1f}")


if __name__ == "__main__":
    main()
