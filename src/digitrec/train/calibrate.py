"""Calibrate a saved model: fit its temperature and rejection thresholds on the shifted held-out digits
(`digitrec.synth.shifted`) and write them into its metadata, or into a calibrated copy."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OutputExists
from ..read.verdicts import calibration_metadata
from ..store import atomic_write, check_writable, model_files, resolve, stem_of, write_metadata
from ..synth.shifted import HELD_OUT, load


def is_shipped(stem: Path) -> bool:
    """True for the models inside the installed package, which are never rewritten by a user's command."""
    from ..store import SHIPPED_DIR

    return stem.parent.resolve() == SHIPPED_DIR.resolve()


def calibrate_model(
    model: str | None = None, out: str | None = None, data_dir: str | None = None, force: bool = False
) -> dict[str, Any]:
    """Fit temperature and rejection thresholds of a saved model on shifted held-out digits; returns them.

    The result is written to a copy at `out`, or, with `force`, into the
    model itself (`digitrec train` does this for the model it just wrote). For a model
    trained on all 60,000 training digits (the notebook's seed), the held-out
    digits were seen in training, and the metadata says so.
    """
    from ..read.digits import Recognizer

    stem = resolve(model)
    if out is None and not force:
        raise OutputExists(
            f"{stem}: calibrating in place rewrites this model; pass --force, or --out to write a calibrated copy"
        )
    target = stem_of(out) if out is not None else stem
    if out is not None:
        check_writable(target, force)
    rec = Recognizer.load(stem)
    images, labels, kinds = load(data_dir)
    logits = np.concatenate(
        [rec.logits(images[i : i + 1000, None].astype(np.float32) / 255) for i in range(0, len(images), 1000)]
    )
    training = rec.meta.get("training", {})
    holdout = training.get("holdout") or 0
    trained_on = min(training.get("limit") or 60000, 60000 - holdout)  # training used train[:trained_on]
    seen = (
        "seen in training"
        if trained_on > 60000 - HELD_OUT
        else "held out from training"
        if holdout
        else "not used in training"
    )
    where = f"MNIST train[{60000 - HELD_OUT}:60000] ({seen})"
    update = calibration_metadata(logits, labels, f"{where}, clean and shifted: {', '.join(sorted(set(kinds)))}")
    if target != stem:
        for kind, src in model_files(stem).items():
            if kind != "json" and src.exists():
                atomic_write(model_files(target)[kind], lambda tmp, f=src: shutil.copyfile(f, tmp))
    write_metadata(target, {**rec.meta, "name": target.name, **update})
    return update
