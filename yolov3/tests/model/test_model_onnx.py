import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from yolov3.cli import main
from yolov3.config import ModelConfig
from yolov3.model import build_model
from yolov3.model.darknet_io import (
    DarknetFormatError,
    load_darknet_weights,
    model_from_cfg,
    save_darknet_weights,
    write_cfg,
)
from yolov3.model.loading import load_model
from yolov3.model.onnx_export import export_onnx, onnx_session, resolve_exporter

pytest.importorskip("onnxruntime", reason="ONNX Runtime is not installed")


def trained_looking(config: ModelConfig, seed: int = 0) -> nn.Module:
    """Random weights and BN statistics: folding BN then changes every conv."""
    torch.manual_seed(seed)
    model = build_model(config)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return model.eval()


def run_onnx(path: Path, images: torch.Tensor) -> list[np.ndarray]:
    return onnx_session(path).run(None, {"images": images.numpy()})


def assert_outputs_equal(model: nn.Module, path: Path, images: torch.Tensor) -> None:
    with torch.no_grad():
        expected = model(images)
    actual = run_onnx(path, images)
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        assert a.shape == tuple(e.shape)
        np.testing.assert_allclose(a, e.numpy(), atol=1e-4, rtol=0)


def test_default_export_runs_in_onnx_runtime_and_equals_pytorch(tmp_path):
    config = ModelConfig.tiny(num_classes=3, class_names=("cat", "dog", "fox"))
    model = trained_looking(config)
    path = export_onnx(model, tmp_path / "tiny.onnx", img_size=(64, 96))
    assert not model.is_fused  # the caller's model is left as it was
    assert_outputs_equal(model, path, torch.rand(1, 3, 64, 96))

    proto = onnx.load(str(path))
    assert [o.name for o in proto.graph.output] == ["output_s32", "output_s16"]
    assert [i.name for i in proto.graph.input] == ["images"]
    meta = {p.key: p.value for p in proto.metadata_props}
    assert ModelConfig.from_dict(json.loads(meta["yolov3_config"])) == config
    assert not list(tmp_path.glob("*.data"))  # one self-contained file


def test_torchscript_export_with_dynamic_shapes(tmp_path):
    model = trained_looking(ModelConfig.tiny(num_classes=2), seed=1)
    path = export_onnx(
        model, tmp_path / "dyn.onnx", img_size=64, dynamic=True, exporter="torchscript"
    )
    for shape in [(1, 3, 64, 64), (2, 3, 96, 160)]:
        assert_outputs_equal(model, path, torch.rand(*shape))


@pytest.mark.slow
def test_dynamo_export_with_dynamic_shapes(tmp_path):
    model = trained_looking(ModelConfig.tiny(num_classes=2), seed=2)
    path = export_onnx(model, tmp_path / "dyn.onnx", img_size=64, dynamic=True, exporter="dynamo")
    for shape in [(1, 3, 64, 64), (3, 3, 128, 96)]:
        assert_outputs_equal(model, path, torch.rand(*shape))


@pytest.mark.slow
def test_full_yolov3_export(tmp_path):
    model = trained_looking(ModelConfig(num_classes=20), seed=3)
    path = export_onnx(model, tmp_path / "yolov3.onnx", img_size=128)
    assert_outputs_equal(model, path, torch.rand(1, 3, 128, 128))


def test_export_rejects_bad_arguments(tmp_path):
    model = build_model(ModelConfig.tiny())
    with pytest.raises(ValueError, match="divisible by 32"):
        export_onnx(model, tmp_path / "x.onnx", img_size=100)
    with pytest.raises(ValueError, match="exporter must be one of"):
        resolve_exporter("tflite")


@pytest.fixture
def checkpoint(tmp_path):
    """A checkpoint as training writes it: config, weights and EMA weights."""
    config = ModelConfig.tiny(num_classes=2)
    model, ema = trained_looking(config, seed=4), trained_looking(config, seed=5)
    path = tmp_path / "best.pt"
    torch.save(
        {
            "model_config": config.to_dict(),
            "model": model.state_dict(),
            "ema": ema.state_dict(),
        },
        path,
    )
    return path, ema


def test_load_model_prefers_ema_weights(checkpoint):
    path, ema = checkpoint
    loaded = load_model(path)
    assert not loaded.training
    for key, value in ema.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key


def test_load_model_says_in_one_line_how_the_weights_do_not_fit(tmp_path):
    path = tmp_path / "two.pt"
    small = build_model(ModelConfig.tiny(num_classes=1)).state_dict()
    torch.save({"model_config": ModelConfig.tiny(num_classes=2).to_dict(), "model": small}, path)
    with pytest.raises(ValueError) as err:
        load_model(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{path}: weights do not fit yolov3-tiny")
    assert (
        "4 tensors of other shapes (first predict32.weight: (18, 512, 1, 1) in the file, "
        "(21, 512, 1, 1) in the model)" in message
    )


def test_load_model_needs_a_cfg_for_darknet_weights(tmp_path):
    weights = save_darknet_weights(build_model(ModelConfig.tiny()), tmp_path / "m.weights")
    with pytest.raises(DarknetFormatError, match=r"need their \.cfg"):
        load_model(weights)
    cfg = write_cfg(build_model(ModelConfig.tiny()), tmp_path / "m.cfg")
    assert load_model(weights, cfg).config == ModelConfig.tiny()


def test_cli_exports_checkpoint_to_onnx(checkpoint, tmp_path, capsys):
    path, ema = checkpoint
    out = tmp_path / "out" / "model.onnx"
    argv = ["export", str(path), "--out", str(out), "--img-size", "64"]
    assert main([*argv, "--exporter", "torchscript"]) == 0
    assert "max |difference|" in capsys.readouterr().out
    assert_outputs_equal(ema, out, torch.rand(1, 3, 64, 64))


def test_cli_exports_checkpoint_to_darknet(checkpoint, tmp_path, capsys):
    path, ema = checkpoint
    assert main(["export", str(path), "--format", "darknet", "--out", str(tmp_path / "d")]) == 0
    assert "d.weights" in capsys.readouterr().out
    model = model_from_cfg(tmp_path / "d.cfg")
    load_darknet_weights(model, tmp_path / "d.weights")
    for key, value in ema.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    # Writing over the source is refused.
    code = main(["export", str(tmp_path / "d.weights"), "--cfg", str(tmp_path / "d.cfg"),
                 "--format", "darknet"])  # fmt: skip
    assert code == 1 and "overwrite" in capsys.readouterr().err
    before = path.read_bytes()
    assert main(["export", str(path), "--out", str(path)]) == 1  # ONNX over the checkpoint
    assert "overwrite" in capsys.readouterr().err and path.read_bytes() == before


def test_cli_reports_unreadable_sources(tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(SystemExit) as info:
        main(["export", str(bad)])
    assert info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("yolov3 export: error: argument source: ") and "bad.pt is a text" in last
