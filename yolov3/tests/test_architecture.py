"""The package's structure, read from the source with ``ast`` (see ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "yolov3"
MAX_FUNCTION_LINES = 60


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, ast.Module]:
    return {_module_name(p): ast.parse(p.read_text(), str(p)) for p in PACKAGE.rglob("*.py")}


MODULES = _modules()


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    """First-party modules an import statement loads (``from m import sub`` counts ``m.sub``)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif node.level or not node.module:
        raise AssertionError(f"relative import at line {node.lineno}: use absolute imports")
    else:
        names = [node.module]
        names += [
            f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES
        ]
    return [n for n in names if n == "yolov3" or n.startswith("yolov3.")]


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported (not inside functions or TYPE_CHECKING)."""
    found, stack = [], list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            stack += node.body + node.orelse
        elif isinstance(node, ast.Try):
            stack += node.body + node.orelse + node.finalbody
            stack += [n for h in node.handlers for n in h.body]
    return found


def _ancestors(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_graph() -> dict[str, set[str]]:
    """Module -> the first-party modules importing it executes, including the ``__init__`` of
    every package on the way (except the importer's own packages, already being imported)."""
    graph: dict[str, set[str]] = {}
    for name, tree in MODULES.items():
        own = {*_ancestors(name), name}
        edges = set()
        for node in _top_level_imports(tree):
            for target in _imported(node):
                edges |= {m for m in (*_ancestors(target), target) if m in MODULES} - own
        graph[name] = edges
    return graph


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_graph_reader_sees_imports_and_finds_cycles():
    graph = import_graph()
    assert "yolov3.model" in graph["yolov3.train.run"]
    assert "yolov3.boxes" in graph["yolov3.predict.decode"]
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_module_imports_have_no_cycle():
    cycle = _find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def _all_imports(tree: ast.Module) -> list[str]:
    return [
        m
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for m in _imported(n)
    ]


@pytest.mark.parametrize(
    "module",
    sorted(m for m in MODULES if m.startswith("yolov3.cli.") and m != "yolov3.cli.options"),
)
def test_cli_commands_do_not_import_each_other(module):
    """Shared options live in ``yolov3.cli.options``; a command imports no other command."""
    siblings = {
        m for m in _all_imports(MODULES[module]) if m.startswith("yolov3.cli") and m != module
    }
    assert siblings <= {"yolov3.cli.options"}, f"{module} imports {sorted(siblings)}"


def test_no_function_is_longer_than_the_limit():
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({lines})")
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines: {too_long}"


# Each rule has one home: these names are defined exactly once in the package.
ONE_HOME = [
    "xywh_to_xyxy",
    "xywh_to_xyxy_np",
    "xyxy_to_xywh",
    "xyxy_to_xywh_np",
    "cxcywh_to_xyxy",
    "normalized_cxcywh_to_xyxy",
    "normalized_cxcywh_to_xyxy_np",
    "xyxy_to_normalized_cxcywh",
    "xyxy_to_normalized_cxcywh_np",
    "clip_boxes",
    "decode_cells",
    "wh_iou",
    "build_targets",
    "init_head_biases",
    "freeze_backbone",
    "unwrap",
    "predict_loader",
    "to_image_pixels",
    "fit",
    "derive_config",
    "optimizer_steps_per_epoch",
    "next_run_dir",
    "file_kind",
    "image_size",
    "exif_orientation",
    "read_coco_results",
]


def test_every_rule_is_defined_once():
    defined = Counter(
        node.name
        for tree in MODULES.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    )
    assert {name: defined[name] for name in ONE_HOME} == dict.fromkeys(ONE_HOME, 1)
