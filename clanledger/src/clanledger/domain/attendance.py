"""Attendance weights: how a kill's drops are split among those on its roll call."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction


def kill_weights(
    attendance: Mapping[int, Fraction | int | str],
    caller_id: int | None,
    caller_bonus: Fraction | int | str | None,
) -> dict[int, Fraction]:
    """``{participant: weight}`` used to split a kill's drops: each participant's weight
    from the roll call, plus ``caller_bonus`` shares for the caller (only if the caller is
    on the roll call)."""
    weights = {pid: Fraction(w) for pid, w in attendance.items()}
    if caller_id in weights and caller_bonus:
        weights[caller_id] += Fraction(caller_bonus)
    return weights
