"""Accuracy and speed of `read_digits` on generated digit strings (MNIST test digits only).

    .venv/bin/python bench/read_accuracy.py            # 200 strings per kind, seed 0
    .venv/bin/python bench/read_accuracy.py -n 100 --kinds slanted-ones,dates --show 5

Each string is 3 to 6 real MNIST *test* digits (never train: the line model was
trained on lines of training digits) placed left to right with a random
vertical jitter, then:

    clean     dark ink on white, gaps of 2 to 10 MNIST pixels between digits
    photo     the same on a bigger sheet: paper colour, blue-black ink, shading
              gradient, blur, sensor noise, JPEG
    touching  clean, but digits 1 px apart to 3 px overlapping, so most touch
    touching-photo  both
    separators  dates, decimals, times and phone numbers (12/05, 3.14, 555-0199;
              dates and times with values people write) with pen-drawn
              separators, by `linesynth.compose` (another generator), on paper;
              each mark clear of its neighbours (--overlapping-marks: as before)
    slanted-ones  digits only, about half of them 1s that lean like a "/"
              (MNIST test 1s with slant >= 0.3), 2 px overlapping to 6 px apart
    dates, phones, amounts  dd/dd/dddd, ddd-dddd or ddd-ddd-dddd, d+.dd by
              `linesynth.compose`, also read with --expect set to that pattern
    writers   clean, but each digit first redrawn as other writers and scans
              give it (`synth.writers`: low-resolution and binarised scans,
              box-filled, pens, broken strokes, European 1s and crossed 7s),
              which the digit model trained on and the line model did not
    bitmap    clean, then scanned black and white: shrunk so the line's ink
              is 16-48 px tall and thresholded (a fax or bitmap form scan)
    tilted    clean, the picture turned 5-15 degrees either way (a phone held
              askew)
    lowres    clean, shrunk so the line's ink is 9-16 px tall (a low-resolution
              grey scan)

Reports, per kind, exact-string accuracy (the whole string right) with greedy
CTC decoding, with the beam search (the default), and with --expect where the
kind has a pattern; per-character accuracy (1 - edit distance / length) and the
share of strings with a refused line (of the last of those); "+sep", for
digits-only kinds, how many strings gained a separator (beam); and lines per
second (beam; one process, 2 ONNX Runtime threads). Then a reliability table:
how many lines read with each line confidence were exact. Public API only.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from PIL import Image

from digitrec import Recognizer
from digitrec.io.mnist import Split, load_split
from digitrec.read.strings import read_digits
from digitrec.synth import lines as linesynth
from digitrec.synth import paper as synth

SPACING = {"spaced": (2, 10), "touching": (-3, 1)}
KINDS = {
    "clean": ("spaced", False), "photo": ("spaced", True), "touching": ("touching", False),
    "touching-photo": ("touching", True), "separators": ("formats", False), "slanted-ones": ("ones", False),
    "dates": ("dd/dd/dddd", False), "phones": ("ddd-dddd|ddd-ddd-dddd", False), "amounts": ("d+.dd", False),
    "writers": ("spaced", False), "bitmap": ("spaced", False),
    "tilted": ("spaced", False), "lowres": ("spaced", False),
}  # fmt: skip
WRITER_POOL = 3000  # digits redrawn by `synth.writers` for the writers kind
EXPECT = {"dates": "dd/dd/dddd", "phones": "ddd-dddd|ddd-ddd-dddd", "amounts": "d+.dd"}  # read with --expect
FORMATS = ("dd/dd", "dd/dd/dddd", "dd.dd.dddd", "d.dd", "dd.dd", "ddd-dddd", "ddd-ddd-dddd", "dd:dd", "d,ddd")
SLANTED = 0.3  # a 1 leaning at least this much (columns per row) reads like a "/" (linesynth.slant)


def make_string(test, kind: str, rng: np.random.Generator, clear_marks: bool = True) -> tuple[str, Image.Image]:
    """One generated image of 3-6 MNIST test digits and its true digit string.

    `clear_marks`: separators keep clear of the digits beside them (see `--overlapping-marks`).
    """
    spacing, photo = KINDS[kind]
    if spacing == "ones":
        return _slanted_ones(test, rng)
    if spacing != "spaced" and spacing != "touching":
        fmts = FORMATS if spacing == "formats" else spacing.split("|")
        fmt = fmts[int(rng.integers(len(fmts)))]
        if "d+" in fmt:
            fmt = fmt.replace("d+", "d" * int(rng.integers(1, 5)))
        text = linesynth.format_text(fmt, rng)  # dates and times with values people write
        line, _ = linesynth.compose(test.images, test.labels, rng, text, clear_marks=clear_marks)
        return text, synth.on_paper(line, rng.uniform(2, 4))
    k = int(rng.integers(3, 7))
    idx = rng.integers(0, len(test), k)
    lo, hi = SPACING[spacing]
    line = synth.digit_line(test.images[idx], [int(g) for g in rng.integers(lo, hi + 1, k - 1)], rng)
    img = synth.photo(line, rng) if photo else synth.on_paper(line, rng.uniform(2, 4))
    if kind == "bitmap":
        img = _bitmap(img, rng)
    if kind == "lowres":  # a low-resolution scan: the line's ink 9-16 px tall, grey
        img = _shrunk(img, rng.uniform(9, 16))
    if kind == "tilted":  # a phone held askew: the whole picture turned 5-15 degrees either way
        img = img.convert("L").rotate(
            float(rng.choice([-1, 1]) * rng.uniform(5, 15)), Image.BILINEAR, True, fillcolor=255
        )
    return "".join(str(d) for d in test.labels[idx]), img


def _shrunk(img: Image.Image, ink_rows: float) -> Image.Image:
    """The picture shrunk (box filter) so that its ink is `ink_rows` px tall."""
    gray = np.asarray(img.convert("L"))
    rows = np.flatnonzero((gray < 128).any(1))
    f = ink_rows / max(rows[-1] - rows[0] + 1, 1)
    return img.convert("L").resize((max(1, round(img.width * f)), max(1, round(img.height * f))), Image.BOX)


def _bitmap(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A black-and-white scan of a line: shrunk so its ink is 16-48 px tall, thresholded (no grey left)."""
    return _shrunk(img, rng.uniform(16, 48)).point(lambda v: 0 if v < 128 else 255)


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


def score(cases: list[tuple[str, Image.Image]], readings: list) -> dict[str, float]:
    """Exact strings, per-character accuracy, refused and separator-gaining shares of one kind's readings."""
    read = [r.digits or "" for r in readings]
    truths = [t for t, _ in cases]
    errors = sum(min(edit_distance(r, t), len(t)) for r, t in zip(read, truths))
    plain = [r for r, t in zip(read, truths) if t.isdigit()]
    return {
        "exact": float(np.mean([r == t for r, t in zip(read, truths)])),
        "per_char": 1 - errors / sum(len(t) for t in truths),
        "refused": float(np.mean([any(r.line_reasons) for r in readings])),
        "gained": sum(not r.isdigit() and r != "" for r in plain),
        "plain": len(plain),
    }


HELDOUT = 55000  # train[55000:]: training digits neither shipped model trained on (both held them out)


def digits(which: str) -> Split:
    """The digits strings are drawn from: MNIST test (the figures), or train[55000:] ("heldout", for diagnosis)."""
    if which == "test":
        return load_split("test")
    train = load_split("train")
    return Split(train.images[HELDOUT:], train.labels[HELDOUT:])


def run(
    rec: Recognizer, kind: str, n: int, seed: int, show: int = 0, which: str = "test", clear_marks: bool = True
) -> dict[str, Any]:
    """Read `n` generated strings of `kind` greedily, with the beam search, and (formats) with --expect."""
    test = digits(which)
    rng = np.random.default_rng([seed, list(KINDS).index(kind)])
    if kind == "writers":
        from digitrec.synth import writers

        images, labels, _ = writers.make(test.images, test.labels, WRITER_POOL, seed)
        test = Split(images, labels)
    cases = [make_string(test, kind, rng, clear_marks) for _ in range(n)]
    out: dict[str, Any] = {}
    runs = (
        ("greedy", {"decoder": "greedy", "check": False}), ("line", {"check": False}), ("beam", {}),
        ("expect", {"expect": EXPECT.get(kind)}),
    )  # fmt: skip
    for name, options in runs:
        if name == "expect" and kind not in EXPECT:
            continue
        start = time.perf_counter()
        readings = [read_digits(rec, img, **options) for _, img in cases]
        out[name] = {**score(cases, readings), "lines_per_s": n / (time.perf_counter() - start)}
        out[name]["readings"] = readings
    best = out.get("expect", out["beam"])
    for (t, _), r in [(c, r) for c, r in zip(cases, best["readings"]) if r.digits != c[0]][:show]:
        print(f"  {kind}: true {t} read {r.digits} {r.line_reasons}")
    out["truths"] = [t for t, _ in cases]
    return out


def reliability(results: dict[str, dict[str, Any]]) -> None:
    """How often lines read with each confidence are exactly right (beam, and --expect where a kind has it)."""
    conf, right = [], []
    for r in results.values():
        best = r.get("expect", r["beam"])
        for reading, truth in zip(best["readings"], r["truths"]):
            if len(reading.line_confidence) == 1:
                conf.append(reading.line_confidence[0])
                right.append(reading.digits == truth)
    c, ok = np.asarray(conf), np.asarray(right)
    print(f"\n{'line confidence':<18}{'lines':>8}{'exact':>10}")
    for lo, hi in ((0.0, 0.5), (0.5, 0.8), (0.8, 0.9), (0.9, 0.98), (0.98, 1.01), (0.9, 1.01)):
        sel = (c >= lo) & (c < hi)
        label = f">= {lo:.2f}" if (lo, hi) == (0.9, 1.01) else f"{lo:.2f} - {min(hi, 1.0):.2f}"
        print(f"{label:<18}{int(sel.sum()):>8}{(ok[sel].mean() if sel.any() else float('nan')):>10.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=200, help="strings per kind (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default=None, help="shipped model name or path (default: the shipped default)")
    parser.add_argument("--line-model", default=None, help="line model name or path (default: the shipped line)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated subset of " + ", ".join(KINDS))
    parser.add_argument("--show", type=int, default=0, help="print up to this many misreadings per kind")
    parser.add_argument(
        "--digits", default="test", choices=["test", "heldout"],
        help="MNIST test (the reported figures) or train[55000:], which no shipped model trained on (diagnosis)",
    )  # fmt: skip
    parser.add_argument(
        "--overlapping-marks", action="store_true",
        help="separators as the bench drew them before 2026-12-03: overlapping the next digit by up to a quarter "
        "of its width, so a dot or colon could hide inside its stroke (unreadable to a person too)",
    )  # fmt: skip
    parser.add_argument("--reject", default="normal", choices=["strict", "normal", "off"], help="line refusal mode")
    args = parser.parse_args()
    rec = Recognizer.load(args.model, threads=2, reject=args.reject, line_model=args.line_model)
    print(
        f"line model {rec.line_reader().meta['name']}, {args.n} strings per kind, seed {args.seed}, "
        f"--reject {args.reject}, {args.digits} digits{', overlapping marks' if args.overlapping_marks else ''}"
    )
    print(
        f"{'kind':<16}{'greedy':>8}{'beam':>8}{'+glyphs':>9}{'expect':>8}{'per char':>10}{'refused':>9}{'+sep':>6}"
        f"{'lines/s':>9}"
    )
    results = {}
    for kind in args.kinds.split(","):
        r = results[kind] = run(rec, kind, args.n, args.seed, args.show, args.digits, not args.overlapping_marks)
        best = r.get("expect", r["beam"])
        expect = f"{r['expect']['exact']:>8.1%}" if "expect" in r else f"{'':>8}"
        gained = f"{r['beam']['gained']:>6}" if r["beam"]["plain"] else f"{'':>6}"
        print(
            f"{kind:<16}{r['greedy']['exact']:>8.1%}{r['line']['exact']:>8.1%}{r['beam']['exact']:>9.1%}{expect}"
            f"{best['per_char']:>10.1%}"
            f"{best['refused']:>9.1%}{gained}{r['beam']['lines_per_s']:>9.1f}"
        )
    reliability(results)


if __name__ == "__main__":
    main()
