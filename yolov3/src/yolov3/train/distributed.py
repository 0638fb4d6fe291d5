"""DistributedDataParallel plumbing for ``torchrun --nproc_per_node N -m yolov3 train``.

Without torchrun's environment variables every function degrades to a single process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from yolov3.devices import backend_for


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def torchrun_info() -> DistInfo:
    """This process's place in the run, from torchrun's environment (one process without)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    return DistInfo(rank=rank, local_rank=local, world_size=world)


def setup_distributed(
    info: DistInfo, device: torch.device, timeout: timedelta = timedelta(minutes=120)
) -> DistInfo:
    """Join the process group ``info`` describes, if any, with the backend ``device`` needs.

    The backend follows the run's device, not the machine: ``--device cpu`` on a CUDA host
    trains with gloo. ``timeout`` bounds every collective, so it must outlast rank 0's
    validation and checkpoint writing while the other ranks wait at a barrier (NCCL's
    default of 10 minutes does not on a COCO-sized validation).
    """
    if not info.enabled or dist.is_initialized():
        return info
    backend = backend_for(device)
    if backend == "nccl":
        torch.cuda.set_device(device)
    dist.init_process_group(backend=backend, timeout=timeout)
    return info


def cleanup_distributed() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def reduce_mean(values: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Average a tensor over all processes (identity without DDP)."""
    if not info.enabled:
        return values
    values = values.clone()
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values / info.world_size


def broadcast_value(value: float, info: DistInfo) -> float:
    """Rank 0's ``value`` on every rank (e.g. a re-planned epoch count)."""
    if not info.enabled:
        return value
    t = torch.tensor([value], dtype=torch.float64)
    if dist.get_backend() == "nccl":
        t = t.cuda()
    dist.broadcast(t, src=0)
    return float(t.item())
