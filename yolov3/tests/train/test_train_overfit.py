"""The whole training path can memorise one image: the classic sanity check of a detector."""

import numpy as np
import pytest
import torch
from torchvision.ops import box_iou

from yolov3.config import ModelConfig, TrainConfig
from yolov3.model import build_model
from yolov3.predict import decode, postprocess
from yolov3.synthetic import SHAPES, ShapesSpec, render_image
from yolov3.train import TrainState, train_one_epoch
from yolov3.train.loss import YoloLoss
from yolov3.train.optimizer import build_optimizer
from yolov3.train.scheduler import build_schedule

SIZE = 128
STEPS = 200


def _one_image_batch():
    spec = ShapesSpec(image_size=SIZE, min_objects=3, max_objects=3, min_size=28, max_size=52)
    image, boxes, labels = render_image(np.random.default_rng(3), spec)
    assert len(boxes) == 3
    images = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    targets = torch.zeros(3, 6)
    targets[:, 1] = torch.from_numpy(labels).float()
    targets[:, 2:] = torch.from_numpy(boxes).float()
    return images, targets


@pytest.mark.slow
def test_overfits_one_image_with_three_objects():
    torch.manual_seed(0)
    config = ModelConfig.tiny(num_classes=len(SHAPES))
    hyp = TrainConfig(
        img_size=SIZE,
        epochs=1,
        optimizer="adam",
        lr0=3e-3,
        burn_in_epochs=0.0,
        ema=False,
        grad_clip=10.0,
        progress=False,
    )
    model = build_model(config)
    model.init_head_biases(SIZE)
    images, targets = _one_image_batch()
    state = TrainState(
        model=model,
        criterion=YoloLoss(config, hyp),
        optimizer=build_optimizer(model, hyp, world_batch=1, accumulate=1),
        schedule=build_schedule(hyp, STEPS),
        config=hyp,
        accumulate=1,
    )
    with torch.no_grad():
        before = state.criterion(model(images), targets)["total"].item()
    stats = train_one_epoch(state, [(images, targets, [{}])] * STEPS, epoch=0)
    # Still in training mode: BatchNorm normalises with this image's own statistics, which
    # is what its slowly updated running averages tend to; the test is about memorising.
    with torch.no_grad():
        outputs = model(images)
        after = state.criterion(outputs, targets)["total"].item()
        dets = postprocess(decode(outputs, config), conf_thresh=0.25, iou_thresh=0.5)[0]
    assert stats["skipped"] == 0
    assert after < before / 10, (before, after)
    for box, label in zip(targets[:, 2:], targets[:, 1].long(), strict=True):
        same_class = dets["labels"] == label
        assert same_class.any(), f"no detection of class {label}"
        best = box_iou(box[None], dets["boxes"][same_class]).max()
        assert best > 0.7, (box, dets)
