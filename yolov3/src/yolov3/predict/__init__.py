"""Inference: decode the network's outputs, suppress duplicates, and run a detector on images."""

from yolov3.predict.decode import decode, postprocess
from yolov3.predict.detector import (
    Detector,
    ImageDetector,
    predict_images,
    read_names,
    to_rgb_array,
)

__all__ = [
    "Detector",
    "ImageDetector",
    "decode",
    "postprocess",
    "predict_images",
    "read_names",
    "to_rgb_array",
]
