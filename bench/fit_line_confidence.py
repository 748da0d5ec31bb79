"""Fit the line confidence of `digitrec read` on lines of MNIST *train* digits, and show how well it holds.

    .venv/bin/python bench/fit_line_confidence.py          # 3000 lines, seed 0; prints CONFIDENCE_FIT

Lines are composed from the last 5,000 MNIST *training* digits, which the
line model never trained on (the test split is for benches only): digit strings and
dates, times, decimals, phone numbers with plausible values, half of them put
through `linesynth.capture` (paper, shading, blur, JPEG, ink recovered), and,
for the other half, the bench's own generator (`synth.digit_line` on paper or
photographed, found by `segment.find_lines`), on training digits. Each
is read by `decoding.read_line` (beam search, separators on evidence, the
glyph check by the default digit model, which held the same digits out), and
a logistic regression of "the whole line is right" on the logits of the
beam's posterior and of the weakest character's confidence gives the three
numbers to paste into `digitrec.read.decoding.CONFIDENCE_FIT`.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from digitrec import Recognizer
from digitrec.formats import KNOWN_FORMATS
from digitrec.io.mnist import load_split
from digitrec.read.decoding import _logit, line_confidence, read_line
from digitrec.read.lines import LineReader
from digitrec.read.strings import find_lines, read_page
from digitrec.synth import lines as linesynth
from digitrec.synth import paper as synth

LINE_TRAIN_DIGITS = 55_000  # the shipped line model trained on MNIST train[:55000] (line.json, training.digits)
NEWTON_STEPS = 50
RIDGE = 1e-3  # keeps the fit finite when the two classes separate


def text_of(rng: np.random.Generator) -> str:
    """Digits only (60%), or one of linesynth's formats that people write, with plausible values."""
    if rng.random() < 0.6:
        return "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(1, 9))))
    formats = [f for f in linesynth.FORMATS if KNOWN_FORMATS.matches(f.replace("d", "1"))]
    return linesynth.format_text(formats[int(rng.integers(len(formats)))], rng)


def line_of(train, rng: np.random.Generator) -> tuple[str, np.ndarray]:
    """A line's text and its ink as `digitrec read` sees it: linesynth (half captured), or synth on paper or photo."""
    if rng.random() < 0.5:
        line, text = linesynth.compose(train.images, train.labels, rng, text_of(rng))
        return text, (linesynth.capture(line, rng) if rng.random() < 0.5 else line.astype(np.float32) / 255)
    k = int(rng.integers(3, 7))
    idx = rng.integers(0, len(train), k)
    line = synth.digit_line(train.images[idx], [int(g) for g in rng.integers(-3, 11, k - 1)], rng)
    img = synth.photo(line, rng) if rng.random() < 0.5 else synth.on_paper(line, rng.uniform(2, 4))
    lines = find_lines(read_page(img).ink)
    ink = lines[0][1] if len(lines) == 1 else np.zeros((8, 8), np.float32)
    return "".join(str(d) for d in train.labels[idx]), ink


def features(posterior: float, weakest: float) -> list[float]:
    return [1.0, _logit(posterior), _logit(weakest)]


def fit_logistic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Newton's method on the (ridge-regularised) log loss; x (N, K) float64, y (N,) 0/1 -> (K,) weights."""
    w = np.zeros(x.shape[1])
    for _ in range(NEWTON_STEPS):
        p = 1 / (1 + np.exp(-x @ w))
        grad = x.T @ (p - y) + RIDGE * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + RIDGE * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    return w


def reliability(confidence: np.ndarray, right: np.ndarray) -> None:
    print(f"{'confidence':<14}{'lines':>8}{'exact':>10}")
    for lo, hi in ((0, 0.5), (0.5, 0.8), (0.8, 0.9), (0.9, 0.98), (0.98, 1.01)):
        sel = (confidence >= lo) & (confidence < hi)
        print(f"{lo:.2f}-{min(hi, 1):.2f}{'':<5}{sel.sum():>8}{right[sel].mean() if sel.any() else math.nan:>10.1%}")
    sel = confidence >= 0.9
    print(f">= 0.90{'':<7}{sel.sum():>8}{right[sel].mean() if sel.any() else math.nan:>10.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=3000, help="lines to fit on (default 3000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    train = load_split("train")
    held = slice(int(LINE_TRAIN_DIGITS), None)  # digits the line model never saw: its confidence on those is honest
    train = type(train)(train.images[held], train.labels[held])
    reader = LineReader.load(threads=2)
    digits = Recognizer.load(threads=2)  # the default digit model checks each reading, as `digitrec read` does
    rng = np.random.default_rng(args.seed)
    rows, right = [], []
    for _ in range(args.n):
        text, ink = line_of(train, rng)
        got = read_line(reader, ink, recognizer=digits)
        if got.text is None or not got.chars:
            continue
        rows.append(features(got.posterior, min(c.confidence for c in got.chars)))
        right.append(got.text == text)
    x, y = np.asarray(rows), np.asarray(right, np.float64)
    w = fit_logistic(x, y)
    print(f"{len(y)} lines read, {y.mean():.1%} exact; CONFIDENCE_FIT = ({w[0]:.3f}, {w[1]:.3f}, {w[2]:.3f})")
    conf = np.array([line_confidence(p, wk, tuple(w)) for p, wk in _inputs(x)])
    reliability(conf, y.astype(bool))


def _inputs(x: np.ndarray) -> list[tuple[float, float]]:
    """Back from logits to (posterior, weakest)."""
    return [(1 / (1 + math.exp(-a)), 1 / (1 + math.exp(-b))) for _, a, b in x]


if __name__ == "__main__":
    main()
