import torch

from yolov3.boxes import normalized_cxcywh_to_xyxy, wh_iou, xyxy_to_normalized_cxcywh
from yolov3.cli import main
from yolov3.config import ModelConfig


def test_yolo_boxes_round_trip_through_canonical_xyxy():
    yolo = torch.tensor([[0.5, 0.5, 0.2, 0.4], [0.1, 0.2, 0.1, 0.1]])
    xyxy = normalized_cxcywh_to_xyxy(yolo, width=640, height=480)
    assert xyxy.shape == (2, 4)
    torch.testing.assert_close(xyxy[0], torch.tensor([256.0, 144.0, 384.0, 336.0]))
    torch.testing.assert_close(xyxy_to_normalized_cxcywh(xyxy, 640, 480), yolo)


def test_shape_iou_matches_hand_computation():
    iou = wh_iou(torch.tensor([[10.0, 10.0]]), torch.tensor([[10.0, 10.0], [20.0, 5.0]]))
    assert iou.shape == (1, 2)
    torch.testing.assert_close(iou, torch.tensor([[1.0, 50.0 / 150.0]]))


def test_model_config_validates_and_round_trips():
    cfg = ModelConfig.tiny(num_classes=3, class_names=("a", "b", "c"))
    assert cfg.num_anchors == 3 and cfg.strides == (32, 16)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg


def test_cli_help_lists_commands(capsys):
    try:
        main(["--help"])
    except SystemExit as exc:
        assert exc.code == 0
    assert "demo" in capsys.readouterr().out
