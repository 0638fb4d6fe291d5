from pathlib import Path

import pytest
import torch
from torch import nn

from yolov3.config import ModelConfig
from yolov3.model import build_model
from yolov3.model.darknet_cfg import normalize_section, read_cfg
from yolov3.model.darknet_io import (
    DarknetFormatError,
    DarknetHeader,
    backbone_layer_count,
    darknet_weights_size,
    load_darknet_weights,
    model_from_cfg,
    save_darknet_weights,
    write_cfg,
)

DARKNET = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "darknet"
needs_darknet = pytest.mark.skipif(
    not (DARKNET / "yolov3.cfg").exists(), reason=f"shared Darknet files not found at {DARKNET}"
)


def random_model(config: ModelConfig, seed: int = 0) -> nn.Module:
    """A model whose every Darknet tensor, BN statistics included, is random."""
    torch.manual_seed(seed)
    model = build_model(config)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2.0)
                m.weight.normal_()
                m.bias.normal_()
            elif isinstance(m, nn.Conv2d) and m.bias is not None:
                m.bias.normal_()
    return model


def assert_same_state(a: nn.Module, b: nn.Module, prefix: str = "") -> None:
    sa, sb = a.state_dict(), b.state_dict()
    keys = [k for k in sa if k.startswith(prefix) and not k.endswith("num_batches_tracked")]
    assert keys
    for key in keys:
        assert torch.equal(sa[key], sb[key]), key


@pytest.mark.parametrize(
    "config", [ModelConfig.tiny(), ModelConfig.tiny(num_classes=3)], ids=["tiny80", "tiny3"]
)
def test_weights_round_trip_exactly(tmp_path, config):
    model = random_model(config)
    path = save_darknet_weights(model, tmp_path / "m.weights")
    assert path.stat().st_size == darknet_weights_size(model)
    fresh = build_model(config)
    header = load_darknet_weights(fresh, path)
    assert header == DarknetHeader(0, 2, 0, 0)
    assert_same_state(model, fresh)


def test_official_sizes():
    assert darknet_weights_size(build_model(ModelConfig())) == 248_007_048
    assert darknet_weights_size(build_model(ModelConfig.tiny())) == 35_434_956
    # darknet53.conv.74, the ImageNet backbone Darknet trains YOLOv3 from
    assert darknet_weights_size(build_model(ModelConfig()), cutoff=74) == 162_482_580


def test_old_header_with_int32_seen(tmp_path):
    model = random_model(ModelConfig.tiny(num_classes=2))
    old = DarknetHeader(major=0, minor=1, revision=0, seen=123_456)
    path = save_darknet_weights(model, tmp_path / "old.weights", header=old)
    assert path.stat().st_size == darknet_weights_size(model) - 4
    fresh = build_model(model.config)
    assert load_darknet_weights(fresh, path) == old
    assert_same_state(model, fresh)


def test_wrong_class_count_names_sizes_and_the_fitting_count(tmp_path):
    path = save_darknet_weights(random_model(ModelConfig.tiny(num_classes=20)), tmp_path / "w")
    model = build_model(ModelConfig.tiny())
    expected = darknet_weights_size(model)
    with pytest.raises(DarknetFormatError) as info:
        load_darknet_weights(model, path)
    message = str(info.value)
    assert str(path) in message and f"{expected:,}" in message
    assert f"{path.stat().st_size:,}" in message
    assert "yolov3-tiny with 20 classes" in message


def test_truncated_file_is_refused(tmp_path):
    path = save_darknet_weights(random_model(ModelConfig.tiny()), tmp_path / "w")
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(DarknetFormatError, match="needs 35,434,936 bytes"):
        load_darknet_weights(build_model(ModelConfig.tiny()), path)
    path.write_bytes(b"\0" * 10)
    with pytest.raises(DarknetFormatError, match="too short for a header"):
        load_darknet_weights(build_model(ModelConfig.tiny()), path)


def test_transposed_header_is_refused(tmp_path):
    path = tmp_path / "t.weights"
    path.write_bytes(DarknetHeader(major=1001, minor=0).to_bytes())
    with pytest.raises(DarknetFormatError, match="transposed"):
        load_darknet_weights(build_model(ModelConfig.tiny()), path)


def test_partial_backbone_file_loads_with_cutoff(tmp_path):
    source = random_model(ModelConfig.tiny(num_classes=5), seed=1)
    cutoff = backbone_layer_count(source)
    path = save_darknet_weights(source, tmp_path / "tiny.conv.13", cutoff=cutoff)
    assert path.stat().st_size == darknet_weights_size(source, cutoff)

    target = build_model(ModelConfig.tiny(num_classes=80))  # any head: only the backbone loads
    head_before = target.predict32.weight.clone()
    with pytest.raises(DarknetFormatError, match=f"load it with cutoff={cutoff}"):
        load_darknet_weights(target, path)
    load_darknet_weights(target, path, cutoff=cutoff)
    assert_same_state(source, target, prefix="backbone.")
    assert torch.equal(target.predict32.weight, head_before)

    # A full file also serves as a backbone file: only the prefix is read.
    full = save_darknet_weights(source, tmp_path / "full.weights")
    other = build_model(ModelConfig.tiny(num_classes=80))
    load_darknet_weights(other, full, cutoff=cutoff)
    assert_same_state(source, other, prefix="backbone.")


def test_fused_models_are_refused(tmp_path):
    model = build_model(ModelConfig.tiny()).fuse()
    with pytest.raises(DarknetFormatError, match="fuse"):
        save_darknet_weights(model, tmp_path / "w")
    with pytest.raises(DarknetFormatError, match="fuse"):
        write_cfg(model, tmp_path / "c.cfg")


@needs_darknet
@pytest.mark.parametrize(
    ("name", "config", "layers"),
    [
        ("yolov3.cfg", ModelConfig(), 107),
        ("yolov3-tiny.cfg", ModelConfig.tiny(), 24),
        ("yolov3-voc.cfg", ModelConfig(num_classes=20), 107),
    ],
)
def test_model_from_official_cfg(name, config, layers, tmp_path):
    model = model_from_cfg(DARKNET / name)
    assert model.config == config
    # What we write is, layer by layer, what Darknet's own file says.
    written = write_cfg(model, tmp_path / name)
    assert normalized_layers(written) == normalized_layers(DARKNET / name)
    assert len(normalized_layers(written)) == layers


def normalized_layers(path):
    _, sections = read_cfg(path)
    return [normalize_section(s, i, path) for i, s in enumerate(sections)]


def test_write_cfg_round_trips_custom_anchors_and_classes(tmp_path):
    anchors = (((90, 80), (150, 190), (300, 300)), ((12, 14), (20, 30), (40, 50)))
    config = ModelConfig(arch="yolov3-tiny", num_classes=3, anchors=anchors, strides=(32, 16))
    path = write_cfg(build_model(config), tmp_path / "custom.cfg", img_size=320)
    assert "width=320" in path.read_text()
    assert model_from_cfg(path, class_names=("a", "b", "c")).config == ModelConfig(
        **{**config.__dict__, "class_names": ("a", "b", "c")}
    )


@pytest.fixture
def tiny_cfg(tmp_path):
    return write_cfg(build_model(ModelConfig.tiny()), tmp_path / "tiny.cfg")


def edit(path: Path, old: str, new: str, count: int = 1) -> Path:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, count))
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_other_layer_types_are_refused_with_their_line(tiny_cfg):
    edit(tiny_cfg, "# layer 3\n[maxpool]", "# layer 3\n[local]")
    with pytest.raises(DarknetFormatError, match=r"is \[local\], which YOLOv3 does not use") as e:
        model_from_cfg(tiny_cfg)
    assert f"tiny.cfg:{line_of(tiny_cfg, '[local]')}:" in str(e.value)


def test_layer_mismatch_names_line_layer_and_setting(tiny_cfg):
    edit(tiny_cfg, "filters=64", "filters=48")
    with pytest.raises(DarknetFormatError) as info:
        model_from_cfg(tiny_cfg)
    message = str(info.value)
    assert f":{line_of(tiny_cfg, 'filters=48')}:" in message
    assert "layer 4 [convolutional] has filters=48" in message and "filters=64" in message


def test_settings_that_change_the_network_are_refused(tiny_cfg, tmp_path):
    original = tiny_cfg.read_text()
    for old, new, message in [
        ("activation=leaky", "activation=mish", "activation='mish'"),
        ("classes=80", "classes=80\nscale_x_y=1.05", "scale_x_y=1.05"),  # YOLOv4's decode
        ("layers=-4", "layers=-4\ngroups=2", "groups=2"),  # YOLOv4-tiny's channel split
        ("pad=1", "pad=1\ndilation=2", "dilation=2"),
    ]:
        tiny_cfg.write_text(original)
        edit(tiny_cfg, old, new)
        with pytest.raises(DarknetFormatError, match=message):
            model_from_cfg(tiny_cfg)


def test_wrong_yolo_count_is_refused(tmp_path):
    one_yolo = tmp_path / "one.cfg"
    one_yolo.write_text("[net]\n[convolutional]\nfilters=255\n[yolo]\nanchors=1,2\n")
    with pytest.raises(DarknetFormatError, match="1 \\[yolo\\] layers"):
        model_from_cfg(one_yolo)


def test_malformed_lines_are_refused(tmp_path):
    path = tmp_path / "bad.cfg"
    path.write_text("[net]\nwidth=416\n[convolutional]\nfilters 16\n")
    with pytest.raises(DarknetFormatError, match=r"bad.cfg:4: option 'filters 16' without '='"):
        model_from_cfg(path)
    path.write_text("[convolutional]\nfilters=16\n")
    with pytest.raises(DarknetFormatError, match=r"first section must be \[net\]"):
        model_from_cfg(path)
    path.write_text("[net]\n[convolutional]\nfilters=sixteen\n")
    with pytest.raises(DarknetFormatError, match=r"bad.cfg:2: \[convolutional\] option filters"):
        model_from_cfg(path)


@needs_darknet
def test_official_tiny_weights_load_and_save_byte_for_byte(tmp_path):
    official = DARKNET / "yolov3-tiny.weights"
    model = model_from_cfg(DARKNET / "yolov3-tiny.cfg")
    header = load_darknet_weights(model, official)
    assert (header.major, header.minor, header.revision) == (0, 2, 0) and header.seen > 0
    copy = save_darknet_weights(model, tmp_path / "copy.weights", header=header)
    assert copy.read_bytes() == official.read_bytes()


@needs_darknet
def test_export_differs_from_the_official_file_only_in_the_seen_counter(tmp_path):
    """What the README says: a fresh header (seen = 0), every weight byte the same."""
    from yolov3.cli import main

    official = DARKNET / "yolov3-tiny.weights"
    argv = ["export", str(official), "--cfg", str(DARKNET / "yolov3-tiny.cfg"),
            "--format", "darknet", "--out", str(tmp_path / "copy")]  # fmt: skip
    assert main(argv) == 0
    a, b = official.read_bytes(), (tmp_path / "copy.weights").read_bytes()
    assert len(a) == len(b)
    differing = [i for i in range(20) if a[i] != b[i]]
    assert differing and all(12 <= i < 20 for i in differing)  # the int64 seen counter
    assert a[20:] == b[20:] and b[12:20] == bytes(8)
