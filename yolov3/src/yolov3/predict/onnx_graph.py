"""The whole detector as one ONNX graph: network, decoding and class-aware NMS.

Inputs (the three thresholds are optional: each has a default stored in the file, which a
runtime uses when the input is not fed):

- ``images``: ``float32 [B, 3, H, W]``, RGB in 0..1, ``H`` and ``W`` multiples of 32; batch,
  height and width are dynamic.
- ``score_threshold``: ``float32 []``, keep scores (objectness x class probability) above it.
- ``iou_threshold``: ``float32 []``, boxes of one class overlapping a better one by more than
  this are suppressed.
- ``max_detections``: ``int64 []``, detections kept per image, best first.

Output ``detections``: ``float32 [N, 7]``, one row per detection of the whole batch:
``batch_index, x1, y1, x2, y2, score, class``, corners in the input's pixels (undo the
letterbox to get the image's own), rows ordered by image, then by decreasing score. Each box
takes its best class only, as :func:`yolov3.predict.postprocess` does by default; the NMS is
ONNX ``NonMaxSuppression`` run over the class dimension, so classes never suppress each other.
"""

from __future__ import annotations

import copy
import inspect
import json
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from torchvision.ops import batched_nms

from yolov3.model.yolov3 import DetectorBase
from yolov3.predict.decode import decode

OUTPUT = "detections"
THRESHOLD_INPUTS = ("score_threshold", "iou_threshold", "max_detections")
DEFAULT_OPSET = 17  # as the raw export through the TorchScript exporter
MIN_OPSET = 11  # NonMaxSuppression with the batch and class dimensions


class NonMaxSuppression(torch.autograd.Function):
    """ONNX ``NonMaxSuppression`` (``center_point_box=0``), with an eager twin for tracing.

    ``boxes (Tensor[B, N, 4])`` xyxy, ``scores (Tensor[B, C, N])``; returns
    ``Int64Tensor[K, 3]`` of ``(batch, class, box)`` index triples: per image and class, boxes
    scoring above ``score_threshold`` kept greedily unless they overlap a better box of that
    image and class by more than ``iou_threshold``, at most ``max_per_class`` of them.
    """

    @staticmethod
    def forward(ctx, boxes, scores, max_per_class, iou_threshold, score_threshold):
        rows = []
        for b in range(boxes.shape[0]):
            cls, idx = (scores[b] > score_threshold).nonzero(as_tuple=True)
            keep = batched_nms(boxes[b, idx], scores[b, cls, idx], cls, float(iou_threshold))
            cls, idx = cls[keep], idx[keep]
            # each box's place among the kept boxes of its class (batched_nms sorts by score)
            rank = (nn.functional.one_hot(cls, scores.shape[1]).cumsum(0) - 1).gather(
                1, cls[:, None]
            )[:, 0]
            kept = rank < max_per_class
            rows.append(torch.stack((torch.full_like(idx, b), cls, idx), 1)[kept])
        return torch.cat(rows) if rows else torch.zeros(0, 3, dtype=torch.long)

    @staticmethod
    def symbolic(g, boxes, scores, max_per_class, iou_threshold, score_threshold):
        return g.op(
            "NonMaxSuppression",
            boxes,
            scores,
            max_per_class,
            iou_threshold,
            score_threshold,
            center_point_box_i=0,
        )


class EndToEnd(nn.Module):
    """A detector network followed by decoding and class-aware NMS (the graph's layout is in
    the module's docstring). Runs in PyTorch too, which tracing relies on."""

    def __init__(self, net: DetectorBase) -> None:
        super().__init__()
        self.net = net
        self.config = net.config

    def forward(
        self,
        images: Tensor,
        score_threshold: Tensor,
        iou_threshold: Tensor,
        max_detections: Tensor,
    ) -> Tensor:
        decoded = decode(self.net(images), self.config)  # (B, N, 5+C)
        boxes = decoded[..., :4]
        scores, labels = (decoded[..., 5:] * decoded[..., 4:5]).max(-1)  # (B, N)
        classes = torch.arange(self.config.num_classes, device=images.device)
        per_class = torch.where(labels[..., None] == classes, scores[..., None], 0.0)
        selected = NonMaxSuppression.apply(
            boxes,
            per_class.transpose(1, 2).contiguous(),  # (B, C, N)
            max_detections,
            iou_threshold,
            score_threshold,
        )
        # Per image, the best max_detections survivors over all classes: rank every box by
        # its score if it survived (-1 if not) and keep the top of each row.
        kept = torch.zeros_like(scores, dtype=torch.bool)
        kept = kept.index_put((selected[:, 0], selected[:, 2]), selected[:, 0] >= 0)
        ranked, order = torch.where(kept, scores, -1.0).sort(1, descending=True)
        rank = torch.arange(scores.shape[1], device=images.device)
        image, position = ((ranked >= 0) & (rank < max_detections)).nonzero(as_tuple=True)
        box = order[image, position]
        return torch.cat(
            (
                image[:, None].to(boxes.dtype),
                boxes[image, box],
                scores[image, box, None],
                labels[image, box, None].to(boxes.dtype),
            ),
            1,
        )


def threshold_tensors(score: float, iou: float, max_det: int) -> tuple[Tensor, Tensor, Tensor]:
    """The three threshold inputs of the graph, as scalars of its dtypes."""
    return (
        torch.tensor(score, dtype=torch.float32),
        torch.tensor(iou, dtype=torch.float32),
        torch.tensor(max_det, dtype=torch.int64),
    )


def export_onnx_nms(
    model: DetectorBase,
    path: str | Path,
    img_size: int | Sequence[int] = 416,
    conf_thresh: float = 0.25,
    iou_thresh: float = 0.45,
    max_det: int = 300,
    opset: int | None = None,
) -> Path:
    """Write ``model`` with decoding and NMS as one ONNX file (layout: the module docstring).

    Batch, height and width are dynamic; ``img_size`` (``S`` or ``(H, W)``) is the size
    traced and the one stored as the model's input size. ``conf_thresh``, ``iou_thresh`` and
    ``max_det`` become the defaults of the graph's threshold inputs. The export goes through
    the TorchScript exporter (``dynamo=False``), which maps :class:`NonMaxSuppression` to the
    ONNX operator on every torch from 2.4 on.

    Returns:
        ``path``, after ``onnx.checker`` accepted the file.

    Raises:
        ValueError: a size not divisible by 32, a threshold outside 0..1, ``max_det < 1`` or an
            opset below 11.
    """
    # lazy: onnx is needed only when exporting, not to build or train models
    import onnx

    height, width = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
    opset = opset or DEFAULT_OPSET
    _check_options(height, width, conf_thresh, iou_thresh, max_det, opset)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    net = copy.deepcopy(model).to("cpu", torch.float32).eval()
    if not net.is_fused:
        net.fuse()
    defaults = threshold_tensors(conf_thresh, iou_thresh, max_det)
    with torch.no_grad():
        _trace(EndToEnd(net).eval(), (torch.rand(1, 3, height, width), *defaults), path, opset)
    proto = onnx.load(str(path))
    _add_defaults(proto, defaults)
    onnx.checker.check_model(proto)
    meta = {
        "yolov3_config": json.dumps(model.config.to_dict()),
        "yolov3_img_size": str(height),
        "yolov3_nms_defaults": json.dumps(
            {"score_threshold": conf_thresh, "iou_threshold": iou_thresh, "max_detections": max_det}
        ),
    }
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))
    return path


def _check_options(
    height: int, width: int, conf_thresh: float, iou_thresh: float, max_det: int, opset: int
) -> None:
    if height % 32 or width % 32:
        raise ValueError(f"img_size must be divisible by 32, got {(height, width)}")
    if not (0 <= conf_thresh <= 1 and 0 <= iou_thresh <= 1) or max_det < 1:
        raise ValueError(
            f"thresholds must be in 0..1 and max_det >= 1, got {conf_thresh}, {iou_thresh}, "
            f"{max_det}"
        )
    if opset < MIN_OPSET:
        raise ValueError(f"NonMaxSuppression over batches needs opset {MIN_OPSET} or later")


def _trace(module: nn.Module, example: tuple[Tensor, ...], path: Path, opset: int) -> None:
    has_dynamo = "dynamo" in inspect.signature(torch.onnx.export).parameters
    kwargs = {"dynamo": False} if has_dynamo else {}
    with warnings.catch_warnings():
        # torch >= 2.9 deprecates the tracer it still ships; the tracer also warns about
        # the eager NMS twin's Python loop, which the symbolic replaces in the graph.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            example,
            str(path),
            input_names=["images", *THRESHOLD_INPUTS],
            output_names=[OUTPUT],
            opset_version=opset,
            dynamic_axes={"images": {0: "batch", 2: "height", 3: "width"}, OUTPUT: {0: "count"}},
            do_constant_folding=True,
            **kwargs,
        )


def _add_defaults(proto, defaults: Sequence[Tensor]) -> None:
    """Give each threshold input an initializer of its name: its value when not fed."""
    # lazy: onnx is needed only when exporting
    from onnx import numpy_helper

    for name, value in zip(THRESHOLD_INPUTS, defaults, strict=True):
        proto.graph.initializer.append(numpy_helper.from_array(np.asarray(value.numpy()), name))
