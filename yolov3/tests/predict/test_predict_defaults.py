"""Defaults come from the model: its training size, its cfg's width; arrays in a named order."""

import numpy as np
import torch

from yolov3.checkpoint import save_checkpoint
from yolov3.cli import build_parser
from yolov3.cli.options import build_detector
from yolov3.config import ModelConfig, TrainConfig
from yolov3.model import build_model
from yolov3.model.darknet_io import save_darknet_weights, write_cfg
from yolov3.predict import Detector


def _checkpoint(path, img_size):
    torch.manual_seed(0)
    model = build_model(ModelConfig.tiny(num_classes=2))
    save_checkpoint(
        {"model": model.state_dict(), "model_config": model.config.to_dict(),
         "train_config": TrainConfig(img_size=img_size).to_dict()},
        path,
    )  # fmt: skip
    return path


def test_the_checkpoints_training_size_is_the_default(tmp_path):
    ck = _checkpoint(tmp_path / "best.pt", 320)
    assert Detector.from_checkpoint(ck, device="cpu").img_size == 320
    assert Detector.from_checkpoint(ck, device="cpu", img_size=416).img_size == 416
    for command in (["detect", "x"], ["val", "--data", str(tmp_path)]):
        args = build_parser().parse_args([*command, "--weights", str(ck), "--device", "cpu"])
        assert build_detector(args).img_size == 320
    args = build_parser().parse_args(["detect", "x", "--weights", str(ck), "--img-size", "256"])
    assert build_detector(args, device="cpu").img_size == 256


def test_the_cfg_width_is_the_default_for_darknet_models(tmp_path):
    model = build_model(ModelConfig.tiny(num_classes=2))
    write_cfg(model, tmp_path / "m.cfg", img_size=608)
    save_darknet_weights(model, tmp_path / "m.weights")
    detector = Detector.from_darknet(tmp_path / "m.cfg", tmp_path / "m.weights", device="cpu")
    assert detector.img_size == 608


def test_bgr_arrays_are_read_as_bgr_when_asked(tmp_path):
    ck = _checkpoint(tmp_path / "best.pt", 64)
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (48, 80, 3), dtype=np.uint8)
    rgb[:, :40, 0] = 255  # a red half: channel order matters
    plain = Detector.from_checkpoint(ck, device="cpu", conf_thresh=0.0)
    bgr = Detector.from_checkpoint(ck, device="cpu", conf_thresh=0.0, bgr=True)
    a, b = plain(rgb)[0], bgr(np.ascontiguousarray(rgb[:, :, ::-1]))[0]
    torch.testing.assert_close(a["scores"], b["scores"])
    swapped = plain(np.ascontiguousarray(rgb[:, :, ::-1]))[0]
    assert not torch.equal(swapped["scores"], a["scores"])
