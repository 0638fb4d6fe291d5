"""Starting from the official YOLOv3-tiny COCO weights with another class count."""

from pathlib import Path

import pytest
import torch

from yolov3.checkpoint import save_checkpoint
from yolov3.config import ModelConfig
from yolov3.model import build_model
from yolov3.model.darknet_io import load_darknet_weights
from yolov3.train.transfer import darknet_num_classes, load_pretrained

WEIGHTS = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "darknet"
WEIGHTS = WEIGHTS / "yolov3-tiny.weights"
needs_weights = pytest.mark.skipif(
    not WEIGHTS.is_file(), reason=f"{WEIGHTS} not found (shared data is not next to the repo)"
)


@pytest.fixture(scope="module")
def coco_tiny():
    model = build_model(ModelConfig.tiny(num_classes=80))
    load_darknet_weights(model, WEIGHTS)
    return model.state_dict()


def _fresh(num_classes: int):
    torch.manual_seed(0)
    model = build_model(ModelConfig.tiny(num_classes=num_classes))
    model.init_head_biases(416)
    return model


def _head_names(model) -> set[str]:
    heads = {id(c) for c in model.head_convs()}
    return {
        f"{name}.{p}"
        for name, m in model.named_modules()
        if id(m) in heads
        for p in ("weight", "bias")
    }


@needs_weights
def test_class_count_is_read_from_the_file_size():
    assert darknet_num_classes(WEIGHTS, ModelConfig.tiny(num_classes=3)) == 80
    with pytest.raises(ValueError, match="do not fit"):
        darknet_num_classes(WEIGHTS, ModelConfig(num_classes=3))  # full YOLOv3: wrong file


@needs_weights
def test_full_file_into_other_class_count_reinitialises_only_the_heads(coco_tiny):
    model = _fresh(1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    summary = load_pretrained(model, WEIGHTS)
    heads = _head_names(model)
    assert "re-initialised for 1 classes instead of 80" in summary
    for name, tensor in model.state_dict().items():
        if name in heads:
            torch.testing.assert_close(tensor, before[name])  # prior-initialised, not COCO
        else:
            torch.testing.assert_close(tensor, coco_tiny[name], msg=name)


@needs_weights
def test_backbone_cutoff_loads_only_the_backbone(coco_tiny):
    model = _fresh(2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert "layers 0-12" in load_pretrained(model, WEIGHTS, cutoff=0)
    for name, tensor in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            continue
        expected = coco_tiny[name] if name.startswith("backbone.") else before[name]
        torch.testing.assert_close(tensor, expected, msg=name)


def test_checkpoint_weights_prefer_ema_and_skip_mismatched_heads(tmp_path):
    source = _fresh(3)
    ema = {k: v + 1 if v.dtype.is_floating_point else v for k, v in source.state_dict().items()}
    path = save_checkpoint(
        {"model_config": source.config.to_dict(), "model": source.state_dict(), "ema": ema},
        tmp_path / "best.pt",
    )
    target = _fresh(5)
    summary = load_pretrained(target, path)
    assert "re-initialised 4" in summary  # weight and bias of both prediction convs
    first = next(iter(ema))
    torch.testing.assert_close(target.state_dict()[first], ema[first])


def test_frozen_backbone_gets_no_gradients_and_keeps_statistics():
    model = _fresh(2).train()
    model.freeze_backbone(True)
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert not model.backbone.training
    stats = {k: v.clone() for k, v in model.backbone.state_dict().items() if "running" in k}
    sum(o.sum() for o in model(torch.rand(2, 3, 64, 64))).backward()
    assert all(p.grad is None for p in model.backbone.parameters())
    for k, v in stats.items():
        torch.testing.assert_close(model.backbone.state_dict()[k], v)
    model.freeze_backbone(False)
    assert all(p.requires_grad for p in model.backbone.parameters()) and model.backbone.training
