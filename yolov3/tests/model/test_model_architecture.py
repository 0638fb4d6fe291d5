import pytest
import torch
from torch import nn

from yolov3.config import ModelConfig
from yolov3.model import Darknet53, MaxPoolSame, YOLOv3, YOLOv3Tiny, build_model


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def randomize_batch_norms(model: nn.Module) -> None:
    """Give every BN non-trivial statistics so folding it actually changes the conv."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)


@pytest.mark.parametrize(
    ("config", "expected"),
    [(ModelConfig(), 61_949_149), (ModelConfig.tiny(), 8_852_366)],
    ids=["yolov3", "tiny"],
)
def test_parameter_count_matches_darknet(config, expected):
    assert count_parameters(build_model(config)) == expected


def test_parameter_count_follows_class_count():
    # Only the prediction convs depend on C: 3 anchors, per output channel (in + 1 bias).
    delta = count_parameters(build_model(ModelConfig(num_classes=81))) - count_parameters(
        build_model(ModelConfig(num_classes=80))
    )
    assert delta == 3 * (1024 + 1) + 3 * (512 + 1) + 3 * (256 + 1)


def test_build_model_picks_the_architecture():
    assert isinstance(build_model(ModelConfig()), YOLOv3)
    assert isinstance(build_model(ModelConfig.tiny(num_classes=3)), YOLOv3Tiny)
    with pytest.raises(ValueError, match="strides"):
        YOLOv3(ModelConfig.tiny())


def test_darknet53_returns_stride_8_16_32_features():
    features = Darknet53().eval()(torch.zeros(1, 3, 64, 96))
    assert [tuple(f.shape) for f in features] == [(1, 256, 8, 12), (1, 512, 4, 6), (1, 1024, 2, 3)]


@pytest.mark.parametrize("arch", ["yolov3", "yolov3-tiny"])
def test_outputs_are_per_scale_grids_in_stride_order(arch):
    config = ModelConfig(num_classes=7) if arch == "yolov3" else ModelConfig.tiny(num_classes=7)
    model = build_model(config).eval()
    with torch.no_grad():
        outputs = model(torch.rand(2, 3, 64, 128))
    assert len(outputs) == len(config.strides)
    for out, stride in zip(outputs, config.strides, strict=True):
        assert tuple(out.shape) == (2, 3, 64 // stride, 128 // stride, 12)


def test_output_layout_is_anchor_major_view_of_the_prediction_conv():
    model = build_model(ModelConfig.tiny(num_classes=2)).eval()
    captured = []
    model.predict16.register_forward_hook(lambda m, i, o: captured.append(o))
    with torch.no_grad():
        out16 = model(torch.rand(1, 3, 64, 64))[1]
    raw = captured[0]  # (1, 3 * 7, 4, 4)
    a, k, y, x = 2, 4, 1, 3
    assert out16[0, a, y, x, k] == raw[0, a * 7 + k, y, x]


def test_tiny_stride_one_pool_keeps_size_and_ignores_padding():
    x = -torch.rand(1, 2, 5, 5) - 1.0  # all negative: zero padding would leak 0s in
    out = MaxPoolSame()(x)
    assert out.shape == x.shape
    assert out[..., -1, -1].eq(x[..., -1, -1]).all()
    assert (
        out[..., :-1, :-1]
        .eq(
            torch.stack([x[..., :-1, :-1], x[..., 1:, :-1], x[..., :-1, 1:], x[..., 1:, 1:]]).amax(
                0
            )
        )
        .all()
    )


def test_head_convs_are_the_prediction_convs():
    model = build_model(ModelConfig(num_classes=5))
    convs = model.head_convs()
    assert [c.in_channels for c in convs] == [1024, 512, 256]
    assert all(c.out_channels == 3 * 10 and c.bias is not None for c in convs)
    assert all(c.kernel_size == (1, 1) for c in convs)
    # Objectness starts low (untrained detectors should see mostly background).
    for conv in convs:
        assert (torch.sigmoid(conv.bias.view(3, 10)[:, 4]) < 0.05).all()


def test_backbone_can_be_frozen_separately():
    model = build_model(ModelConfig.tiny())
    model.backbone.requires_grad_(False)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == count_parameters(model) - count_parameters(model.backbone) > 0


@pytest.mark.parametrize("arch", ["yolov3", "yolov3-tiny"])
def test_fuse_keeps_outputs_and_goes_channels_last(arch):
    config = ModelConfig(num_classes=4) if arch == "yolov3" else ModelConfig.tiny(num_classes=4)
    model = build_model(config)
    randomize_batch_norms(model)
    model.eval()
    x = torch.rand(1, 3, 96, 64)
    with torch.no_grad():
        expected = model(x)
        fused = model.fuse()
        actual = fused(x)
    assert fused is model and model.is_fused
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    conv = model.head_convs()[0]
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    for e, a in zip(expected, actual, strict=True):
        torch.testing.assert_close(a, e, atol=1e-4, rtol=0)


def test_input_must_be_divisible_by_32():
    with pytest.raises(ValueError, match="divisible by 32"):
        build_model(ModelConfig.tiny())(torch.zeros(1, 3, 100, 64))


def test_model_trains_end_to_end():
    model = build_model(ModelConfig.tiny(num_classes=1)).train()
    outputs = model(torch.rand(2, 3, 64, 64))
    sum(o.square().mean() for o in outputs).backward()
    assert model.backbone.stage16[0].conv.weight.grad.abs().sum() > 0
