"""Which device a process runs on, and the mixed precision that device supports.

One place for the rules that training, prediction and the CLI share:

- ``cpu``, ``cuda`` or ``cuda:N``; anything else, or a GPU that is not there, is a
  :class:`DeviceError` with a one-line message.
- Under torchrun every process uses the GPU of its ``LOCAL_RANK``, whatever index was asked
  for: ``--device cuda:0`` on every rank would put all of them on GPU 0.
- bf16 autocast only where the GPU computes in bf16 natively (compute capability 8.0 and
  later); ``torch.cuda.is_bf16_supported()`` is also true where bf16 is only emulated, which
  is slower than fp16 there.
"""

from __future__ import annotations

import torch


class DeviceError(ValueError):
    """A device that is not valid on this machine; the message says what is available."""


def _visible_gpus() -> str:
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        return "CUDA is not available on this machine (use --device cpu)"
    return f"{count} CUDA device(s) visible ({', '.join(f'cuda:{k}' for k in range(count))})"


def resolve_device(spec: str | torch.device | None, local_rank: int | None = None) -> torch.device:
    """The device ``spec`` names, checked against this machine.

    Args:
        spec: ``None`` (CUDA when available, else the CPU), ``"cpu"``, ``"cuda"`` or
            ``"cuda:N"``.
        local_rank: under torchrun, this process's ``LOCAL_RANK``: a CUDA device becomes
            ``cuda:<local_rank>``.

    Raises:
        DeviceError: an unknown device, CUDA without a GPU, or a GPU index not visible.
    """
    if spec is None or spec == "":
        spec = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(spec)
    except (RuntimeError, TypeError) as exc:
        raise DeviceError(f"device {spec!r}: expected cpu, cuda or cuda:N") from exc
    if device.type == "cpu":
        return torch.device("cpu")
    if device.type != "cuda":
        raise DeviceError(f"device {spec!r}: expected cpu, cuda or cuda:N")
    if not torch.cuda.is_available():
        raise DeviceError(f"device {spec}: {_visible_gpus()}")
    index = device.index or 0
    if local_rank is not None:
        index = local_rank
    if index >= torch.cuda.device_count():
        what = f"LOCAL_RANK {local_rank}" if local_rank is not None else f"device {spec}"
        raise DeviceError(f"{what}: {_visible_gpus()}")
    return torch.device("cuda", index)


def backend_for(device: torch.device) -> str:
    """The process-group backend for ``device``: NCCL for CUDA tensors, gloo for CPU ones."""
    return "nccl" if device.type == "cuda" else "gloo"


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bf16 natively (CUDA compute capability 8.0 or later)."""
    if device.type != "cuda" or not torch.cuda.is_available():
        return False
    return torch.cuda.get_device_capability(device)[0] >= 8
