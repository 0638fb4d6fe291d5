"""``Detector``: a trained network plus everything around it, from images to boxes."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from PIL import ImageOps
from torch import Tensor, nn
from tqdm import tqdm

from yolov3.boxes import clip_boxes
from yolov3.config import ModelConfig
from yolov3.data import letterbox, load_image
from yolov3.devices import resolve_device
from yolov3.filekind import NAMES, require_kind
from yolov3.model.loading import load_model
from yolov3.predict.decode import decode, postprocess

ImageLike = str | Path | np.ndarray | Any  # Any: a PIL image


def to_rgb_array(image: ImageLike, bgr: bool = False) -> np.ndarray:
    """An image as HWC uint8 RGB: from a path, a PIL image or an array (HWC RGB or HW gray).

    ``bgr``: arrays are in OpenCV's BGR(A) order (``cv2.imread``, ``VideoCapture``) and are
    reversed to RGB; paths and PIL images are unaffected.

    Raises:
        yolov3.data.DatasetError: a path that is missing or cannot be decoded.
        TypeError, ValueError: anything else that is not an image.
    """
    if isinstance(image, str | Path):
        return load_image(Path(image))
    if hasattr(image, "convert") and hasattr(image, "size"):  # PIL, upright like a file
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    if not isinstance(image, np.ndarray):
        raise TypeError(f"expected a path, a PIL image or a numpy array, got {type(image)}")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or min(image.shape[:2]) < 1:
        raise ValueError(f"expected an HWC RGB image array, got shape {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image array (0..255), got {image.dtype}")
    if bgr:
        return np.ascontiguousarray(image[:, :, 2::-1])
    return np.ascontiguousarray(image[:, :, :3])


def read_names(names: str | Path | Sequence[str] | None) -> list[str] | None:
    """Class names from a list or a ``.names`` file (one per line)."""
    if names is None or isinstance(names, list | tuple):
        return None if names is None else [str(n) for n in names]
    require_kind(names, NAMES)
    lines = Path(names).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


def inference_model(model: nn.Module, device: torch.device, half: bool) -> nn.Module:
    """``model`` on ``device`` in eval mode; with ``half``, a float16 copy, so the caller's
    model keeps its float32 weights."""
    model = model.to(device).eval()
    return copy.deepcopy(model).half() if half else model


class ImageDetector:
    """Images in, boxes in their own pixels out, around any network that detects in its
    input's pixels: the resize (letterbox or stretch), the batching and the way back.

    Subclasses implement :meth:`detect_batch`. :class:`Detector` runs a PyTorch model;
    :class:`yolov3.predict.onnx_runtime.OnnxDetector` runs an ONNX file in ONNX Runtime.

    Args:
        config: the model's config (classes, names, COCO category ids).
        img_size: network input side, a multiple of 32.
        conf_thresh, iou_thresh, max_det, classes, multi_label: see
            :func:`yolov3.predict.postprocess`.
        class_names, letterbox, bgr, category_ids: see :class:`Detector`.
    """

    def __init__(
        self,
        config: ModelConfig,
        img_size: int,
        conf_thresh: float = 0.25,
        iou_thresh: float = 0.45,
        max_det: int = 300,
        classes: Sequence[int] | None = None,
        multi_label: bool = False,
        class_names: Sequence[str] | None = None,
        letterbox: bool = True,
        category_ids: Sequence[int] | None = None,
        bgr: bool = False,
    ) -> None:
        if img_size % 32:
            raise ValueError(f"img_size must be a multiple of 32, got {img_size}")
        self.config = config
        self.img_size = img_size
        self.conf_thresh, self.iou_thresh, self.max_det = conf_thresh, iou_thresh, max_det
        self.classes = None if classes is None else [int(c) for c in classes]
        self.multi_label = multi_label
        self.letterbox = letterbox
        self.bgr = bgr
        names = list(class_names or self.config.class_names)
        if names and len(names) != self.config.num_classes:
            raise ValueError(
                f"{len(names)} class names for a model with {self.config.num_classes} classes"
            )
        self.class_names = names or [str(k) for k in range(self.config.num_classes)]
        ids = list(category_ids or self.config.category_ids)
        if ids and len(ids) != self.config.num_classes:
            raise ValueError(
                f"{len(ids)} category ids for a model with {self.config.num_classes} classes"
            )
        #: COCO category id per class; ``class + 1`` when the model does not know its own
        self.category_ids = ids or list(range(1, self.config.num_classes + 1))

    def __call__(
        self, images: ImageLike | Sequence[ImageLike], batch_size: int = 8
    ) -> list[dict[str, Tensor]]:
        """Detect objects in one image or a sequence of images.

        Args:
            images: a path, a numpy HWC uint8 array (RGB, or BGR with ``bgr=True``) or a PIL
                image, or a list of them.
            batch_size: images per forward pass.

        Returns:
            One dict per image: ``boxes (Tensor[N, 4])`` xyxy in the image's own pixels,
            ``scores (Tensor[N])``, ``labels (Int64Tensor[N])``, best first, on the CPU.
        """
        if isinstance(images, str | Path | np.ndarray) or not isinstance(images, Sequence):
            images = [images]
        results: list[dict[str, Tensor]] = []
        for start in range(0, len(images), batch_size):
            chunk = [to_rgb_array(im, self.bgr) for im in images[start : start + batch_size]]
            results.extend(self.predict_arrays(chunk))
        return results

    def predict_arrays(self, arrays: Sequence[np.ndarray]) -> list[dict[str, Tensor]]:
        """Detections for a batch of HWC uint8 RGB arrays (one forward pass)."""
        boxed = [self._resize(a) for a in arrays]
        dets = self.detect_batch(np.stack([b[0] for b in boxed]))
        return [
            self.to_image_pixels(det, to_original, array.shape[1], array.shape[0])
            for det, (_, to_original), array in zip(dets, boxed, arrays, strict=True)
        ]

    @staticmethod
    def to_image_pixels(
        det: dict[str, Tensor], to_original: Callable[[Tensor], Tensor], width: int, height: int
    ) -> dict[str, Tensor]:
        """One image's detections moved from network-input pixels to its own, on the CPU.

        ``to_original`` undoes the resize (e.g. :meth:`Letterbox.to_original`); the boxes are
        then clipped to the ``width`` x ``height`` image.
        """
        boxes = clip_boxes(to_original(det["boxes"].float().cpu()), width, height)
        return {"boxes": boxes, "scores": det["scores"].cpu(), "labels": det["labels"].cpu()}

    def _resize(self, image: np.ndarray) -> tuple[np.ndarray, Callable[[Tensor], Tensor]]:
        """The network input for ``image`` and the map from input to original pixels."""
        if self.letterbox:
            boxed, lb = letterbox(image, self.img_size)
            return boxed, lb.to_original
        h, w = image.shape[:2]
        size = self.img_size
        resized = cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR)
        scale = torch.tensor([w / size, h / size, w / size, h / size])
        return resized, lambda boxes: boxes * scale

    def detect_batch(self, batch: np.ndarray) -> list[dict[str, Tensor]]:
        """Detections for ``batch`` (``uint8 [B, S, S, 3]`` RGB network inputs), in input pixels:
        one dict per image as :func:`yolov3.predict.postprocess` returns."""
        raise NotImplementedError


class Detector(ImageDetector):
    """Runs a YOLOv3 on images of any size and returns boxes in their own pixels.

    Images are letterboxed to ``img_size`` (as in training), the outputs decoded, filtered by
    score (objectness x class probability), suppressed per class, and mapped back.

    Args:
        model: a YOLOv3 or YOLOv3-tiny (``yolov3.model.build_model``); put in eval mode.
        img_size: network input side, a multiple of 32 (default: the size the model was
            trained at, from its checkpoint or its cfg's ``width``, else 416).
        conf_thresh, iou_thresh, max_det, classes, multi_label: see
            :func:`yolov3.predict.postprocess`.
        class_names: names by class id (default: the model config's, else the ids).
        device: where to run (default: CUDA when available, else CPU).
        letterbox: keep the aspect ratio and pad, as in training (default); False stretches
            the image to a square, as Darknet's and OpenCV DNN's stock demos do.
        half: run the network in float16 (CUDA only; ignored on the CPU).
        bgr: NumPy arrays given to ``__call__`` are BGR, as ``cv2.imread`` returns them
            (default False: RGB, as PIL and ``yolov3.data.load_image`` return them). Paths
            and PIL images are read the same either way.
        category_ids: COCO category id per class, written to COCO results (default: the
            model config's, which training takes from a COCO dataset; else ``class + 1``).
    """

    def __init__(
        self,
        model: nn.Module,
        img_size: int | None = None,
        conf_thresh: float = 0.25,
        iou_thresh: float = 0.45,
        max_det: int = 300,
        classes: Sequence[int] | None = None,
        multi_label: bool = False,
        class_names: Sequence[str] | None = None,
        device: str | torch.device | None = None,
        letterbox: bool = True,
        half: bool = False,
        category_ids: Sequence[int] | None = None,
        bgr: bool = False,
    ) -> None:
        super().__init__(
            model.config,
            img_size or getattr(model, "input_size", None) or 416,
            conf_thresh,
            iou_thresh,
            max_det,
            classes,
            multi_label,
            class_names,
            letterbox,
            category_ids,
            bgr,
        )
        self.device = resolve_device(device)
        self.half = half and self.device.type == "cuda"
        self.model = inference_model(model, self.device, self.half)

    @torch.no_grad()
    def detect_batch(self, batch: np.ndarray) -> list[dict[str, Tensor]]:
        x = torch.from_numpy(batch).to(self.device)
        x = x.permute(0, 3, 1, 2).float().div_(255).contiguous(memory_format=torch.channels_last)
        x = x.half() if self.half else x
        decoded = decode(self.model(x), self.config)
        return postprocess(
            decoded,
            self.conf_thresh,
            self.iou_thresh,
            self.max_det,
            self.classes,
            self.multi_label,
        )

    @classmethod
    def from_checkpoint(cls, path: str | Path, fuse: bool = True, **kwargs: Any) -> Detector:
        """A detector from a training checkpoint (its EMA weights when it has them)."""
        model = load_model(path)
        return cls(model.fuse() if fuse else model, **kwargs)

    @classmethod
    def from_darknet(
        cls,
        cfg: str | Path,
        weights: str | Path,
        names: str | Path | Sequence[str] | None = None,
        fuse: bool = True,
        **kwargs: Any,
    ) -> Detector:
        """A detector from Darknet files: a ``.cfg``, its ``.weights`` and optional names.

        Args:
            names: class names, or a ``.names`` file; when None, a single ``*.names`` file
                beside the cfg with as many lines as the cfg has classes is used.
        """
        class_names = read_names(names)
        model = load_model(weights, cfg)
        if class_names is None:
            class_names = names_beside(Path(cfg), model.config.num_classes)
        elif len(class_names) != model.config.num_classes:
            raise ValueError(
                f"{names if isinstance(names, str | Path) else 'names'}: {len(class_names)} "
                f"class names, but {cfg} has {model.config.num_classes} classes"
            )
        if class_names is not None:
            model.config = dataclasses.replace(model.config, class_names=tuple(class_names))
        return cls(model.fuse() if fuse else model, class_names=class_names, **kwargs)


def predict_images(
    detector: Detector,
    images: Sequence[ImageLike],
    batch_size: int = 8,
    progress: bool = False,
    desc: str = "detect",
) -> list[dict[str, Tensor]]:
    """``detector(images)`` in batches, with a progress bar when asked."""
    results: list[dict[str, Tensor]] = []
    with tqdm(total=len(images), desc=desc, unit="img", disable=not progress) as bar:
        for start in range(0, len(images), batch_size):
            chunk = images[start : start + batch_size]
            results.extend(detector(chunk, batch_size=batch_size))
            bar.update(len(chunk))
    return results


def names_beside(cfg: Path, num_classes: int) -> list[str] | None:
    """The names of the single ``*.names`` file beside ``cfg`` with ``num_classes`` lines."""
    found = [read_names(p) for p in sorted(cfg.parent.glob("*.names"))]
    fitting = [names for names in found if names is not None and len(names) == num_classes]
    return fitting[0] if len(fitting) == 1 else None
