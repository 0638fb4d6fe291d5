"""Inference: decode the network's outputs, suppress duplicates, and run a detector on images."""

from yolov3.predict.decode import decode, postprocess

__all__ = ["decode", "postprocess"]
