import itertools
import math

import pytest
import torch
from torch import nn

from yolov3.config import TrainConfig
from yolov3.train.optimizer import build_optimizer, parameter_groups
from yolov3.train.scheduler import BurnInDecay, accumulation_steps, build_schedule, burn_in_iters


def test_darknet_power4_burn_in_then_cosine_to_lrf():
    s = BurnInDecay(total_iters=1000, burn_in_iters=100, shape="power4", decay="cosine", lrf=0.01)
    assert s(49) == pytest.approx((50 / 100) ** 4)
    assert s(99) == pytest.approx(1.0)
    assert s(100) == pytest.approx(0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * 0.1)))
    assert s(1000) == pytest.approx(0.01)
    values = [s(i) for i in range(100, 1001)]
    assert all(a >= b for a, b in itertools.pairwise(values))  # decays monotonically


def test_linear_burn_in_and_step_decay():
    s = BurnInDecay(100, 10, shape="linear", decay="step", steps=(0.5, 0.8), gamma=0.1)
    assert s(4) == pytest.approx(0.5)
    assert s(49) == 1.0
    assert s(50) == pytest.approx(0.1)
    assert s(80) == pytest.approx(0.01)


def test_burn_in_length_is_epochs_capped_by_max_iters():
    assert burn_in_iters(TrainConfig(burn_in_epochs=3, burn_in_max_iters=1000), 10) == 30
    assert burn_in_iters(TrainConfig(burn_in_epochs=3, burn_in_max_iters=1000), 1000) == 1000
    schedule = build_schedule(TrainConfig(epochs=4, burn_in_epochs=1), batches_per_epoch=25)
    assert (schedule.total_iters, schedule.burn_in_iters) == (100, 25)


def test_accumulation_grows_during_burn_in():
    steps = [accumulation_steps(i, warmup=100, target=4) for i in range(0, 120, 10)]
    assert steps[0] == 1 and steps[-1] == 4
    assert steps == sorted(steps)


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.head = nn.Conv2d(8, 4, 1)


def test_weight_decay_applies_to_conv_weights_only():
    net = _Net()
    decay, norm, bias = parameter_groups(net)
    assert {id(p) for p in decay} == {id(net.conv.weight), id(net.head.weight)}
    assert {id(p) for p in norm} == {id(net.bn.weight)}
    assert {id(p) for p in bias} == {id(net.bn.bias), id(net.head.bias)}
    opt = build_optimizer(net, TrainConfig(weight_decay=5e-4), world_batch=16, accumulate=4)
    assert isinstance(opt, torch.optim.SGD)
    assert opt.defaults["nesterov"] is True
    wds = [g["weight_decay"] for g in opt.param_groups]
    assert wds == [pytest.approx(5e-4), 0.0, 0.0]  # 16 x 4 = the nominal 64


@pytest.mark.parametrize(
    ("name", "cls"), [("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW)]
)
def test_adam_options(name, cls):
    opt = build_optimizer(_Net(), TrainConfig(optimizer=name, lr0=1e-3), 64, 1)
    assert type(opt) is cls


def test_train_config_rejects_bad_values_and_round_trips():
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="multiple of 32"):
        TrainConfig(img_size=100)
    config = TrainConfig(lr_steps=(0.5, 0.7), box_loss="giou")
    assert TrainConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown"):
        TrainConfig.from_dict({**config.to_dict(), "bogus": 1})
