"""A calendar queue of wake-ups by clock step: agents at rest are looked at only when something is due.

Each step is one bucket. :meth:`WakeCalendar.push` files agents under the first step at which their
next change is due; :meth:`WakeCalendar.pop` hands over a step's agents, once each, in ascending order.
The queue never deletes: when an agent's plan changes, the caller files it again and checks, at pop
time, whether the agent is really due (the exact test the whole-population scan used), so a stale
entry costs one check and is dropped.

The buckets are arrays (a linked list per step in an entry pool, :mod:`core_ext._routine`), so the
residents' departure and arrival kernels file and pop in the same compiled pass as the rest of their
bookkeeping.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from core_ext import _routine

__all__ = ["CalendarArrays", "WakeCalendar", "first_step_at"]

_I64 = NDArray[np.int64]
CalendarArrays = tuple[_I64, _I64, _I64, _I64, _I64]


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
    """Buckets of agent ids by the step at which they are due, as arrays the kernels update in place.

    ``head[s]`` is the newest block of step ``s`` (-1: empty) and ``size[s]`` the bucket's entries;
    blocks of ids sit in ``pool_agent`` (``BLOCK`` each), ``pool_next`` holds each block's next block
    and fill, the free blocks are chained from ``meta[0]`` (``meta[1]`` of them). Both grow on demand:
    :meth:`reserve` before a kernel files agents, :meth:`file_overflow` after it for those due beyond
    the last step.
    """

    BLOCK = 32  # ids per block, as core_ext/_routine.pyx

    def __init__(self, step_min: float, *, n_steps: int = 1024, capacity: int = 1024) -> None:
        self.step_min = float(step_min)
        self.head = np.full(max(int(n_steps), 1), -1, dtype=np.int64)
        self.size = np.zeros(self.head.size, dtype=np.int64)
        self.pool_agent = np.zeros(0, dtype=np.int64)
        self.pool_next = np.zeros(0, dtype=np.int64)
        self.meta = np.array([-1, 0], dtype=np.int64)  # first free block, free blocks
        self.reserve(capacity)

    def __len__(self) -> int:
        """Return the number of entries filed (stale ones included)."""
        return int(self.size.sum())

    @property
    def arrays(self) -> CalendarArrays:
        """The five arrays a kernel takes, in order: head, size, pool_agent, pool_next, meta."""
        return self.head, self.size, self.pool_agent, self.pool_next, self.meta

    def reserve(self, n: int) -> None:
        """Make sure filing ``n`` entries finds free blocks enough (the pool at least doubles when it grows)."""
        need = _routine.blocks_needed(int(n), self.head.size)
        free = int(self.meta[1])
        if free >= need:
            return
        old = self.pool_next.size // 2
        new = max(old * 2, old + need - free, 64)
        self.pool_agent = np.concatenate(
            [self.pool_agent, np.zeros((new - old) * self.BLOCK, dtype=np.int64)]
        )
        links = np.zeros((new - old, 2), dtype=np.int64)  # (next block, fill) per new block
        links[:, 0] = np.arange(old + 1, new + 1)
        links[-1, 0] = self.meta[0]  # the new blocks lead to the old free list
        self.pool_next = np.concatenate([self.pool_next, links.ravel()])
        self.meta[0] = old
        self.meta[1] = free + new - old

    def file_overflow(self, who: NDArray[np.int64], steps: NDArray[np.int64]) -> None:
        """File agents a kernel found due beyond the last step, growing the buckets to take them."""
        if who.size == 0:
            return
        need = int(steps.max()) + 1
        if need > self.head.size:
            grow = max(need, 2 * self.head.size) - self.head.size
            self.head = np.concatenate([self.head, np.full(grow, -1, dtype=np.int64)])
            self.size = np.concatenate([self.size, np.zeros(grow, dtype=np.int64)])
        self.reserve(who.size)  # after growing: the bound counts the steps
        _routine.file_at(
            *self.arrays, np.ascontiguousarray(who, np.int64), np.ascontiguousarray(steps, np.int64)
        )

    def push(self, who: NDArray[np.int64], time_min: NDArray[np.float64], *, not_before: int) -> None:
        """File agents ``who`` under the first step at or after ``time_min`` (and not before ``not_before``).

        Agents with an infinite time (nothing planned) are not filed.
        """
        who = np.ascontiguousarray(who, dtype=np.int64)
        time_min = np.ascontiguousarray(time_min, dtype=np.float64)
        if who.shape != time_min.shape or who.ndim != 1:
            raise ValueError(f"who and time_min must be 1-D of one length, got {who.shape}, {time_min.shape}")
        if who.size and who.min() < 0:
            raise ValueError("who must be agent ids >= 0")
        self.reserve(who.size)
        over_agent = np.empty(who.size, dtype=np.int64)
        over_step = np.empty(who.size, dtype=np.int64)
        n_over = _routine.push(
            *self.arrays, who, time_min, int(not_before), self.step_min, over_agent, over_step
        )
        self.file_overflow(over_agent[:n_over], over_step[:n_over])

    def pop(self, step: int) -> NDArray[np.int64]:
        """Remove and return the agents filed under ``step``: sorted, each once."""
        if not 0 <= step < self.head.size:
            return np.zeros(0, dtype=np.int64)
        out = np.empty(int(self.size[step]), dtype=np.int64)
        n = _routine.pop(*self.arrays, int(step), out)
        return out[:n]

    def due_count(self, step: int) -> int:
        """Return the entries filed under ``step`` (stale and repeated ones included)."""
        return int(self.size[step]) if 0 <= step < self.size.size else 0
