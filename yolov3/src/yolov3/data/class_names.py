"""Class names taken from the annotations themselves, and the typos that would split a class.

When a dataset has no names file, its classes are the sorted set of names in its annotations.
A misspelt name then silently becomes a class of its own, so such names are compared pairwise:
names that differ only by case, or by one edit (an inserted, deleted or changed character), are
reported. A changed character between names of three letters or fewer is not reported, since
real classes differ that way (``car`` and ``cat`` in Pascal VOC).
"""

from __future__ import annotations

from collections import Counter

from yolov3.data.records import Problem

SHORT_NAME = 3  # names this short may differ by one changed letter on purpose


def one_edit_apart(a: str, b: str) -> str | None:
    """How ``a`` and ``b`` differ when they are one edit or only case apart, else None."""
    if a == b:
        return None
    if a.casefold() == b.casefold():
        return "only by case"
    if abs(len(a) - len(b)) > 1:
        return None
    if len(a) == len(b):
        changed = sum(x != y for x, y in zip(a, b, strict=True))
        if changed == 1 and min(len(a), len(b)) > SHORT_NAME:
            return "by one letter"
        return None
    short, long = sorted((a, b), key=len)
    i = next((k for k, (x, y) in enumerate(zip(short, long, strict=False)) if x != y), len(short))
    return "by one letter" if short[i:] == long[i + 1 :] else None


def inferred_names_problems(where: str, counts: Counter[str]) -> list[Problem]:
    """A note listing classes read from the annotations (sorted, with box counts), then one
    warning per pair of names that look like one class spelt two ways."""
    names = sorted(counts)
    listed = ", ".join(f"{n} ({counts[n]} boxes)" for n in names) or "none"
    found = [
        Problem(
            "inferred_names",
            where,
            f"no class names file; {len(names)} class{'' if len(names) == 1 else 'es'} from the "
            f"annotations, sorted: {listed}",
            "note",
        )
    ]
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            how = one_edit_apart(a, b)
            if how is not None:
                message = (
                    f"class names {a!r} ({counts[a]} boxes) and {b!r} ({counts[b]} boxes) differ "
                    f"{how}: if they are one class, correct the annotations; if not, list the "
                    "classes in a names file (labels.txt, one per line) to confirm them"
                )
                found.append(Problem("similar_names", where, message, "warning"))
    return found
