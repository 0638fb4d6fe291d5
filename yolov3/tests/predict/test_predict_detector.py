import copy
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from yolov3.config import ModelConfig
from yolov3.data import DatasetError
from yolov3.model import build_model
from yolov3.predict import Detector
from yolov3.predict.decode import decode
from yolov3.predict.detector import inference_model

# <repo root>/../shared/data, as CI lays it out
DARKNET = Path(__file__).resolve().parents[4] / "shared" / "data" / "darknet"


class FixedOutputs(nn.Module):
    """A stand-in network: one confident class-1 box of 16x16 input pixels centred at (48, 48)."""

    def __init__(self) -> None:
        super().__init__()
        self.config = ModelConfig.tiny(num_classes=2, class_names=("cat", "dog"))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        b, _, h, w = x.shape
        outs = [torch.full((b, 3, h // s, w // s, 7), -20.0) for s in self.config.strides]
        aw, ah = self.config.anchors[0][0]
        outs[0][:, 0, 1, 1] = torch.tensor(
            [0, 0, math.log(16 / aw), math.log(16 / ah), 20, -20, 20]
        )
        return outs


def test_letterbox_is_undone_to_original_pixels():
    image = np.zeros((100, 200, 3), np.uint8)  # letterboxed to 64: scale 0.32, 16 px pad on top
    (det,) = Detector(FixedOutputs(), img_size=64, device="cpu")(image)
    # input box (40, 40, 56, 56) -> x (40 - 0) / 0.32 = 125 .. 175, y (40 - 16) / 0.32 = 75 ..
    # 125, clipped to the image height 100
    torch.testing.assert_close(det["boxes"], torch.tensor([[125.0, 75.0, 175.0, 100.0]]))
    assert det["labels"].tolist() == [1] and det["scores"].item() == pytest.approx(1.0)


def test_stretch_mode_scales_each_axis():
    image = np.zeros((100, 200, 3), np.uint8)
    (det,) = Detector(FixedOutputs(), img_size=64, device="cpu", letterbox=False)(image)
    torch.testing.assert_close(det["boxes"], torch.tensor([[125.0, 62.5, 175.0, 87.5]]))


def test_accepts_paths_arrays_pil_images_one_or_many(tmp_path):
    array = np.random.default_rng(0).integers(0, 255, (100, 200, 3), dtype=np.uint8)
    Image.fromarray(array).save(tmp_path / "a.png")
    detector = Detector(FixedOutputs(), img_size=64, device="cpu")
    one = detector(tmp_path / "a.png")
    assert len(one) == 1
    many = detector([str(tmp_path / "a.png"), array, Image.fromarray(array), array[:, :, 0]], 3)
    assert len(many) == 4
    for det in many:
        torch.testing.assert_close(det["boxes"], one[0]["boxes"])


def test_bad_images_are_reported(tmp_path):
    detector = Detector(FixedOutputs(), img_size=64, device="cpu")
    with pytest.raises(DatasetError, match=r"missing\.jpg: image not found"):
        detector(tmp_path / "missing.jpg")
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    with pytest.raises(DatasetError, match="cannot be decoded"):
        detector(tmp_path / "broken.jpg")
    with pytest.raises(ValueError, match="uint8"):
        detector(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(TypeError, match="expected a path"):
        detector(42)
    with pytest.raises(ValueError, match="multiple of 32"):
        Detector(FixedOutputs(), img_size=100)


def test_from_checkpoint_prefers_ema_weights(tmp_path):
    torch.manual_seed(0)
    config = ModelConfig.tiny(num_classes=3, class_names=("a", "b", "c"))
    model, ema = build_model(config), build_model(config)
    path = tmp_path / "best.pt"
    state = {"model_config": config.to_dict(), "model": model.state_dict(), "ema": None}
    torch.save(state, path)
    detector = Detector.from_checkpoint(path, fuse=False, img_size=64, device="cpu")
    torch.testing.assert_close(detector.model.state_dict(), model.state_dict())
    assert detector.class_names == ["a", "b", "c"]
    torch.save({**state, "ema": ema.state_dict()}, path)
    detector = Detector.from_checkpoint(path, img_size=64, device="cpu", conf_thresh=0.0)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        expected = ema.eval()(x)
        got = detector.model(x)
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)  # fused: BN folded


@pytest.mark.skipif(not DARKNET.is_dir(), reason=f"shared Darknet files not found at {DARKNET}")
def test_official_tiny_weights_find_what_opencv_finds():
    torch.set_num_threads(2)
    detector = Detector.from_darknet(
        DARKNET / "yolov3-tiny.cfg",
        DARKNET / "yolov3-tiny.weights",
        conf_thresh=0.5,
        iou_thresh=0.45,
        letterbox=False,  # OpenCV's reference run resizes without letterbox
        device="cpu",
    )
    assert detector.class_names[16] == "dog"  # coco.names found beside the cfg
    (det,) = detector(DARKNET / "images" / "dog.jpg")
    names = [detector.class_names[k] for k in det["labels"]]
    found = dict(zip(names, det["scores"].tolist(), strict=True))
    assert set(found) == {"dog", "car", "truck"}
    assert found == pytest.approx({"dog": 0.83, "car": 0.73, "truck": 0.58}, abs=0.01)


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture
def no_tf32(monkeypatch):
    """Full fp32 on the GPU: TF32 convolutions and matmuls keep only 10 mantissa bits."""
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)


def _random_tiny() -> nn.Module:
    torch.manual_seed(0)
    model = build_model(ModelConfig.tiny(num_classes=3))
    model.init_head_biases(img_size=640, fresh_weights=False)
    return model.eval()


@torch.no_grad()
def _decoded(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    return decode(model(images), model.config).float().cpu()


@pytest.mark.gpu
@needs_cuda
def test_cuda_outputs_equal_cpu_outputs(no_tf32):
    model = _random_tiny()
    images = torch.rand(2, 3, 96, 128)
    cpu = _decoded(model, images)
    gpu = _decoded(copy.deepcopy(model).cuda(), images.cuda())
    torch.testing.assert_close(gpu, cpu, atol=1e-3, rtol=1e-4)


@pytest.mark.gpu
@needs_cuda
def test_fused_half_inference_as_detect_half_runs_it(no_tf32):
    """``detect --half``: BN folded, channels-last, float16; boxes within a pixel, scores
    within 0.01 of unfused fp32 on the CPU, and the caller's model stays float32."""
    model = _random_tiny()
    images = torch.rand(2, 3, 96, 128)
    reference = _decoded(model, images)
    fused = inference_model(copy.deepcopy(model).fuse(), torch.device("cuda"), half=True)
    half = _decoded(fused, images.cuda().half())
    torch.testing.assert_close(half[..., :4], reference[..., :4], atol=1.0, rtol=0)
    torch.testing.assert_close(half[..., 4:], reference[..., 4:], atol=1e-2, rtol=0)
    image = np.random.default_rng(0).integers(0, 255, (120, 200, 3), dtype=np.uint8)
    detector = Detector(model.fuse(), img_size=96, conf_thresh=0.001, device="cuda", half=True)
    found = detector([image])[0]
    assert found["boxes"].dtype == torch.float32 and found["boxes"].device.type == "cpu"
    assert len(found["scores"]) > 0
    assert next(model.parameters()).dtype == torch.float32
