import random

import numpy as np
import pytest
import torch
from torch import nn

from yolov3.checkpoint import (
    CheckpointError,
    capture_rng_state,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
)
from yolov3.train.ema import ModelEMA


def _state(value: float) -> dict:
    return {"model_config": {}, "model": {"w": torch.full((3,), value)}, "epoch": 1}


def test_checkpoint_round_trip(tmp_path):
    path = save_checkpoint(_state(1.0), tmp_path / "sub" / "last.pt")
    loaded = load_checkpoint(path)
    assert torch.equal(loaded["model"]["w"], torch.ones(3))
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]


def test_interrupted_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = save_checkpoint(_state(1.0), tmp_path / "last.pt")

    def dies_mid_write(obj, handle, *args, **kwargs):
        handle.write(b"half a checkpoint")
        raise KeyboardInterrupt  # e.g. Ctrl-C or a kill while writing

    monkeypatch.setattr(torch, "save", dies_mid_write)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(_state(2.0), path)
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(path)["model"]["w"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temp file left


def test_unreadable_checkpoint_error_names_the_file(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match=r"bad\.pt"):
        load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="no such"):
        load_checkpoint(tmp_path / "missing.pt")
    torch.save({"something": 1}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="'model'"):
        load_checkpoint(tmp_path / "other.pt")


def test_rng_state_restores_every_generator():
    state = capture_rng_state()
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    restore_rng_state(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


def test_ema_follows_the_model_with_a_warming_decay():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    ema = ModelEMA(model, decay=0.9, tau=1.0)
    start = ema.module[0].weight.clone()
    with torch.no_grad():
        model[0].weight.add_(1.0)
    ema.update(model)
    d = 0.9 * (1 - np.exp(-1.0))
    torch.testing.assert_close(ema.module[0].weight, start + (1 - d))
    assert ema.module[1].num_batches_tracked == model[1].num_batches_tracked
    assert not any(p.requires_grad for p in ema.module.parameters())
    restored = ModelEMA(model)
    restored.load_state_dict(ema.state_dict())
    assert restored.updates == 1
    torch.testing.assert_close(restored.module[0].weight, ema.module[0].weight)


def test_rng_state_saved_with_more_gpus_restores_the_visible_ones(monkeypatch):
    state = capture_rng_state()
    state["cuda"] = [torch.full((16,), k, dtype=torch.uint8) for k in range(4)]
    restored = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda s, d: restored.append((int(s[0]), d)))
    restore_rng_state(state)
    assert restored == [(0, 0), (1, 1)]


def test_train_config_saved_before_the_loss_fields_loads_with_their_defaults():
    from yolov3.config import TrainConfig

    old = TrainConfig(epochs=3).to_dict()
    for name in ("obj_balance", "loss_ref_size", "loss_ref_classes", "loss_ref_scales"):
        old.pop(name)
    loaded = TrainConfig.from_dict(old)
    assert loaded == TrainConfig(epochs=3)
    assert loaded.obj_balance == (4.0, 1.0, 0.4, 0.1) and loaded.loss_ref_size == 640.0
    assert TrainConfig.from_dict({**old, "obj_balance": [2.0, 1.0]}).obj_balance == (2.0, 1.0)
