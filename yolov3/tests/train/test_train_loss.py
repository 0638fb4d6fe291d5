import math

import pytest
import torch

from yolov3.config import ModelConfig, TrainConfig
from yolov3.model import build_model
from yolov3.train.loss import YoloLoss, elementwise_iou

TINY = ModelConfig.tiny(num_classes=3)


def _outputs(config: ModelConfig, batch: int = 2, size: int = 64, fill: float = 0.0):
    c = 5 + config.num_classes
    return [
        torch.full((batch, config.num_anchors, size // s, size // s, c), fill, requires_grad=True)
        for s in config.strides
    ]


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _perfect_outputs(config, box, label, size=64, obj=0.999):
    """Outputs whose assigned cell predicts ``box`` exactly (the rest: no object)."""
    from yolov3.train import build_targets

    targets = torch.tensor([[0, label, *box]], dtype=torch.float32)
    grids = [(size // s, size // s) for s in config.strides]
    outs = [o.detach().clone() for o in _outputs(config, 1, size, fill=_logit(1e-4))]
    for scale, st in enumerate(build_targets(targets, config, grids)):
        for b, a, gy, gx in zip(st.batch, st.anchor, st.gy, st.gx, strict=True):
            stride = config.strides[scale]
            cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            w, h = box[2] - box[0], box[3] - box[1]
            aw, ah = config.anchors[scale][a]
            cell = outs[scale][b, a, gy, gx]
            cell[0] = _logit(cx / stride - gx.item())
            cell[1] = _logit(cy / stride - gy.item())
            cell[2], cell[3] = math.log(w / aw), math.log(h / ah)
            cell[4] = _logit(obj)
            cell[5:] = _logit(1e-4)
            cell[5 + label] = _logit(0.999)
    return [o.requires_grad_() for o in outs], targets


def test_losses_are_named_scalars_and_finite_without_boxes():
    loss = YoloLoss(TINY)(_outputs(TINY), torch.zeros(0, 6))
    assert set(loss) == {"box", "obj", "cls", "total"}
    assert all(v.dim() == 0 and torch.isfinite(v) for v in loss.values())
    assert loss["box"] == 0 and loss["cls"] == 0 and loss["obj"] > 0
    loss["total"].backward()  # a graph exists even with no boxes


def test_gradients_reach_first_backbone_layer():
    torch.manual_seed(0)
    model = build_model(TINY)
    targets = torch.tensor([[0, 1, 10.0, 12.0, 40.0, 50.0], [1, 2, 0.0, 0.0, 63.0, 63.0]])
    loss = YoloLoss(TINY)(model(torch.rand(2, 3, 64, 64)), targets)
    loss["total"].backward()
    first_conv = next(m for m in model.backbone.modules() if isinstance(m, torch.nn.Conv2d))
    assert first_conv.weight.grad is not None
    assert first_conv.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("kind", ["ciou", "giou", "mse"])
def test_perfect_prediction_scores_lower_than_a_shifted_one(kind):
    criterion = YoloLoss(TINY, TrainConfig(box_loss=kind))
    outs, targets = _perfect_outputs(TINY, [8.0, 10.0, 40.0, 44.0], label=2)
    perfect = criterion(outs, targets)
    shifted = [o.detach().clone() for o in outs]
    for o in shifted:
        o[..., :2] += 1.5  # moves every box centre
    worse = criterion(shifted, targets)
    assert perfect["box"] < 0.05 * worse["box"] + 1e-6
    assert perfect["cls"] < worse["cls"] + 1e-6
    assert perfect["box"] >= 0


def test_ignore_thresh_spares_good_unassigned_predictions():
    """A second anchor that also predicts the truth well is not punished as background."""
    box = [8.0, 10.0, 40.0, 44.0]
    outs, targets = _perfect_outputs(TINY, box, label=0)
    # Give every other anchor of the positive cell the same box, confidently.
    for scale, o in enumerate(outs):
        pos = o.detach()[..., 4] > 0
        if pos.any():
            b, a, gy, gx = pos.nonzero()[0].tolist()
            with torch.no_grad():
                for other, (aw, ah) in enumerate(TINY.anchors[scale]):
                    o[b, other, gy, gx, :2] = o[b, a, gy, gx, :2]
                    o[b, other, gy, gx, 2] = math.log((box[2] - box[0]) / aw)
                    o[b, other, gy, gx, 3] = math.log((box[3] - box[1]) / ah)
                    o[b, other, gy, gx, 4] = _logit(0.9)
    strict = YoloLoss(TINY, TrainConfig(ignore_thresh=1.0))(outs, targets)
    darknet = YoloLoss(TINY, TrainConfig(ignore_thresh=0.3))(outs, targets)
    assert darknet["obj"] < 0.5 * strict["obj"]


def test_iou_aware_objectness_target_is_the_iou():
    outs, targets = _perfect_outputs(TINY, [8.0, 10.0, 40.0, 44.0], label=0, obj=0.3)
    plain = YoloLoss(TINY, TrainConfig(iou_aware=False))(outs, targets)
    aware = YoloLoss(TINY, TrainConfig(iou_aware=True))(outs, targets)
    # The box is exact, so the IoU target is ~1 and both losses agree.
    torch.testing.assert_close(plain["obj"], aware["obj"], rtol=1e-3, atol=1e-6)
    shrunk = [o.detach().clone() for o in outs]
    for o in shrunk:
        o[..., 2:4] -= 0.7  # half-size boxes: IoU ~ 0.25, closer to obj 0.3 than 1 is
    plain = YoloLoss(TINY, TrainConfig(iou_aware=False, ignore_thresh=1.0))(shrunk, targets)
    aware = YoloLoss(TINY, TrainConfig(iou_aware=True, ignore_thresh=1.0))(shrunk, targets)
    assert aware["obj"] < plain["obj"]


def test_label_smoothing_moves_the_class_optimum():
    criterion = YoloLoss(TINY, TrainConfig(label_smoothing=0.2))
    outs, targets = _perfect_outputs(TINY, [8.0, 10.0, 40.0, 44.0], label=1)
    with torch.no_grad():
        for o in outs:
            pos = o[..., 4] > 0
            o[..., 5:][pos] = _logit(0.1)
            o[..., 5 + 1][pos] = _logit(0.9)
    smoothed = criterion(outs, targets)["cls"]
    smoothed.backward()
    grads = torch.cat([o.grad[..., 5:][o.detach()[..., 4] > 0] for o in outs])
    assert grads.abs().max() < 1e-6  # 0.9 / 0.1 are exactly the smoothed targets


def test_huge_size_logits_stay_finite():
    outs, targets = _perfect_outputs(TINY, [8.0, 10.0, 40.0, 44.0], label=0)
    with torch.no_grad():
        for o in outs:
            o[..., 2:4] = 1e4
    for kind in ("ciou", "giou", "mse"):
        loss = YoloLoss(TINY, TrainConfig(box_loss=kind))(outs, targets)
        loss["total"].backward()
        assert torch.isfinite(loss["total"])
        assert all(torch.isfinite(o.grad).all() for o in outs)


def test_head_bias_prior_makes_objectness_start_low():
    torch.manual_seed(0)
    model = build_model(TINY)
    model.init_head_biases(img_size=416)
    with torch.no_grad():
        outs = model(torch.rand(1, 3, 416, 416))
    for out in outs:
        # About 8 expected objects per anchor per image, instead of ~half of all cells.
        expected = out[..., 4].sigmoid().sum(dim=(2, 3))  # (1, A)
        assert ((expected > 4) & (expected < 16)).all()
        # Small head weights: boxes start near their anchors, not at random sizes.
        assert out[..., 2:4].abs().mean() < 0.5
    bias = model.head_convs()[0].bias.view(3, 8)
    assert torch.allclose(bias[:, 5:].exp(), torch.tensor(0.6 / 2.01), atol=1e-4)  # class odds


def test_elementwise_iou():
    a = torch.tensor([[0.0, 0, 10, 10], [0, 0, 10, 10]])
    b = torch.tensor([[0.0, 0, 10, 10], [5, 0, 15, 10]])
    torch.testing.assert_close(
        elementwise_iou(a, b), torch.tensor([1.0, 50 / 150]), atol=1e-6, rtol=0
    )
