"""How well "not a digit" works: acceptance of real digits, rejection of non-digits.

    .venv/bin/python bench/rejection.py [--model strong] [--n 3000]

- acceptance: share of the 10,000 MNIST test digits (never used for training or
  calibration) that get a digit rather than "not a digit";
- rejection: share of non-digit pictures that are refused, per kind. They are
  drawn by `digitrec.nondigits` with fonts the training never saw (DejaVu Serif,
  Sans Mono, Serif Bold) and another seed, then preprocessed like a user's image;
  plus blank pages and pure-noise photos read from files.
Also prints the expected calibration error (ECE, 15 bins) on MNIST test.
"""

from __future__ import annotations

import argparse
import io
from collections import Counter

import numpy as np
from PIL import Image

from digitrec import Recognizer
from digitrec.data import load_split
from digitrec.evaluate import score
from digitrec.nondigits import EVAL_FONTS, make


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--n", type=int, default=3000, help="non-digit pictures to draw")
    args = ap.parse_args()
    rec = Recognizer.load(args.model)
    test = load_split("test")
    x = test.images[:, None].astype(np.float32) / 255
    logits = np.concatenate([rec.logits(x[i : i + 1000]) for i in range(0, len(x), 1000)])
    accepted = np.array([r is None for r in rec.reject_reasons(logits)])
    ev = score(rec.predict_arrays(test.images), test.labels)
    print(f"model {rec.name}: MNIST test accuracy {ev.accuracy:.4f}, ECE {ev.ece:.4f} (temperature {rec.temperature})")
    correct = ev.confusion.trace()
    print(f"acceptance on MNIST test: {accepted.mean():.4f}  (accuracy among accepted "
          f"{(np.argmax(logits[:, :10], 1) == test.labels)[accepted].mean():.4f}; {correct} correct in all)")  # fmt: skip

    images, kinds = make(args.n, seed=12345, fonts=EVAL_FONTS)
    nd_logits = rec.logits(images[:, None].astype(np.float32) / 255)
    refused = np.array([r is not None for r in rec.reject_reasons(nd_logits)])
    per_kind = Counter(kinds)
    print(f"rejection of {args.n} unseen-font/seed non-digits: {refused.mean():.4f}")
    for kind in sorted(per_kind):
        sel = np.array([k == kind for k in kinds])
        print(f"  {kind:<9} {refused[sel].mean():.4f}  ({sel.sum()})")

    rng = np.random.default_rng(1)
    files = []
    for i in range(50):  # blank pages: white, grey paper with grain
        a = np.clip(rng.normal(rng.uniform(150, 250), rng.uniform(0, 6), (300, 400)), 0, 255).astype(np.uint8)
        files.append(("blank page", a))
    for i in range(50):  # photos of pure noise
        files.append(("noise photo", rng.integers(0, 256, (300, 400), dtype=np.uint8)))
    verdicts = Counter()
    for kind, a in files:
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, "JPEG", quality=80)
        verdicts[kind, rec.predict(buf.getvalue()).digit is None] += 1
    for kind in ("blank page", "noise photo"):
        print(f"  {kind:<11} refused {verdicts[kind, True]}/{verdicts[kind, True] + verdicts[kind, False]}")


if __name__ == "__main__":
    main()
