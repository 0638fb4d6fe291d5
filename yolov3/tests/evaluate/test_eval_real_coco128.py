"""The official YOLOv3-tiny weights on coco128 val2017 at 416: our whole inference path and
our evaluator against two independent references, pycocotools and OpenCV's Darknet importer."""

from pathlib import Path

import numpy as np
import pytest
import torch

from yolov3.data import read_dataset
from yolov3.evaluate import (
    evaluate_detections,
    evaluate_with_pycocotools,
    ground_truths_from_records,
)
from yolov3.predict import Detector, predict_images

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"
DARKNET, COCO128 = SHARED / "darknet", SHARED / "coco128"
CONF, NMS_IOU, SIZE = 0.25, 0.45, 416

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (DARKNET / "yolov3-tiny.weights").is_file() or not COCO128.is_dir(),
        reason=f"shared Darknet weights or coco128 not found under {SHARED}",
    ),
]


def opencv_detections(image_rgb: np.ndarray, net) -> dict[str, torch.Tensor]:
    """OpenCV DNN's YOLOv3-tiny detections, letterboxed by hand (independently of ours)."""
    import cv2

    h, w = image_rgb.shape[:2]
    scale = SIZE / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image_rgb, (nw, nh), interpolation=interp)
    left, top = (SIZE - nw) // 2, (SIZE - nh) // 2
    canvas = np.full((SIZE, SIZE, 3), 114, np.uint8)
    canvas[top : top + nh, left : left + nw] = resized
    net.setInput(cv2.dnn.blobFromImage(canvas, 1 / 255.0, (SIZE, SIZE), swapRB=False))
    rows = np.concatenate(net.forward(net.getUnconnectedOutLayersNames()))
    scores_all = rows[:, 5:]  # OpenCV's region layer already multiplies by objectness
    labels = scores_all.argmax(1)
    scores = scores_all[np.arange(len(rows)), labels]
    keep = scores > CONF
    rows, labels, scores = rows[keep], labels[keep], scores[keep]
    cx, cy, bw, bh = (rows[:, k] * SIZE for k in range(4))
    xywh = np.stack([cx - bw / 2, cy - bh / 2, bw, bh], 1)
    kept = cv2.dnn.NMSBoxesBatched(xywh.tolist(), scores.tolist(), labels.tolist(), CONF, NMS_IOU)
    kept = np.asarray(kept, int).reshape(-1)
    x1 = (xywh[kept, 0] - left) / scale
    y1 = (xywh[kept, 1] - top) / scale
    boxes = np.stack([x1, y1, x1 + xywh[kept, 2] / scale, y1 + xywh[kept, 3] / scale], 1)
    boxes[:, 0::2] = boxes[:, 0::2].clip(0, w)
    boxes[:, 1::2] = boxes[:, 1::2].clip(0, h)
    return {
        "boxes": torch.as_tensor(boxes.reshape(-1, 4)),
        "scores": torch.as_tensor(scores[kept]),
        "labels": torch.as_tensor(labels[kept]),
    }


def above(preds, conf):
    return [{k: v[p["scores"] > conf] for k, v in p.items()} for p in preds]


def test_official_tiny_weights_on_coco128_agree_with_pycocotools_and_opencv():
    import cv2

    from yolov3.data import load_image

    torch.set_num_threads(2)
    data = read_dataset(COCO128, "yolo", "val2017")
    truths = ground_truths_from_records(data.records, 80)
    detector = Detector.from_darknet(
        DARKNET / "yolov3-tiny.cfg",
        DARKNET / "yolov3-tiny.weights",
        img_size=SIZE,
        conf_thresh=0.001,
        iou_thresh=NMS_IOU,
        device="cpu",
    )
    ours = predict_images(detector, [r.path for r in data.records], batch_size=8)

    # 1. our evaluator and pycocotools on the same detections (yolov3 val's defaults)
    result = evaluate_detections(ours, truths, 80)
    reference = evaluate_with_pycocotools(ours, truths, 80)
    np.testing.assert_allclose(result.as_array(), reference, atol=1e-4, rtol=0)
    assert 0.25 < result.ap50 < 0.4 and 0.15 < result.ap < 0.25

    # 2. OpenCV's independent network, same weights and thresholds: same AP within 0.5 AP
    # (NMS above a score threshold keeps the same boxes as thresholding before NMS)
    net = cv2.dnn.readNetFromDarknet(
        str(DARKNET / "yolov3-tiny.cfg"), str(DARKNET / "yolov3-tiny.weights")
    )
    theirs = [opencv_detections(load_image(r.path), net) for r in data.records]
    ours_at_conf = evaluate_detections(above(ours, CONF), truths, 80)
    opencv_at_conf = evaluate_detections(theirs, truths, 80)
    assert ours_at_conf.ap50 == pytest.approx(opencv_at_conf.ap50, abs=0.005)
    assert ours_at_conf.ap == pytest.approx(opencv_at_conf.ap, abs=0.005)
    print(
        f"\nconf 0.001: AP50 {result.ap50:.4f} AP {result.ap:.4f} "
        f"(pycocotools {reference[1]:.4f} {reference[0]:.4f}); conf {CONF}: ours AP50 "
        f"{ours_at_conf.ap50:.4f} AP {ours_at_conf.ap:.4f}, OpenCV AP50 "
        f"{opencv_at_conf.ap50:.4f} AP {opencv_at_conf.ap:.4f}"
    )
