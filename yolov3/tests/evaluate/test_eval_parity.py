"""Our COCO evaluator against pycocotools, number by number."""

import numpy as np
import pytest
import torch

from yolov3.evaluate import evaluate_detections, evaluate_with_pycocotools

STAT_TOL = 1e-4


def assert_parity(preds, gts, num_classes):
    ours = evaluate_detections(preds, gts, num_classes)
    ref = evaluate_with_pycocotools(preds, gts, num_classes)
    np.testing.assert_allclose(ours.as_array(), ref, atol=STAT_TOL, rtol=0)
    return ours


def random_set(rng, n_images, num_classes, crowd=False, max_gt=8, max_det=30):
    """Detections that jitter real boxes (so every IoU threshold matters) plus false alarms."""
    preds, gts = [], []
    for _ in range(n_images):
        m = int(rng.integers(0, max_gt + 1))
        xy = rng.uniform(0, 500, (m, 2))
        wh = np.exp(rng.uniform(np.log(4), np.log(300), (m, 2)))
        boxes, labels = np.c_[xy, xy + wh], rng.integers(0, num_classes, m)
        gt = {"boxes": boxes, "labels": labels}
        if crowd:
            gt["difficult"] = rng.random(m) < 0.2
        gts.append(gt)
        n = int(rng.integers(0, max_det + 1))
        if m:
            src = rng.integers(0, m, n)
            det = boxes[src] + rng.normal(0, 1, (n, 4)) * np.c_[wh[src], wh[src]] * 0.15
            det_labels = np.where(
                rng.random(n) < 0.85, labels[src], rng.integers(0, num_classes, n)
            )
        else:
            xy = rng.uniform(0, 500, (n, 2))
            det = np.c_[xy, xy + rng.uniform(4, 100, (n, 2))]
            det_labels = rng.integers(0, num_classes, n)
        det = np.c_[np.minimum(det[:, :2], det[:, 2:]), np.maximum(det[:, :2], det[:, 2:])]
        # coarse scores: ties within and across images are common
        scores = np.round(rng.random(n), 1 if rng.random() < 0.5 else 3)
        preds.append({"boxes": det, "scores": scores, "labels": det_labels})
    return preds, gts


@pytest.mark.parametrize("seed", range(8))
def test_parity_on_random_detection_sets(seed):
    rng = np.random.default_rng(seed)
    preds, gts = random_set(rng, n_images=40, num_classes=4)
    ours = assert_parity(preds, gts, 4)
    assert 0 < ours.ap < ours.ap50 <= 1  # a meaningful set, not all -1 or all 1


@pytest.mark.parametrize("seed", range(3))
def test_parity_with_crowd_regions(seed):
    rng = np.random.default_rng(100 + seed)
    preds, gts = random_set(rng, n_images=40, num_classes=3, crowd=True)
    assert_parity(preds, gts, 3)


def test_iscrowd_is_read_like_difficult():
    rng = np.random.default_rng(12)
    preds, gts = random_set(rng, n_images=20, num_classes=2, crowd=True)
    crowd = [{"boxes": g["boxes"], "labels": g["labels"], "iscrowd": g["difficult"]} for g in gts]
    ours = evaluate_detections(preds, crowd, 2).as_array()
    np.testing.assert_array_equal(ours, evaluate_detections(preds, gts, 2).as_array())


def test_hand_computed_average_precision():
    gts = [{"boxes": [[0, 0, 10, 10], [20, 20, 40, 40]], "labels": [0, 0]}]
    preds = [
        {
            "boxes": [[0, 0, 10, 10], [50, 50, 60, 60], [20, 20, 40, 40]],
            "scores": [0.9, 0.8, 0.7],
            "labels": [0, 0, 0],
        }
    ]
    # recall 0.5, 0.5, 1 with precision 1, 1/2, 2/3 -> envelope 1 up to recall 0.5, then 2/3
    expected = (51 * 1.0 + 50 * (2 / 3)) / 101
    ours = assert_parity(preds, gts, 1)
    assert ours.ap50 == pytest.approx(expected) and ours.ap == pytest.approx(expected)
    assert ours.stats["AR1"] == pytest.approx(0.5) and ours.stats["AR100"] == pytest.approx(1)
    assert ours.stats["APs"] == pytest.approx(expected)  # both truths are small (area <= 32**2)
    assert ours.stats["APm"] == -1 and ours.stats["APl"] == -1


def test_images_without_ground_truth():
    rng = np.random.default_rng(7)
    preds, gts = random_set(rng, n_images=30, num_classes=3)
    for i in range(0, 30, 3):  # a third of the images: no truth, detections all false
        gts[i] = {"boxes": np.zeros((0, 4)), "labels": np.zeros(0, np.int64)}
    assert_parity(preds, gts, 3)


def test_classes_without_ground_truth():
    rng = np.random.default_rng(8)
    preds, gts = random_set(rng, n_images=30, num_classes=3)
    for gt in gts:  # class 2 has detections but no truth; class 3 has neither
        keep = gt["labels"] != 2
        gt["boxes"], gt["labels"] = gt["boxes"][keep], gt["labels"][keep]
    ours = assert_parity(preds, gts, 4)
    assert set(ours.per_class) == {"class0", "class1"}


def test_duplicate_detections_and_tied_scores():
    rng = np.random.default_rng(9)
    preds, gts = random_set(rng, n_images=30, num_classes=2)
    for p in preds:  # every detection twice, and half the scores forced equal
        p["boxes"] = np.r_[p["boxes"], p["boxes"]]
        p["labels"] = np.r_[p["labels"], p["labels"]]
        p["scores"] = np.r_[p["scores"], p["scores"]]
        p["scores"][::2] = 0.5
    assert_parity(preds, gts, 2)


def test_tied_scores_are_broken_by_image_then_input_order():
    gts = [
        {"boxes": [[0, 0, 10, 10]], "labels": [0]},
        {"boxes": [[0, 0, 10, 10]], "labels": [0]},
    ]
    tp, fp = [0, 0, 10, 10], [100, 100, 110, 110]
    preds = [
        {"boxes": [fp, tp], "scores": [0.5, 0.5], "labels": [0, 0]},
        {"boxes": [tp, fp], "scores": [0.5, 0.5], "labels": [0, 0]},
    ]
    # order fp, tp, tp, fp: precision 0, 1/2, 2/3, 1/2 -> envelope 2/3 everywhere
    ours = assert_parity(preds, gts, 1)
    assert ours.ap50 == pytest.approx(2 / 3)


def test_iou_exactly_at_thresholds():
    gt = [0.0, 0.0, 10.0, 10.0]
    heights = [5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0, 9.5]  # IoU 0.50, 0.55, ... 0.95
    gts = [{"boxes": [gt], "labels": [0]} for _ in heights]
    preds = [{"boxes": [[0, 0, 10, h]], "scores": [0.9], "labels": [0]} for h in heights]
    ours = assert_parity(preds, gts, 1)
    assert ours.ap50 == pytest.approx(1.0)  # IoU == 0.5 counts as a match


def test_equal_iou_goes_to_the_later_truth():
    # the first detection overlaps both truths with IoU 2/3; pycocotools gives it the later
    # one, which leaves the first truth for the second detection: two true positives
    gts = [{"boxes": [[0, 0, 10, 10], [0, 5, 10, 15]], "labels": [0, 0]}]
    preds = [{"boxes": [[0, 0, 10, 15], [0, 0, 10, 10]], "scores": [0.9, 0.8], "labels": [0, 0]}]
    ours = assert_parity(preds, gts, 1)
    assert ours.ap50 == pytest.approx(1.0)


def test_hundred_detection_cap_per_image_and_class():
    gts = [{"boxes": [[i * 10.0, 0, i * 10 + 8, 8] for i in range(30)], "labels": [0] * 30}]
    # 150 detections of class 0: the 100 best are false, the true ones come after the cap;
    # class 1 has its own 100 and is unaffected by class 0's
    far = [[1000 + i, 1000, 1010 + i, 1010] for i in range(120)]
    true = [[i * 10.0, 0, i * 10 + 8, 8] for i in range(30)]
    preds = [
        {
            "boxes": far + true + true[:5],
            "scores": [0.9] * 120 + [0.1] * 30 + [0.95] * 5,
            "labels": [0] * 150 + [1] * 5,
        }
    ]
    ours = assert_parity(preds, gts, 2)
    assert ours.stats["AR100"] == 0.0  # the true ones fell past the cap


def test_area_ranges_at_their_boundaries():
    sides = [31.0, 32.0, 33.0, 95.0, 96.0, 97.0]  # areas on either side of 32**2 and 96**2
    gts = [{"boxes": [[0, 0, s, s]], "labels": [0]} for s in sides]
    preds = [{"boxes": [[0, 0, s, s * 0.8]], "scores": [0.5], "labels": [0]} for s in sides]
    preds[0]["boxes"].append([200, 200, 210, 210])  # a small false positive
    preds[0]["scores"].append(0.9)
    preds[0]["labels"].append(0)
    ours = assert_parity(preds, gts, 1)
    assert all(ours.stats[k] > 0 for k in ("APs", "APm", "APl"))


def test_no_detections_at_all_and_no_truth_at_all():
    rng = np.random.default_rng(3)
    _, gts = random_set(rng, n_images=10, num_classes=2)
    empty = [{"boxes": np.zeros((0, 4)), "scores": np.zeros(0), "labels": np.zeros(0)}] * 10
    ours = assert_parity(empty, gts, 2)
    assert ours.ap == 0 and ours.stats["AR100"] == 0
    no_truth = [{"boxes": np.zeros((0, 4)), "labels": np.zeros(0)}] * 10
    assert evaluate_detections(empty, no_truth, 2).ap == -1


def test_accepts_tensors_like_postprocess_returns():
    rng = np.random.default_rng(11)
    preds, gts = random_set(rng, n_images=10, num_classes=3)
    as_torch = [
        {
            k: torch.as_tensor(v, dtype=torch.int64 if k == "labels" else torch.float32)
            for k, v in p.items()
        }
        for p in preds
    ]
    assert_parity(as_torch, gts, 3)


def test_bad_input_is_reported():
    gt = [{"boxes": [[0, 0, 1, 1]], "labels": [0]}]
    pred = [{"boxes": [[0, 0, 1, 1]], "scores": [1.0], "labels": [3]}]
    with pytest.raises(ValueError, match=r"prediction 0: label 3 outside 0..1"):
        evaluate_detections(pred, gt, 2)
    with pytest.raises(ValueError, match="1 predictions for 2 ground truths"):
        evaluate_detections(pred, gt * 2, 4)
    pred = [{"boxes": [[0, 0, 1, 1]], "scores": [1.0, 0.5], "labels": [0]}]
    with pytest.raises(ValueError, match="1 boxes, 1 labels and 2 scores"):
        evaluate_detections(pred, gt, 2)


def test_parity_when_pairs_are_split_into_many_blocks(monkeypatch):
    from yolov3.evaluate import matching

    monkeypatch.setattr(matching, "BLOCK_ELEMENTS", 60)
    monkeypatch.setattr(matching, "BLOCK_PAIRS_X_TRUTHS", 12)
    rng = np.random.default_rng(21)
    preds, gts = random_set(rng, n_images=40, num_classes=3, crowd=True)
    blocks = list(matching.iou_blocks(*_tables(preds, gts, 3), 3))
    assert len(blocks) > 10
    assert_parity(preds, gts, 3)


def _tables(preds, gts, num_classes):
    from yolov3.evaluate.matching import build_table

    return build_table(preds, num_classes, "prediction"), build_table(gts, num_classes, "truth")
