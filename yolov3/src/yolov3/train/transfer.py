"""Start training from existing weights: a checkpoint or a Darknet ``.weights`` file.

A full Darknet file trained on another class count (e.g. COCO's 80) is read into a network
of its own shape and every tensor whose shape matches is copied; the prediction convs that
differ keep their prior-based initialisation. A backbone cut-off reads only Darknet layers
``0 .. cutoff-1`` (``cutoff=0``: exactly the backbone).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from yolov3.checkpoint import load_checkpoint
from yolov3.config import ModelConfig
from yolov3.filekind import CHECKPOINT, DARKNET_WEIGHTS, file_kind, require_kind
from yolov3.model import build_model
from yolov3.model.darknet_cfg import backbone_layer_count
from yolov3.model.darknet_io import DarknetHeader, darknet_weights_size, load_darknet_weights


def darknet_num_classes(path: str | Path, config: ModelConfig) -> int:
    """Class count of a full Darknet weights file for ``config``'s architecture, from its size.

    The file size is linear in the class count, so two probe networks give the answer.
    """
    path = Path(path)
    found = path.stat().st_size - DarknetHeader.read(path).size + DarknetHeader().size
    one = darknet_weights_size(build_model(replace(config, num_classes=1, class_names=())))
    two = darknet_weights_size(build_model(replace(config, num_classes=2, class_names=())))
    classes, rest = divmod(found - one, two - one)
    if rest or classes < 0:
        raise ValueError(
            f"{path}: {found:,} bytes do not fit a full {config.arch} with any class count "
            "(another architecture? a partial file? give weights_cutoff to load the backbone)"
        )
    return classes + 1


def copy_matching(target: nn.Module, source: dict[str, torch.Tensor]) -> list[str]:
    """Copy every tensor of ``source`` whose name and shape match; return the names skipped."""
    own = target.state_dict()
    matched = {k: v for k, v in source.items() if k in own and own[k].shape == v.shape}
    own.update(matched)
    target.load_state_dict(own)
    return sorted(k for k in own if k not in matched)


def load_pretrained(model: nn.Module, path: str | Path, cutoff: int | None = None) -> str:
    """Initialise ``model`` from ``path`` (``.pt`` checkpoint or Darknet ``.weights``).

    Args:
        model: the network to train (unfused).
        path: the weights.
        cutoff: Darknet only: load layers ``0 .. cutoff-1``; 0 means the backbone.

    Returns:
        A one-line summary for the log (what was loaded, what was re-initialised).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: weights file not found")
    require_kind(path, CHECKPOINT, DARKNET_WEIGHTS)
    if file_kind(path) == CHECKPOINT:
        state = load_checkpoint(path)
        weights = state.get("ema") or state["model"]
        skipped = copy_matching(model, weights)
        return f"{path.name}: copied {len(model.state_dict()) - len(skipped)} tensors, " + (
            f"re-initialised {len(skipped)} (class count differs)" if skipped else "all matched"
        )
    if cutoff is not None:
        cutoff = cutoff or backbone_layer_count(model)
        load_darknet_weights(model, path, cutoff=cutoff)
        return f"{path.name}: loaded Darknet layers 0-{cutoff - 1}; the rest starts fresh"
    config: ModelConfig = model.config
    classes = darknet_num_classes(path, config)
    if classes == config.num_classes:
        load_darknet_weights(model, path)
        return f"{path.name}: loaded every layer"
    source = build_model(replace(config, num_classes=classes, class_names=()))
    load_darknet_weights(source, path)
    skipped = copy_matching(model, source.state_dict())
    return (
        f"{path.name}: loaded every layer but the {len(skipped)} prediction tensors, "
        f"re-initialised for {config.num_classes} classes instead of {classes}"
    )
