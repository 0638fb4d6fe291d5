"""Darknet-53, the YOLOv3 backbone (the first 75 layers of ``yolov3.cfg``)."""

from __future__ import annotations

from torch import Tensor, nn

from yolov3.model.layers import ConvBNLeaky, Residual

# Residual units per stage; each stage starts with a stride-2 3x3 conv that doubles the width.
STAGE_DEPTHS = (1, 2, 8, 8, 4)


class Darknet53(nn.Module):
    """Darknet-53 without its classifier.

    ``forward`` returns the stride 8, 16 and 32 feature maps (256, 512 and 1024 channels):
    the outputs of Darknet layers 36, 61 and 74, which YOLOv3's routes read.
    """

    out_channels = (256, 512, 1024)

    def __init__(self) -> None:
        super().__init__()
        self.stem = ConvBNLeaky(3, 32, 3)
        stages = []
        channels = 32
        for depth in STAGE_DEPTHS:
            stages.append(
                nn.Sequential(
                    ConvBNLeaky(channels, channels * 2, 3, stride=2),
                    *(Residual(channels * 2) for _ in range(depth)),
                )
            )
            channels *= 2
        self.stages = nn.ModuleList(stages)  # strides 2, 4, 8, 16, 32

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        x = self.stem(x)
        x = self.stages[0](x)
        x = self.stages[1](x)
        c3 = self.stages[2](x)  # (B, 256, H/8, W/8)
        c4 = self.stages[3](c3)  # (B, 512, H/16, W/16)
        c5 = self.stages[4](c4)  # (B, 1024, H/32, W/32)
        return c3, c4, c5
