"""Teaching bench: synthetic writers the default misreads, taught with 5 samples per digit (light install, no torch).

    PYTHONPATH=src python bench/teach.py [--per-digit 5] [--held-out 30]

For each writer of `digitrec.synth.hands` (built from MNIST *test* digits):
held-out accuracy of the base and of the personal model on other digits in
the same style, the MNIST test change (on the test digits no writer used),
the wall time of `teach` for 50 samples (feature bank cached, as after the
first teach) and inference speed of the personal model against its base.
Personal models go to a temporary $DIGITREC_HOME.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from digitrec.io.mnist import load_split
from digitrec.read.digits import Recognizer
from digitrec.synth.hands import WRITERS, write
from digitrec.teach.learn import from_images, teach


def split_indices(labels: np.ndarray, start: int, count: int) -> np.ndarray:
    return np.concatenate([np.flatnonzero(labels == d)[start : start + count] for d in range(10)])


def speed(recognizer: Recognizer, x: np.ndarray, repeats: int = 5) -> float:
    """Best milliseconds per image over `repeats` batched passes."""
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        recognizer.logits(x)
        best = min(best, time.perf_counter() - t)
    return best / len(x) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-digit", type=int, default=5)
    ap.add_argument("--held-out", type=int, default=30)
    args = ap.parse_args()
    os.environ.setdefault("DIGITREC_HOME", tempfile.mkdtemp(prefix="digitrec-teach-"))
    test = load_split("test")
    base = Recognizer.load()
    used = split_indices(test.labels, 0, args.per_digit + args.held_out)
    rest = np.setdiff1d(np.arange(len(test.labels)), used)
    base_mnist = float((base.predict_arrays(test.images[rest]).argmax(1) == test.labels[rest]).mean())
    x = test.images[rest[:2000], None].astype(np.float32) / 255.0
    print(f"base {base.name}: MNIST test (the {len(rest)} digits no writer used) {base_mnist:.4%}")
    for style in WRITERS:
        ti = split_indices(test.labels, 0, args.per_digit)
        hi = split_indices(test.labels, args.per_digit, args.held_out)
        samples = from_images(
            write(style, test.images[ti], test.labels[ti], seed=1), list(test.labels[ti]), [style] * len(ti)
        )
        held = from_images(
            write(style, test.images[hi], test.labels[hi], seed=2), list(test.labels[hi]), [style] * len(hi)
        )
        teach(samples, f"bench-{style}", force=True)  # NOTE: the first call builds the cached feature bank
        t = time.perf_counter()
        report = teach(samples, f"bench-{style}", force=True)
        seconds = time.perf_counter() - t
        mine = Recognizer.load(f"bench-{style}")
        acc = {
            n: float((r.classify(held.images[:, None], "off").digits == held.labels).mean())
            for n, r in (("base", base), ("mine", mine))
        }
        mnist = float((mine.predict_arrays(test.images[rest]).argmax(1) == test.labels[rest]).mean())
        print(
            f"{style:<9} held-out {acc['base']:.1%} -> {acc['mine']:.1%} ({len(held.labels)} digits)  "
            f"cv on samples {report.before_overall:.0%} -> {report.after_overall:.0%}  "
            f"MNIST {base_mnist:.2%} -> {mnist:.2%} ({(mnist - base_mnist) * 100:+.2f} points)  "
            f"teach {seconds:.2f} s for {sum(report.counts)} samples ({len(report.refused)} refused)  "
            f"speed {speed(base, x):.3f} vs {speed(mine, x):.3f} ms/image"
        )


if __name__ == "__main__":
    main()
