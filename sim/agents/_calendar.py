"""A calendar queue of wake-ups by clock step: agents at rest are looked at only when something is due.

Each step is one bucket. :meth:`WakeCalendar.push` files agents under the first step at which their
next change is due; :meth:`WakeCalendar.pop` hands over a step's agents, once each, in ascending order.
The queue never deletes: when an agent's plan changes, the caller files it again and checks, at pop
time, whether the agent is really due (the exact test the whole-population scan used), so a stale
entry costs one check and is dropped.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["WakeCalendar", "first_step_at"]


def first_step_at(time_min: NDArray[np.float64], step_min: float) -> NDArray[np.int64]:
    """Return, per time, the first step ``k`` whose start ``k * step_min`` is at or after it.

    Exact in floating point: ``k * step_min >= t`` and ``(k - 1) * step_min < t``, the comparison a
    step makes (``now_min >= t``), whatever the rounding of ``t / step_min``. Times must be finite.
    """
    t = np.asarray(time_min, dtype=np.float64)
    k = np.ceil(t / step_min)
    k = np.where((k - 1.0) * step_min >= t, k - 1.0, k)
    k = np.where(k * step_min < t, k + 1.0, k)
    return k.astype(np.int64)


class WakeCalendar:
    """Buckets of agent ids by the step at which they are due (one bucket per step, kept sparse)."""

    def __init__(self, step_min: float) -> None:
        self.step_min = float(step_min)
        self._buckets: dict[int, list[NDArray[np.int64]]] = {}

    def __len__(self) -> int:
        """Return the number of entries filed (stale ones included)."""
        return sum(part.size for parts in self._buckets.values() for part in parts)

    def push(self, who: NDArray[np.int64], time_min: NDArray[np.float64], *, not_before: int) -> None:
        """File agents ``who`` under the first step at or after ``time_min`` (and not before ``not_before``).

        Agents with an infinite time (nothing planned) are not filed.
        """
        who = np.asarray(who, dtype=np.int64)
        time_min = np.asarray(time_min, dtype=np.float64)
        finite = np.isfinite(time_min)
        who, time_min = who[finite], time_min[finite]
        if who.size == 0:
            return
        step = np.maximum(first_step_at(time_min, self.step_min), not_before)
        if who.size == 1 or step.min() == step.max():
            self._buckets.setdefault(int(step[0]), []).append(who)
            return
        order = np.argsort(step, kind="stable")
        step, who = step[order], who[order]
        # runs of equal steps (the sort is done: no second sort by np.unique, no np.split)
        bounds = [0, *(np.flatnonzero(step[1:] != step[:-1]) + 1).tolist(), who.size]
        buckets = self._buckets
        for k, a, b in zip(step[bounds[:-1]].tolist(), bounds[:-1], bounds[1:], strict=True):
            buckets.setdefault(k, []).append(who[a:b])

    def pop(self, step: int) -> NDArray[np.int64]:
        """Remove and return the agents filed under ``step``: sorted, each once."""
        parts = self._buckets.pop(step, None)
        if not parts:
            return np.zeros(0, dtype=np.int64)
        ids = np.sort(parts[0] if len(parts) == 1 else np.concatenate(parts))
        if ids.size < 2:
            return ids
        first = np.empty(ids.size, dtype=bool)
        first[0] = True
        np.not_equal(ids[1:], ids[:-1], out=first[1:])
        return ids[first]  # np.unique's answer (sorted, each once) without its extra passes
