"""Darknet interop: ``.weights`` files in and out, ``.cfg`` files in and out.

A ``.weights`` file is a header (int32 ``major``, ``minor``, ``revision``, then ``seen``:
int64 when ``major * 10 + minor >= 2``, else int32) followed by float32 parameters, for each
convolution in cfg order: with batch norm ``beta, gamma, running mean, running variance``,
without it the conv ``bias``; then the conv weights ``(out, in, k, k)``.

Typical use::

    model = model_from_cfg("yolov3-tiny.cfg")          # checks every layer against ours
    load_darknet_weights(model, "yolov3-tiny.weights")
    load_darknet_weights(build_model(cfg), "darknet53.conv.74", cutoff=74)  # backbone only
    write_cfg(model, "out.cfg"); save_darknet_weights(model, "out.weights")
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from yolov3.config import ModelConfig
from yolov3.filekind import DARKNET_WEIGHTS, file_kind
from yolov3.model.darknet_cfg import (
    DarknetFormatError,
    Layer,
    Section,
    backbone_layer_count,
    describe_model,
    normalize_section,
    read_cfg,
    render_cfg,
)
from yolov3.model.layers import ConvBNLeaky
from yolov3.model.yolov3 import DetectorBase, build_model

__all__ = [
    "DarknetFormatError",
    "DarknetHeader",
    "backbone_layer_count",
    "darknet_weights_size",
    "load_darknet_weights",
    "model_from_cfg",
    "save_darknet_weights",
    "write_cfg",
]


@dataclass(frozen=True)
class DarknetHeader:
    """The header of a ``.weights`` file; ``seen`` counts the images trained on."""

    major: int = 0
    minor: int = 2
    revision: int = 0
    seen: int = 0

    @property
    def wide_seen(self) -> bool:
        return self.major * 10 + self.minor >= 2

    @property
    def size(self) -> int:
        """Header length in bytes: 20 with an int64 ``seen``, else 16."""
        return 20 if self.wide_seen else 16

    def to_bytes(self) -> bytes:
        fmt = "<iiiq" if self.wide_seen else "<iiii"
        return struct.pack(fmt, self.major, self.minor, self.revision, self.seen)

    @classmethod
    def read(cls, path: Path) -> DarknetHeader:
        kind = file_kind(path)
        if kind != DARKNET_WEIGHTS and not kind.startswith("a binary file"):
            raise DarknetFormatError(f"{path} is {kind}; expected {DARKNET_WEIGHTS}")
        with path.open("rb") as file:
            head = file.read(20)
        if len(head) < 16:
            raise DarknetFormatError(f"{path}: {len(head)} bytes is too short for a header")
        major, minor, revision = struct.unpack("<iii", head[:12])
        if major > 1000 or minor > 1000:
            raise DarknetFormatError(
                f"{path}: header version {major}.{minor} marks transposed weights, which only "
                "Darknet's fully connected layers use; YOLOv3 has none"
            )
        if major * 10 + minor >= 2:
            if len(head) < 20:
                raise DarknetFormatError(f"{path}: {len(head)} bytes is too short for a header")
            (seen,) = struct.unpack("<q", head[12:20])
        else:
            (seen,) = struct.unpack("<i", head[12:16])
        return cls(major, minor, revision, seen)


def _conv_tensors(module: nn.Module) -> list[Tensor]:
    """One convolution's tensors in ``.weights`` order."""
    if isinstance(module, ConvBNLeaky):
        bn = module.bn
        assert isinstance(bn, nn.BatchNorm2d)
        return [bn.bias, bn.weight, bn.running_mean, bn.running_var, module.conv.weight]
    assert isinstance(module, nn.Conv2d) and module.bias is not None
    return [module.bias, module.weight]


def _weight_layers(model: DetectorBase, cutoff: int | None) -> list[Layer]:
    if model.is_fused:
        raise DarknetFormatError(
            "the model is fused (batch norm folded into its convolutions); read and write "
            "Darknet weights before calling fuse()"
        )
    layers = describe_model(model)
    if cutoff is not None and not 0 < cutoff <= len(layers):
        raise ValueError(f"cutoff must be within 1..{len(layers)}, got {cutoff}")
    return [
        layer
        for index, layer in enumerate(layers)
        if layer.kind == "convolutional" and (cutoff is None or index < cutoff)
    ]


def darknet_weights_size(model: DetectorBase, cutoff: int | None = None) -> int:
    """Bytes of a ``.weights`` file for ``model`` (first ``cutoff`` layers), header included."""
    layers = _weight_layers(model, cutoff)
    floats = sum(t.numel() for layer in layers for t in _conv_tensors(layer.module))
    return DarknetHeader().size + 4 * floats


@torch.no_grad()
def load_darknet_weights(
    model: DetectorBase, path: str | Path, cutoff: int | None = None
) -> DarknetHeader:
    """Load a Darknet ``.weights`` file into ``model`` in place.

    Args:
        model: an unfused YOLOv3 or YOLOv3-tiny whose architecture the file was written for.
        path: the ``.weights`` file.
        cutoff: load only Darknet layers ``0 .. cutoff-1`` (e.g. 74 for ``darknet53.conv.74``,
            or 75 for all of Darknet-53 from a full ``yolov3.weights``); the file may be
            longer. Without it the file must hold exactly the whole model.

    Returns:
        The file's header.

    Raises:
        DarknetFormatError: the file's size does not fit the model; the message names both.
    """
    path = Path(path)
    header = DarknetHeader.read(path)
    layers = _weight_layers(model, cutoff)
    tensors = [t for layer in layers for t in _conv_tensors(layer.module)]
    needed = 4 * sum(t.numel() for t in tensors)
    found = path.stat().st_size - header.size
    if found != needed and (cutoff is None or found < needed):
        raise DarknetFormatError(_size_mismatch(model, path, header, found, needed, cutoff))
    data = torch.from_numpy(
        np.fromfile(path, dtype="<f4", count=needed // 4, offset=header.size).astype(np.float32)
    )
    offset = 0
    for tensor in tensors:
        tensor.copy_(data[offset : offset + tensor.numel()].view_as(tensor))
        offset += tensor.numel()
    return header


def _size_mismatch(
    model: DetectorBase, path: Path, header: DarknetHeader, found: int, needed: int, cutoff: int
) -> str:
    config = model.config
    scope = f"layers 0-{cutoff - 1} of " if cutoff is not None else ""
    message = (
        f"{path}: {found:,} bytes of weights after the {header.size}-byte header, but "
        f"{scope}{config.arch} with {config.num_classes} classes needs {needed:,} bytes "
        f"(file size {found + header.size:,}, expected {needed + header.size:,})"
    )
    if cutoff is None:
        layers = describe_model(model)
        for index in range(1, len(layers)):
            if darknet_weights_size(model, index) - DarknetHeader().size == found:
                return message + (
                    f"; it holds exactly layers 0-{index - 1}, a partial file: "
                    f"load it with cutoff={index}"
                )
        # Only the prediction convs depend on the class count: solve for it.
        per_class = 4 * config.num_anchors * sum(c.in_channels + 1 for c in model.head_convs())
        classes, rest = divmod(found - needed, per_class)
        if rest == 0 and config.num_classes + classes >= 1:
            return message + f"; it fits {config.arch} with {config.num_classes + classes} classes"
    return message + "; check the architecture and the number of classes"


@torch.no_grad()
def save_darknet_weights(
    model: DetectorBase,
    path: str | Path,
    cutoff: int | None = None,
    header: DarknetHeader | None = None,
) -> Path:
    """Write ``model`` (or its first ``cutoff`` Darknet layers) as a ``.weights`` file.

    The header defaults to version 0.2.0 with ``seen = 0``, the format Darknet writes.
    """
    path = Path(path)
    header = header or DarknetHeader()
    layers = _weight_layers(model, cutoff)
    with path.open("wb") as file:
        file.write(header.to_bytes())
        for layer in layers:
            for tensor in _conv_tensors(layer.module):
                file.write(tensor.detach().to("cpu", torch.float32).numpy().astype("<f4").tobytes())
    return path


def write_cfg(model: DetectorBase, path: str | Path, img_size: int = 416) -> Path:
    """Write the Darknet ``.cfg`` describing ``model`` (``width``/``height`` = ``img_size``)."""
    if model.is_fused:
        raise DarknetFormatError("the model is fused; write its cfg before calling fuse()")
    path = Path(path)
    path.write_text(render_cfg(model, img_size), encoding="utf-8")
    return path


def model_from_cfg(path: str | Path, class_names: tuple[str, ...] = ()) -> DetectorBase:
    """Build our model for a Darknet cfg (YOLOv3 or YOLOv3-tiny, any classes and anchors).

    The cfg is read only to pick the architecture, classes and anchors; then every one of its
    layers is checked against the model, so a cfg describing any other network is refused.

    Raises:
        DarknetFormatError: naming the file, line and layer that do not match.
    """
    path = Path(path)
    net, sections = read_cfg(path)
    layers = [normalize_section(section, i, path) for i, section in enumerate(sections)]
    yolos = [layer for layer in layers if layer.kind == "yolo"]
    arch = {3: "yolov3", 2: "yolov3-tiny"}.get(len(yolos))
    if arch is None:
        raise DarknetFormatError(
            f"{path}: {len(yolos)} [yolo] layers; YOLOv3 has 3 and YOLOv3-tiny 2"
        )
    classes = {layer.fields["classes"] for layer in yolos}
    if len(classes) != 1:
        raise DarknetFormatError(f"{path}: [yolo] layers disagree on classes: {sorted(classes)}")
    anchors = tuple(layer.fields["anchors"] for layer in yolos)
    strides = (32, 16, 8) if arch == "yolov3" else (32, 16)
    try:
        config = ModelConfig(arch, classes.pop(), anchors, strides, tuple(class_names))
    except ValueError as exc:
        raise DarknetFormatError(f"{path}: {exc}") from exc
    model = build_model(config)
    _check_layers(path, layers, describe_model(model), config)
    model.input_size = _net_size(net)
    return model


def _net_size(net: Section) -> int | None:
    """The cfg's square ``width`` = ``height`` when it is a multiple of 32, else None."""
    try:
        width, height = int(net.options.get("width", 0)), int(net.options.get("height", 0))
    except ValueError:
        return None
    return width if width == height and width > 0 and width % 32 == 0 else None


def _check_layers(path: Path, found: list[Layer], expected: list[Layer], config: ModelConfig):
    what = f"{config.arch} with {config.num_classes} classes"
    for index, (got, want) in enumerate(zip(found, expected, strict=False)):
        if got.kind != want.kind:
            raise DarknetFormatError(
                f"{path}:{got.line}: layer {index} is [{got.kind}], {what} has [{want.kind}] there"
            )
        for key, value in want.fields.items():
            if got.fields[key] != value:
                raise DarknetFormatError(
                    f"{path}:{got.line_of(key)}: layer {index} [{got.kind}] has {key}="
                    f"{got.fields[key]!r}, {what} has {key}={value!r} there"
                )
    if len(found) != len(expected):
        raise DarknetFormatError(
            f"{path}: {len(found)} layers, but {what} has {len(expected)} layers"
        )
