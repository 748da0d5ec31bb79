"""Re-fit a network's last dense layer on features: weighted softmax regression by L-BFGS (numpy only).

A personal model (`digitrec.teach.learn`) keeps every layer of its base but the
last; this module finds that layer's new weights. The objective is

    J(W, b) = sum_i s_i * CE(softmax(W f_i + b), y_i) / sum_i s_i + l2 / 2 * |W - W0|^2

with `s_i` a weight per sample (the user's samples against the replay of
MNIST and non-digit features), and the pull towards the base weights W0 so
that a few samples move the boundary only where they must.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..read.verdicts import log_softmax, softmax

HISTORY = 10  # L-BFGS memory: pairs of (step, gradient change) kept
ARMIJO = 1e-4  # sufficient decrease of a line-search step
TOLERANCE = 1e-6  # stop when the gradient's largest entry falls below this


@dataclass(frozen=True)
class Head:
    """A dense layer: logits = features @ weight.T + bias; weight float32 (C, D), bias float32 (C,)."""

    weight: np.ndarray
    bias: np.ndarray

    def logits(self, features: np.ndarray) -> np.ndarray:
        """float32 (N, D) -> float32 (N, C)."""
        return (features @ self.weight.T + self.bias).astype(np.float32)


def _objective(
    theta: np.ndarray, f: np.ndarray, y: np.ndarray, s: np.ndarray, w0: np.ndarray, l2: float
) -> tuple[float, np.ndarray]:
    classes, dim = w0.shape
    w, b = theta[: classes * dim].reshape(classes, dim), theta[classes * dim :]
    z = f @ w.T + b
    logp = log_softmax(z)
    loss = float(-(s * logp[np.arange(len(y)), y]).sum()) + 0.5 * l2 * float(((w - w0) ** 2).sum())
    g = softmax(z).astype(np.float64)
    g[np.arange(len(y)), y] -= 1.0
    g *= s[:, None]
    grad_w = g.T @ f + l2 * (w - w0)
    return loss, np.concatenate([grad_w.ravel(), g.sum(0)])


def fit_head(
    features: np.ndarray,
    labels: np.ndarray,
    sample_weight: np.ndarray,
    start: Head,
    l2: float = 1e-3,
    steps: int = 150,
) -> Head:
    """Minimise J from `start` (also the W0 of the pull) on features float (N, D), labels int (N,) in [0, C).

    `sample_weight` float (N,) is normalised to sum 1. Deterministic: no
    randomness, so the same samples always give the same model.
    """
    f = np.asarray(features, np.float64)  # NOTE: float32 products made the line search stall near the optimum
    y = np.asarray(labels, np.int64)
    s = np.asarray(sample_weight, np.float64)
    s = s / s.sum()
    w0 = start.weight.astype(np.float64)
    theta = np.concatenate([w0.ravel(), start.bias.astype(np.float64)])
    loss, grad = _objective(theta, f, y, s, w0, l2)
    steps_s: list[np.ndarray] = []
    changes: list[np.ndarray] = []
    for _ in range(steps):
        if np.abs(grad).max() < TOLERANCE:
            break
        direction = -_two_loop(grad, steps_s, changes)
        slope = float(grad @ direction)
        if slope >= 0:  # NOTE: a stale curvature pair can point uphill; fall back to the gradient
            steps_s.clear()
            changes.clear()
            direction, slope = -grad, -float(grad @ grad)
        t = 1.0
        while True:
            new_theta = theta + t * direction
            new_loss, new_grad = _objective(new_theta, f, y, s, w0, l2)
            if new_loss <= loss + ARMIJO * t * slope or t < 1e-8:
                break
            t *= 0.5
        sk, yk = new_theta - theta, new_grad - grad
        if float(sk @ yk) > 1e-12:
            steps_s.append(sk)
            changes.append(yk)
            if len(steps_s) > HISTORY:
                steps_s.pop(0)
                changes.pop(0)
        theta, loss, grad = new_theta, new_loss, new_grad
    classes, dim = w0.shape
    return Head(
        theta[: classes * dim].reshape(classes, dim).astype(np.float32), theta[classes * dim :].astype(np.float32)
    )


def _two_loop(grad: np.ndarray, steps_s: list[np.ndarray], changes: list[np.ndarray]) -> np.ndarray:
    """L-BFGS's approximation of inverse-Hessian @ grad from the stored pairs (Nocedal & Wright, alg. 7.4)."""
    q = grad.copy()
    alphas = []
    for sk, yk in zip(reversed(steps_s), reversed(changes)):
        a = float(sk @ q) / float(yk @ sk)
        alphas.append(a)
        q -= a * yk
    if steps_s:
        q *= float(steps_s[-1] @ changes[-1]) / float(changes[-1] @ changes[-1])
    for (sk, yk), a in zip(zip(steps_s, changes), reversed(alphas)):
        b = float(yk @ q) / float(yk @ sk)
        q += (a - b) * sk
    return q
