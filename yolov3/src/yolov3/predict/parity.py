"""Whether two runs of a detector found the same detections (a PyTorch and an ONNX run).

The rule, image by image: detections are paired greedily, the first run's in decreasing
score, each with the unpaired detection of the second run that has the same class, a score
within ``score_tol`` and every box corner within ``box_tol`` pixels plus ``box_rel_tol`` times
the box's longer side (float32 keeps about 7 digits, and an untrained network's boxes can be
thousands of pixels wide), the closest box first. A
detection left without a partner counts as a difference unless its score is within
``score_tol`` of the score threshold: the two runs' float rounding may put it on either side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

SCORE_TOL = 1e-4
BOX_TOL = 1e-2  # pixels
BOX_REL_TOL = 1e-5  # of the box's longer side


@dataclass
class Parity:
    """How two lists of per-image detections compare.

    Attributes:
        matched: detections paired across the runs.
        borderline: detections found by one run only, scoring within the tolerance of the
            threshold.
        missing: ``(image, class, score)`` of the first run's unpaired detections.
        extra: ``(image, class, score)`` of the second run's unpaired detections.
        box_diff: the largest corner difference (pixels) over the pairs.
        score_diff: the largest score difference over the pairs.
    """

    matched: int = 0
    borderline: int = 0
    missing: list[tuple[int, int, float]] = field(default_factory=list)
    extra: list[tuple[int, int, float]] = field(default_factory=list)
    box_diff: float = 0.0
    score_diff: float = 0.0

    @property
    def equal(self) -> bool:
        return not self.missing and not self.extra

    def summary(self) -> str:
        text = (
            f"{self.matched} detections paired (largest box difference {self.box_diff:.1e} px, "
            f"score difference {self.score_diff:.1e})"
        )
        if self.borderline:
            text += f", {self.borderline} at the threshold in one run only"
        if not self.equal:
            text += f"; {len(self.missing)} missing and {len(self.extra)} extra"
        return text


def compare_detections(
    expected: Sequence[dict[str, Tensor]],
    actual: Sequence[dict[str, Tensor]],
    conf_thresh: float,
    score_tol: float = SCORE_TOL,
    box_tol: float = BOX_TOL,
    box_rel_tol: float = BOX_REL_TOL,
) -> Parity:
    """Compare two runs' detections (``{"boxes", "scores", "labels"}`` per image) by the
    module's rule."""
    if len(expected) != len(actual):
        raise ValueError(f"{len(expected)} images against {len(actual)}")
    parity = Parity()
    for image, (exp, act) in enumerate(zip(expected, actual, strict=True)):
        tols = (score_tol, box_tol, box_rel_tol)
        _compare_image(image, exp, act, conf_thresh, tols, parity)
    return parity


def _compare_image(
    image: int,
    exp: dict[str, Tensor],
    act: dict[str, Tensor],
    conf_thresh: float,
    tols: tuple[float, float, float],
    parity: Parity,
) -> None:
    score_tol, box_tol, box_rel_tol = tols
    exp_boxes, exp_scores, exp_labels = (
        exp[k].detach().cpu() for k in ("boxes", "scores", "labels")
    )
    act_boxes, act_scores, act_labels = (
        act[k].detach().cpu() for k in ("boxes", "scores", "labels")
    )
    free = torch.ones(len(act_scores), dtype=torch.bool)
    for i in exp_scores.argsort(descending=True).tolist():
        box_diff = (act_boxes.double() - exp_boxes[i].double()).abs().amax(1)
        score_diff = (act_scores.double() - float(exp_scores[i])).abs()
        fits = free & (act_labels == exp_labels[i]) & (score_diff <= score_tol)
        extent = (exp_boxes[i, 2:] - exp_boxes[i, :2]).abs().max().double()
        fits &= box_diff <= box_tol + box_rel_tol * extent
        if fits.any():
            j = int(torch.where(fits, box_diff, torch.inf).argmin())
            free[j] = False
            parity.matched += 1
            parity.box_diff = max(parity.box_diff, float(box_diff[j]))
            parity.score_diff = max(parity.score_diff, float(score_diff[j]))
        else:
            _unpaired(
                parity, parity.missing, image, exp_labels[i], exp_scores[i], conf_thresh, score_tol
            )
    for j in free.nonzero()[:, 0].tolist():
        _unpaired(parity, parity.extra, image, act_labels[j], act_scores[j], conf_thresh, score_tol)


def _unpaired(
    parity: Parity,
    into: list[tuple[int, int, float]],
    image: int,
    label: Tensor,
    score: Tensor,
    conf_thresh: float,
    score_tol: float,
) -> None:
    if float(score) <= conf_thresh + score_tol:
        parity.borderline += 1
    else:
        into.append((image, int(label), float(score)))
