"""Non-finite losses and gradients are skipped, counted and, when persistent, stop the run."""

import pytest
import torch

from yolov3.config import TrainConfig
from yolov3.train import TrainingDiverged, TrainState, train_one_epoch
from yolov3.train.loss import YoloLoss
from yolov3.train.optimizer import build_optimizer
from yolov3.train.scheduler import build_schedule

HYP = TrainConfig(
    img_size=64, epochs=1, lr0=0.01, lrf=1.0, burn_in_epochs=0, ema=False, progress=False
)


class Sabotage(YoloLoss):
    """YoloLoss that breaks on chosen calls: a NaN loss or an infinite gradient."""

    def __init__(self, config, nan_calls=(), inf_grad_calls=()):
        super().__init__(config, HYP)
        self.calls, self.nan_calls, self.inf_grad_calls = 0, set(nan_calls), set(inf_grad_calls)

    def forward(self, outputs, targets):
        call, self.calls = self.calls, self.calls + 1
        if call in self.inf_grad_calls:
            outputs[0].register_hook(lambda g: g * float("inf"))
        losses = super().forward(outputs, targets)
        if call in self.nan_calls:
            losses["total"] = losses["total"] * float("nan")
        return losses


def _batch():
    torch.manual_seed(1)
    targets = torch.tensor([[0, 1, 8.0, 8.0, 40.0, 48.0], [1, 0, 20.0, 4.0, 60.0, 30.0]])
    return torch.rand(2, 3, 64, 64), targets, [{}, {}]


def _state(model, criterion, config=HYP):
    return TrainState(
        model=model,
        criterion=criterion,
        optimizer=build_optimizer(model, config, world_batch=2, accumulate=1),
        schedule=build_schedule(config, 3),
        config=config,
        accumulate=1,
    )


def _train(model, criterion, batches):
    state = _state(model, criterion)
    stats = train_one_epoch(state, [_batch()] * batches, epoch=0)
    return state, stats


@pytest.mark.parametrize("kind", ["nan_calls", "inf_grad_calls"])
def test_bad_step_is_skipped_and_not_propagated(mini_detector, kind):
    import copy

    reference = copy.deepcopy(mini_detector)
    state, stats = _train(mini_detector, Sabotage(mini_detector.config, **{kind: [1]}), 3)
    assert stats["skipped"] == 1 and state.bad_total == 1 and state.bad_in_row == 0
    assert all(torch.isfinite(p).all() for p in mini_detector.parameters())
    # Exactly the weights of a run that never saw the bad batch (the lr is constant).
    _train(reference, Sabotage(reference.config), 2)
    for a, b in zip(mini_detector.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_persistent_nan_stops_with_advice(mini_detector):
    config = TrainConfig(**{**HYP.to_dict(), "max_bad_steps": 3})
    state = _state(mini_detector, Sabotage(mini_detector.config, nan_calls=range(10)), config)
    with pytest.raises(TrainingDiverged, match="lr0") as info:
        train_one_epoch(state, [_batch()] * 10, epoch=0)
    assert "3 non-finite" in str(info.value)
    assert state.bad_total == 3
    assert all(torch.isfinite(p).all() for p in mini_detector.parameters())


class OverflowingScaler:
    """A GradScaler stand-in whose gradients always overflow: it skips every step and halves
    its scale, as torch's does on inf/NaN gradients."""

    def __init__(self):
        self.scale_value, self.steps_taken = 65536.0, 0

    def scale(self, loss):
        return loss * self.scale_value

    def unscale_(self, optimizer):
        pass

    def step(self, optimizer):
        pass  # skipped: the optimizer does not step

    def update(self):
        self.scale_value /= 2

    def get_scale(self):
        return self.scale_value


def test_fp16_scaler_skips_are_counted_and_stop_a_run_that_never_recovers(mini_detector):
    from yolov3.train.ema import ModelEMA

    config = TrainConfig(**{**HYP.to_dict(), "max_bad_steps": 4})
    state = _state(mini_detector, Sabotage(mini_detector.config), config)
    state.scaler = OverflowingScaler()
    state.ema = ModelEMA(mini_detector)
    with pytest.raises(TrainingDiverged, match="fp16 gradients overflowed"):
        train_one_epoch(state, [_batch()] * 10, epoch=0)
    assert state.bad_total == 4 and state.bad_in_row == 4
    assert state.ema.updates == 0  # no EMA update from a step the scaler skipped
