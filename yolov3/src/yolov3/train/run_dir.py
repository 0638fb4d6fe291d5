"""Where a run writes: a new folder per run, never an existing run's files by accident.

``project/name`` is numbered like the tools users know (``runs/train/exp``, ``exp2``, ...);
an explicit ``out`` must be new or empty; ``exist_ok`` reuses a folder on purpose. A resumed
run continues in the folder its checkpoint lies in.
"""

from __future__ import annotations

import re
from pathlib import Path


class RunFolderError(ValueError):
    """The run folder would overwrite another run, or a resume cannot continue as asked."""


def _is_empty(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def next_run_dir(project: str | Path, name: str) -> Path:
    """The first free folder among ``project/name``, ``name2``, ``name3``... (not created)."""
    project = Path(project)
    taken = {1} if not _is_empty(project / name) else set()
    if project.is_dir():
        pattern = re.compile(re.escape(name) + r"(\d+)$")
        for child in project.iterdir():
            match = pattern.match(child.name)
            if match and not _is_empty(child):
                taken.add(int(match.group(1)))
    if not taken:
        return project / name
    return project / f"{name}{max(taken) + 1}"


def run_dir_index(out: str, project: str | Path, name: str, exist_ok: bool) -> int:
    """0 for ``out`` or ``project/name`` itself, N for ``project/nameN``; checks for clashes."""
    if out:
        path = Path(out)
        if path.exists() and not path.is_dir():
            raise RunFolderError(f"--out {out}: exists and is not a folder")
        if not exist_ok and not _is_empty(path):
            raise RunFolderError(
                f"--out {out} already holds a run ({', '.join(sorted(_names(path)))}); "
                "choose a new folder or pass --exist-ok to write into it"
            )
        return 0
    if Path(project).exists() and not Path(project).is_dir():
        raise RunFolderError(f"--project {project}: exists and is not a folder")
    if exist_ok:
        return 0
    chosen = next_run_dir(project, name)
    return 0 if chosen.name == name else int(chosen.name[len(name) :])


def run_dir_path(out: str, project: str | Path, name: str, index: int) -> Path:
    """The absolute folder that :func:`run_dir_index` chose."""
    if out:
        return Path(out).resolve()
    return (Path(project) / (name if index == 0 else f"{name}{index}")).resolve()


def _names(path: Path) -> list[str]:
    return [p.name for p in list(path.iterdir())[:5]]
