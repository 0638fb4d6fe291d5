"""The networks: Darknet-53, YOLOv3 and YOLOv3-tiny as explicit modules.

``build_model(config)`` builds one, ``load_model(path)`` reads a checkpoint or Darknet files;
:mod:`yolov3.model.darknet_io` reads and writes Darknet's ``.cfg``/``.weights`` files and
:mod:`yolov3.model.onnx_export` writes ONNX.
"""

from yolov3.model.darknet53 import Darknet53
from yolov3.model.layers import ConvBNLeaky, MaxPoolSame, Residual
from yolov3.model.loading import load_model
from yolov3.model.yolov3 import (
    DetectionBlock,
    DetectorBase,
    TinyBackbone,
    YOLOv3,
    YOLOv3Tiny,
    build_model,
    unwrap,
)

__all__ = [
    "ConvBNLeaky",
    "Darknet53",
    "DetectionBlock",
    "DetectorBase",
    "MaxPoolSame",
    "Residual",
    "TinyBackbone",
    "YOLOv3",
    "YOLOv3Tiny",
    "build_model",
    "load_model",
    "unwrap",
]
