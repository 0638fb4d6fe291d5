"""YOLOv3 from scratch in PyTorch."""

__version__ = "0.1.0"
