"""Training: the loss and its targets, the loop, and whole runs with checkpoints.

- :func:`fit` / :class:`Run` (:mod:`yolov3.train.run`): a whole run, also under torchrun.
- :mod:`~yolov3.train.loop`: :class:`TrainState`, :func:`train_one_epoch`, :func:`validate`.
- :mod:`~yolov3.train.loss` (:class:`YoloLoss`) and :mod:`~yolov3.train.targets`
  (:func:`build_targets`: ground truths to anchors and cells).
- :mod:`~yolov3.train.optimizer`, :mod:`~yolov3.train.scheduler`, :mod:`~yolov3.train.ema`,
  :mod:`~yolov3.train.distributed`, :mod:`~yolov3.train.transfer` (pretrained weights) and
  :mod:`~yolov3.train.run_log` (results.csv, TensorBoard, results.png).
- :mod:`~yolov3.train.training_data` (``single_cls``, ``cache="ram"``) and
  :mod:`~yolov3.train.preview` (``train_batch0.jpg``).
"""

from yolov3.train.loop import (
    TrainingDiverged,
    TrainState,
    amp_settings,
    train_one_epoch,
    validate,
)
from yolov3.train.loss import YoloLoss
from yolov3.train.run import Run, fit, multiscale_range
from yolov3.train.run_dir import RunFolderError, next_run_dir
from yolov3.train.targets import ScaleTargets, build_targets

__all__ = [
    "Run",
    "RunFolderError",
    "ScaleTargets",
    "TrainState",
    "TrainingDiverged",
    "YoloLoss",
    "amp_settings",
    "build_targets",
    "fit",
    "multiscale_range",
    "next_run_dir",
    "train_one_epoch",
    "validate",
]
