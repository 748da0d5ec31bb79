"""Per-epoch snapshots of one layer's weights (`digitrec train --snapshots`), for watching filters being learned.

The model metadata gets one entry (the page's filter slider reads it):

    "snapshots": {"layer": "conv1", "epochs": [0, 1, ..., E], "shape": [32, 1, 5, 5],
                  "weights": [[800 floats rounded to 5 decimals], ...]}   # one flat list per epoch

Epoch 0 is the initialisation. A run that is checkpointed keeps its snapshots
so far beside the checkpoint (OUT.ckpt.snapshots.json, written before the
checkpoint itself), so `--resume` continues the same list.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from ..errors import DigitrecError
from ..store import atomic_write

LAYER = "conv1"
DECIMALS = 5


def path(stem: Path) -> Path:
    return stem.with_name(stem.name + ".ckpt.snapshots.json")


class Snapshots:
    """Records `layer`'s weight tensor of a torch model after each epoch."""

    def __init__(self, model, layer: str = LAYER):
        modules = dict(model.named_modules())
        if layer not in modules or getattr(modules[layer], "weight", None) is None:
            raise DigitrecError(f"--snapshots: the network has no layer {layer!r} with weights")
        self.layer = layer
        self.shape = list(modules[layer].weight.shape)
        self.epochs: list[int] = []
        self.weights: list[list[float]] = []
        self._module = modules[layer]

    def record(self, epoch: int) -> None:
        """Keep the layer's weights as they are now, flattened (C_out*C_in*kH*kW floats), as epoch `epoch`."""
        w = self._module.weight.detach().float().cpu().reshape(-1).tolist()
        self.epochs.append(epoch)
        self.weights.append([round(v, DECIMALS) for v in w])

    def to_meta(self) -> dict[str, Any]:
        return {"layer": self.layer, "epochs": list(self.epochs), "shape": list(self.shape), "weights": self.weights}

    def save(self, stem: Path) -> None:
        text = json.dumps(self.to_meta(), separators=(",", ":"))
        atomic_write(path(stem), lambda tmp: tmp.write_text(text))

    def restore(self, stem: Path, done: int) -> None:
        """Take back the snapshots of epochs 0..`done` saved beside a checkpoint; warn when they are missing."""
        try:
            saved = json.loads(path(stem).read_text())
        except FileNotFoundError:
            saved = None
        except (OSError, ValueError) as e:
            raise DigitrecError(f"{path(stem)}: cannot read snapshots ({e})") from None
        if saved is None or saved.get("layer") != self.layer or saved.get("shape") != self.shape:
            warnings.warn(
                f"{path(stem)}: no snapshots of epochs 0-{done} beside the checkpoint; snapshots restart at epoch {done}",
                stacklevel=2,
            )
            self.record(done)
            return
        keep = [i for i, e in enumerate(saved["epochs"]) if e <= done]
        self.epochs = [saved["epochs"][i] for i in keep]
        self.weights = [saved["weights"][i] for i in keep]


def remove(stem: Path) -> None:
    path(stem).unlink(missing_ok=True)


def start(enabled: bool, model, stem: Path | None, first: int) -> Snapshots | None:
    """The recorder for a run that begins at epoch `first` (1 for a new run), or None without --snapshots."""
    if not enabled:
        return None
    snaps = Snapshots(model)
    if first > 1 and stem is not None:
        snaps.restore(stem, first - 1)
    else:
        snaps.record(0)
    return snaps


def epoch_done(snaps: Snapshots | None, epoch: int, stem: Path | None) -> None:
    """Record `epoch`; with a checkpoint stem, save the list so far (call before the checkpoint is written)."""
    if snaps is None:
        return
    snaps.record(epoch)
    if stem is not None:
        snaps.save(stem)
