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
        pycocotools_on: the ground truth pycocotools read: the dataset's original COCO JSON
            when there is one, else the ground truth this evaluation wrote.
        confusion: the confusion matrix at the plots' score threshold.
        written: output files by kind.
    """

    result: EvalResult
    pycocotools: np.ndarray | None = None
    pycocotools_on: str = "the same detections"
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
            parts += ["", f"pycocotools on {self.pycocotools_on}:", self.side_by_side()]
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


MATCH_CHOICES = ("auto", "file_name", "image_id")


def read_coco_results(
    path: str | Path, data: Any, match: str = "auto"
) -> list[dict[str, np.ndarray]]:
    """A COCO results JSON as per-image predictions for :func:`evaluate_predictions`.

    Args:
        match: how a result finds its image: ``"file_name"`` (the image's file name, as
            ``yolov3 detect`` writes it), ``"image_id"`` (the dataset's image id, as ``yolov3
            val`` writes it), or ``"auto"``: ``file_name`` when every entry has one, else
            ``image_id``. One key is used for every entry; there is no fallback.

    Categories are mapped by ``category_name`` when an entry has one (``yolov3 detect``
    writes it), else ``category_id`` must be one of the dataset's ``category_ids``.

    Raises:
        ValueError: naming the file and the first entry that matches no image of the
            dataset, or whose category cannot be mapped to one of its classes.
    """
    path = Path(path)
    entries = _load_results(path)
    if match not in MATCH_CHOICES:
        raise ValueError(f"match={match!r}; expected one of {MATCH_CHOICES}")
    if match == "auto":
        named = all(isinstance(e, dict) and "file_name" in e for e in entries)
        match = "file_name" if entries and named else "image_id"
    records, ids = _ordered(data)
    keys: list[Any] = [r.path.name for r in records] if match == "file_name" else ids
    if len(set(keys)) != len(keys):
        raise ValueError(f"{path}: the dataset's file names are not unique; use image_id")
    row = {key: i for i, key in enumerate(keys)}
    parts: list[list[tuple]] = [[] for _ in records]
    for n, entry in enumerate(entries):
        i, k, box = _entry(entry, match, row, data, f"{path}: entry {n}")
        parts[i].append((*box, k))
    preds = []
    for rows in parts:
        a = np.array(rows, np.float64).reshape(-1, 6)
        preds.append({"boxes": a[:, :4], "scores": a[:, 4], "labels": a[:, 5].astype(np.int64)})
    return preds


def _load_results(path: Path) -> list[Any]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable JSON file ({exc})") from exc
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a JSON list of COCO results")
    return entries


def _entry(
    entry: Any, match: str, row: dict, data: Any, where: str
) -> tuple[int, int, tuple[float, ...]]:
    """(image row, class index, (x1, y1, x2, y2, score)) of one result entry."""
    if not isinstance(entry, dict) or match not in entry:
        raise ValueError(f"{where}: expected an object with {match}, category_id, bbox, score")
    key = entry[match]
    if key not in row:
        what = f"file_name {key!r}" if match == "file_name" else f"image_id {key!r}"
        raise ValueError(f"{where}: {what} is not an image of the dataset (matched by {match})")
    if "category_name" in entry:
        names = {name: k for k, name in enumerate(data.class_names)}
        if entry["category_name"] not in names:
            raise ValueError(
                f"{where}: category_name {entry['category_name']!r} is not a class of the "
                f"dataset ({', '.join(data.class_names)})"
            )
        k = names[entry["category_name"]]
    else:
        label = {c: k for k, c in enumerate(data.category_ids)}
        if entry.get("category_id") not in label:
            raise ValueError(
                f"{where}: category_id {entry.get('category_id')!r} is not one of the "
                f"dataset's category ids ({_id_range(data.category_ids)}) and the entry has "
                "no category_name to map it by"
            )
        k = label[entry["category_id"]]
    try:
        x, y, w, h = (float(v) for v in entry["bbox"])
        return row[key], k, (x, y, x + w, y + h, float(entry["score"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: expected bbox [x, y, w, h] and a score ({exc!r})") from None


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
        original = _original_json(records)
        if original is not None:
            doc = json.loads(original.read_text(encoding="utf-8"))
            report.pycocotools = pycocotools_stats(doc, results, image_ids=ids)
            report.pycocotools_on = f"the same detections and the original {original}"
        else:
            report.pycocotools = pycocotools_stats(ground_truth, results)
    if out is not None:
        _write(report, Path(out), ground_truth, results)
    return report


def _original_json(records: list[Any]) -> Path | None:
    """The COCO JSON every record was read from, when they all come from one."""
    sources = {r.annotation for r in records}
    if len(sources) != 1:
        return None
    source = next(iter(sources))
    return source if source is not None and source.suffix.lower() == ".json" else None


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
