"""Accuracy and speed on digits that are not clean MNIST: photos, scans, other writers.

    .venv/bin/python bench/realworld.py                  # shipped default model, 550 photos
    .venv/bin/python bench/realworld.py --model seed --n 1100

Three sets, each read from image files through `Recognizer.predict_paths`
(decode + preprocess + network, as `digitrec predict` does):

    photo       MNIST *test* digits made to look like photos of a digit on paper
                (digitrec.synth.photos, scripts/make_photo_set.py): reported overall and per condition
    optdigits   scikit-learn's bundled UCI optdigits, 1,797 8x8 digits by 43
                writers who are not MNIST's, upscaled to 112 px PNGs (needs the
                `dev` extra: scikit-learn)
    mnist-png   the 10,000 MNIST test digits saved as 28x28 PNGs: preprocessing
                must leave clean MNIST nearly unchanged

The sets are written once under build/ and reused. A blank result counts as
wrong. Images/s is for the whole pipeline with --workers processes.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

from digitrec import Recognizer
from digitrec.synth.photos import write_optdigits, write_photo_set

ROOT = Path(__file__).resolve().parents[1]


def photo_set(build: Path, n: int, seed: int) -> Path:
    out = build / f"photo-set-n{n}-s{seed}"
    if not (out / "labels.csv").is_file():
        write_photo_set(out, n, seed)
    return out


def optdigits_set(build: Path) -> Path | None:
    out = build / "optdigits"
    if not (out / "labels.csv").is_file():
        try:
            write_optdigits(out)
        except ImportError:
            return None
    return out


def mnist_png_set(build: Path) -> Path:
    from digitrec.io.mnist import load_split

    out = build / "mnist-png"
    if not (out / "labels.csv").is_file():
        test = load_split("test")
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "labels.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["file", "label", "condition", "mnist_index"])
            for i, (img, label) in enumerate(zip(test.images, test.labels)):
                Image.fromarray(img).save(out / f"{i:05d}.png")
                writer.writerow([f"{i:05d}.png", int(label), "mnist-png", i])
    return out


def score(rec: Recognizer, folder: Path, workers: int | None) -> tuple[dict[str, list[int]], float]:
    """{condition or "all": [correct, argmax correct, rejected, total]} and images per second.

    `correct` needs the digit read and right; `argmax correct` also counts
    images the model rejected as "not a digit" when its top class was right.
    """
    rows = list(csv.DictReader(open(folder / "labels.csv")))
    start = time.perf_counter()
    preds = list(rec.predict_paths([str(folder / r["file"]) for r in rows], workers=workers))
    rate = len(rows) / (time.perf_counter() - start)
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r, p in zip(rows, preds):
        label = int(r["label"])
        top = int(np.argmax(p.probabilities)) if p.ok and any(p.probabilities) else None
        counts = (p.digit == label, top == label, p.digit is None and top is not None, 1)
        for key in ("all", r["condition"]):
            tally[key] = [a + int(b) for a, b in zip(tally[key], counts)]
    return dict(tally), rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="seed, strong or a model path (default: the shipped default)")
    parser.add_argument("--n", type=int, default=550, help="photo-set size (conditions take turns)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None, help="processes for decoding (default: all cores)")
    parser.add_argument("--build", type=Path, default=ROOT / "build", help="where the sets are written and reused")
    parser.add_argument("--skip", nargs="*", default=[], choices=["photo", "optdigits", "mnist-png"])
    args = parser.parse_args()

    rec = Recognizer.load(args.model)
    print(f"model {rec.name}")
    sets = {
        "photo": lambda: photo_set(args.build, args.n, args.seed),
        "optdigits": lambda: optdigits_set(args.build),
        "mnist-png": lambda: mnist_png_set(args.build),
    }
    for name, make in sets.items():
        if name in args.skip:
            continue
        folder = make()
        if folder is None:
            print(f"{name:<12} skipped: pip install scikit-learn (the dev extra)")
            continue
        tally, rate = score(rec, folder, args.workers)
        ok, top, rejected, total = tally.pop("all")
        print(f"{name:<12} accuracy {ok / total:.4f} ({ok}/{total}), top class {top / total:.4f}, "
              f"{rejected} rejected as not a digit, {rate:,.1f} images/s")  # fmt: skip
        if len(tally) > 1:
            for cond, (c, t, rj, n) in sorted(tally.items()):
                print(f"  {cond:<12} {c / n:.4f} ({c}/{n})  top class {t / n:.4f}  rejected {rj}")


if __name__ == "__main__":
    main()
