"""A whole validation run: predict a dataset, measure, cross-check and write the report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from yolov3.evaluate.coco import (
    SUMMARY,
    EvalResult,
    evaluate_detections,
    ground_truths_from_records,
)
from yolov3.evaluate.cocojson import (
    pycocotools_stats,
    to_coco_ground_truth,
    to_coco_results,
    write_json,
)
from yolov3.evaluate.curves import confusion_matrix
from yolov3.evaluate.plots import plot_confusion_matrix, plot_f1_curve, plot_pr_curve
from yolov3.evaluate.voc import voc_ap
from yolov3.predict import predict_images


@dataclass
class ValReport:
    """What ``yolov3 val`` measured and wrote.

    Attributes:
        result: our COCO evaluation (``result.extras`` holds VOC APs when asked).
        pycocotools: ``COCOeval.stats`` on the same detections, when asked.
        confusion: the confusion matrix at the plots' score threshold.
        written: output files by kind.
    """

    result: EvalResult
    pycocotools: np.ndarray | None = None
    confusion: np.ndarray | None = None
    written: dict[str, Path] = field(default_factory=dict)

    def side_by_side(self) -> str:
        """Our 12 numbers beside pycocotools', with the largest difference."""
        if self.pycocotools is None:
            return ""
        ours = self.result.as_array()
        lines = [f"{'metric':<7} {'ours':>9} {'pycocotools':>12} {'diff':>9}"]
        for (name, *_), a, b in zip(SUMMARY, ours, self.pycocotools, strict=True):
            lines.append(f"{name:<7} {a:>9.5f} {b:>12.5f} {a - b:>+9.1e}")
        lines.append(f"largest difference {np.abs(ours - self.pycocotools).max():.2e}")
        return "\n".join(lines)

    def text(self) -> str:
        """The report: COCO summary, VOC APs, best-F1 point, per-class table, cross-check."""
        r = self.result
        parts = [r.summary(), ""]
        for key, title in (("voc07", "VOC07 11-point mAP@0.5"), ("voc", "VOC all-point mAP@0.5")):
            if key in r.extras:
                parts.append(f"{title}: {r.extras[key]:.4f}")
        f1 = r.best_f1
        parts += [
            f"best F1 {f1.f1:.4f} at score {f1.conf:.3f}: precision {f1.precision:.4f}, "
            f"recall {f1.recall:.4f} (class means, IoU 0.5)",
            "",
            r.table(),
        ]
        if self.pycocotools is not None:
            parts += ["", "pycocotools on the same detections:", self.side_by_side()]
        return "\n".join(parts)


def _ordered(data: Any) -> tuple[list[Any], list[int]]:
    """Records in COCO image-id order (pycocotools breaks score ties by it), with the ids:
    the dataset's own when unique, else the position in the dataset."""
    ids = [r.image_id if r.image_id is not None else i for i, r in enumerate(data.records)]
    if len(set(ids)) != len(ids):
        ids = list(range(len(data.records)))
    order = sorted(range(len(ids)), key=ids.__getitem__)
    return [data.records[i] for i in order], [ids[i] for i in order]


def evaluate_dataset(
    detector: Any,
    data: Any,
    out: str | Path | None = None,
    batch_size: int = 8,
    voc: bool = True,
    pycocotools: bool = False,
    plot_conf: float = 0.25,
    progress: bool = True,
) -> ValReport:
    """Predict every image of ``data`` (a ``yolov3.data.DetectionData``) and evaluate.

    With ``out``, writes ``report.txt``, ``metrics.json``, ``results.json`` (COCO results),
    ``ground_truth.json`` (COCO instances), and the PR, F1 and confusion-matrix PNGs.
    """
    if len(data.class_names) != detector.config.num_classes:
        raise ValueError(
            f"the dataset has {len(data.class_names)} classes and the model "
            f"{detector.config.num_classes}; evaluate with a model trained for this dataset"
        )
    records, _ = _ordered(data)
    paths = [r.path for r in records]
    preds = predict_images(detector, paths, batch_size, progress=progress, desc="val")
    return evaluate_predictions(preds, data, out, voc, pycocotools, plot_conf)


def read_coco_results(path: str | Path, data: Any) -> list[dict[str, np.ndarray]]:
    """A COCO results JSON as per-image predictions for :func:`evaluate_predictions`.

    Category ids are the dataset's ``category_ids``. Images are found by ``image_id`` (the
    dataset's, as ``yolov3 val`` writes them), or by ``file_name`` for entries that carry
    one (as ``yolov3 detect`` writes them) when the dataset's file names are unique.

    Raises:
        ValueError: naming the file and the entry with an unknown image or category id.
    """
    path = Path(path)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable JSON file ({exc})") from exc
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a JSON list of COCO results")
    records, ids = _ordered(data)
    row = {image_id: i for i, image_id in enumerate(ids)}
    names = [r.path.name for r in records]
    by_name = {name: i for i, name in enumerate(names)} if len(set(names)) == len(names) else {}
    label = {c: k for k, c in enumerate(data.category_ids)}
    parts: list[list[tuple]] = [[] for _ in records]
    for n, entry in enumerate(entries):
        try:
            named = isinstance(entry, dict) and entry.get("file_name") in by_name
            i = by_name[entry["file_name"]] if named else row[entry["image_id"]]
            k = label[entry["category_id"]]
            x, y, w, h = (float(v) for v in entry["bbox"])
            parts[i].append((x, y, x + w, y + h, float(entry["score"]), k))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                f"{path}: entry {n}: expected image_id among the dataset's (or a file_name of "
                f"its images), category_id in {_id_range(data.category_ids)}, bbox [x, y, w, h] "
                f"and score ({exc!r})"
            ) from exc
    preds = []
    for rows in parts:
        a = np.array(rows, np.float64).reshape(-1, 6)
        preds.append({"boxes": a[:, :4], "scores": a[:, 4], "labels": a[:, 5].astype(np.int64)})
    return preds


def _id_range(ids: list[int]) -> str:
    """``1..80`` for consecutive ids, else the list itself."""
    consecutive = ids == list(range(ids[0], ids[0] + len(ids))) if ids else False
    return f"{ids[0]}..{ids[-1]}" if consecutive and len(ids) > 2 else str(ids)


def evaluate_predictions(
    preds: list[dict],
    data: Any,
    out: str | Path | None = None,
    voc: bool = True,
    pycocotools: bool = False,
    plot_conf: float = 0.25,
) -> ValReport:
    """Evaluate predictions (one per record, in COCO image-id order) against ``data``."""
    records, ids = _ordered(data)
    names = list(data.class_names)
    num_classes = len(names)
    if len(preds) != len(records):
        raise ValueError(f"{len(preds)} predictions for {len(records)} dataset images")
    truths = ground_truths_from_records(records, num_classes)
    result = evaluate_detections(preds, truths, num_classes, names)
    if voc:
        result.extras["voc07"] = voc_ap(preds, truths, num_classes, method="voc07")[0]
        result.extras["voc"] = voc_ap(preds, truths, num_classes, method="voc")[0]
    report = ValReport(result, confusion=confusion_matrix(preds, truths, num_classes, plot_conf))
    ground_truth = to_coco_ground_truth(
        truths,
        num_classes,
        names,
        image_ids=ids,
        category_ids=data.category_ids,
        image_sizes=[(r.height, r.width) for r in records],
        file_names=[r.path.name for r in records],
    )
    results = to_coco_results(preds, image_ids=ids, category_ids=data.category_ids)
    if pycocotools:
        report.pycocotools = pycocotools_stats(ground_truth, results)
    if out is not None:
        _write(report, Path(out), ground_truth, results)
    return report


def _write(report: ValReport, out: Path, ground_truth: dict, results: list[dict]) -> None:
    r = report.result
    out.mkdir(parents=True, exist_ok=True)
    report.written["results"] = write_json(results, out / "results.json")
    report.written["ground_truth"] = write_json(ground_truth, out / "ground_truth.json")
    metrics = {
        "coco": r.stats,
        "per_class_ap": r.per_class,
        "per_class_ap50": r.per_class_ap50,
        "best_f1": vars(r.best_f1),
        **{k: None if np.isnan(v) else v for k, v in r.extras.items() if isinstance(v, float)},
    }
    if report.pycocotools is not None:
        metrics["pycocotools"] = dict(
            zip([s[0] for s in SUMMARY], report.pycocotools.tolist(), strict=True)
        )
    report.written["metrics"] = out / "metrics.json"
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    report.written["report"] = out / "report.txt"
    (out / "report.txt").write_text(report.text() + "\n")
    report.written["pr_curve"] = plot_pr_curve(r, out / "pr_curve.png")
    report.written["f1_curve"] = plot_f1_curve(r, out / "f1_curve.png")
    if report.confusion is not None:
        report.written["confusion_matrix"] = plot_confusion_matrix(
            report.confusion, r.class_names, out / "confusion_matrix.png"
        )
