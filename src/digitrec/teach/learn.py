"""Teach a model your handwriting: a personal model from a few of your digits, in seconds, without torch.

    >>> from digitrec.teach.learn import collect, teach
    >>> samples = collect(["my-digits/"])          # sub-folders 0..9, or files named 3_anything.png
    >>> report = teach(samples, "mine")            # writes the personal model "mine"
    >>> Recognizer.load("mine")

How (chosen by measurement, bench/teach.py): the base network's features
(the input of its last dense layer, from its `.layers.onnx` graph) are
computed for your samples, each also shifted, turned, sheared, scaled and
its strokes thickened or thinned a little (`jitter`); the dense layer alone
is re-fitted on them (`digitrec.teach.head`) together with a replay of base
features of MNIST training digits and of non-digit pictures, pulled towards
its old weights, so the model learns your style while forgetting little of
everyone else's, and still says "not a digit".
Before/after figures on your samples are by cross-validation: a sample is
only ever scored by a model that did not see it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .head import Head, fit_head

if TYPE_CHECKING:
    from ..read.digits import Recognizer

DIGITS = 10
NOT_A_DIGIT = 10  # the 11th class of the models that have one
JITTER_COPIES = 8  # extra, slightly moved copies of each sample
JITTER_TURN = 10.0  # degrees, either way
JITTER_SCALE = 0.1  # +- share of the size
JITTER_SHIFT = 1.5  # pixels, either way
JITTER_SHEAR = 0.4  # +- horizontal shear (tan of the slant): a slanted writer's samples vary most in slant
JITTER_THICK = 1.0  # +- stroke-width draw: above 1/3 a copy is thickened, below -1/3 thinned, by a 2x2 pixel step
USER_SHARE = 0.3  # weight of the user's samples in the fit, against the replay (0.5 lost 0.1-0.25 more MNIST points)
L2 = 1e-3  # pull of the dense weights towards the base's
STEPS = 150  # L-BFGS iterations per fit
FOLDS = 5  # cross-validation folds (fewer when a digit has fewer samples)
REFUSE_SURE = 0.9  # base P(not a digit) above which a sample is listed, not learned
FEW = 2  # fewer samples of a digit than this is allowed, and said


@dataclass
class Samples:
    """Labelled samples in MNIST form: images float32 (N, 28, 28) in [0, 1], labels int (N,), a name each;
    `errors`: one line per input that could not be used (unreadable, blank, unlabelled)."""

    images: np.ndarray
    labels: np.ndarray
    names: list[str]
    errors: list[str] = field(default_factory=list)
    boxes: list[Any] = field(default_factory=list)  # `sheet.Box`es cut from sheet photos, for --show

    def counts(self) -> list[int]:
        return np.bincount(self.labels, minlength=DIGITS)[:DIGITS].tolist()


@dataclass
class TeachReport:
    """What teaching did; `as_dict` is the JSON of `digitrec teach --json` and POST /api/teach."""

    name: str
    base: str
    path: str
    counts: list[int]
    refused: list[dict[str, Any]]
    errors: list[str]
    few: list[int]
    before: list[float | None]
    after: list[float | None]
    before_overall: float
    after_overall: float | None
    mnist_before: float
    mnist_after: float
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# ---------------------------------------------------------------- pure image steps


def jitter(images: np.ndarray, copies: int, rng: np.random.Generator) -> np.ndarray:
    """float32 (N, 28, 28) in [0, 1] -> float32 (N * copies, 28, 28): each image turned, sheared, scaled,
    shifted and its strokes thickened or thinned a little.

    Copy k of image i is row i * copies + k.
    """
    import cv2

    out = np.empty((len(images) * copies, 28, 28), np.float32)
    centre = np.array([13.5, 13.5])
    step = np.ones((2, 2), np.uint8)
    for i, image in enumerate(images):
        for k in range(copies):
            turn = np.deg2rad(rng.uniform(-JITTER_TURN, JITTER_TURN))
            scale = 1.0 + rng.uniform(-JITTER_SCALE, JITTER_SCALE)
            rotate = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
            m = rotate @ np.array([[1.0, rng.uniform(-JITTER_SHEAR, JITTER_SHEAR)], [0.0, 1.0]]) * scale
            move = centre - m @ centre + rng.uniform(-JITTER_SHIFT, JITTER_SHIFT, 2)
            affine = np.hstack([m, move[:, None]]).astype(np.float32)
            copy = cv2.warpAffine(image, affine, (28, 28), flags=cv2.INTER_LINEAR, borderValue=0.0)
            stroke = rng.uniform(-JITTER_THICK, JITTER_THICK)
            if stroke > 1 / 3:
                copy = cv2.dilate(copy, step)
            elif stroke < -1 / 3:
                copy = cv2.erode(copy, step)
            out[i * copies + k] = copy
    return np.clip(out, 0.0, 1.0)


# ---------------------------------------------------------------- features


def digit_accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Share of rows whose best digit (the 10 digit logits) is the label."""
    return float((logits[:, :DIGITS].argmax(1) == labels).mean()) if len(labels) else 0.0


def per_digit(right: np.ndarray, labels: np.ndarray) -> list[float | None]:
    """Accuracy of each digit 0-9 from a bool (N,) of right answers; None for a digit without samples."""
    return [float(right[labels == d].mean()) if (labels == d).any() else None for d in range(DIGITS)]


# ---------------------------------------------------------------- fitting


def _fit(
    head: Head, replay: tuple[np.ndarray, np.ndarray], feats: np.ndarray, labels: np.ndarray, steps: int = STEPS
) -> Head:
    """Re-fit `head` on user features (N * (1 + JITTER_COPIES), D) and the replay (features, labels)."""
    f = np.concatenate([replay[0], feats])
    y = np.concatenate([replay[1], labels])
    share = USER_SHARE if len(feats) else 0.0
    w = np.concatenate(
        [np.full(len(replay[1]), (1 - share) / len(replay[1])), np.full(len(labels), share / max(len(labels), 1))]
    )
    return fit_head(f, y, w, head, L2, steps)


def _folds(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A fold number per sample: each digit's samples dealt round the folds in random order (-1: no folds)."""
    counts = np.bincount(labels, minlength=DIGITS)
    k = min(FOLDS, int(counts[counts > 0].max())) if len(labels) else 0
    fold = np.full(len(labels), -1)
    if k < 2:
        return fold
    for d in range(DIGITS):
        idx = rng.permutation(np.flatnonzero(labels == d))
        fold[idx] = np.arange(len(idx)) % k
    return fold


def cross_validate(
    head: Head,
    replay: tuple[np.ndarray, np.ndarray],
    feats: np.ndarray,
    jittered: np.ndarray,
    labels: np.ndarray,
    fold: np.ndarray,
) -> np.ndarray | None:
    """bool (N,): whether each sample is read right by a head fitted without it (None: too few samples)."""
    if fold.max() < 1:
        return None
    right = np.zeros(len(labels), bool)
    copies = len(jittered) // max(len(labels), 1)
    for k in range(fold.max() + 1):
        train = fold != k
        f = np.concatenate([feats[train], jittered.reshape(len(labels), copies, -1)[train].reshape(-1, feats.shape[1])])
        y = np.concatenate([labels[train], np.repeat(labels[train], copies)])
        fitted = _fit(head, replay, f, y)
        right[fold == k] = fitted.logits(feats[fold == k])[:, :DIGITS].argmax(1) == labels[fold == k]
    return right


# ---------------------------------------------------------------- samples


def label_of(path: Path) -> int | None:
    """The digit a sample file stands for: its folder's name (0-9) or its name's start (`3_anything.png`)."""
    if path.parent.name in [str(d) for d in range(DIGITS)]:
        return int(path.parent.name)
    head = path.name.split("_", 1)[0]
    return int(head) if len(head) == 1 and head.isdigit() and "_" in path.name else None


def sample_files(paths: list[str]) -> tuple[list[Path], list[str]]:
    """The image files under `paths` (labelled ones from folders, walked; any named file) and one line per unusable path."""
    from ..io.decode import IMAGE_SUFFIXES

    files, errors = [], []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES and label_of(f) is not None)
            if not found:
                errors.append(f"{p}: no labelled images (sub-folders 0..9, or files named like 3_anything.png)")
            files += found
        elif not p.exists():
            errors.append(f"{p}: no such file or folder")
        elif label_of(p) is None and p.suffix.lower() not in IMAGE_SUFFIXES:
            errors.append(f"{p}: not an image, nor a folder of labelled images")
        else:
            files.append(p)  # labelled, or a sheet photo
    return files, errors


def from_images(images: list[Any], labels: list[int], names: list[str]) -> Samples:
    """Samples from pictures of one digit each (paths, bytes, arrays...): brought to MNIST form, blank ones dropped."""
    from ..errors import BadImage
    from ..image.preprocess import prepare

    kept, kept_labels, kept_names, errors = [], [], [], []
    for image, label, name in zip(images, labels, names):
        try:
            prepared = prepare(image, name)
        except BadImage as e:
            errors.append(str(e))
            continue
        if prepared.blank:
            errors.append(f"{name}: blank: no ink found")
            continue
        kept.append(prepared.image)
        kept_labels.append(int(label))
        kept_names.append(name)
    images_out = np.stack(kept) if kept else np.zeros((0, 28, 28), np.float32)
    return Samples(images_out, np.array(kept_labels, np.int64), kept_names, errors)


def from_sheet(source: Any, name: str) -> Samples:
    """Samples from a photo of a filled teaching sheet (`digitrec.teach.sheet`): its non-empty boxes."""
    from .sheet import read_sheet

    boxes = read_sheet(source)
    full = [b for b in boxes if not b.empty]
    samples = from_images(
        [b.picture for b in full], [b.label for b in full], [f"{name} [{b.label}, box {b.column + 1}]" for b in full]
    )
    samples.boxes = boxes
    return samples


def merge(parts: list[Samples]) -> Samples:
    """One Samples from several."""
    images = [p.images for p in parts if len(p.images)]
    return Samples(
        np.concatenate(images) if images else np.zeros((0, 28, 28), np.float32),
        np.concatenate([p.labels for p in parts]).astype(np.int64) if parts else np.zeros(0, np.int64),
        [n for p in parts for n in p.names],
        [e for p in parts for e in p.errors],
        [b for p in parts for b in p.boxes],
    )


def collect(paths: list[str]) -> Samples:
    """Samples from folders (sub-folders 0..9 or files named `3_anything.png`), labelled files and sheet photos.

    An image file without a label is read as a photo of a filled teaching sheet.
    """
    from ..errors import BadImage

    files, errors = sample_files(paths)
    labelled = [f for f in files if label_of(f) is not None]
    parts = [from_images([str(f) for f in labelled], [label_of(f) for f in labelled], [str(f) for f in labelled])]
    for photo in (f for f in files if label_of(f) is None):
        try:
            parts.append(from_sheet(str(photo), str(photo)))
        except BadImage as e:
            errors.append(str(e))
    samples = merge(parts)
    samples.errors = errors + samples.errors
    return samples


# ---------------------------------------------------------------- the workflow


def _refused(recognizer: Recognizer, samples: Samples) -> np.ndarray:
    """bool (N,): samples the base calls "not a digit" with P > REFUSE_SURE."""
    if not len(samples.labels):
        return np.zeros(0, bool)
    return recognizer.classify(samples.images[:, None], "off").nondigit > REFUSE_SURE


def teach(
    samples: Samples,
    name: str,
    base: str | None = None,
    force: bool = False,
    seed: int = 0,
    note: Callable[[str], None] | None = None,
) -> TeachReport:
    """Write personal model `name` taught on `samples` from model `base` (default: the shipped default).

    Raises ConfigError when no usable sample is left, ModelError when the name
    is a shipped model's or (without `force`) an existing personal model's.
    """
    from ..errors import ConfigError
    from ..read.digits import Recognizer
    from ..store import resolve
    from .personal import check_name, load_head
    from .replay import bank, features

    start = time.perf_counter()
    stem = check_name(name, force)
    base_stem = resolve(base)
    recognizer = Recognizer.load(base_stem)
    refused = _refused(recognizer, samples)
    keep = ~refused
    images, labels = samples.images[keep], samples.labels[keep]
    if not len(labels):
        raise ConfigError("no samples to learn from: " + (samples.errors[0] if samples.errors else "none given"))
    replay = bank(recognizer, note)
    head = load_head(base_stem, recognizer.meta)
    rng = np.random.default_rng(seed)
    feats = features(recognizer, images)
    jittered = features(recognizer, jitter(images, JITTER_COPIES, rng))
    before_right = head.logits(feats)[:, :DIGITS].argmax(1) == labels
    cv_right = cross_validate(head, replay.replay, feats, jittered, labels, _folds(labels, rng))
    new = _fit(
        head,
        replay.replay,
        np.concatenate([feats, jittered]),
        np.concatenate([labels, np.repeat(labels, JITTER_COPIES)]),
    )
    report = TeachReport(
        name=name,
        base=recognizer.name,
        path=str(stem),
        counts=np.bincount(labels, minlength=DIGITS)[:DIGITS].tolist(),
        refused=[{"name": samples.names[i], "label": int(samples.labels[i])} for i in np.flatnonzero(refused)],
        errors=list(samples.errors),
        few=[d for d in range(DIGITS) if np.sum(labels == d) < FEW],
        before=per_digit(before_right, labels),
        after=per_digit(cv_right, labels) if cv_right is not None else [None] * DIGITS,
        before_overall=float(before_right.mean()),
        after_overall=float(cv_right.mean()) if cv_right is not None else None,
        mnist_before=digit_accuracy(head.logits(replay.test_features), replay.test_labels),
        mnist_after=digit_accuracy(new.logits(replay.test_features), replay.test_labels),
        seconds=0.0,
    )
    _save(stem, base_stem, recognizer, new, report, images[:8], feats[:8])
    report.seconds = round(time.perf_counter() - start, 3)
    return report


def _save(stem: Path, base_stem: Path, recognizer: Recognizer, head: Head, report: TeachReport, images, feats) -> None:
    """Write the personal model with its JSON: the base's metadata plus what teaching measured."""
    import datetime as _dt

    from .. import __version__
    from .personal import write_personal

    meta = {k: v for k, v in recognizer.meta.items() if k not in ("files", "format", "format_version")}
    meta["name"] = report.name
    meta["metrics"] = {
        "test_accuracy": round(report.mnist_after, 6),
        "base_test_accuracy": round(report.mnist_before, 6),
    }
    meta["training"] = {
        "kind": "personal",
        "command": f"digitrec teach ... --name {report.name} --base {report.base}",
        "recipe": f"dense layer re-fitted by L-BFGS on the samples ({JITTER_COPIES} jittered copies each) and a replay of base features",
    }
    meta["personal"] = {
        "base": report.base,
        "base_sha256": recognizer.meta.get("files", {}).get("onnx", {}).get("sha256"),
        "samples_per_digit": report.counts,
        "refused_samples": len(report.refused),
        "cross_validated_accuracy_before": report.before_overall,
        "cross_validated_accuracy_after": report.after_overall,
        "per_digit_before": report.before,
        "per_digit_after": report.after,
        "mnist_test_accuracy_before": report.mnist_before,
        "mnist_test_accuracy_after": report.mnist_after,
    }
    meta["digitrec_version"] = __version__
    meta["created"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    write_personal(stem, base_stem, recognizer.meta, head, meta, (images[:, None].astype(np.float32), feats))


def _pct(v: float | None) -> str:
    return "   -" if v is None else f"{v:4.0%}"


def report_lines(r: TeachReport) -> list[str]:
    """The human-readable report of `digitrec teach`."""
    lines = [f"personal model {r.name} (from {r.base}) written to {r.path}.json in {r.seconds:.1f} s"]
    lines.append("digit      " + " ".join(f"{d:>4}" for d in range(DIGITS)) + "   all")
    lines.append("samples    " + " ".join(f"{c:>4}" for c in r.counts) + f"  {sum(r.counts):>4}")
    lines.append("before     " + " ".join(_pct(v) for v in r.before) + f"  {_pct(r.before_overall)}")
    lines.append("after (cv) " + " ".join(_pct(v) for v in r.after) + f"  {_pct(r.after_overall)}")
    change = (r.mnist_after - r.mnist_before) * 100
    lines.append(f"MNIST test {r.mnist_before:.2%} -> {r.mnist_after:.2%} ({change:+.2f} points)")
    if r.after_overall is None:
        lines.append("note: too few samples for cross-validation (two or more of some digit are needed)")
    if r.few:
        lines.append(
            f"note: fewer than {FEW} samples of digit(s) {', '.join(map(str, r.few))}: learned little about them"
        )
    for x in r.refused:
        lines.append(f"not learned: {x['name']} (labelled {x['label']}): the base model is sure it is not a digit")
    lines += [f"skipped: {e}" for e in r.errors]
    return lines
