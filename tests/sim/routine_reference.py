"""The residents' routine bookkeeping as NumPy did it before the kernels of core_ext/_routine.pyx.

A dict-of-arrays calendar and the departures, departure, movement and arrival of the residents, a few
array operations each: the slow, plain reference the kernels are tested against (tests/core_ext/
test_routine.py). :func:`use_reference` switches one model's residents over to it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from core_ext import advance_along_routes, match_routine_trips
from sim.agents import resident as res
from sim.agents._calendar import first_step_at
from sim.agents._routes import RouteBook, follow_slices


class ReferenceCalendar:
    """Buckets of agent ids by step in a dict of lists of arrays (the calendar before the kernels)."""

    def __init__(self, step_min: float) -> None:
        self.step_min = float(step_min)
        self._buckets: dict[int, list[NDArray[np.int64]]] = {}

    def __len__(self) -> int:
        return sum(part.size for parts in self._buckets.values() for part in parts)

    def push(self, who: NDArray[np.int64], time_min: NDArray[np.float64], *, not_before: int) -> None:
        who = np.asarray(who, dtype=np.int64)
        time_min = np.asarray(time_min, dtype=np.float64)
        finite = np.isfinite(time_min)
        who, time_min = who[finite], time_min[finite]
        if who.size == 0:
            return
        step = np.maximum(first_step_at(time_min, self.step_min), not_before)
        for k in np.unique(step).tolist():
            self._buckets.setdefault(int(k), []).append(who[step == k])

    def pop(self, step: int) -> NDArray[np.int64]:
        parts = self._buckets.pop(step, None)
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate(parts))


def departures(
    r: res.Residents, now_min: float, step: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int8]]:
    """Who leaves now (to work, to go out, home; each by row), where to and in what state on arrival."""
    due = r.calendar.pop(step)
    state = r.state[due]
    at_home = state == res.HOME
    to_work = at_home & (now_min >= r.leave_for_work_min[due])
    to_leisure = at_home & ~to_work & (now_min >= r.leave_for_leisure_min[due])
    from_activity = ((state == res.WORK) | (state == res.LEISURE)) & (now_min >= r.activity_end_min[due])
    who_work, who_leisure, who_home = due[to_work], due[to_leisure], due[from_activity]
    r.leave_for_work_min[who_work] = np.inf
    r.leave_for_leisure_min[who_leisure] = np.inf
    r.activity_end_min[who_home] = np.inf
    who = np.concatenate([who_work, who_leisure, who_home])
    dest = np.concatenate([
        r.work_edge[who_work], r.leisure_edge[who_leisure, r.leisure_choice[who_leisure]], r.home_edge[who_home],
    ])  # fmt: skip
    target = np.concatenate([
        np.full(who_work.size, res.WORK, np.int8), np.full(who_leisure.size, res.LEISURE, np.int8),
        np.full(who_home.size, res.HOME, np.int8),
    ])  # fmt: skip
    return who, dest, target


def set_list(buf: NDArray[np.int64], ids: NDArray[np.int64]) -> int:
    """Write ``ids`` at the front of one of the residents' list buffers; return their count."""
    buf[: ids.size] = ids
    return int(ids.size)


def depart(
    r: res.Residents,
    book: RouteBook,
    who: NDArray[np.int64],
    dest: NDArray[np.int64],
    target: NDArray[np.int8],
) -> None:
    """Send ``who`` on their way to ``dest``, to be in state ``target`` on arrival."""
    if who.size == 0:
        return
    state = r.state[who]
    left_home = who[state == res.HOME]
    r.home_count -= np.bincount(r.home_segment[left_home], minlength=r.home_count.size)
    left_out = who[state == res.LEISURE]
    if left_out.size:
        r.leisure_per_edge -= np.bincount(r.position_edge[left_out], minlength=r.net.n_edges).astype(np.int32)
    origin = r.position_edge[who]
    if r._trip_start.shape[0] != r.n:
        start, end, _ = book.trips(origin, dest)
    else:
        start, end = match_routine_trips(who, origin, dest, r._anchors, res._TRIP_ANCHORS, r._trip_start,
                                         r._trip_len)  # fmt: skip
        known = start >= 0
        if not known.all():
            start[~known], end[~known], _ = book.trips(origin[~known], dest[~known])
    follow_slices(r, book, who, start, end)
    r.state[who] = res.TRAVEL
    r.target_state[who] = target
    if left_out.size:
        r._n_at_leisure = set_list(r._at_leisure_buf, r.at_leisure[r.state[r.at_leisure] == res.LEISURE])
    travelling = np.sort(np.concatenate([r.travelling, who]), kind="stable")
    r._n_travelling = set_list(r._travelling_buf, travelling)
    r._travel_edges, r._public_on = None, {}


def arrive(r: res.Residents, who: NDArray[np.int64], now_min: float, step: int) -> None:
    """The residents whose trip ended take up their state and are filed under their next departure."""
    r.state[who] = r.target_state[who]
    state = r.state[who]
    at_work, at_leisure, at_home = who[state == res.WORK], who[state == res.LEISURE], who[state == res.HOME]
    r.activity_end_min[at_work] = np.maximum(r.work_end_min[at_work], now_min)
    r.activity_end_min[at_leisure] = now_min + r.leisure_duration_min[at_leisure]
    r.home_count += np.bincount(r.home_segment[at_home], minlength=r.home_count.size)
    if at_leisure.size:
        r.leisure_per_edge += np.bincount(r.position_edge[at_leisure], minlength=r.net.n_edges).astype(
            np.int32
        )
        r._n_at_leisure = set_list(r._at_leisure_buf, np.concatenate([r.at_leisure, at_leisure]))
    home_next = np.minimum(r.leave_for_work_min[at_home], r.leave_for_leisure_min[at_home])
    r.calendar.push(at_home, home_next, not_before=step + 1)
    out = who[(state == res.WORK) | (state == res.LEISURE)]
    r.calendar.push(out, r.activity_end_min[out], not_before=step + 1)


def move(
    r: res.Residents,
    book: RouteBook,
    edge_length_m: NDArray[np.float64],
    dt_s: float,
    t_end: float,
    step: int,
) -> None:
    """Advance the travellers; those who got there (or had an empty trip) arrive at ``t_end``."""
    t = r.travelling.copy()
    if t.size == 0:
        return
    arrived = advance_along_routes(
        book.buffer, r.route_end, edge_length_m, r.route_pos, r.position_edge, r.position_offset_m,
        r.speed_mps, dt_s, route_length_m=book.length_buffer, agents=t,
    )  # fmt: skip
    done = arrived | (r.route_pos[t] >= r.route_end[t])
    r._n_travelling = set_list(r._travelling_buf, t[~done])
    r._travel_edges, r._public_on = None, {}
    arrive(r, t[done], t_end, step)


def use_reference(r: res.Residents) -> None:
    """Switch residents ``r`` (before their first step) to the NumPy bookkeeping and calendar above."""
    r.calendar = ReferenceCalendar(r.calendar.step_min)  # type: ignore[assignment]

    def leave(book: RouteBook, now_min: float, step: int) -> NDArray[np.int64]:
        who, dest, target = departures(r, now_min, step)
        depart(r, book, who, dest, target)
        return who

    def move_(
        book: RouteBook, edge_length_m: NDArray[np.float64], dt_s: float, t_end: float, step: int
    ) -> None:
        move(r, book, edge_length_m, dt_s, t_end, step)

    patched: Any = r
    patched.leave = leave
    patched.move = move_
