import numpy as np
import pytest

from yolov3.evaluate import confusion_matrix, evaluate_detections, voc_ap

GTS = [{"boxes": [[0, 0, 10, 10], [20, 20, 40, 40]], "labels": [0, 0]}]
PREDS = [
    {
        "boxes": [[0, 0, 10, 10], [50, 50, 60, 60], [20, 20, 40, 40]],
        "scores": [0.9, 0.8, 0.7],
        "labels": [0, 0, 0],
    }
]


def test_voc_ap_by_hand():
    # recall .5 .5 1, precision 1 .5 2/3
    mean, per_class = voc_ap(PREDS, GTS, 1, method="voc")
    assert mean == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    mean07, _ = voc_ap(PREDS, GTS, 1, method="voc07")
    assert mean07 == pytest.approx((6 * 1 + 5 * 2 / 3) / 11)
    assert per_class.shape == (1,)


def reference_voc(preds, gts, k, thresh, use_07):
    """The devkit's voc_eval, written as plainly as the original."""
    dets = [
        (s, i, np.asarray(b, float))
        for i, p in enumerate(preds)
        for b, s, lab in zip(p["boxes"], p["scores"], p["labels"], strict=True)
        if lab == k
    ]
    dets.sort(key=lambda d: -d[0])
    truth = {}
    for i, g in enumerate(gts):
        mine = np.asarray(g["labels"]) == k
        truth[i] = (np.asarray(g["boxes"], float).reshape(-1, 4)[mine], g["difficult"][mine])
    npos = sum(int((~d).sum()) for _, d in truth.values())
    taken = {i: np.zeros(len(b), bool) for i, (b, _) in truth.items()}
    tp, fp = np.zeros(len(dets)), np.zeros(len(dets))
    for n, (_, i, bb) in enumerate(dets):
        boxes, difficult = truth[i]
        ovmax = -np.inf
        if len(boxes):
            iw = np.maximum(np.minimum(boxes[:, 2], bb[2]) - np.maximum(boxes[:, 0], bb[0]), 0)
            ih = np.maximum(np.minimum(boxes[:, 3], bb[3]) - np.maximum(boxes[:, 1], bb[1]), 0)
            inter = iw * ih
            union = (bb[2] - bb[0]) * (bb[3] - bb[1]) + np.prod(boxes[:, 2:] - boxes[:, :2], 1)
            ov = inter / (union - inter)
            ovmax, j = ov.max(), ov.argmax()
        if ovmax > thresh:
            if not difficult[j]:
                if not taken[i][j]:
                    tp[n], taken[i][j] = 1, True
                else:
                    fp[n] = 1
        else:
            fp[n] = 1
    tp, fp = np.cumsum(tp), np.cumsum(fp)
    rec, prec = tp / npos, tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    if use_07:
        return np.mean(
            [prec[rec >= t].max() if (rec >= t).any() else 0 for t in np.arange(0, 1.1, 0.1)]
        )
    mrec, mpre = np.r_[0, rec, 1], np.r_[0, prec, 0]
    for i in range(len(mpre) - 1, 0, -1):
        mpre[i - 1] = max(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])


@pytest.mark.parametrize("method", ["voc", "voc07"])
def test_voc_ap_matches_devkit_logic_on_random_sets(method):
    from test_eval_parity import random_set

    rng = np.random.default_rng(5)
    preds, gts = random_set(rng, n_images=30, num_classes=3, crowd=True)
    for p in preds:  # distinct scores: the devkit's unstable sort leaves ties undefined
        p["scores"] = p["scores"] + rng.random(len(p["scores"])) * 1e-6
    _, ours = voc_ap(preds, gts, 3, method=method)
    expected = [reference_voc(preds, gts, k, 0.5, method == "voc07") for k in range(3)]
    np.testing.assert_allclose(ours, expected, atol=1e-12)


def test_voc_rejects_unknown_method():
    with pytest.raises(ValueError, match="unknown VOC method 'coco'"):
        voc_ap(PREDS, GTS, 1, method="coco")


def test_best_f1_threshold():
    result = evaluate_detections(PREDS, GTS, 1)
    # keeping all three: P 2/3, R 1, F1 0.8 beats keeping only the first (F1 2/3)
    point = result.best_f1
    assert point.f1 == pytest.approx(0.8)
    assert point.precision == pytest.approx(2 / 3) and point.recall == pytest.approx(1.0)
    assert point.conf == pytest.approx(0.7, abs=1e-3)
    assert result.f1_curves.shape == (3, 1001)


def test_confusion_matrix_counts_hits_confusions_misses_and_false_alarms():
    gts = [{"boxes": [[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]], "labels": [0, 1, 1]}]
    preds = [
        {
            "boxes": [
                [0, 0, 10, 10],
                [20, 0, 30, 9],
                [21, 0, 30, 10],
                [100, 100, 110, 110],
                [40, 0, 50, 10],
            ],
            "scores": [0.9, 0.8, 0.7, 0.6, 0.1],
            "labels": [0, 0, 1, 1, 1],
        }
    ]
    m = confusion_matrix(preds, gts, 2, conf_thresh=0.25)
    # truth 0 -> 0; truth 1 at x=20: two candidates, the better IoU (0.9 each: tie, first
    # kept) is the class-0 one; the other detection is a false alarm; truth 1 at x=40 missed
    # (its detection is below the threshold); detection far away: false alarm
    expected = np.array([[1, 0, 0], [1, 0, 1], [0, 2, 0]])
    np.testing.assert_array_equal(m, expected)
    assert m.sum() == 5
