"""Helpers shared by the training tests."""

import pytest
import torch
from torch import nn

from yolov3.config import ModelConfig
from yolov3.model import DetectorBase


class MiniDetector(DetectorBase):
    """A few-parameter stand-in with a real detector's interface (fast unit tests)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        out = config.num_anchors * (5 + config.num_classes)
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8))
        self.heads = nn.ModuleList(nn.Conv2d(8, out, 1) for _ in config.strides)

    def head_convs(self) -> list[nn.Conv2d]:
        return list(self.heads)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = self.backbone(x)
        outs = []
        for head, stride in zip(self.heads, self.config.strides, strict=True):
            y = head(nn.functional.avg_pool2d(feats, stride))
            b, _, h, w = y.shape
            outs.append(y.view(b, self.config.num_anchors, -1, h, w).permute(0, 1, 3, 4, 2))
        return outs


@pytest.fixture
def make_mini_detector():
    """A factory: every call returns the same freshly initialised MiniDetector."""

    def make(num_classes: int = 2) -> MiniDetector:
        torch.manual_seed(0)
        return MiniDetector(ModelConfig.tiny(num_classes=num_classes))

    return make


@pytest.fixture
def mini_detector(make_mini_detector) -> MiniDetector:
    return make_mini_detector()
