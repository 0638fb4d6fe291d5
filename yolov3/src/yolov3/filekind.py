"""What kind of file a path holds, told from its first bytes, for messages that say so.

``yolov3`` opens four kinds of model files (a PyTorch checkpoint, Darknet weights, a Darknet
cfg, a class-names file); given the wrong one, a reader fails deep in its parser with a
message about the wrong format. :func:`require_kind` says instead what the file is and what
was expected.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

CHECKPOINT = "a PyTorch checkpoint (.pt)"
DARKNET_WEIGHTS = "Darknet weights (.weights)"
DARKNET_CFG = "a Darknet cfg (.cfg)"
NAMES = "a text file (such as class names, one per line)"
ONNX = "an ONNX model (.onnx)"

_IMAGE_MAGIC = {
    b"\xff\xd8\xff": "a JPEG image",
    b"\x89PNG": "a PNG image",
    b"GIF8": "a GIF image",
    b"BM": "a BMP image",
    b"RIFF": "a RIFF file (WebP image or AVI video)",
}
_SECTION = re.compile(r"^\[[A-Za-z_]+\]\s*$")


class FileKindError(ValueError):
    """A file is not the kind of file an option expects; the message names both kinds."""


def file_kind(path: str | Path) -> str:
    """A short description of what ``path`` holds (one of the constants above, or another)."""
    path = Path(path)
    if path.is_dir():
        return "a folder"
    with path.open("rb") as file:
        head = file.read(4096)
    if not head:
        return "an empty file"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\x80\x02"):
        return CHECKPOINT
    for magic, kind in _IMAGE_MAGIC.items():
        if head.startswith(magic):
            return kind
    if _onnx_header(head):
        return ONNX
    if _darknet_header(head):
        return DARKNET_WEIGHTS
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = "\0"
    if "\0" in text:
        return "a binary file of an unknown kind"
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith(("#", ";"))]
    if lines and _SECTION.match(lines[0]):
        return DARKNET_CFG
    if lines and lines[0][0] in "{[":
        return "a JSON file"
    return NAMES if lines else "an empty text file"


# Fields an ONNX ModelProto has after ``ir_version`` (field 1): producer, domain, graph, ...
_ONNX_FIELD_TAGS = {0x12, 0x1A, 0x22, 0x2A, 0x32, 0x3A, 0x42, 0x4A, 0x52, 0x72}


def _onnx_header(head: bytes) -> bool:
    """Whether ``head`` starts like an ONNX model: a small ``ir_version``, then a known field."""
    return len(head) >= 3 and head[0] == 0x08 and 1 <= head[1] <= 30 and head[2] in _ONNX_FIELD_TAGS


def _darknet_header(head: bytes) -> bool:
    """Whether ``head`` starts like Darknet weights: small int32 major.minor.revision."""
    if len(head) < 20:
        return False
    major, minor, revision = struct.unpack("<iii", head[:12])
    return 0 <= major <= 10 and 0 <= minor <= 100 and 0 <= revision <= 10_000


def require_kind(path: str | Path, *expected: str, what: str = "") -> None:
    """Raise :class:`FileKindError` unless ``path`` holds one of the ``expected`` kinds.

    Args:
        what: how the message names the file (e.g. ``"--weights"``); default: the path.
    """
    kind = file_kind(path)
    if kind in expected:
        return
    name = f"{what} {path}" if what else str(path)
    raise FileKindError(f"{name} is {kind}; expected {' or '.join(expected)}")
