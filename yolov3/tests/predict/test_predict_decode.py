import math

import pytest
import torch

from yolov3.config import ModelConfig
from yolov3.predict import decode, postprocess


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def tiny_outputs(cfg: ModelConfig, size: int = 64, batch: int = 1) -> list[torch.Tensor]:
    """All-zero logits except where a test writes: every box centred in its cell."""
    return [
        torch.full((batch, cfg.num_anchors, size // s, size // s, 5 + cfg.num_classes), -20.0)
        for s in cfg.strides
    ]


def test_decode_places_box_from_grid_cell_stride_and_anchor():
    cfg = ModelConfig.tiny(num_classes=2)  # strides (32, 16)
    outs = tiny_outputs(cfg)
    # scale 1 (stride 16, 4x4 grid), anchor 2 = (37, 58), row 3, column 1
    outs[1][0, 2, 3, 1, :5] = torch.tensor([logit(0.25), logit(0.75), math.log(2.0), 0.0, 0.0])
    outs[1][0, 2, 3, 1, 5:] = torch.tensor([logit(0.9), logit(0.2)])
    dec = decode(outs, cfg)
    n_coarse = 3 * 2 * 2
    assert dec.shape == (1, n_coarse + 3 * 4 * 4, 7)
    row = dec[0, n_coarse + 2 * 16 + 3 * 4 + 1]
    cx, cy, w, h = (1 + 0.25) * 16, (3 + 0.75) * 16, 2 * 37, 58
    expected = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, 0.5, 0.9, 0.2]
    torch.testing.assert_close(row, torch.tensor(expected))


def test_decode_uses_per_scale_anchors_in_scale_order():
    cfg = ModelConfig(num_classes=1)  # strides (32, 16, 8)
    outs = [torch.zeros(1, 3, 64 // s, 64 // s, 6) for s in cfg.strides]
    dec = decode(outs, cfg)
    wh = dec[0, :, 2:4] - dec[0, :, :2]
    sizes = [3 * (64 // s) ** 2 for s in cfg.strides]
    starts = [0, sizes[0], sizes[0] + sizes[1]]
    for scale, start in enumerate(starts):
        for a, anchor in enumerate(cfg.anchors[scale]):
            cells = (64 // cfg.strides[scale]) ** 2
            torch.testing.assert_close(
                wh[start + a * cells], torch.tensor(anchor, dtype=torch.float32)
            )
    # centre of the first cell of the finest scale: half a stride
    torch.testing.assert_close(dec[0, starts[2], :2] + wh[starts[2]] / 2, torch.tensor([4.0, 4.0]))


def test_decode_rejects_mismatched_outputs():
    cfg = ModelConfig.tiny(num_classes=2)
    with pytest.raises(ValueError, match="output scales"):
        decode([torch.zeros(1, 3, 2, 2, 7)], cfg)
    with pytest.raises(ValueError, match="2 classes"):
        decode([torch.zeros(1, 3, 2, 2, 8), torch.zeros(1, 3, 4, 4, 8)], cfg)


def rows(*dets: tuple) -> torch.Tensor:
    """Decoded rows from (x1, y1, x2, y2, obj, p0, p1, p2)."""
    return torch.tensor([list(d) for d in dets], dtype=torch.float32)[None]


def test_postprocess_scores_are_objectness_times_class_probability():
    dec = rows((0, 0, 10, 10, 0.5, 0.2, 0.9, 0.1))
    (out,) = postprocess(dec, conf_thresh=0.3)
    torch.testing.assert_close(out["scores"], torch.tensor([0.45]))
    assert out["labels"].tolist() == [1] and out["labels"].dtype == torch.int64
    (out,) = postprocess(dec, conf_thresh=0.46)
    assert len(out["scores"]) == 0 and out["boxes"].shape == (0, 4)


def test_postprocess_nms_is_class_aware():
    dec = rows(
        (0, 0, 10, 10, 1.0, 0.9, 0.0, 0.0),  # class 0, best
        (1, 0, 11, 10, 1.0, 0.8, 0.0, 0.0),  # class 0, IoU 0.818 with the first: suppressed
        (1, 0, 11, 10, 1.0, 0.0, 0.7, 0.0),  # same place, class 1: kept
        (20, 20, 30, 30, 1.0, 0.6, 0.0, 0.0),  # class 0, disjoint: kept
        (5, 0, 15, 10, 1.0, 0.5, 0.0, 0.0),  # class 0, IoU 1/3 with the first: kept at 0.5
    )
    (out,) = postprocess(dec, conf_thresh=0.1, iou_thresh=0.5)
    assert out["labels"].tolist() == [0, 1, 0, 0]
    torch.testing.assert_close(out["scores"], torch.tensor([0.9, 0.7, 0.6, 0.5]))
    (out,) = postprocess(dec, conf_thresh=0.1, iou_thresh=0.3)
    assert out["scores"].tolist() == pytest.approx([0.9, 0.7, 0.6])


def test_postprocess_caps_detections_and_filters_classes():
    dets = [(10 * i, 0, 10 * i + 5, 5, 1.0, 0.9 - 0.01 * i, 0.0, 0.5) for i in range(20)]
    dec = rows(*dets)
    (out,) = postprocess(dec, conf_thresh=0.01, max_det=7)
    assert len(out["scores"]) == 7
    torch.testing.assert_close(out["scores"], torch.tensor([0.9 - 0.01 * i for i in range(7)]))
    (out,) = postprocess(dec, conf_thresh=0.01, classes=[2])
    assert out["labels"].tolist() == [] and out["boxes"].shape == (0, 4)
    (out,) = postprocess(dec, conf_thresh=0.01, classes=[2], multi_label=True)
    assert out["labels"].tolist() == [2] * 20


def test_postprocess_multi_label_keeps_every_class_above_threshold():
    dec = rows((0, 0, 10, 10, 0.8, 0.9, 0.5, 0.1))
    (out,) = postprocess(dec, conf_thresh=0.3, multi_label=True)
    assert out["labels"].tolist() == [0, 1]
    torch.testing.assert_close(out["scores"], torch.tensor([0.72, 0.4]))
    (single,) = postprocess(dec, conf_thresh=0.3)
    assert single["labels"].tolist() == [0]


def test_postprocess_handles_batches_and_empty_images():
    dec = torch.cat([rows((0, 0, 4, 4, 0.9, 0.9, 0.0, 0.0)), torch.zeros(1, 1, 8)])
    a, b = postprocess(dec, conf_thresh=0.5)
    assert len(a["scores"]) == 1 and len(b["scores"]) == 0
    assert b["labels"].dtype == torch.int64


def test_decode_then_postprocess_end_to_end():
    cfg = ModelConfig.tiny(num_classes=3)
    outs = tiny_outputs(cfg, batch=2)
    outs[0][1, 0, 1, 0, :] = torch.tensor([0, 0, 0, 0, 5.0, -5.0, 5.0, -5.0])
    results = postprocess(decode(outs, cfg), conf_thresh=0.25)
    assert [len(r["scores"]) for r in results] == [0, 1]
    cx, cy, (w, h) = 16.0, 48.0, cfg.anchors[0][0]
    torch.testing.assert_close(
        results[1]["boxes"][0], torch.tensor([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    )
    assert results[1]["labels"].tolist() == [1]
