"""``yolov3 data convert|check|stats|split``: dataset tools over :mod:`yolov3.data`."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path

from yolov3.cli.options import (
    FORMAT_CHOICES,
    ExamplesFormatter,
    add_source_arguments,
    positive_int,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    data = subparsers.add_parser(
        "data",
        help="convert, check, split and describe detection datasets",
        description="Dataset tools for YOLO txt, Pascal VOC XML and COCO JSON.",
    )
    sub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    _register_convert(sub)
    _register_check(sub)
    _register_stats(sub)
    _register_split(sub)


def _register_convert(sub: argparse._SubParsersAction) -> None:
    convert = sub.add_parser(
        "convert",
        help="convert a dataset between yolo, voc and coco",
        description="Convert a dataset to another format, copying the images into the new "
        "layout. Class names, category ids and image order are kept; integer-pixel VOC "
        "rounds box corners once. YOLO txt has no difficult flag.",
        epilog="examples:\n"
        "  yolov3 data convert raccoon/ raccoon-yolo/ --to yolo\n"
        "  yolov3 data convert coco128/ coco128-coco/ --split val2017 --to coco --link",
        formatter_class=ExamplesFormatter,
    )
    add_source_arguments(convert)
    convert.add_argument("out", type=Path, help="output folder (must not be the source)")
    convert.add_argument("--to", required=True, choices=FORMAT_CHOICES, help="output format")
    convert.add_argument("--out-split", help="split name to write (default: --split)")
    convert.add_argument(
        "--link", action="store_true", help="symlink images instead of copying them"
    )
    convert.set_defaults(func=run_convert)


def _register_check(sub: argparse._SubParsersAction) -> None:
    check = sub.add_parser(
        "check",
        help="list every problem with file and line/object; exit 1 if any error",
        description="Check a dataset: missing or unreadable images, size mismatches, boxes "
        "out of bounds, degenerate and duplicate boxes, unknown classes, unparseable lines. "
        "Empty label files are legitimate and only counted. Images that carry an EXIF "
        "rotation are listed (they are read upright everywhere). Exits 1 when there are "
        "errors.",
        epilog="examples:\n"
        "  yolov3 data check coco128/ --split train2017\n"
        "  yolov3 data check my-voc/ --deep --fix my-voc-clean/",
        formatter_class=ExamplesFormatter,
    )
    add_source_arguments(check)
    check.add_argument(
        "--deep",
        action="store_true",
        help="decode every image fully, naming truncated or corrupt files (slower)",
    )
    check.add_argument(
        "--fix",
        type=Path,
        metavar="OUT",
        help="write a cleaned copy to OUT (the source is never modified)",
    )
    check.add_argument(
        "--fix-format", choices=FORMAT_CHOICES, help="format of the cleaned copy (default: same)"
    )
    check.set_defaults(func=run_check)


def _register_stats(sub: argparse._SubParsersAction) -> None:
    stats = sub.add_parser(
        "stats",
        help="images, boxes per class, box sizes and aspects: a PNG plot and a text table",
        description="Describe a dataset: images, boxes per class, box-size and aspect-ratio "
        "distributions. Writes stats.png and stats.txt to --out and prints the table.",
        epilog="example:\n  yolov3 data stats coco128/ --split val2017 --out runs/stats",
        formatter_class=ExamplesFormatter,
    )
    add_source_arguments(stats)
    stats.add_argument(
        "--out", type=Path, default=Path("runs/stats"), help="output folder (runs/stats)"
    )
    stats.add_argument(
        "--img-size",
        type=positive_int,
        default=416,
        help="input size for the letterboxed box sizes (default: 416)",
    )
    stats.set_defaults(func=run_stats)


def open_fraction(text: str) -> float:
    """argparse type: a fraction strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number between 0 and 1, got {text!r}"
        ) from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(
            f"expected a number between 0 and 1 (exclusive), got {text}"
        )
    return value


def _register_split(sub: argparse._SubParsersAction) -> None:
    split = sub.add_parser(
        "split",
        help="write train/val[/test] split lists, stratified by class; images stay in place",
        description="Split a dataset into train, val and (with --test) test, keeping each "
        "class's share in every split (iterative stratification over the classes of each "
        "image), reproducibly by --seed. Writes the lists where the format's reader finds "
        "them: VOC ImageSets/Main/<split>.txt, YOLO <split>.txt beside images/ (image paths), "
        "COCO annotations/instances_<split>.json. --out writes them to a new folder with "
        "links to the source instead (for a read-only dataset); train with --data OUT. "
        "Images are never moved or copied. Prints a per-class table of the result.",
        epilog="examples:\n"
        "  yolov3 data split my-voc/ --val 0.2 --test 0.1 --seed 0\n"
        "  yolov3 data split ../shared/data/raccoon --val 0.2 --out raccoon-split/\n"
        "  yolov3 train --data raccoon-split/ --arch yolov3-tiny",
        formatter_class=ExamplesFormatter,
    )
    add_source_arguments(split)
    split.add_argument(
        "--val",
        type=open_fraction,
        required=True,
        help="share of the images for validation, between 0 and 1",
    )
    split.add_argument(
        "--test", type=open_fraction, help="share for a test split, between 0 and 1 (default: none)"
    )
    split.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    split.add_argument(
        "--out",
        type=Path,
        help="write the lists (and links to the source) to this folder, not into the dataset",
    )
    split.add_argument("--force", action="store_true", help="replace existing split lists")
    split.set_defaults(func=run_split)


def _read(args: argparse.Namespace):
    # lazy: torch loads only when a command runs, so `yolov3 --help` stays fast
    from yolov3.data import read_dataset

    return read_dataset(args.source, args.fmt, args.split, args.names)


def _reporting_errors(action: Callable[[argparse.Namespace], int], status: int = 1) -> Callable:
    """Run a command; a dataset or file error becomes one ``yolov3 data ACTION:`` line and
    exit ``status`` (2, a usage error, adds ``error:`` as argparse does)."""

    @functools.wraps(action)
    def run(args: argparse.Namespace) -> int:
        # lazy: torch loads only when a command runs, so `yolov3 --help` stays fast
        from yolov3.data import DatasetError

        try:
            return action(args)
        except (DatasetError, OSError, ValueError) as err:
            kind = "error: " if status == 2 else ""
            text = " ".join(str(err).split()) if status == 2 else str(err)
            print(f"yolov3 data {args.data_command}: {kind}{text}", file=sys.stderr)
            return status

    return run


@_reporting_errors
def run_convert(args: argparse.Namespace) -> int:
    # lazy: torch loads only when a command runs, so `yolov3 --help` stays fast
    from yolov3.data import DatasetError, write_dataset

    data = _read(args)
    lost = [p for p in data.problems if p.severity == "error"]
    if lost:
        raise DatasetError(
            f"{len(lost)} lines or objects cannot be read and would be lost; fix them or "
            "write a cleaned copy with `yolov3 data check --fix OUT`:\n"
            + "\n".join(str(p) for p in lost)
        )
    write_dataset(data, args.out, args.to, args.out_split or args.split, _images(args))
    difficult = sum(int(r.difficult.sum()) for r in data.records)
    print(
        f"wrote {len(data.records)} images, {data.num_boxes} boxes, {data.num_classes} classes "
        f"as {args.to} to {args.out}"
    )
    if difficult and args.to == "yolo":
        print(f"note: YOLO txt has no difficult flag; {difficult} difficult boxes are plain boxes")
    return 0


def _images(args: argparse.Namespace) -> str:
    return "link" if getattr(args, "link", False) else "copy"


@_reporting_errors
def run_check(args: argparse.Namespace) -> int:
    # lazy: torch loads only when a command runs, so `yolov3 --help` stays fast
    from yolov3.data import check_dataset, fix_dataset, write_dataset

    data = _read(args)
    report = check_dataset(data, deep=args.deep, progress=sys.stderr.isatty())
    print(report.format())
    if args.fix is not None:
        fmt = args.fix_format or args.fmt or _detected(args.source)
        cleaned, actions = fix_dataset(data)
        write_dataset(cleaned, args.fix, fmt, args.split)
        print("\n".join(f"fix: {a}" for a in actions))
        print(f"wrote a cleaned copy ({len(cleaned.records)} images) as {fmt} to {args.fix}")
    return 0 if report.ok else 1


def _detected(source: Path) -> str:
    # lazy: torch loads only when a command runs, so `yolov3 --help` stays fast
    from yolov3.data import detect_format

    return detect_format(source)


@_reporting_errors
def run_stats(args: argparse.Namespace) -> int:
    # lazy: torch loads only when a command runs, so `yolov3 --help` stays fast
    from yolov3.data.stats import compute_stats, plot_stats

    data = _read(args)
    unread = [p for p in data.problems if p.severity == "error"]
    if unread:
        print(
            f"warning: {len(unread)} lines or objects cannot be read and are left out of the "
            f"figures (the first: {unread[0]}); see `yolov3 data check`",
            file=sys.stderr,
        )
    stats = compute_stats(data, args.img_size)
    args.out.mkdir(parents=True, exist_ok=True)
    table = stats.table()
    (args.out / "stats.txt").write_text(table + "\n", encoding="utf-8")
    plot_stats(stats, args.out / "stats.png")
    print(table)
    print(f"wrote {args.out / 'stats.txt'} and {args.out / 'stats.png'}")
    return 0


@functools.partial(_reporting_errors, status=2)
def run_split(args: argparse.Namespace) -> int:
    # lazy: torch loads only when a command runs, so `yolov3 --help` stays fast
    from yolov3.data import detect_format, split_dataset, split_table, write_splits
    from yolov3.data.split import check_fractions

    check_fractions(args.val, args.test or 0.0)
    data = _read(args)
    parts = split_dataset(data, args.val, args.test or 0.0, args.seed)
    fmt = args.fmt or detect_format(args.source)
    written = write_splits(data, parts, fmt, args.out, args.force, args.split)
    for problem in data.problems:
        if problem.kind in ("inferred_names", "similar_names"):
            print(f"{problem.severity}: {problem}", file=sys.stderr)
    print(split_table(data, parts))
    print(f"wrote {', '.join(str(p) for p in written)} (seed {args.seed}; images not moved)")
    print(f"train on it: yolov3 train --data {args.out or args.source}")
    return 0
