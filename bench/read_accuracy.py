"""Accuracy and speed of `read_digits` on generated digit strings (MNIST test digits only).

    .venv/bin/python bench/read_accuracy.py            # 500 strings per kind, seed 0
    .venv/bin/python bench/read_accuracy.py -n 100 --model strong

Each string is 3 to 6 real MNIST *test* digits (never train: the model has
seen those) placed left to right with a random vertical jitter and size, then:

    clean     dark ink on white, gaps of 2 to 10 MNIST pixels between digits
    photo     the same on a bigger sheet: paper colour, blue-black ink, shading
              gradient, blur, sensor noise, JPEG
    touching  clean, but digits 1 px apart to 3 px overlapping, so most touch
    touching-photo  both

Reports, per kind, exact-string accuracy (the whole string right), per-digit
accuracy (1 - edit distance / length), the share of strings where the model
rejected a crop as "not a digit" (left out of the string), and images per
second (one process). `--no-reject` turns rejection off to show what it costs.
Public API only.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from PIL import Image

from digitrec import Recognizer, synth
from digitrec.data import load_split
from digitrec.segment import read_digits

SPACING = {"spaced": (2, 10), "touching": (-3, 1)}
KINDS = {"clean": ("spaced", False), "photo": ("spaced", True), "touching": ("touching", False), "touching-photo": ("touching", True)}


compose = synth.digit_line


def render_clean(line: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Line of white-on-black ink -> dark ink on white paper, scaled up 2-4x."""
    return synth.on_paper(line, rng.uniform(2, 4))


def make_string(test, kind: str, rng: np.random.Generator) -> tuple[str, Image.Image]:
    """One generated image of 3-6 MNIST test digits and its true digit string."""
    spacing, photo = KINDS[kind]
    k = int(rng.integers(3, 7))
    idx = rng.integers(0, len(test), k)
    lo, hi = SPACING[spacing]
    line = compose(test.images[idx], [int(g) for g in rng.integers(lo, hi + 1, k - 1)], rng)
    img = synth.photo(line, rng) if photo else render_clean(line, rng)
    return "".join(str(d) for d in test.labels[idx]), img


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
    rejected = sum(any(b.digit is None for b in r.boxes) for r in readings)
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
    parser.add_argument("--model", default="seed", help="shipped model name or path (default seed)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated subset of " + ", ".join(KINDS))
    parser.add_argument("--show", type=int, default=0, help="print up to this many misreadings per kind")
    parser.add_argument("--no-reject", action="store_true", help="turn the model's 'not a digit' rejection off")
    args = parser.parse_args()
    rec = Recognizer.load(args.model)
    if args.no_reject:
        rec.rejection = None
    print(f"model {rec.name}, {args.n} strings of 3-6 MNIST test digits per kind, seed {args.seed}" + (", rejection off" if args.no_reject else ""))
    print(f"{'kind':<16}{'exact string':>14}{'per digit':>12}{'rejected':>10}{'images/s':>10}")
    for kind in args.kinds.split(","):
        r = run(rec, kind, args.n, args.seed, args.show)
        print(f"{kind:<16}{r['exact']:>14.1%}{r['per_digit']:>12.1%}{r['rejected']:>10.1%}{r['images_per_s']:>10.1f}")


if __name__ == "__main__":
    main()
