"""Which head should a personal model re-fit? Compares three on the synthetic writers (numpy only, no model written).

    PYTHONPATH=src python bench/teach_heads.py [--per-digit 5] [--held-out 30] [--mnist 2000]

- pooled:    the shipped recipe: the dense layer re-fitted on the 128 pooled features (`digitrec.teach.learn`);
- spatial:   a dense layer on the pooled features plus a 2x2 pooling of the 128x7x7 map before pooling
             (640 features; the extra weights start at 0 and are pulled towards 0);
- prototype: the base's probabilities blended with cosine similarity to per-digit means of the user's
             (jittered) samples, the blend weight chosen by cross-validation on the user's samples.

Same samples, jitter, replay (MNIST *training* digits and non-digits), L2 pull and L-BFGS as `teach`.
Held-out digits: other MNIST test digits in the same style; MNIST: `--mnist` test digits no writer used.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from digitrec.io.mnist import load_split
from digitrec.read.digits import Recognizer
from digitrec.read.verdicts import softmax
from digitrec.store import resolve
from digitrec.synth.hands import WRITERS, write
from digitrec.teach.head import Head, fit_head
from digitrec.teach.learn import DIGITS, JITTER_COPIES, L2, STEPS, USER_SHARE, from_images, jitter
from digitrec.teach.personal import load_head
from digitrec.teach.replay import _replay_images

BLENDS = (0.0, 0.2, 0.35, 0.5, 0.7)  # prototype weights tried by cross-validation
SHARPNESS = 20.0  # cosine similarity -> logits for the prototype softmax


def maps(recognizer: Recognizer, images: np.ndarray, batch: int = 64) -> np.ndarray:
    """float32 (N, 28, 28) -> float32 (N, 128, 7, 7): the last ReLU's map, before global pooling."""
    session = recognizer._layers()
    x = np.ascontiguousarray(images, np.float32)[:, None]
    return np.concatenate(
        [session.run(["layer.relu5"], {"image": x[i : i + batch]})[0] for i in range(0, len(x), batch)]
    )


def pooled(m: np.ndarray) -> np.ndarray:
    return m.mean((2, 3))


def spatial(m: np.ndarray) -> np.ndarray:
    """(N, C, 7, 7) -> (N, 5C): global mean plus the means of four overlapping 4x4 quarters."""
    quarters = [m[:, :, r : r + 4, c : c + 4].mean((2, 3)) for r in (0, 3) for c in (0, 3)]
    return np.concatenate([pooled(m), *quarters], 1)


def fit(start: Head, replay: tuple[np.ndarray, np.ndarray], f: np.ndarray, y: np.ndarray) -> Head:
    s = np.concatenate(
        [np.full(len(replay[1]), (1 - USER_SHARE) / len(replay[1])), np.full(len(y), USER_SHARE / len(y))]
    )
    return fit_head(np.concatenate([replay[0], f]), np.concatenate([replay[1], y]), s, start, L2, STEPS)


def prototype_probs(base_logits: np.ndarray, feats: np.ndarray, protos: np.ndarray, blend: float) -> np.ndarray:
    """Digit probabilities (N, 10): base softmax blended with a softmax over cosine similarity to the prototypes."""
    p = softmax(base_logits)[:, :DIGITS]
    unit = feats / (np.linalg.norm(feats, axis=1, keepdims=True) + 1e-9)
    q = softmax(SHARPNESS * unit @ protos.T)
    return (1 - blend) * p + blend * q


def prototypes(feats: np.ndarray, labels: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    unit = feats / (np.linalg.norm(feats, axis=1, keepdims=True) + 1e-9)
    out = fallback.copy()
    for d in range(DIGITS):
        if (labels == d).any():
            v = unit[labels == d].mean(0)
            out[d] = v / np.linalg.norm(v)
    return out


def choose_blend(base: Head, f: np.ndarray, fj: np.ndarray, y: np.ndarray, fallback: np.ndarray) -> float:
    """The blend with the best leave-one-sample-per-digit-out accuracy on the user's own samples."""
    copies = len(fj) // len(y)
    folds = np.zeros(len(y), int)
    for d in range(DIGITS):
        idx = np.flatnonzero(y == d)
        folds[idx] = np.arange(len(idx)) % 5
    scores = np.zeros(len(BLENDS))
    for k in range(5):
        tr = folds != k
        fj_tr = fj.reshape(len(y), copies, -1)[tr].reshape(-1, f.shape[1])
        protos = prototypes(np.concatenate([f[tr], fj_tr]), np.concatenate([y[tr], np.repeat(y[tr], copies)]), fallback)
        for i, a in enumerate(BLENDS):
            scores[i] += (prototype_probs(base.logits(f[~tr]), f[~tr], protos, a).argmax(1) == y[~tr]).sum()
    return BLENDS[int(scores.argmax())]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-digit", type=int, default=5)
    ap.add_argument("--held-out", type=int, default=30)
    ap.add_argument("--mnist", type=int, default=2000)
    args = ap.parse_args()
    test = load_split("test")
    recognizer = Recognizer.load()
    head = load_head(resolve(None), recognizer.meta)
    wide = Head(
        np.concatenate([head.weight, np.zeros((len(head.bias), 4 * head.weight.shape[1]), np.float32)], 1), head.bias
    )
    t = time.perf_counter()
    images, labels, _ = _replay_images(len(head.bias))
    replay_maps = maps(recognizer, images)
    idx = lambda start, n: np.concatenate([np.flatnonzero(test.labels == d)[start : start + n] for d in range(DIGITS)])  # noqa: E731
    used = idx(0, args.per_digit + args.held_out)
    rest = np.setdiff1d(np.arange(len(test.labels)), used)[: args.mnist]
    mnist_maps = maps(recognizer, test.images[rest].astype(np.float32) / 255.0)
    my = test.labels[rest]
    print(f"features in {time.perf_counter() - t:.0f} s; MNIST: {len(rest)} test digits no writer used")
    acc = lambda logits, y: float((logits[:, :DIGITS].argmax(1) == y).mean())  # noqa: E731
    print(f"base MNIST {acc(head.logits(pooled(mnist_maps)), my):.2%}")
    for style in WRITERS:
        ti, hi = idx(0, args.per_digit), idx(args.per_digit, args.held_out)
        s = from_images(
            write(style, test.images[ti], test.labels[ti], seed=1), list(test.labels[ti]), [style] * len(ti)
        )
        h = from_images(
            write(style, test.images[hi], test.labels[hi], seed=2), list(test.labels[hi]), [style] * len(hi)
        )
        m_s = maps(recognizer, s.images)
        m_j = maps(recognizer, jitter(s.images, JITTER_COPIES, np.random.default_rng(0)))
        m_h = maps(recognizer, h.images)
        y = s.labels
        yy = np.concatenate([y, np.repeat(y, JITTER_COPIES)])
        row = {"base": (acc(head.logits(pooled(m_h)), h.labels), acc(head.logits(pooled(mnist_maps)), my))}
        for name, feat, start in (("pooled", pooled, head), ("spatial", spatial, wide)):
            t = time.perf_counter()
            new = fit(start, (feat(replay_maps), labels), np.concatenate([feat(m_s), feat(m_j)]), yy)
            row[name] = (
                acc(new.logits(feat(m_h)), h.labels),
                acc(new.logits(feat(mnist_maps)), my),
                time.perf_counter() - t,
            )
        f, fj = pooled(m_s), pooled(m_j)
        fallback = head.weight[:DIGITS] / np.linalg.norm(head.weight[:DIGITS], axis=1, keepdims=True)
        blend = choose_blend(head, f, fj, y, fallback)
        protos = prototypes(np.concatenate([f, fj]), yy, fallback)
        p_h = prototype_probs(head.logits(pooled(m_h)), pooled(m_h), protos, blend)
        p_m = prototype_probs(head.logits(pooled(mnist_maps)), pooled(mnist_maps), protos, blend)
        row[f"prototype (blend {blend})"] = (acc(p_h, h.labels), acc(p_m, my))
        print(f"{style} ({len(h.labels)} held-out digits):")
        for name, v in row.items():
            extra = f"  fit {v[2]:.1f} s" if len(v) > 2 else ""
            print(f"  {name:<22} held-out {v[0]:6.1%}   MNIST {v[1]:.2%}{extra}")


if __name__ == "__main__":
    main()
