"""Does the default model read other people's digits, and refuse what is not a digit? Risk and coverage per set.

    .venv/bin/python bench/generalize.py                 # shipped default model, all sets
    .venv/bin/python bench/generalize.py --model seed --quick

Every set is read through the full pipeline (`Recognizer.predict`: decode or
array -> preprocess -> network -> verdict), in each rejection mode:

    mnist-test   the 10,000 MNIST test digits (evaluation only)
    optdigits    scikit-learn's UCI optdigits, 1,797 digits by 43 other writers,
                 rendered as dark-on-light 112 px scans (evaluation only)
    optdigits-8px  the same 8x8 counts enlarged softly to 64 px (bicubic)
    mnist-scan   MNIST test digits enlarged to 84 px, dark on light, as a scan gives them
    binarised, boxfilled, soft8, pen, broken, styles
                 MNIST test digits as other writers and capture chains give
                 them (`digitrec.synth.writers`: black-and-white 12-16 px scans,
                 digits stretched to fill their box, 8x8 counts, marker and
                 fine pens, broken strokes, European 1s, crossed 7s, slashed 0s)
    photo        MNIST test digits photographed on paper (`synth.photo`)
    printed      typed digits in fonts never used in training (`fonts.PRINTED_EVAL`)
    nondigits    pictures of kinds never used in training (`nondigits.kinds("eval")`)
    multi        2-6 MNIST test digits side by side, given to `predict`

For digit sets: answered right (accepted and correct), accepted share (coverage),
and error among accepted (risk). For non-digits: refused share, overall and per
kind. For multi: refused as "several characters". Then the network's speed on
2 cores. Nothing here is used to train, calibrate or set thresholds.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from collections import defaultdict

import numpy as np
from PIL import Image

from digitrec import Recognizer
from digitrec.io.mnist import load_split
from digitrec.read.verdicts import REJECT_MODES


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                flags = next((f for f in open("/proc/cpuinfo") if f.startswith("flags")), "")
                simd = " ".join(sorted({f for f in flags.split() if f.startswith(("avx512f", "avx2", "amx"))}))
                return f"{line.split(':', 1)[1].strip()} [{simd}]"
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def digit_sets(quick: bool) -> dict[str, tuple[list, np.ndarray]]:
    """{name: (images, labels)}; images are arrays or Pillow images as a user would pass them."""
    import cv2

    from digitrec.synth import paper as synth
    from digitrec.synth import printed
    from digitrec.synth import writers as writerstyles
    from digitrec.synth.fonts import PRINTED_EVAL

    rng = np.random.default_rng(2026)
    test = load_split("test")
    n = 2000 if quick else 10_000
    sets = {"mnist-test": (list(test.images[:n]), test.labels[:n])}
    try:
        from sklearn.datasets import load_digits

        d = load_digits()
        scans = [
            Image.fromarray(np.pad(np.round(255 - im * (255 / 16)).astype(np.uint8), 2, constant_values=255)).resize(
                (112, 112), Image.BICUBIC
            )
            for im in d.images
        ]
        sets["optdigits"] = (scans, d.target)
        sets["optdigits-8px"] = (
            [
                cv2.resize((255 - im * (255 / 16)).astype(np.uint8), (64, 64), interpolation=cv2.INTER_CUBIC)
                for im in d.images
            ],
            d.target,
        )
    except ImportError:
        print("optdigits skipped: pip install scikit-learn (the dev extra)")
    m = 1000 if quick else 3000
    sets["mnist-scan"] = (
        [255 - cv2.resize(im, (84, 84), interpolation=cv2.INTER_LINEAR) for im in test.images[:m]],
        test.labels[:m],
    )
    for kind in writerstyles.MAKERS:
        pool = np.flatnonzero(np.isin(test.labels, list(writerstyles.STYLE_EDITS))) if kind == "styles" else None
        pick = rng.choice(pool if pool is not None else len(test.images), 600 if quick else 2000, replace=False)
        sets[kind] = writerstyles.render(test.images[pick], test.labels[pick], kind, rng)
    pick = rng.choice(len(test.images), 300 if quick else 1000, replace=False)
    sets["photo"] = ([synth.photo(test.images[i], rng) for i in pick], test.labels[pick])
    pictures, labels = printed.render(300 if quick else 1000, seed=99, fonts=PRINTED_EVAL)
    sets["printed"] = ([255 - p for p in pictures], labels)
    return sets


def read_all(rec: Recognizer, images: list) -> list:
    return [rec.predict(img if not isinstance(img, np.ndarray) else img) for img in images]


def digit_table(rec: Recognizer, sets: dict) -> None:
    print(f"\n{'set':<12}{'mode':<8}{'right':>8}{'accepted':>10}{'risk':>8}{'top class':>11}")
    for name, (images, labels) in sets.items():
        for mode in REJECT_MODES:
            rec.reject = mode
            preds = read_all(rec, images)
            top = np.array(
                [int(np.argmax(p.probabilities)) if p.probabilities and any(p.probabilities) else -1 for p in preds]
            )
            digit = np.array([-1 if p.digit is None else p.digit for p in preds])
            acc = digit >= 0
            risk = float((digit[acc] != labels[acc]).mean()) if acc.any() else 0.0
            print(
                f"{name:<12}{mode:<8}{(digit == labels).mean():>8.2%}{acc.mean():>10.2%}{risk:>8.2%}{(top == labels).mean():>11.2%}"
            )
    rec.reject = "normal"


def class_table(rec: Recognizer, sets: dict) -> None:
    """Refused share per true class in normal mode, so one class refused often cannot hide in an average."""
    rec.reject = "normal"
    print(f"\n{'refused, by class':<14}" + "".join(f"{d:>6}" for d in range(10)))
    for name, (images, labels) in sets.items():
        digit = np.array([-1 if p.digit is None else p.digit for p in read_all(rec, images)])
        cells = [float((digit[labels == d] == -1).mean()) if (labels == d).any() else float("nan") for d in range(10)]
        print(f"{name:<14}" + "".join(f"{c:>6.1%}" if c == c else f"{'-':>6}" for c in cells))


def refusal_table(rec: Recognizer, quick: bool) -> None:
    from digitrec.synth import nondigits
    from digitrec.synth import paper as synth

    pictures, kinds = nondigits.render(700 if quick else 2800, seed=12345, split="eval")
    rng = np.random.default_rng(7)
    test = load_split("test")
    multi = []
    for _ in range(200 if quick else 600):
        k = int(rng.integers(2, 7))
        idx = rng.choice(len(test.images), k, replace=False)
        line = synth.digit_line(test.images[idx], [int(g) for g in rng.integers(-2, 9, k - 1)], rng)
        multi.append(synth.on_paper(line, 3.0))
    print(f"\n{'pictures':<22}" + "".join(f"{m:>9}" for m in REJECT_MODES) + "   (refused)")
    by_kind: dict[str, list] = defaultdict(list)
    for pic, kind in zip(pictures, kinds):
        by_kind[kind].append(pic)
    rows = {
        **{f"non-digit: {k}": v for k, v in sorted(by_kind.items())},
        "non-digit: all": list(pictures),
        "multi (2-6 digits)": multi,
    }
    for name, images in rows.items():
        cells = []
        for mode in REJECT_MODES:
            rec.reject = mode
            preds = read_all(rec, images)
            cells.append(np.mean([p.digit is None for p in preds]))
        print(f"{name:<22}" + "".join(f"{c:>9.1%}" for c in cells))
    rec.reject = "normal"
    several = np.mean([(p.reason or "").startswith("several") for p in read_all(rec, multi)])
    print(f"multi refused as 'several characters': {several:.1%}")
    rec.reject = "normal"


def speed(rec: Recognizer) -> None:
    x = load_split("test").images[:, None].astype(np.float32) / 255
    rec.classify(x[:256])
    start = time.perf_counter()
    for _ in range(2):
        for i in range(0, len(x), 256):
            rec.classify(x[i : i + 256])
    rate = 2 * len(x) / (time.perf_counter() - start)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nnetwork + verdicts: {rate:,.0f} images/s on {os.cpu_count()} cores, batch 256; peak RSS {rss:.0f} MB; {cpu_model()}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="seed, strong or a model path (default: the shipped default)")
    ap.add_argument("--quick", action="store_true", help="smaller sets (a minute or two)")
    ap.add_argument("--skip", nargs="*", default=[], choices=["digits", "refusal", "speed"])
    args = ap.parse_args()
    rec = Recognizer.load(args.model, threads=os.cpu_count())
    print(f"model {rec.name}; {cpu_model()}")
    if "digits" not in args.skip:
        sets = digit_sets(args.quick)
        digit_table(rec, sets)
        class_table(rec, sets)
    if "refusal" not in args.skip:
        refusal_table(rec, args.quick)
    if "speed" not in args.skip:
        speed(rec)


if __name__ == "__main__":
    main()
