"""--patience, --save-period, --cache ram, --single-cls and train_batch0.jpg."""

from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch

from yolov3.checkpoint import load_checkpoint
from yolov3.cli import build_parser, main
from yolov3.cli.train import build_train_config
from yolov3.config import TrainConfig
from yolov3.data import DetectionDataset, read_dataset
from yolov3.predict.draw import class_color
from yolov3.synthetic import ShapesSpec, write_shapes_dataset
from yolov3.train import fit
from yolov3.train import run as run_module
from yolov3.train.preview import batch_mosaic
from yolov3.train.run_log import validations_since_best
from yolov3.train.training_data import (
    CachedDataset,
    CacheTooLarge,
    as_single_class,
    cache_bytes,
    check_cache_fits,
)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    out = tmp_path_factory.mktemp("shapes")
    return write_shapes_dataset(out, {"train": 4, "val": 2}, ShapesSpec(96, 1, 3, 12, 40), seed=3)


def _config(data, out, **kw):
    kw = {"img_size": 64, "batch_size": 2, "workers": 0, "progress": False, **kw}
    return TrainConfig(data=str(data), out=str(out), **kw)


# --- patience and save period ------------------------------------------------------------
def test_validations_since_best_counts_from_the_first_best():
    rows = [{"val_ap50": v} for v in (0.5, "", 0.7, 0.6, "", 0.7, 0.2)]
    assert validations_since_best(rows) == 3  # 0.6, 0.7 (a tie is no improvement), 0.2
    assert validations_since_best([{"val_ap50": ""}]) == 0
    assert validations_since_best([{"val_ap50": "0.1"}, {"val_ap50": "0.3"}]) == 0  # from CSV


def _scripted_validation(monkeypatch, scores):
    """Validation that returns ``scores`` in turn (the loop's logic, not the model's)."""
    left = list(scores)

    def validate(*args, **kwargs):
        ap50 = left.pop(0)
        return SimpleNamespace(ap50=ap50, ap=ap50 / 2)

    monkeypatch.setattr(run_module, "validate", validate)


def test_patience_stops_the_run_and_keeps_the_best(
    shapes, tmp_path, monkeypatch, make_mini_detector
):
    _scripted_validation(monkeypatch, [0.5, 0.4, 0.6, 0.3, 0.2, 0.9, 0.9])
    config = _config(shapes, tmp_path, epochs=7, val_interval=1, patience=2)
    result = fit(config, model=make_mini_detector(4))
    assert len(result["history"]) == 5  # two validations after the best (epoch 3): stop
    assert result["best_ap50"] == 0.6
    assert load_checkpoint(tmp_path / "best.pt")["epoch"] == 3
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 5


def test_without_patience_every_epoch_runs(shapes, tmp_path, monkeypatch, make_mini_detector):
    _scripted_validation(monkeypatch, [0.5, 0.4, 0.3, 0.2])
    result = fit(_config(shapes, tmp_path, epochs=4, val_interval=1), model=make_mini_detector(4))
    assert len(result["history"]) == 4


def test_save_period_keeps_a_checkpoint_every_n_epochs(shapes, tmp_path, make_mini_detector):
    fit(
        _config(shapes, tmp_path, epochs=5, val_interval=5, save_period=2),
        model=make_mini_detector(4),
    )
    kept = sorted(p.name for p in tmp_path.glob("epoch*.pt"))
    assert kept == ["epoch2.pt", "epoch4.pt"]
    assert load_checkpoint(tmp_path / "epoch2.pt")["epoch"] == 2
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 5


def test_no_period_no_extra_checkpoints(shapes, tmp_path, make_mini_detector):
    fit(_config(shapes, tmp_path, epochs=2, val_interval=2), model=make_mini_detector(4))
    assert not list(tmp_path.glob("epoch*.pt"))


# --- RAM cache -------------------------------------------------------------------------------
def test_cached_items_match_the_images_read_from_disk(shapes):
    data = read_dataset(shapes, None, "train")
    plain = DetectionDataset(data, 64)
    cached = CachedDataset(data, 64, max_size=64, progress=False)
    assert cached.nbytes == cache_bytes(data, 64) == 4 * 64 * 64 * 3  # 96 px shrunk to 64
    for index in range(len(plain)):
        image, target, _ = plain[index]
        image_c, target_c, _ = cached[index]
        assert torch.allclose(target_c, target, atol=1.0)  # boxes within a pixel
        assert (image_c - image).abs().mean() < 0.02  # resized once more, nearly identical


def test_cached_images_survive_augmentation_unchanged(shapes):
    data = read_dataset(shapes, None, "train")
    cached = CachedDataset(data, 64, augment=True, mosaic=True, max_size=64, progress=False)
    before = [image.copy() for image, _, _ in cached._cache]
    for key in [(i, 64, 100 + i) for i in range(len(cached))] * 3:
        cached[key]
    assert all(np.array_equal(a, b) for a, (b, _, _) in zip(before, cached._cache, strict=True))


def test_cache_refused_when_it_does_not_fit(shapes):
    data = read_dataset(shapes, None, "train")
    assert check_cache_fits(data, 64, available=10**9) == 4 * 64 * 64 * 3
    with pytest.raises(CacheTooLarge, match=r"--cache ram needs about .* GiB"):
        check_cache_fits(data, 64, available=1000)


def test_a_cached_run_trains(shapes, tmp_path, make_mini_detector):
    result = fit(
        _config(shapes, tmp_path, epochs=1, cache="ram", mosaic=True), model=make_mini_detector(4)
    )
    assert len(result["history"]) == 1 and result["history"][0]["total"] > 0


def test_cli_refuses_a_cache_too_large_in_one_line(shapes, tmp_path, monkeypatch):
    monkeypatch.setattr(run_module, "available_memory", lambda: 1000)
    argv = ["train", "--data", str(shapes), "--out", str(tmp_path / "r"), "--cache", "ram"]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--arch", "yolov3-tiny", "--epochs", "1", "--no-progress"])
    message = str(exit_info.value.code)
    assert message.startswith("yolov3 train: --cache ram needs about") and "\n" not in message


# --- single class ---------------------------------------------------------------------------
def test_single_class_relabels_every_declared_class(shapes):
    data = read_dataset(shapes, None, "train")
    data.records[0].labels[0] = -1  # an undeclared class stays visible to the checks
    one = as_single_class(data)
    assert one.class_names == ["object"] and one.category_ids == [1]
    labels = np.concatenate([r.labels for r in one.records])
    assert set(labels.tolist()) <= {0, -1} and labels[0] == -1
    assert [len(r.boxes) for r in one.records] == [len(r.boxes) for r in data.records]


def test_single_class_run_trains_one_object_class(shapes, tmp_path):
    config = _config(shapes, tmp_path, epochs=1, single_cls=True)
    result = fit(config, arch="yolov3-tiny")
    saved = load_checkpoint(result["last"])["model_config"]
    assert saved["num_classes"] == 1 and tuple(saved["class_names"]) == ("object",)


# --- first-batch preview ----------------------------------------------------------------------
def _near(pixel, color) -> bool:
    return int(np.abs(pixel.astype(int) - np.array(color)).max()) < 60


def test_batch_mosaic_draws_each_box_on_its_tile():
    images = torch.zeros(3, 3, 32, 32)
    targets = torch.tensor([[0, 0, 4, 4, 20, 20], [2, 1, 8, 8, 30, 30]], dtype=torch.float32)
    grid = batch_mosaic(images, targets, ["a", "b"])
    assert grid.shape == (64, 64, 3)  # 2 x 2 tiles, the fourth left blank
    assert _near(grid[12, 4], class_color(0))  # left edge of box 0 on tile 0
    assert _near(grid[32 + 20, 8], class_color(1))  # box 1 on tile 2 (second row)
    assert not grid[:32, 32:].any()  # tile 1 has no boxes and a black image
    assert (grid[32:, 32:] == 255).all()  # no fourth image


def test_a_new_run_writes_its_first_batch(shapes, tmp_path, make_mini_detector):
    fit(_config(shapes, tmp_path, epochs=1, augment=False), model=make_mini_detector(4))
    preview = cv2.imread(str(tmp_path / "train_batch0.jpg"))
    assert preview is not None and preview.shape == (64, 128, 3)  # a batch of 2 at 64 px


def test_the_flags_set_the_config():
    argv = ["train", "--data", "d", "--patience", "5", "--save-period", "2", "--cache", "ram"]
    argv += ["--single-cls", "--time-budget-min", "15"]
    config = build_train_config(build_parser().parse_args(argv))
    assert (config.patience, config.save_period, config.cache) == (5, 2, "ram")
    assert config.single_cls and config.time_budget_min == 15.0
    plain = build_train_config(build_parser().parse_args(["train", "--data", "d"]))
    assert (plain.patience, plain.save_period, plain.cache, plain.single_cls) == (0, 0, None, False)
