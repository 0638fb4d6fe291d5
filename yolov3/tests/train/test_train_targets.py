import pytest
import torch

from yolov3.config import ModelConfig
from yolov3.train import build_targets

GRIDS_416 = [(13, 13), (26, 26), (52, 52)]


def box(batch: int, cls: int, cx: float, cy: float, w: float, h: float) -> list[float]:
    return [batch, cls, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def as_tuples(t) -> set[tuple[int, ...]]:
    rows = zip(t.batch, t.anchor, t.gy, t.gx, t.labels, strict=True)
    return {tuple(int(v) for v in row) for row in rows}


def test_each_box_goes_to_its_best_anchor_and_centre_cell():
    targets = torch.tensor(
        [
            # exactly anchor (116, 90): scale 0 (stride 32) anchor 0, cell x 200//32=6, y 100//32=3
            box(0, 2, 200, 100, 116, 90),
            # exactly anchor (30, 61): scale 1 (stride 16) anchor 0, cell x 50//16=3, y 300//16=18
            box(1, 5, 50, 300, 30, 61),
            # exactly anchor (16, 30): scale 2 (stride 8) anchor 1, cell x 415//8=51, y 10//8=1
            box(1, 0, 415, 10, 16, 30),
        ]
    )
    s0, s1, s2 = build_targets(targets, ModelConfig(), GRIDS_416)
    assert as_tuples(s0) == {(0, 0, 3, 6, 2)}
    assert as_tuples(s1) == {(1, 0, 18, 3, 5)}
    assert as_tuples(s2) == {(1, 1, 1, 51, 0)}
    torch.testing.assert_close(s1.boxes, targets[1:2, 2:])
    torch.testing.assert_close(s1.anchor_wh, torch.tensor([[30.0, 61.0]]))
    assert s2.target_index.tolist() == [2]


def test_multi_anchor_threshold_adds_anchors_on_other_scales():
    # A 40x40 box. Shape IoU with each anchor, by hand:
    #   (62, 45): 1600 / (1600 + 2790 - 1600) = 0.573  <- best: scale 1, anchor 1
    #   (30, 61): 1200 / (1600 + 1830 - 1200) = 0.538  scale 1, anchor 0
    #   (33, 23):  759 / (1600 +  759 -  759) = 0.474  scale 2, anchor 2
    #   (16, 30):  480 / 1600 = 0.300; (59, 119): 1600 / 7021 = 0.228; the rest lower.
    targets = torch.tensor([box(0, 1, 100, 60, 40, 40)])
    cfg = ModelConfig()
    _, s1, s2 = build_targets(targets, cfg, GRIDS_416)
    assert as_tuples(s1) == {(0, 1, 60 // 16, 100 // 16, 1)} and len(s2) == 0
    s0, s1, s2 = build_targets(targets, cfg, GRIDS_416, multi_anchor_thresh=0.5)
    assert {int(a) for a in s1.anchor} == {0, 1} and len(s0) == len(s2) == 0
    s0, s1, s2 = build_targets(targets, cfg, GRIDS_416, multi_anchor_thresh=0.45)
    assert {int(a) for a in s1.anchor} == {0, 1}
    assert as_tuples(s2) == {(0, 2, 60 // 8, 100 // 8, 1)} and len(s0) == 0


def test_centre_on_the_far_edge_stays_on_the_grid():
    # centre x = 416 would be cell 52 of a 52-wide grid; it belongs to the last cell.
    targets = torch.tensor([box(0, 0, 416, 416, 10, 13)])
    *_, s2 = build_targets(targets, ModelConfig(), GRIDS_416)
    assert (int(s2.gy[0]), int(s2.gx[0]), int(s2.anchor[0])) == (51, 51, 0)


def test_tiny_config_uses_two_scales_and_non_square_grids():
    cfg = ModelConfig.tiny()
    # 320 wide x 256 high input: grids (8, 10) and (16, 20); box = anchor (135, 169)
    targets = torch.tensor([box(3, 7, 300, 250, 135, 169)])
    s0, s1 = build_targets(targets, cfg, [(8, 10), (16, 20)])
    assert as_tuples(s0) == {(3, 1, 7, 9, 7)} and len(s1) == 0


def test_no_boxes_gives_empty_targets_of_the_right_shapes():
    result = build_targets(torch.zeros(0, 6), ModelConfig(), GRIDS_416, multi_anchor_thresh=0.2)
    assert len(result) == 3
    for t in result:
        assert len(t) == 0 and t.boxes.shape == (0, 4) and t.anchor_wh.shape == (0, 2)
        assert t.batch.dtype == torch.long


def test_wrong_number_of_grids_is_refused():
    with pytest.raises(ValueError, match="grid sizes"):
        build_targets(torch.zeros(0, 6), ModelConfig(), [(13, 13)])
