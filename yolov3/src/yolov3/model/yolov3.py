"""YOLOv3 and YOLOv3-tiny, layer for layer as Darknet's ``yolov3.cfg`` and ``yolov3-tiny.cfg``.

Both return, per output scale in :attr:`ModelConfig.strides` order (coarsest first), raw
logits of shape ``(B, A, H/s, W/s, 5 + C)``: ``tx, ty, tw, th, objectness, classes...``.
Input height and width must be divisible by 32.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from yolov3.config import ModelConfig
from yolov3.model.darknet53 import Darknet53
from yolov3.model.layers import ConvBNLeaky, MaxPoolSame, prediction_conv, to_grid


class DetectorBase(nn.Module):
    """What every detector here shares: its config, prediction convs and inference form."""

    config: ModelConfig
    backbone: nn.Module
    channels_last: bool = False  # set by fuse(): inputs are converted on the way in
    # the input side it was trained at (a checkpoint's img_size, a cfg's width), when known
    input_size: int | None = None

    def head_convs(self) -> list[nn.Conv2d]:
        """The final 1x1 prediction conv of each scale, in scale order."""
        raise NotImplementedError

    @property
    def is_fused(self) -> bool:
        return any(isinstance(m, ConvBNLeaky) and m.is_fused for m in self.modules())

    def fuse(self) -> DetectorBase:
        """Switch to the inference form: eval mode, BN folded into convs, channels-last.

        Outputs stay equal to the unfused model's (within float tolerance). The fused model
        can no longer be trained or saved as Darknet weights with batch norm.
        """
        self.eval()
        for module in self.modules():
            if isinstance(module, ConvBNLeaky):
                module.fuse()
        self.channels_last = True
        return self.to(memory_format=torch.channels_last)

    backbone_frozen: bool = False  # set by freeze_backbone()

    @torch.no_grad()
    def init_head_biases(
        self, img_size: int = 416, objects_per_image: float = 8.0, fresh_weights: bool = True
    ) -> None:
        """Initialise the prediction convs from priors, so training starts from sane outputs.

        The one head initialiser. Objectness starts at about ``objects_per_image`` positives
        spread over each scale's cells at ``img_size`` (so early gradients are not swamped by
        thousands of confident false positives), class logits at odds 0.6 / (C - 0.99).
        With ``fresh_weights`` (what training starts from) the weights are also redrawn small
        (normal, std 0.01, as RetinaNet's heads) and the box biases zeroed, so every
        prediction starts at its bias: boxes at their anchors. The constructor sets only the
        bias prior (``img_size=640, fresh_weights=False``); training calls it again with its
        own ``img_size``.
        """
        c, a = self.config.num_classes, self.config.num_anchors
        for conv, stride in zip(self.head_convs(), self.config.strides, strict=True):
            bias = conv.bias.view(a, 5 + c)
            if fresh_weights:
                nn.init.normal_(conv.weight, std=0.01)
                bias[:, :4] = 0.0
            bias[:, 4] = math.log(objects_per_image / (img_size / stride) ** 2)
            bias[:, 5:] = math.log(0.6 / max(c - 0.99, 1e-2))

    def freeze_backbone(self, frozen: bool = True) -> None:
        """Freeze (no gradients, BatchNorm statistics fixed) or unfreeze the backbone.

        While frozen, ``train()`` leaves the backbone in eval mode.
        """
        self.backbone_frozen = frozen
        self.backbone.requires_grad_(not frozen)
        if frozen:
            self.backbone.eval()
        elif self.training:
            self.backbone.train()

    def train(self, mode: bool = True) -> DetectorBase:
        super().train(mode)
        if self.backbone_frozen:
            self.backbone.eval()
        return self

    def _check_input(self, x: Tensor) -> Tensor:
        """``x`` after validation, in the memory format the convolutions run fastest in."""
        if not torch.jit.is_tracing():  # the ONNX exporter's trace: shapes are not plain ints
            if x.dim() != 4 or x.shape[1] != 3:
                raise ValueError(f"expected images of shape (B, 3, H, W), got {tuple(x.shape)}")
            if x.shape[2] % 32 or x.shape[3] % 32:
                raise ValueError(f"height and width must be divisible by 32, got {tuple(x.shape)}")
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x


class DetectionBlock(nn.Module):
    """One YOLOv3 scale: five alternating 1x1/3x3 convs, then a 3x3 conv and the prediction.

    ``forward`` returns the fifth conv's output (what the next scale's route reads) and the
    prediction conv's output.
    """

    def __init__(self, in_channels: int, width: int, num_anchors: int, num_classes: int):
        super().__init__()
        self.convs = nn.Sequential(
            ConvBNLeaky(in_channels, width, 1),
            ConvBNLeaky(width, width * 2, 3),
            ConvBNLeaky(width * 2, width, 1),
            ConvBNLeaky(width, width * 2, 3),
            ConvBNLeaky(width * 2, width, 1),
        )
        self.expand = ConvBNLeaky(width, width * 2, 3)
        self.predict = prediction_conv(width * 2, num_anchors, num_classes)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        route = self.convs(x)
        return route, self.predict(self.expand(route))


class YOLOv3(DetectorBase):
    """Darknet-53 with three detection scales (strides 32, 16, 8), as ``yolov3.cfg``."""

    def __init__(self, config: ModelConfig | None = None):
        super().__init__()
        config = config or ModelConfig()
        if config.arch != "yolov3" or config.strides != (32, 16, 8):
            raise ValueError(f"YOLOv3 needs arch 'yolov3' with strides (32, 16, 8), got {config}")
        self.config = config
        a, c = config.num_anchors, config.num_classes
        self.backbone = Darknet53()
        self.head32 = DetectionBlock(1024, 512, a, c)
        self.lateral16 = ConvBNLeaky(512, 256, 1)
        self.head16 = DetectionBlock(256 + 512, 256, a, c)
        self.lateral8 = ConvBNLeaky(256, 128, 1)
        self.head8 = DetectionBlock(128 + 256, 128, a, c)
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.init_head_biases(img_size=640, fresh_weights=False)

    def head_convs(self) -> list[nn.Conv2d]:
        return [self.head32.predict, self.head16.predict, self.head8.predict]

    def forward(self, x: Tensor) -> list[Tensor]:
        x = self._check_input(x)
        c3, c4, c5 = self.backbone(x)
        route32, p32 = self.head32(c5)
        # Darknet's "route -1, 61": the upsampled map first, then the backbone feature.
        x = torch.cat([self.upsample(self.lateral16(route32)), c4], 1)
        route16, p16 = self.head16(x)
        x = torch.cat([self.upsample(self.lateral8(route16)), c3], 1)
        _, p8 = self.head8(x)
        return [to_grid(p, self.config.num_anchors) for p in (p32, p16, p8)]


class TinyBackbone(nn.Module):
    """YOLOv3-tiny's seven 3x3 convs with max-pools; returns the stride 16 and 32 features."""

    out_channels = (256, 1024)

    def __init__(self) -> None:
        super().__init__()
        pool = nn.MaxPool2d(2, 2)
        self.stage16 = nn.Sequential(  # Darknet layers 0-8
            ConvBNLeaky(3, 16, 3),
            pool,
            ConvBNLeaky(16, 32, 3),
            pool,
            ConvBNLeaky(32, 64, 3),
            pool,
            ConvBNLeaky(64, 128, 3),
            pool,
            ConvBNLeaky(128, 256, 3),
        )
        self.stage32 = nn.Sequential(  # Darknet layers 9-12
            pool,
            ConvBNLeaky(256, 512, 3),
            MaxPoolSame(),
            ConvBNLeaky(512, 1024, 3),
        )

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        c4 = self.stage16(x)  # (B, 256, H/16, W/16)
        return c4, self.stage32(c4)  # (B, 1024, H/32, W/32)


class YOLOv3Tiny(DetectorBase):
    """YOLOv3-tiny with two detection scales (strides 32, 16), as ``yolov3-tiny.cfg``."""

    def __init__(self, config: ModelConfig | None = None):
        super().__init__()
        config = config or ModelConfig.tiny()
        if config.arch != "yolov3-tiny" or config.strides != (32, 16):
            raise ValueError(
                f"YOLOv3-tiny needs arch 'yolov3-tiny' with strides (32, 16), got {config}"
            )
        self.config = config
        a, c = config.num_anchors, config.num_classes
        self.backbone = TinyBackbone()
        self.neck = ConvBNLeaky(1024, 256, 1)
        self.expand32 = ConvBNLeaky(256, 512, 3)
        self.predict32 = prediction_conv(512, a, c)
        self.lateral16 = ConvBNLeaky(256, 128, 1)
        self.expand16 = ConvBNLeaky(128 + 256, 256, 3)
        self.predict16 = prediction_conv(256, a, c)
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.init_head_biases(img_size=640, fresh_weights=False)

    def head_convs(self) -> list[nn.Conv2d]:
        return [self.predict32, self.predict16]

    def forward(self, x: Tensor) -> list[Tensor]:
        x = self._check_input(x)
        c4, c5 = self.backbone(x)
        route = self.neck(c5)
        p32 = self.predict32(self.expand32(route))
        x = torch.cat([self.upsample(self.lateral16(route)), c4], 1)  # "route -1, 8"
        p16 = self.predict16(self.expand16(x))
        return [to_grid(p, self.config.num_anchors) for p in (p32, p16)]


def unwrap(model: nn.Module) -> nn.Module:
    """The plain model inside a DistributedDataParallel (or DataParallel) wrapper."""
    wrappers = nn.parallel.DistributedDataParallel | nn.DataParallel
    return model.module if isinstance(model, wrappers) else model


def build_model(config: ModelConfig | None = None) -> DetectorBase:
    """The network ``config`` describes: :class:`YOLOv3` or :class:`YOLOv3Tiny`."""
    config = config or ModelConfig()
    return YOLOv3(config) if config.arch == "yolov3" else YOLOv3Tiny(config)
