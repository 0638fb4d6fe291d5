"""Device choice, process-group backend and AMP dtype follow the run's device (CPU-only)."""

from datetime import timedelta

import pytest
import torch

from yolov3.config import ModelConfig, TrainConfig
from yolov3.devices import DeviceError, backend_for, native_bf16, resolve_device
from yolov3.model import build_model
from yolov3.predict.detector import inference_model
from yolov3.train import amp_settings, distributed
from yolov3.train.distributed import DistInfo, setup_distributed


@pytest.fixture
def two_gpus(monkeypatch):
    """Pretend this machine has two CUDA devices, cuda:0 of capability 7.5."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 5))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)


def test_cpu_and_default_device_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device(None) == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("spec", ["tpu", "cuda:x", "gpu0", "mps:0"])
def test_unknown_devices_are_one_line_errors(spec):
    with pytest.raises(DeviceError, match="expected cpu, cuda or cuda:N"):
        resolve_device(spec)


def test_cuda_without_a_gpu_says_so(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceError, match="CUDA is not available on this machine"):
        resolve_device("cuda:0")


def test_gpu_index_and_local_rank_are_checked_against_the_visible_gpus(two_gpus):
    assert resolve_device("cuda") == torch.device("cuda", 0)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(DeviceError, match=r"device cuda:2: 2 CUDA device\(s\) visible"):
        resolve_device("cuda:2")
    # Under torchrun each rank takes the GPU of its LOCAL_RANK, whatever index was given.
    assert resolve_device("cuda:0", local_rank=1) == torch.device("cuda", 1)
    with pytest.raises(DeviceError, match="LOCAL_RANK 2"):
        resolve_device("cuda", local_rank=2)
    assert resolve_device("cpu", local_rank=1) == torch.device("cpu")


def test_backend_follows_the_runs_device_not_the_machine(two_gpus, monkeypatch):
    assert backend_for(torch.device("cpu")) == "gloo"
    assert backend_for(torch.device("cuda", 1)) == "nccl"
    calls = []
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: False)
    monkeypatch.setattr(distributed.dist, "init_process_group", lambda **kw: calls.append(kw))
    info = DistInfo(rank=1, local_rank=1, world_size=2)
    assert setup_distributed(info, torch.device("cpu"), timedelta(minutes=90)) == info
    assert calls == [{"backend": "gloo", "timeout": timedelta(minutes=90)}]


def test_bf16_only_where_the_gpu_computes_it_natively(two_gpus, monkeypatch):
    cuda = torch.device("cuda", 0)
    assert not native_bf16(cuda)
    assert amp_settings(TrainConfig(), cuda) == (torch.float16, True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (8, 0))
    assert native_bf16(cuda)
    assert amp_settings(TrainConfig(), cuda) == (torch.bfloat16, False)
    assert amp_settings(TrainConfig(amp=False), cuda) == (None, False)
    assert amp_settings(TrainConfig(), torch.device("cpu")) == (None, False)


def test_half_inference_leaves_the_callers_model_in_float32():
    model = build_model(ModelConfig.tiny(num_classes=2))
    half = inference_model(model, torch.device("cpu"), half=True)
    assert half is not model and next(half.parameters()).dtype == torch.float16
    assert next(model.parameters()).dtype == torch.float32
    assert inference_model(model, torch.device("cpu"), half=False) is model


def test_dist_timeout_must_be_positive():
    with pytest.raises(ValueError, match="dist_timeout_min"):
        TrainConfig(dist_timeout_min=0)
