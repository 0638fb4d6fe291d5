"""Training settings derived from the data (``derive_config``), and explicit ones kept."""

import argparse

import pytest

from yolov3.checkpoint import load_checkpoint
from yolov3.cli import build_parser
from yolov3.cli.train import build_train_config
from yolov3.config import TrainConfig, derive_config, optimizer_steps_per_epoch
from yolov3.synthetic import ShapesSpec, write_shapes_dataset
from yolov3.train import fit
from yolov3.train.scheduler import burn_in_iters

DERIVABLE = (
    "img_size",
    "nominal_batch",
    "burn_in",
    "burn_in_epochs",
    "ema_tau",
    "val_interval",
    "freeze_epochs",
)


def _steps(cfg: TrainConfig, images: int, world: int = 1) -> int:
    return optimizer_steps_per_epoch(images, cfg.batch_size, cfg.nominal_batch, world)


@pytest.mark.parametrize(
    ("images", "nominal", "steps", "warmup_batches", "ema_tau"),
    [
        # 7 batches of 16, one step each; 3 warm-up epochs; EMA over 20 epochs of steps
        (100, 16, 7, 21, 140.0),
        # 63 batches, 4 per step of 64 images; warm-up 3 epochs = 189 batches
        (1_000, 64, 16, 189, 320.0),
        # Darknet's scale: nominal batch 64, warm-up capped at 1000 batches, EMA tau 2000
        (100_000, 64, 1563, 1000, 2000.0),
    ],
)
def test_step_counts_follow_the_dataset_size(images, nominal, steps, warmup_batches, ema_tau):
    cfg = derive_config(TrainConfig(epochs=100), images, images // 4)
    assert cfg.nominal_batch == nominal
    assert _steps(cfg, images) == steps
    batches_per_epoch = -(-images // cfg.batch_size)
    assert burn_in_iters(cfg, batches_per_epoch) == warmup_batches
    assert cfg.ema_tau == ema_tau
    assert (cfg.burn_in, cfg.freeze_epochs, cfg.img_size) == ("power4", 0, 416)
    assert cfg.derived == DERIVABLE


def test_a_small_fine_tuning_run_on_a_cpu_budget_gets_the_small_data_recipe():
    config = TrainConfig(weights="w.weights", time_budget_min=15)
    cfg = derive_config(config, train_images=160, val_images=40, device_type="cpu")
    assert (cfg.img_size, cfg.nominal_batch, cfg.burn_in, cfg.burn_in_epochs) == (
        320,
        16,
        "linear",
        2.0,
    )
    assert (cfg.ema_tau, cfg.val_interval, cfg.freeze_epochs) == (200.0, 2, 1)
    assert _steps(cfg, 160) == 10
    # the same run on a GPU keeps the full input size
    assert derive_config(config, 160, 40, device_type="cuda").img_size == 416


def test_short_runs_and_large_validation_sets():
    short = derive_config(TrainConfig(epochs=10), 1_000, 1_000)
    assert short.burn_in_epochs == 1.0  # a tenth of the run
    assert short.val_interval == 1  # still ~10 validations
    long = derive_config(TrainConfig(epochs=300), 1_000, 1_000)
    assert long.val_interval == 7  # ceil(1000 / 150): validation ~5% of the training time
    assert derive_config(TrainConfig(epochs=300), 100, 10_000).val_interval == 10  # capped


def test_several_processes_share_the_nominal_batch():
    cfg = derive_config(TrainConfig(batch_size=16), 200, 50, world_size=4)
    assert cfg.nominal_batch == 64  # one batch of every process
    assert optimizer_steps_per_epoch(200, 16, 64, world_size=4) == 4


def test_explicit_settings_are_kept():
    explicit = {
        "img_size": 256,
        "nominal_batch": 32,
        "burn_in": "power4",
        "burn_in_epochs": 0.5,
        "ema_tau": 50.0,
        "val_interval": 3,
        "freeze_epochs": 0,
    }
    config = TrainConfig(weights="w.weights", time_budget_min=5, **explicit)
    cfg = derive_config(config, 160, 40)
    assert {k: getattr(cfg, k) for k in explicit} == explicit
    assert cfg.derived == ()
    some = derive_config(TrainConfig(nominal_batch=32, weights="w.weights"), 160, 40)
    assert some.nominal_batch == 32 and some.ema_tau == 100.0  # 5 steps of 32 images
    assert "nominal_batch" not in some.derived and "ema_tau" in some.derived


def test_derive_refuses_an_empty_training_set():
    with pytest.raises(ValueError, match="no training images"):
        derive_config(TrainConfig(), 0, 10)


def test_pieces_used_without_a_dataset_take_darknet_values():
    fixed = TrainConfig().with_fixed_defaults()
    assert (fixed.nominal_batch, fixed.burn_in, fixed.burn_in_epochs, fixed.ema_tau) == (
        64,
        "power4",
        3.0,
        2000.0,
    )
    assert burn_in_iters(TrainConfig(), 10) == 30


def _parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["train", "--data", "d", *argv])


def test_cli_flags_and_set_win_over_derived_values():
    config = build_train_config(
        _parse("--nominal-batch", "32", "--img-size", "256", "--set", "ema_tau=75")
    )
    cfg = derive_config(config, 1_000, 100)
    assert (cfg.nominal_batch, cfg.img_size, cfg.ema_tau) == (32, 256, 75.0)
    assert {"nominal_batch", "img_size", "ema_tau"}.isdisjoint(cfg.derived)
    # "none" hands a setting back to the data
    assert build_train_config(_parse("--set", "val_interval=none")).val_interval is None
    with pytest.raises(SystemExit):
        _parse("--set", "derived=img_size")


def test_a_run_prints_and_records_what_it_derived(tmp_path, capsys, make_mini_detector):
    data = write_shapes_dataset(
        tmp_path / "d", {"train": 4, "val": 2}, ShapesSpec(64, 1, 2, 12, 30), seed=1
    )
    config = TrainConfig(
        data=str(data), epochs=1, batch_size=2, workers=0, progress=False, out=str(tmp_path / "r")
    )
    result = fit(config, model=make_mini_detector(4))
    out = capsys.readouterr().out
    assert "derived from 4 training and 2 validation images: img_size 416, nominal_batch 2" in out
    saved = load_checkpoint(result["last"])["train_config"]
    assert saved["nominal_batch"] == 2 and saved["img_size"] == 416 and saved["ema_tau"] == 40.0
    assert tuple(saved["derived"]) == DERIVABLE
