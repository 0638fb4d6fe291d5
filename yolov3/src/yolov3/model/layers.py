"""Building blocks shared by Darknet-53, YOLOv3 and YOLOv3-tiny."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import fuse_conv_bn_eval

LEAKY_SLOPE = 0.1  # Darknet's "leaky" activation
# Darknet divides by sqrt(var) + 1e-6 and OpenCV by sqrt(var + 1e-6). PyTorch's default 1e-5
# would shift pretrained Darknet outputs by up to ~1e-3; 1e-6 keeps them within ~2e-4.
BN_EPS = 1e-6
# Darknet updates rolling statistics with 0.01; that lags for hundreds of steps, too long for
# short fine-tuning runs, so we use 0.03 as ultralytics does.
BN_MOMENTUM = 0.03


class ConvBNLeaky(nn.Module):
    """Darknet's ``[convolutional]`` with ``batch_normalize=1`` and ``activation=leaky``.

    Padding is ``kernel_size // 2`` on every side (Darknet's ``pad=1``), so a stride-``s``
    convolution maps ``H`` to ``H / s`` for ``H`` divisible by ``s``.

    After :meth:`fuse` the batch norm is folded into ``conv`` (which gains a bias) and
    ``bn`` becomes an ``nn.Identity``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride, kernel_size // 2, bias=False
        )
        self.bn: nn.Module = nn.BatchNorm2d(out_channels, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.act = nn.LeakyReLU(LEAKY_SLOPE, inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.bn(self.conv(x)))

    @property
    def is_fused(self) -> bool:
        return isinstance(self.bn, nn.Identity)

    @torch.no_grad()
    def fuse(self) -> ConvBNLeaky:
        """Fold the batch norm's running statistics into the convolution (inference only)."""
        if not self.is_fused:
            assert isinstance(self.bn, nn.BatchNorm2d)
            self.conv = fuse_conv_bn_eval(self.conv.eval(), self.bn.eval())
            self.bn = nn.Identity()
        return self


class Residual(nn.Module):
    """Darknet-53's residual unit: 1x1 halving conv, 3x3 restoring conv, identity shortcut."""

    def __init__(self, channels: int):
        super().__init__()
        self.reduce = ConvBNLeaky(channels, channels // 2, 1)
        self.expand = ConvBNLeaky(channels // 2, channels, 3)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.expand(self.reduce(x))


class MaxPoolSame(nn.Module):
    """Darknet's ``[maxpool] size=2 stride=1``: the window at ``(i, j)`` covers rows ``i, i+1``
    and columns ``j, j+1``, with one row and column of padding at the bottom right.

    Darknet (and OpenCV's importer) skip padded positions when taking the maximum, as
    PyTorch's max-pool padding does; zero padding would differ wherever the border activations
    are negative (leaky outputs often are), by more than 2 on the official tiny weights.
    Padding all sides and dropping the first row and column gives exactly those windows.
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(x, 2, 1, padding=1)[:, :, 1:, 1:]


def prediction_conv(in_channels: int, num_anchors: int, num_classes: int) -> nn.Conv2d:
    """The final 1x1 conv of a scale: ``A * (5 + C)`` channels, anchor-major, with bias."""
    return nn.Conv2d(in_channels, num_anchors * (5 + num_classes), 1, bias=True)


def to_grid(prediction: Tensor, num_anchors: int) -> Tensor:
    """``(B, A*(5+C), S, S)`` conv output -> ``(B, A, S, S, 5+C)`` raw logits."""
    b, c, h, w = prediction.shape
    grid = prediction.reshape(b, num_anchors, c // num_anchors, h, w)
    return grid.permute(0, 1, 3, 4, 2).contiguous()  # (B, A, S, S, 5+C)
