"""Models from files: a training checkpoint, or a Darknet cfg with its weights."""

from __future__ import annotations

from pathlib import Path

from yolov3.checkpoint import CheckpointError, load_checkpoint
from yolov3.config import ModelConfig
from yolov3.filekind import DARKNET_WEIGHTS, file_kind
from yolov3.model.darknet_io import DarknetFormatError, load_darknet_weights, model_from_cfg
from yolov3.model.yolov3 import DetectorBase, build_model


def load_model(path: str | Path, cfg: str | Path | None = None) -> DetectorBase:
    """The model stored in ``path``, in eval mode, on the CPU.

    Args:
        path: a checkpoint (``.pt``/``.pth``, as ``yolov3 train`` writes; its EMA weights are
            preferred) or a Darknet ``.weights`` file (then ``cfg`` is required).
        cfg: the Darknet ``.cfg`` describing ``path``'s network.

    Raises:
        ValueError: the file cannot be read as a model (``CheckpointError``,
            ``DarknetFormatError`` or a missing ``cfg``), with the file named.
    """
    path = Path(path)
    darknet = path.suffix == ".weights" or (path.is_file() and file_kind(path) == DARKNET_WEIGHTS)
    if cfg is not None or darknet:
        if cfg is None:
            raise DarknetFormatError(f"{path}: Darknet weights need their .cfg (pass cfg=...)")
        model = model_from_cfg(cfg)
        load_darknet_weights(model, path)
        return model.eval()

    state = load_checkpoint(path)
    config = ModelConfig.from_dict(state["model_config"])
    model = build_model(config)
    ema = state.get("ema")
    weights = ema.get("model", ema) if isinstance(ema, dict) else state["model"]
    try:
        model.load_state_dict(weights)
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise CheckpointError(
            f"{path}: weights do not fit {config.arch} with {config.num_classes} classes: "
            f"{_mismatch(model.state_dict(), weights)}"
        ) from exc
    train = state.get("train_config")
    size = train.get("img_size") if isinstance(train, dict) else None
    model.input_size = int(size) if isinstance(size, int) and size > 0 and size % 32 == 0 else None
    return model.eval()


def _mismatch(expected: dict, found: object) -> str:
    """One line on how a state dict differs from the model's (load_state_dict lists all)."""
    if not isinstance(found, dict):
        return f"expected a state dict, found {type(found).__name__}"
    reshaped = [k for k in expected if k in found and found[k].shape != expected[k].shape]
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    parts = []
    if reshaped:
        k = reshaped[0]
        parts.append(
            f"{len(reshaped)} tensors of other shapes (first {k}: {tuple(found[k].shape)} in the "
            f"file, {tuple(expected[k].shape)} in the model)"
        )
    for what, keys in (("missing", missing), ("unexpected", unexpected)):
        if keys:
            parts.append(f"{len(keys)} {what} tensors (first {keys[0]})")
    return "; ".join(parts) or "they cannot be loaded"
