"""Detection over a source (an image, a folder, a glob or a video) with every output written.

Outputs under ``out/``: annotated images (same file names) or videos (``<stem>.mp4``),
``labels/<stem>.txt`` in YOLO txt (``class cx cy w h [score]``, normalised) and
``results.json`` in COCO's results format. A file that cannot be read is reported in
:attr:`DetectReport.skipped` and the run goes on.
"""

from __future__ import annotations

import glob
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from torch import Tensor
from tqdm import tqdm

from yolov3.boxes import xyxy_to_xywh
from yolov3.data import DatasetError, load_image
from yolov3.data.yolo import format_label_lines
from yolov3.predict.detector import Detector
from yolov3.predict.draw import draw_detections

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".jfif", ".pgm"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}


def expand_source(source: str | Path) -> list[Path]:
    """The image and video files a source names: a file, a folder (its images and videos,
    sorted) or a glob pattern (``**`` recurses).

    Raises:
        FileNotFoundError: nothing exists at ``source`` or it holds no image or video.
    """
    path = Path(source)
    known = IMAGE_SUFFIXES | VIDEO_SUFFIXES
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(f for f in path.iterdir() if f.is_file() and f.suffix.lower() in known)
    elif glob.has_magic(str(source)):
        matches = (Path(f) for f in glob.glob(str(source), recursive=True))
        files = sorted(f for f in matches if f.is_file() and f.suffix.lower() in known)
    else:
        raise FileNotFoundError(f"{source}: no such file or folder, and not a glob pattern")
    if not files:
        raise FileNotFoundError(
            f"{source}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) or videos "
            f"({', '.join(sorted(VIDEO_SUFFIXES))}) found"
        )
    return files


@dataclass
class DetectReport:
    """What a detection run did.

    Attributes:
        images: pictures processed (images plus video frames).
        detections: boxes found in all of them.
        per_class: boxes found, by class name.
        skipped: ``(file, reason)`` for every file that could not be read.
        written: output files, by kind (``"images"``, ``"videos"``, ``"labels"``, ``"json"``).
        seconds: wall time of the run.
    """

    images: int = 0
    detections: int = 0
    per_class: dict[str, int] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    written: dict[str, list[Path]] = field(default_factory=dict)
    seconds: float = 0.0


class _Writer:
    """Writes each picture's outputs and collects the COCO results."""

    def __init__(self, out: Path, detector: Detector, report: DetectReport, options: dict) -> None:
        self.out, self.report, self.options = out, report, options
        self.names, self.category_ids = detector.class_names, detector.category_ids
        self.results: list[dict] = []
        self.used: set[str] = set()

    def unique(self, name: str) -> str:
        stem, suffix, n = Path(name).stem, Path(name).suffix, 1
        while name in self.used:
            name, n = f"{stem}_{n}{suffix}", n + 1
        self.used.add(name)
        return name

    def add(
        self, image_id: int, name: str, label_stem: str, image: np.ndarray, det: dict[str, Tensor]
    ) -> None:
        self.report.images += 1
        self.report.detections += len(det["scores"])
        counts = self.report.per_class
        for label in det["labels"].tolist():
            counts[self.names[label]] = counts.get(self.names[label], 0) + 1
        h, w = image.shape[:2]
        boxes = det["boxes"].double()
        xywhs = xyxy_to_xywh(boxes).tolist()
        for xywh, score, label in zip(
            xywhs, det["scores"].tolist(), det["labels"].tolist(), strict=True
        ):
            self.results.append(
                {
                    "image_id": image_id,
                    "file_name": name,
                    "category_id": self.category_ids[int(label)],
                    "category_name": self.names[int(label)],
                    "bbox": xywh,
                    "score": float(score),
                }
            )
        if self.options["save_txt"]:
            self._write_txt(label_stem, boxes, det, w, h)

    def _write_txt(self, stem: str, boxes: Tensor, det: dict[str, Tensor], w: int, h: int) -> None:
        path = self.out / "labels" / f"{stem}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        scores = det["scores"].numpy() if self.options["save_conf"] else None
        lines = format_label_lines(boxes.numpy(), det["labels"].numpy(), w, h, scores)
        path.write_text("".join(lines))
        self.report.written.setdefault("labels", []).append(path)


def detect_source(
    detector: Detector,
    source: str | Path,
    out: str | Path,
    batch_size: int = 8,
    save_images: bool = True,
    save_txt: bool = True,
    save_json: bool = True,
    save_conf: bool = False,
    progress: bool = True,
) -> DetectReport:
    """Run ``detector`` on every image and video of ``source`` and write the outputs to ``out``.

    COCO ``image_id`` is the file's number when every image is named by a number (as COCO's
    own files are), otherwise the picture's position in the run; each result also carries
    ``file_name`` (``clip.mp4:frame`` for video frames). ``category_id`` is the dataset's own
    COCO category id when the detector knows it (``Detector.category_ids``: from a checkpoint
    trained on COCO JSON or a ``categories.json``, or ``yolov3 detect --categories``), else
    the class index plus 1; ``category_name`` is the class name, by which ``yolov3 val
    --results`` maps each result to the dataset's classes.

    Raises:
        FileNotFoundError: nothing to read at ``source`` (see :func:`expand_source`).
        FileExistsError: annotated images would be written over the source files.
    """
    start = time.perf_counter()
    files = expand_source(source)
    out = Path(out)
    _refuse_to_overwrite(files, out, save_images, save_txt)
    out.mkdir(parents=True, exist_ok=True)
    report = DetectReport()
    options = {"save_images": save_images, "save_txt": save_txt, "save_conf": save_conf}
    writer = _Writer(out, detector, report, options)
    images = [f for f in files if f.suffix.lower() not in VIDEO_SUFFIXES]
    videos = [f for f in files if f.suffix.lower() in VIDEO_SUFFIXES]
    numeric = not videos and _numbered(images)
    bar_off = not (progress and images)  # a video-only run shows only the videos' bars
    with tqdm(total=len(images), desc="detect", unit="img", disable=bar_off) as bar:
        for chunk in _batches(images, batch_size):
            loaded = _load_all(chunk, report)
            dets = detector.predict_arrays([a for _, a in loaded]) if loaded else []
            for (path, image), det in zip(loaded, dets, strict=True):
                name = writer.unique(path.name)
                image_id = int(path.stem) if numeric else report.images
                writer.add(image_id, name, Path(name).stem, image, det)
                if save_images:
                    _save_image(out / name, draw_detections(image, det, detector.class_names))
                    report.written.setdefault("images", []).append(out / name)
            bar.update(len(chunk))
    for video in videos:
        _detect_video(detector, video, out, writer, batch_size, progress)
    if save_json:
        path = out / "results.json"
        path.write_text(json.dumps(writer.results))
        report.written["json"] = [path]
    report.seconds = time.perf_counter() - start
    return report


def _refuse_to_overwrite(files: list[Path], out: Path, save_images: bool, save_txt: bool) -> None:
    """Annotated images never replace the sources, nor labels a YOLO dataset's own labels."""
    target = out.resolve()
    if save_images and target in {f.parent.resolve() for f in files}:
        raise FileExistsError(
            f"{out}: holds source images that the annotated copies would overwrite; "
            "choose another output folder (or do not save images)"
        )
    dataset_roots = {f.parent.parent.resolve() for f in files if f.parent.name == "images"}
    if save_txt and target in dataset_roots:
        raise FileExistsError(
            f"{out}: its labels/ folder holds the source dataset's labels, which detected "
            "labels would overwrite; choose another output folder (or do not save labels)"
        )


def _numbered(images: list[Path]) -> bool:
    stems = [p.stem for p in images]
    return all(s.isdigit() for s in stems) and len({int(s) for s in stems}) == len(stems)


def _batches(items: list[Path], size: int) -> Iterator[list[Path]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _load_all(paths: list[Path], report: DetectReport) -> list[tuple[Path, np.ndarray]]:
    loaded = []
    for path in paths:
        try:
            loaded.append((path, load_image(path)))
        except DatasetError as exc:
            report.skipped.append((str(path), str(exc).removeprefix(f"{path}: ")))
    return loaded


def _save_image(path: Path, image: np.ndarray) -> None:
    if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise OSError(f"{path}: could not write the annotated image")


def _detect_video(
    detector: Detector, path: Path, out: Path, writer: _Writer, batch_size: int, progress: bool
) -> None:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        writer.report.skipped.append((str(path), "cannot be opened as a video"))
        return
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    video_out, frame_index = None, 0
    try:
        with tqdm(total=total, desc=path.name, unit="frame", disable=not progress) as bar:
            while True:
                frames = []
                while len(frames) < batch_size:
                    ok, frame = capture.read()
                    if not ok:
                        break
                    frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
                if not frames:
                    break
                for frame, det in zip(frames, detector.predict_arrays(frames), strict=True):
                    name, stem = f"{path.name}:{frame_index}", f"{path.stem}_{frame_index}"
                    writer.add(writer.report.images, name, stem, frame, det)
                    if writer.options["save_images"]:
                        video_out = video_out or _open_video(out, path, fps, frame, writer)
                        drawn = draw_detections(frame, det, detector.class_names)
                        video_out.write(cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))
                    frame_index += 1
                bar.update(len(frames))
    finally:
        capture.release()
        if video_out is not None:
            video_out.release()
    if frame_index == 0:
        writer.report.skipped.append((str(path), "no frame could be decoded"))


def _open_video(
    out: Path, source: Path, fps: float, frame: np.ndarray, writer: _Writer
) -> cv2.VideoWriter:
    path = out / writer.unique(f"{source.stem}.mp4")
    h, w = frame.shape[:2]
    video = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not video.isOpened():
        raise OSError(f"{path}: cannot open a video writer (mp4v)")
    writer.report.written.setdefault("videos", []).append(path)
    return video
