"""Our networks against OpenCV's Darknet importer, an implementation nobody here wrote.

OpenCV names each Darknet layer ``conv_<index>`` and so on; reading the prediction convs by
name gives their raw outputs ``(B, A*(5+C), S, S)``, compared here on every element.
"""

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from yolov3.config import ModelConfig
from yolov3.model import build_model
from yolov3.model.darknet_cfg import describe_model
from yolov3.model.darknet_io import (
    load_darknet_weights,
    model_from_cfg,
    save_darknet_weights,
    write_cfg,
)
from yolov3.predict import decode, postprocess

cv2 = pytest.importorskip("cv2", reason="OpenCV (opencv-python-headless 4.x) is not installed")
if not hasattr(cv2, "dnn") or not hasattr(cv2.dnn, "readNetFromDarknet"):
    pytest.skip("this OpenCV has no Darknet importer (5.0 dropped it)", allow_module_level=True)

DARKNET = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "darknet"
needs_darknet = pytest.mark.skipif(
    not (DARKNET / "yolov3-tiny.weights").exists(),
    reason=f"shared Darknet files not found at {DARKNET}",
)
IMAGES = ("dog", "horses", "person", "eagle")


def blob(image: str, size: int = 416) -> np.ndarray:
    """Plain resize (no letterbox), RGB, 0..1: ``(1, 3, size, size)`` float32."""
    bgr = cv2.imread(str(DARKNET / "images" / f"{image}.jpg"))
    assert bgr is not None, image
    return cv2.dnn.blobFromImage(bgr, 1 / 255, (size, size), swapRB=True, crop=False)


def opencv_raw_outputs(net, model, x: np.ndarray) -> list[torch.Tensor]:
    """OpenCV's prediction-conv outputs, in our ``(B, A, S, S, 5+C)`` layout."""
    names = [
        f"conv_{i}"
        for i, layer in enumerate(describe_model(model))
        if layer.module is not None and layer.module in model.head_convs()
    ]
    net.setInput(x)
    outs = []
    for raw in net.forward(names):
        b, c, h, w = raw.shape
        a = model.config.num_anchors
        outs.append(torch.from_numpy(raw).view(b, a, c // a, h, w).permute(0, 1, 3, 4, 2))
    return outs


@pytest.fixture(scope="module")
def official_tiny():
    model = model_from_cfg(DARKNET / "yolov3-tiny.cfg")
    load_darknet_weights(model, DARKNET / "yolov3-tiny.weights")
    net = cv2.dnn.readNetFromDarknet(
        str(DARKNET / "yolov3-tiny.cfg"), str(DARKNET / "yolov3-tiny.weights")
    )
    return model.eval(), net


@needs_darknet
@pytest.mark.parametrize("image", IMAGES)
def test_official_tiny_weights_equal_opencv(official_tiny, image):
    model, net = official_tiny
    x = blob(image)
    with torch.no_grad():
        ours = model(torch.from_numpy(x))
    theirs = opencv_raw_outputs(net, model, x)
    assert [o.shape for o in ours] == [(1, 3, 13, 13, 85), (1, 3, 26, 26, 85)]
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, atol=1e-3, rtol=0)


@needs_darknet
def test_official_tiny_fused_equals_opencv(official_tiny):
    import copy

    model, net = official_tiny
    fused = copy.deepcopy(model).fuse()
    x = blob("person")
    with torch.no_grad():
        ours = fused(torch.from_numpy(x))
    for a, b in zip(ours, opencv_raw_outputs(net, model, x), strict=True):
        torch.testing.assert_close(a, b, atol=1e-3, rtol=0)


def opencv_detections(net, x: np.ndarray, score: float, nms: float) -> dict[str, torch.Tensor]:
    """OpenCV's own pipeline: its [yolo] layers' decoded rows, then ``cv2.dnn.NMSBoxes``."""
    net.setInput(x)
    rows = np.concatenate(net.forward(net.getUnconnectedOutLayersNames()))
    size = x.shape[-1]
    scores, labels = rows[:, 5:].max(1), rows[:, 5:].argmax(1)  # rows hold obj * class prob
    cx, cy, w, h = (rows[:, :4] * size).T
    xywh = np.stack([cx - w / 2, cy - h / 2, w, h], 1)
    keep = np.asarray(cv2.dnn.NMSBoxes(xywh.tolist(), scores.tolist(), score, nms)).reshape(-1)
    keep = keep[np.argsort(-scores[keep])]
    boxes = xywh[keep] + np.concatenate([np.zeros_like(xywh[keep, :2]), xywh[keep, :2]], 1)
    return {
        "boxes": torch.from_numpy(boxes),
        "scores": torch.from_numpy(scores[keep]),
        "labels": torch.from_numpy(labels[keep]),
    }


@needs_darknet
@pytest.mark.parametrize("image", ["dog", "person"])
def test_detections_equal_opencv_and_the_reference(official_tiny, image):
    names = (DARKNET / "coco.names").read_text().splitlines()
    model, net = official_tiny
    x = blob(image)
    with torch.no_grad():
        outputs = model(torch.from_numpy(x))
    ours = postprocess(decode(outputs, model.config), conf_thresh=0.5, iou_thresh=0.45)[0]
    theirs = opencv_detections(net, x, score=0.5, nms=0.45)
    assert torch.equal(ours["labels"], theirs["labels"].long())
    torch.testing.assert_close(ours["scores"], theirs["scores"], atol=1e-3, rtol=0)
    torch.testing.assert_close(ours["boxes"], theirs["boxes"], atol=0.05, rtol=0)
    found = [
        (names[k], round(float(s), 2)) for k, s in zip(ours["labels"], ours["scores"], strict=True)
    ]
    if image == "dog":  # the figures in shared/data/README.md
        assert found == [("dog", 0.83), ("car", 0.73), ("truck", 0.58)]
    else:
        assert sorted(n for n, _ in found) == ["dog", "dog", "person", "sheep"]
        assert found[0] == ("person", 0.98)


def calibrated_random_yolov3(images: torch.Tensor, seed: int = 0) -> nn.Module:
    """Random weights with BN statistics measured on ``images``, then random BN affine.

    Calibrated statistics keep activations at the scale a trained network has (outputs of
    order 10, as the official tiny weights give); uncalibrated random BN lets the residual
    sums grow to 1e4, where float32 rounding alone exceeds 1e-3.
    """
    torch.manual_seed(seed)
    model = build_model(ModelConfig())
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None  # cumulative average: one batch sets the statistics
    with torch.no_grad():
        model.train()(images)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
        for conv in model.head_convs():
            conv.weight.mul_(0.2)  # outputs of order 10, as trained YOLOv3's
            conv.bias.uniform_(-1, 1)
    return model.eval()


@needs_darknet
def test_random_yolov3_weights_equal_opencv_with_the_official_cfg(tmp_path):
    # 192 px: every weight is used at any input size, and three full-YOLOv3 passes stay cheap
    model = calibrated_random_yolov3(torch.from_numpy(blob("dog", 192)))
    weights = save_darknet_weights(model, tmp_path / "yolov3.weights")
    assert weights.stat().st_size == 248_007_048
    net = cv2.dnn.readNetFromDarknet(str(DARKNET / "yolov3.cfg"), str(weights))
    x = blob("horses", 192)
    with torch.no_grad():
        ours = model(torch.from_numpy(x))
    theirs = opencv_raw_outputs(net, model, x)
    assert [o.shape[2] for o in theirs] == [6, 12, 24]
    assert 5 < max(o.abs().max() for o in ours) < 50  # compared at a trained network's scale
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, atol=1e-3, rtol=0)


def test_written_cfg_and_weights_read_by_opencv_decode_alike(tmp_path):
    """A non-COCO model (3 classes, own anchors) exported to Darknet files: OpenCV's [yolo]
    layers, which read the written masks and anchors, decode exactly as we do."""
    anchors = (((90, 80), (150, 190), (300, 280)), ((12, 14), (20, 30), (40, 50)))
    config = ModelConfig(arch="yolov3-tiny", num_classes=3, anchors=anchors, strides=(32, 16))
    torch.manual_seed(0)
    model = build_model(config)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_var.uniform_(0.5, 2.0)
                m.bias.uniform_(-0.2, 0.2)
        for conv in model.head_convs():
            conv.bias.uniform_(-1.0, 2.0)  # many scores above OpenCV's 0.2 cut
    model.eval()
    cfg = write_cfg(model, tmp_path / "m.cfg", img_size=320)
    weights = save_darknet_weights(model, tmp_path / "m.weights")
    net = cv2.dnn.readNetFromDarknet(str(cfg), str(weights))
    x = np.random.default_rng(0).random((1, 3, 320, 320), dtype=np.float32)
    with torch.no_grad():
        outputs = model(torch.from_numpy(x))
    for ours, theirs in zip(outputs, opencv_raw_outputs(net, model, x), strict=True):
        torch.testing.assert_close(ours, theirs, atol=1e-4, rtol=0)

    net.setInput(x)
    rows = []
    for out, layer in zip(outputs, net.forward(net.getUnconnectedOutLayersNames()), strict=True):
        _, a, h, w, k = out.shape  # OpenCV orders rows by cell, then anchor
        rows.append(torch.from_numpy(layer).view(h, w, a, k).permute(2, 0, 1, 3).reshape(-1, k))
    theirs = torch.cat(rows)
    ours = decode(outputs, config)[0]
    cxcywh = torch.cat([(ours[:, :2] + ours[:, 2:4]) / 2, ours[:, 2:4] - ours[:, :2]], 1) / 320
    torch.testing.assert_close(cxcywh, theirs[:, :4], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(ours[:, 4], theirs[:, 4], atol=1e-5, rtol=0)
    scores, kept = ours[:, 5:] * ours[:, 4:5], theirs[:, 5:] > 0  # OpenCV zeroes those < 0.2
    assert kept.float().mean() > 0.1
    torch.testing.assert_close(scores[kept], theirs[:, 5:][kept], atol=1e-5, rtol=0)
    assert (scores[~kept] < 0.2 + 1e-5).all()
