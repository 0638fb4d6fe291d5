"""``OnnxDetector``: an exported ONNX file run in ONNX Runtime, images in, boxes out.

Two kinds of file, told apart by the graph's outputs:

- end to end (``yolov3 export --nms``): one output ``detections``; decoding, the score
  threshold and NMS run in the graph (:mod:`yolov3.predict.onnx_graph`);
- raw (``yolov3 export``): one output per scale (``output_s32`` ...); the logits are decoded
  and suppressed here, by the same code as the PyTorch :class:`~yolov3.predict.Detector`.

Either way the images are resized and the boxes mapped back as the PyTorch detector does, so
the two give the same detections.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from yolov3.config import ModelConfig
from yolov3.model.onnx_export import onnx_session
from yolov3.predict.decode import decode, postprocess
from yolov3.predict.detector import ImageDetector
from yolov3.predict.onnx_graph import OUTPUT, THRESHOLD_INPUTS

DEFAULTS = {"score_threshold": 0.25, "iou_threshold": 0.45, "max_detections": 300}


class OnnxModelError(ValueError):
    """An ONNX file that is not a ``yolov3 export`` of a detector; the message says why."""


class OnnxDetector(ImageDetector):
    """Runs a ``yolov3 export`` ONNX file (end to end or raw) in ONNX Runtime.

    Args:
        path: the ``.onnx`` file.
        img_size: network input side; must be the file's when its input size is fixed
            (default: the file's, else the size it was exported at, else 416).
        conf_thresh, iou_thresh, max_det: thresholds; for an end-to-end file None means the
            defaults stored in it, for a raw file 0.25, 0.45 and 300.
        classes: keep only these class ids; an end-to-end file's are filtered after its NMS
            and ``max_detections``.
        class_names, letterbox, bgr, category_ids: see :class:`yolov3.predict.Detector`.
        device: ``cpu`` (default) or ``cuda``/``cuda:N`` when ONNX Runtime has CUDA.
        threads: ONNX Runtime intra-op threads (default: its own choice).

    Raises:
        OnnxModelError: the file is not an ONNX model, or not one ``yolov3 export`` wrote.
        ValueError: a size or a device that does not fit.
    """

    def __init__(
        self,
        path: str | Path,
        img_size: int | None = None,
        conf_thresh: float | None = None,
        iou_thresh: float | None = None,
        max_det: int | None = None,
        classes: Sequence[int] | None = None,
        class_names: Sequence[str] | None = None,
        letterbox: bool = True,
        category_ids: Sequence[int] | None = None,
        bgr: bool = False,
        device: str | None = None,
        threads: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.session = _open(self.path, device, threads)
        meta = self.session.get_modelmeta().custom_metadata_map
        config = _config(self.path, meta)
        outputs = [o.name for o in self.session.get_outputs()]
        self.end_to_end = outputs == [OUTPUT]
        raw = [f"output_s{s}" for s in config.strides]
        if not self.end_to_end and outputs != raw:
            raise OnnxModelError(
                f"{self.path}: outputs {outputs}; expected [{OUTPUT!r}] (yolov3 export --nms) "
                f"or {raw} (yolov3 export)"
            )
        defaults = json.loads(meta.get("yolov3_nms_defaults", "{}")) if self.end_to_end else {}
        defaults = DEFAULTS | defaults
        batch, fixed = _input_shape(self.path, self.session)
        self.fixed_batch = batch
        super().__init__(
            config,
            _img_size(self.path, img_size, fixed, meta),
            defaults["score_threshold"] if conf_thresh is None else conf_thresh,
            defaults["iou_threshold"] if iou_thresh is None else iou_thresh,
            defaults["max_detections"] if max_det is None else max_det,
            classes,
            False,
            class_names,
            letterbox,
            category_ids,
            bgr,
        )

    def detect_batch(self, batch: np.ndarray) -> list[dict[str, Tensor]]:
        x = batch.transpose(0, 3, 1, 2).astype(np.float32) / 255  # (B, 3, S, S) RGB 0..1
        step = self.fixed_batch or len(x)
        results: list[dict[str, Tensor]] = []
        for start in range(0, len(x), step):
            chunk = x[start : start + step]
            padded = np.concatenate(
                [chunk, np.zeros((step - len(chunk), *chunk.shape[1:]), x.dtype)]
            )
            found = self._run_end_to_end(padded) if self.end_to_end else self._run_raw(padded)
            results.extend(found[: len(chunk)])
        return results

    def _run_end_to_end(self, x: np.ndarray) -> list[dict[str, Tensor]]:
        feeds = {
            "images": x,
            "score_threshold": np.array(self.conf_thresh, np.float32),
            "iou_threshold": np.array(self.iou_thresh, np.float32),
            "max_detections": np.array(self.max_det, np.int64),
        }
        (rows,) = self.session.run([OUTPUT], feeds)  # (N, 7): image, x1, y1, x2, y2, score, class
        rows = torch.from_numpy(rows)
        results = []
        for image in range(len(x)):
            mine = rows[rows[:, 0] == image]
            if self.classes is not None:
                mine = mine[torch.isin(mine[:, 6].long(), torch.tensor(self.classes))]
            results.append(
                {"boxes": mine[:, 1:5], "scores": mine[:, 5], "labels": mine[:, 6].long()}
            )
        return results

    def _run_raw(self, x: np.ndarray) -> list[dict[str, Tensor]]:
        outputs = [torch.from_numpy(o) for o in self.session.run(None, {"images": x})]
        return postprocess(
            decode(outputs, self.config),
            self.conf_thresh,
            self.iou_thresh,
            self.max_det,
            self.classes,
        )


def _open(path: Path, device: str | None, threads: int | None):
    # lazy: onnxruntime is needed only to run ONNX files
    import onnxruntime as ort

    providers = ["CPUExecutionProvider"]
    if device is not None and device.startswith("cuda"):
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise ValueError(
                f"--device {device}: this ONNX Runtime has no CUDA provider "
                "(install onnxruntime-gpu, or run on the CPU)"
            )
        index = device.partition(":")[2] or "0"
        providers = [("CUDAExecutionProvider", {"device_id": int(index)}), *providers]
    try:
        return onnx_session(path, threads, providers)
    except Exception as exc:  # ONNX Runtime raises its own exception types for bad files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OnnxModelError(f"{path}: ONNX Runtime cannot load it: {first}") from None


def _config(path: Path, meta: dict[str, str]) -> ModelConfig:
    if "yolov3_config" not in meta:
        raise OnnxModelError(
            f"{path}: no yolov3_config in its metadata; this runs ONNX files that "
            "`yolov3 export` wrote"
        )
    try:
        return ModelConfig.from_dict(json.loads(meta["yolov3_config"]))
    except (ValueError, TypeError, KeyError) as exc:
        raise OnnxModelError(f"{path}: its yolov3_config metadata cannot be read: {exc}") from None


def _input_shape(path: Path, session) -> tuple[int | None, int | None]:
    """The input's fixed batch size and fixed square side (None where dynamic)."""
    inputs = {i.name: i for i in session.get_inputs()}
    extra = set(inputs) - {"images", *THRESHOLD_INPUTS}
    if "images" not in inputs or extra:
        raise OnnxModelError(f"{path}: inputs {sorted(inputs)}; expected 'images' (B, 3, H, W)")
    batch, _, height, width = inputs["images"].shape
    fixed = [d if isinstance(d, int) else None for d in (batch, height, width)]
    if fixed[1] != fixed[2]:
        raise OnnxModelError(
            f"{path}: input of {height}x{width}; the detector feeds square images, so export "
            "with a square --img-size or --dynamic"
        )
    return fixed[0], fixed[1]


def _img_size(path: Path, wanted: int | None, fixed: int | None, meta: dict[str, str]) -> int:
    if fixed is not None:
        if wanted not in (None, fixed):
            raise ValueError(f"{path} takes {fixed}x{fixed} inputs only; --img-size {wanted}")
        return fixed
    stored = meta.get("yolov3_img_size", "")
    return wanted or (int(stored) if stored.isdigit() else 416)
