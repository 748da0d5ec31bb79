"""Running `digitrec train` under torchrun: who am I, and how the data is split (torch.distributed only).

With `torchrun --nproc-per-node N -m digitrec train ...` every process gets
RANK, WORLD_SIZE and LOCAL_RANK in its environment; without torchrun the
world is one process and nothing here does any communication.

Rules (documented in the README):
- `--batch-size` is the global batch: each step, the same shuffled global batch
  is cut into WORLD_SIZE nearly equal parts, one per process, so the union of
  the shards is exactly the epoch, without duplicates, whatever the number of
  workers; the learning rate therefore stays as given (same global batch, same
  rate, comparable runs). A last global batch smaller than the world is dropped.
- Gradients are averaged by DistributedDataParallel (gloo on CPU, NCCL on GPU).
- Every process draws the same shuffle from `--seed`; augmentation and the
  non-digit pictures are drawn from `--seed` + rank.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import ConfigError, require_torch


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def world_from_env() -> World:
    """The process's place in a torchrun job (a world of one outside torchrun)."""
    try:
        size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
    except ValueError:
        raise ConfigError("WORLD_SIZE, RANK and LOCAL_RANK must be integers (set by torchrun)") from None
    if size < 1 or not 0 <= rank < size:
        raise ConfigError(f"bad torchrun environment: RANK={rank}, WORLD_SIZE={size}")
    return World(rank, size, local)


def init(world: World, device: str) -> str:
    """Join the process group (gloo on CPU, NCCL on CUDA); returns this process's device."""
    if not world.distributed:
        return device
    torch = require_torch()
    import torch.distributed as dist

    if device == "cuda":
        if world.local_rank >= torch.cuda.device_count():
            raise ConfigError(
                f"LOCAL_RANK {world.local_rank} but only {torch.cuda.device_count()} GPU(s): use --nproc-per-node <= GPUs"
            )
        torch.cuda.set_device(world.local_rank)
        device = f"cuda:{world.local_rank}"
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    return device


def check_sizes(world: World, images: int, batch_size: int) -> None:
    """Refuse jobs whose workers would have nothing to do."""
    if world.size > images:
        raise ConfigError(f"world size {world.size} is larger than the data ({images} training images)")
    if world.size > batch_size:
        raise ConfigError(f"world size {world.size} is larger than the global --batch-size {batch_size}")


def shard(batch, world: World):
    """This process's part of a global batch of indices: nearly equal, disjoint parts covering it all."""
    torch = require_torch()
    return torch.tensor_split(batch, world.size)[world.rank] if world.distributed else batch


def all_sum(*values):
    """Sum tensors over all processes (in place); a no-op outside torchrun."""
    torch = require_torch()
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        packed = torch.stack([v.double() for v in values])
        dist.all_reduce(packed)
        return tuple(packed.unbind())
    return values


def barrier() -> None:
    require_torch()
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def shutdown() -> None:
    require_torch()
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
