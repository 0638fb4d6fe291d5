"""Darknet ``.cfg`` files: reading, writing, and our models' layer list in Darknet's terms.

This is not a cfg interpreter. The networks are the explicit modules in
:mod:`yolov3.model.yolov3`; :func:`describe_model` walks them in Darknet's layer order and
says what each layer is, so that a cfg file can be checked against a model layer by layer
and a model can be written out as a cfg.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from torch import nn

from yolov3.config import ModelConfig
from yolov3.filekind import DARKNET_CFG, file_kind
from yolov3.model.layers import ConvBNLeaky, MaxPoolSame
from yolov3.model.yolov3 import DetectionBlock, DetectorBase, YOLOv3, YOLOv3Tiny

T = TypeVar("T")

SUPPORTED_LAYERS = ("convolutional", "shortcut", "maxpool", "route", "upsample", "yolo")


class DarknetFormatError(ValueError):
    """A Darknet cfg or weights file that does not describe (or fit) one of our models."""


@dataclass(frozen=True)
class Layer:
    """One Darknet layer in semantic form: what the network computes, not how it is spelled.

    Attributes:
        kind: the cfg section name without brackets, e.g. ``"convolutional"``.
        fields: normalized settings (defaults applied, route indexes absolute).
        module: for convolutions, our module holding the layer's weights.
        line: for layers read from a file, the line of the section header.
    """

    kind: str
    fields: dict[str, Any]
    module: nn.Module | None = field(default=None, compare=False, repr=False)
    line: int = field(default=0, compare=False)
    option_lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def line_of(self, key: str) -> int:
        """The line of option ``key`` when it was written out, else the section's line."""
        aliases = {"padding": ("pad", "padding"), "anchors": ("mask", "anchors")}
        lines = [self.option_lines[k] for k in aliases.get(key, (key,)) if k in self.option_lines]
        return lines[0] if lines else self.line


@dataclass
class Section:
    """One ``[section]`` of a cfg file as written: raw string options and where it starts."""

    kind: str
    options: dict[str, str]
    line: int
    option_lines: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# Our models, layer by layer


class _LayerList:
    def __init__(self) -> None:
        self.layers: list[Layer] = []

    def add(self, kind: str, module: nn.Module | None = None, **fields: Any) -> int:
        self.layers.append(Layer(kind, fields, module))
        return len(self.layers) - 1

    def conv(self, module: nn.Module) -> int:
        if isinstance(module, ConvBNLeaky):
            conv, bn, activation = module.conv, int(not module.is_fused), "leaky"
        elif isinstance(module, nn.Conv2d):
            conv, bn, activation = module, 0, "linear"
        else:
            raise TypeError(f"not a Darknet convolution: {type(module).__name__}")
        return self.add(
            "convolutional",
            module,
            batch_normalize=bn,
            filters=conv.out_channels,
            size=conv.kernel_size[0],
            stride=conv.stride[0],
            padding=conv.padding[0],
            groups=conv.groups,
            dilation=conv.dilation[0],
            binary=0,
            xnor=0,
            activation=activation,
        )

    def block(self, block: DetectionBlock, config: ModelConfig, scale: int) -> int:
        for conv in block.convs:
            self.conv(conv)
        route = len(self.layers) - 1
        self.conv(block.expand)
        self.conv(block.predict)
        self.yolo(config, scale)
        return route

    def yolo(self, config: ModelConfig, scale: int) -> int:
        anchors = config.anchors[scale]
        return self.add(
            "yolo", classes=config.num_classes, anchors=anchors, scale_x_y=1.0, new_coords=0
        )

    def route(self, *layers: int) -> int:
        return self.add("route", layers=tuple(layers), groups=1)

    def upsample(self) -> int:
        return self.add("upsample", stride=2, scale=1.0)

    def shortcut(self, source: int) -> int:
        return self.add("shortcut", **{"from": source, "weights_type": "none"}, activation="linear")


def describe_model(model: nn.Module) -> list[Layer]:
    """Our model's layers in Darknet cfg order (the order of the ``.weights`` file)."""
    if isinstance(model, YOLOv3):
        return _describe_yolov3(model)
    if isinstance(model, YOLOv3Tiny):
        return _describe_tiny(model)
    raise TypeError(f"expected a YOLOv3 or YOLOv3Tiny model, got {type(model).__name__}")


def backbone_layer_count(model: DetectorBase) -> int:
    """How many leading Darknet layers form ``model.backbone`` (75 for Darknet-53)."""
    return 75 if isinstance(model, YOLOv3) else 13


def _describe_yolov3(model: YOLOv3) -> list[Layer]:
    out = _LayerList()
    backbone = model.backbone
    out.conv(backbone.stem)
    stage_ends = []
    for stage in backbone.stages:
        out.conv(stage[0])
        for residual in stage[1:]:
            out.conv(residual.reduce)
            index = out.conv(residual.expand)
            out.shortcut(index - 2)
        stage_ends.append(len(out.layers) - 1)
    c3, c4 = stage_ends[2], stage_ends[3]  # layers 36 and 61

    route = out.block(model.head32, model.config, 0)
    out.route(route)
    out.conv(model.lateral16)
    out.upsample()
    out.route(len(out.layers) - 1, c4)
    route = out.block(model.head16, model.config, 1)
    out.route(route)
    out.conv(model.lateral8)
    out.upsample()
    out.route(len(out.layers) - 1, c3)
    out.block(model.head8, model.config, 2)
    return out.layers


def _describe_tiny(model: YOLOv3Tiny) -> list[Layer]:
    out = _LayerList()
    for module in [*model.backbone.stage16, *model.backbone.stage32]:
        if isinstance(module, ConvBNLeaky):
            out.conv(module)
        elif isinstance(module, MaxPoolSame):
            out.add("maxpool", size=2, stride=1, padding=1)
        else:
            assert isinstance(module, nn.MaxPool2d)
            out.add("maxpool", size=2, stride=2, padding=1)
    c4 = 8  # the stride-16 conv, before the fifth max-pool
    route = out.conv(model.neck)
    out.conv(model.expand32)
    out.conv(model.predict32)
    out.yolo(model.config, 0)
    out.route(route)
    out.conv(model.lateral16)
    out.upsample()
    out.route(len(out.layers) - 1, c4)
    out.conv(model.expand16)
    out.conv(model.predict16)
    out.yolo(model.config, 1)
    return out.layers


# ---------------------------------------------------------------------------------------
# Reading


def read_cfg(path: str | Path) -> tuple[Section, list[Section]]:
    """Parse a cfg file into its ``[net]`` section and its layer sections, as Darknet does.

    Raises:
        DarknetFormatError: on a line that is neither a section, an option nor a comment.
    """
    path = Path(path)
    kind = file_kind(path)
    if kind != DARKNET_CFG:
        raise DarknetFormatError(f"{path} is {kind}; expected {DARKNET_CFG}")
    sections: list[Section] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = "".join(raw.split())  # Darknet drops every whitespace character
        if not line or line[0] in "#;":
            continue
        if line[0] == "[":
            if not line.endswith("]") or len(line) < 3:
                raise DarknetFormatError(f"{path}:{number}: malformed section header {raw!r}")
            sections.append(Section(line[1:-1], {}, number))
        elif "=" in line and sections:
            key, value = line.split("=", 1)
            sections[-1].options[key] = value
            sections[-1].option_lines[key] = number
        else:
            where = "before the first [section]" if not sections else "without '='"
            raise DarknetFormatError(f"{path}:{number}: option {raw.strip()!r} {where}")
    if not sections or sections[0].kind not in ("net", "network"):
        raise DarknetFormatError(f"{path}: the first section must be [net]")
    return sections[0], sections[1:]


def normalize_section(section: Section, index: int, path: str | Path) -> Layer:
    """A parsed section in the semantic form of :class:`Layer`, with Darknet's defaults."""
    if section.kind not in SUPPORTED_LAYERS:
        raise DarknetFormatError(
            f"{path}:{section.line}: layer {index} is [{section.kind}], which YOLOv3 does not "
            f"use; supported layer types: {', '.join(SUPPORTED_LAYERS)}"
        )
    opts = _Options(section, path)
    kind = section.kind
    if kind == "convolutional":
        size = opts.integer("size", 1)
        fields = {
            "batch_normalize": opts.integer("batch_normalize", 0),
            "filters": opts.integer("filters", 1),
            "size": size,
            "stride": opts.integer("stride", 1),
            "padding": size // 2 if opts.integer("pad", 0) else opts.integer("padding", 0),
            "groups": opts.integer("groups", 1),
            "dilation": opts.integer("dilation", 1),
            "binary": opts.integer("binary", 0),
            "xnor": opts.integer("xnor", 0),
            "activation": section.options.get("activation", "logistic"),
        }
    elif kind == "shortcut":
        source = opts.integer("from", 0)
        fields = {
            "from": source if source >= 0 else index + source,
            "weights_type": section.options.get("weights_type", "none"),
            "activation": section.options.get("activation", "linear"),
        }
    elif kind == "maxpool":
        stride = opts.integer("stride", 1)
        size = opts.integer("size", stride)
        fields = {"size": size, "stride": stride, "padding": opts.integer("padding", size - 1)}
    elif kind == "route":
        layers = opts.integers("layers")
        fields = {
            "layers": tuple(i if i >= 0 else index + i for i in layers),
            "groups": opts.integer("groups", 1),
        }
    elif kind == "upsample":
        fields = {"stride": opts.integer("stride", 2), "scale": opts.number("scale", 1.0)}
    else:  # yolo
        fields = {
            "classes": opts.integer("classes", 20),
            "anchors": yolo_anchors(section, path),
            "scale_x_y": opts.number("scale_x_y", 1.0),
            "new_coords": opts.integer("new_coords", 0),
        }
    return Layer(kind, fields, line=section.line, option_lines=section.option_lines)


def yolo_anchors(section: Section, path: str | Path) -> tuple[tuple[int | float, int | float], ...]:
    """The anchors a ``[yolo]`` section uses: ``anchors`` picked by ``mask``."""
    opts = _Options(section, path)
    values = opts.numbers("anchors")
    if len(values) % 2:
        raise DarknetFormatError(
            f"{path}:{section.line}: 'anchors' needs (w, h) pairs, got {len(values)} numbers"
        )
    numbers = [int(v) if v.is_integer() else v for v in values]
    pairs = list(zip(numbers[0::2], numbers[1::2], strict=True))
    mask = opts.integers("mask") if "mask" in section.options else tuple(range(len(pairs)))
    if any(not 0 <= m < len(pairs) for m in mask):
        raise DarknetFormatError(
            f"{path}:{section.line}: mask {list(mask)} refers past the {len(pairs)} anchors"
        )
    return tuple(pairs[m] for m in mask)  # type: ignore[misc]


class _Options:
    def __init__(self, section: Section, path: str | Path):
        self.section, self.path = section, path

    def _fail(self, key: str, expected: str) -> DarknetFormatError:
        value = self.section.options.get(key)
        return DarknetFormatError(
            f"{self.path}:{self.section.line}: [{self.section.kind}] option {key}={value!r}; "
            f"expected {expected}"
        )

    def integer(self, key: str, default: int) -> int:
        return self._scalar(key, default, int, "an integer")

    def number(self, key: str, default: float) -> float:
        return self._scalar(key, default, float, "a number")

    def _scalar(self, key: str, default: T, convert: Callable[[str], T], expected: str) -> T:
        value = self.section.options.get(key)
        if value is None:
            return default
        try:
            return convert(value)
        except ValueError:
            raise self._fail(key, expected) from None

    def integers(self, key: str) -> tuple[int, ...]:
        try:
            return tuple(int(v) for v in self.section.options[key].split(",") if v)
        except (KeyError, ValueError):
            raise self._fail(key, "a comma-separated list of integers") from None

    def numbers(self, key: str) -> tuple[float, ...]:
        try:
            return tuple(float(v) for v in self.section.options[key].split(",") if v)
        except (KeyError, ValueError):
            raise self._fail(key, "a comma-separated list of numbers") from None


# ---------------------------------------------------------------------------------------
# Writing

_NET_OPTIONS = """\
[net]
# Testing: batch=1, subdivisions=1. For training in Darknet use e.g. batch=64, subdivisions=16.
batch=1
subdivisions=1
width={size}
height={size}
channels=3
momentum=0.9
decay=0.0005
angle=0
saturation=1.5
exposure=1.5
hue=.1
learning_rate=0.001
burn_in=1000
max_batches=500200
policy=steps
steps=400000,450000
scales=.1,.1
"""


def render_cfg(model: DetectorBase, img_size: int = 416) -> str:
    """The Darknet cfg text of ``model`` (what :func:`~darknet_io.write_cfg` writes)."""
    if img_size % 32:
        raise ValueError(f"img_size must be divisible by 32, got {img_size}")
    config = model.config
    # Darknet lists every anchor once, finest scale first; each [yolo] picks its own by mask.
    all_anchors = [a for group in reversed(config.anchors) for a in group]
    parts = [
        f"# {config.arch}, {config.num_classes} classes, written by the yolov3 package\n"
        + _NET_OPTIONS.format(size=img_size)
    ]
    scale = 0
    for index, layer in enumerate(describe_model(model)):
        text = f"# layer {index}\n[{layer.kind}]\n" + _render_fields(layer, index)
        if layer.kind == "yolo":
            first = sum(len(group) for group in config.anchors[scale + 1 :])
            mask = ",".join(str(first + i) for i in range(len(config.anchors[scale])))
            text = text.replace("@MASK@", mask).replace("@NUM@", str(len(all_anchors)))
            text = text.replace("@ANCHORS@", _anchor_text(all_anchors))
            scale += 1
        parts.append(text)
    return "\n".join(parts)


def _render_fields(layer: Layer, index: int) -> str:
    f = layer.fields
    if layer.kind == "convolutional":
        lines = ["batch_normalize=1"] if f["batch_normalize"] else []
        lines += [f"filters={f['filters']}", f"size={f['size']}", f"stride={f['stride']}"]
        lines.append("pad=1" if f["padding"] == f["size"] // 2 else f"padding={f['padding']}")
        lines.append(f"activation={f['activation']}")
    elif layer.kind == "shortcut":
        lines = [f"from={f['from'] - index}", "activation=linear"]
    elif layer.kind == "maxpool":
        lines = [f"size={f['size']}", f"stride={f['stride']}"]
    elif layer.kind == "route":
        refs = f["layers"]
        # As Darknet's own files: one source relative, "-1, 61" for a concatenation.
        text = [str(r - index) if r == index - 1 or len(refs) == 1 else str(r) for r in refs]
        lines = [f"layers={', '.join(text)}"]
    elif layer.kind == "upsample":
        lines = [f"stride={f['stride']}"]
    else:
        lines = [
            "mask=@MASK@",
            "anchors=@ANCHORS@",
            f"classes={f['classes']}",
            "num=@NUM@",
            "jitter=.3",
            "ignore_thresh=.7",
            "truth_thresh=1",
            "random=1",
        ]
    return "\n".join(lines) + "\n"


def _anchor_text(anchors: list[tuple[int | float, int | float]]) -> str:
    return ",  ".join(f"{w},{h}" for w, h in anchors)
