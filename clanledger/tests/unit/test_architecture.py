"""The package's shape, checked from its source with ``ast``: no import cycle, layers that
import only downward, views without queries, and short functions."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "clanledger"
MAX_FUNCTION_LINES = 60
WEB_FRAMEWORKS = ("flask", "flask_login", "flask_wtf", "wtforms")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in SOURCES.items()}


def _imports(name: str) -> set[str]:
    """Every module ``name`` imports (absolute names; ``from x import y`` counts ``x.y``
    when ``x.y`` is a module of the package)."""
    found: set[str] = set()
    package = name if SOURCES[name].name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(TREES[name]):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    return {name: {m for m in _imports(name) if m in SOURCES and m != name} for name in SOURCES}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph``, or ``None`` (depth-first search, three colours).
    A package's ``__init__`` importing its own submodules is not a cycle."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt.startswith(node + "."):
                continue  # a package importing its own submodule
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if state.get(nxt) is None and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if state.get(node) is None and (found := visit(node)):
            return found
    return None


def test_every_module_imports():
    for name in SOURCES:
        importlib.import_module(name)


def test_no_import_cycle():
    assert _cycle(_graph()) is None


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"a.b"}, "a.b": {"a"}}) is None


@pytest.mark.parametrize("layer", ["clanledger.services", "clanledger.domain"])
def test_services_and_domain_import_no_web_framework(layer):
    offenders = sorted(
        f"{name} imports {module}"
        for name in SOURCES
        if name == layer or name.startswith(layer + ".")
        for module in _imports(name)
        if module.split(".")[0] in WEB_FRAMEWORKS
    )
    assert offenders == []


def test_domain_imports_only_the_domain():
    offenders = sorted(
        f"{name} imports {module}"
        for name in SOURCES
        if name.startswith("clanledger.domain")
        for module in _imports(name)
        if (module.startswith("clanledger.") and not module.startswith("clanledger.domain"))
        or module.split(".")[0] in ("sqlalchemy", "flask_sqlalchemy")
    )
    assert offenders == []


def _queries(tree: ast.AST) -> list[str]:
    """``db.session`` used for anything but passing it on, ``.query(``/``.query``, and
    ``select(``/``Model.query`` calls."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            value = node.value
            if (
                isinstance(value, ast.Attribute)
                and value.attr == "session"
                and isinstance(value.value, ast.Name)
                and value.value.id == "db"
            ):
                found.append(f"line {node.lineno}: db.session.{node.attr}")
            if node.attr == "query":
                found.append(f"line {node.lineno}: .query")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("select", "text", "update", "delete", "insert")
        ):
            found.append(f"line {node.lineno}: {node.func.id}(")
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            found.append(f"line {node.lineno}: imports {node.module}")
    return found


@pytest.mark.parametrize(
    "name",
    [
        n
        for n in SOURCES
        if n.startswith(("clanledger.web", "clanledger.api")) or n == "clanledger.close_cli"
    ],
)
def test_views_and_commands_do_not_query(name):
    """Views (and the close command) pass ``db.session`` to services; they never query."""
    assert _queries(TREES[name]) == []


def test_the_query_finder_finds_queries():
    tree = ast.parse("db.session.get(User, 1)\nselect(User)\nUser.query.all()\nf(db.session)")
    assert len(_queries(tree)) == 3


def test_no_function_is_longer_than_60_lines():
    long = sorted(
        (node.end_lineno - min([node.lineno, *(d.lineno for d in node.decorator_list)]) + 1, name)
        for name, tree in TREES.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    )
    too_long = [(lines, name) for lines, name in long if lines > MAX_FUNCTION_LINES]
    assert too_long == []


def test_no_import_inside_a_function_without_a_reason():
    """Imports live at the top of a module; an import inside a function must say why
    (a ``# heavy:`` comment: an optional dependency only that function needs)."""
    offenders = []
    for name, tree in TREES.items():
        lines = SOURCES[name].read_text(encoding="utf-8").splitlines()
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Import | ast.ImportFrom)
                    and "# heavy:" not in lines[inner.lineno - 1]
                ):
                    offenders.append(f"{name}:{inner.lineno}")
    assert offenders == []


def test_the_domain_loads_without_the_web_stack():
    """Importing the package and its whole domain loads no web framework (the services
    load Flask-SQLAlchemy's models, but import no Flask themselves: tested above)."""
    domain = sorted(n for n in SOURCES if n.startswith("clanledger.domain."))
    code = (
        f"import sys, {', '.join(domain)}\n"
        "web = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'flask', 'flask_login', 'flask_wtf', 'wtforms'})\n"
        "assert not web, web\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
