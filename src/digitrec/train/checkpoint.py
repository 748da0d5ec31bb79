"""Training checkpoints: everything needed to continue a run exactly, as safetensors + JSON (no pickle).

`OUT.ckpt.safetensors` holds the tensors (model weights, Adam moments, random
generator states); `OUT.ckpt.json` the rest (epoch, recipe, history, learning-rate
schedule, optimizer settings). Both are written atomically, tensors first, so the
JSON only ever describes a complete checkpoint.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..errors import CheckpointError
from ..store import atomic_write

# Recipe fields that must match for a run to be continued from a checkpoint.
MUST_MATCH = (
    "arch",
    "hparams",
    "epochs",
    "batch_size",
    "lr",
    "seed",
    "schedule",
    "augment",
    "nondigit",
    "printed",
    "holdout",
    "limit",
)


def paths(stem: Path) -> tuple[Path, Path]:
    return stem.with_name(stem.name + ".ckpt.safetensors"), stem.with_name(stem.name + ".ckpt.json")


def save(
    stem: Path, epoch: int, config, world_size: int, model, optimizer, scheduler, generators: dict, history: list
) -> None:
    """Write the state after `epoch` (1-based) atomically."""
    import torch
    from safetensors.torch import save_file

    tensors = {f"model.{k}": v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    for pid, state in opt["state"].items():
        for key, value in state.items():
            tensors[f"opt.{pid}.{key}"] = (
                (value if torch.is_tensor(value) else torch.tensor(value)).detach().contiguous().cpu()
            )
    for name, gen in generators.items():
        tensors[f"rng.{name}"] = gen.get_state()
    tensors["rng.torch"] = torch.get_rng_state()
    meta = {
        "epoch": epoch,
        "config": asdict(config),
        "world_size": world_size,
        "param_groups": opt["param_groups"],
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "history": [asdict(h) for h in history],
    }
    tensor_path, json_path = paths(stem)
    atomic_write(tensor_path, lambda tmp: save_file(tensors, str(tmp)))
    text = json.dumps(meta, indent=1)
    atomic_write(json_path, lambda tmp: tmp.write_text(text))


def load(
    stem: Path, config, world_size: int, model, optimizer, scheduler, generators: dict
) -> tuple[int, list[dict[str, Any]]]:
    """Restore a checkpoint into the given objects; returns (finished epochs, history rows)."""
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    tensor_path, json_path = paths(stem)
    try:
        meta = json.loads(json_path.read_text())
        tensors = load_file(str(tensor_path))
    except (OSError, ValueError, SafetensorError) as e:  # SafetensorError: a truncated or damaged tensor file
        raise CheckpointError(f"{json_path}: cannot read checkpoint ({e})") from None
    saved, now = meta["config"], asdict(config)
    changed = [k for k in MUST_MATCH if saved.get(k) != now.get(k)]
    if changed:
        raise CheckpointError(
            f"{json_path}: checkpoint was made with other settings ({', '.join(f'{k}={saved.get(k)!r}' for k in changed)}); "
            "use the same options to resume, or drop --resume"
        )
    if meta["world_size"] != world_size:
        raise CheckpointError(f"{json_path}: checkpoint was made with {meta['world_size']} worker(s), now {world_size}")
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("opt."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    if scheduler is not None and meta["scheduler"] is not None:
        scheduler.load_state_dict(meta["scheduler"])
    for name, gen in generators.items():
        gen.set_state(tensors[f"rng.{name}"])
    torch.set_rng_state(tensors["rng.torch"])
    return meta["epoch"], meta["history"]


def remove(stem: Path) -> None:
    from .snapshots import path as snapshots_path

    for p in (*paths(stem), snapshots_path(stem)):
        p.unlink(missing_ok=True)
