"""Policing: the police view of crime, calls for service, dispatch, patrol orders, arrivals and beats.

Police see only what is reported and recorded (Lum & Isaac 2016): :class:`PoliceView` is all a
strategy reads of crime. Calls are answered first come, first served by the nearest available
officer by network travel time; idle officers take patrol orders from the strategies in priority
order and fall back on random patrol.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from core_ext import Router
from sim.agents import officer as ofc
from sim.agents._routes import RouteBook, start_trips
from sim.agents.officer import Officers
from sim.agents.resident import Residents
from sim.clock import Clock
from sim.config import CrimeConfig, PoliceConfig
from sim.events import EventLog
from sim.network import StreetNetwork
from sim.policies.base import Beats, PatrolOrders

__all__ = ["Call", "PoliceView", "Policing"]


@dataclass
class Call:
    """A reported crime waiting for, or served by, an officer."""

    call_id: int
    crime_time_min: float
    call_time_min: float
    edge: int
    victim: int
    officer: int = -1
    dispatch_min: float = math.nan
    arrival_min: float = math.nan


class PoliceView:
    """What the police side may see: recorded crime, intelligence from residents, the call queue."""

    def __init__(self) -> None:
        self._edges: list[int] = []
        self._times: list[float] = []
        self._types: list[str] = []
        self._intelligence: list[tuple[int, float]] = []
        self.calls_waiting = 0

    def record(self, edge: int, time_min: float, crime_type: str) -> None:
        """Record a crime at ``edge`` reported at ``time_min``."""
        self._edges.append(edge)
        self._times.append(time_min)
        self._types.append(crime_type)

    def recorded_crimes(self, crime_type: str | None = None) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Return (edge, minute recorded) of every recorded crime so far (of ``crime_type`` if given)."""
        edges = np.asarray(self._edges, dtype=np.int64)
        times = np.asarray(self._times, dtype=np.float64)
        if crime_type is None:
            return edges, times
        keep = np.asarray(self._types, dtype=object) == crime_type
        return edges[keep], times[keep]

    def add_intelligence(self, segment: int, time_min: float) -> None:
        """Note a problem at ``segment`` (from ``time_min``) that reached police outside the records."""
        self._intelligence.append((segment, time_min))

    def intelligence(self, start: int = 0) -> list[tuple[int, float]]:
        """Return (segment, minute) of every intelligence item from the ``start``-th on."""
        return self._intelligence[start:]


class Policing:
    """Calls, dispatch, orders and arrivals of one force; owned by the model."""

    def __init__(
        self,
        *,
        network: StreetNetwork,
        router: Router,
        clock: Clock,
        config: PoliceConfig,
        crime_config: CrimeConfig,
        officers: Officers,
        residents: Residents,
        event_log: EventLog,
        routes: RouteBook,
    ) -> None:
        self.network = network
        self.router = router
        self.clock = clock
        self.config = config
        self.crime_config = crime_config
        self.officers = officers
        self.residents = residents
        self.event_log = event_log
        self.routes = routes
        self.view = PoliceView()
        self.calls: list[Call] = []
        self.pending: list[int] = []  # reported, not yet called in
        self.waiting: list[int] = []  # called in, no officer free yet
        self._beats: dict[int, Beats] = {}

    # ------------------------------------------------------------------ calls
    def open_call(self, crime_min: float, call_min: float, edge: int, victim: int) -> int:
        """Open a call for a crime at ``edge``; it reaches the police at ``call_min``. Returns its id."""
        call_id = len(self.calls)
        self.calls.append(Call(call_id, crime_min, call_min, edge, victim))
        self.pending.append(call_id)
        return call_id

    def dispatch(self, now: float) -> None:
        """Send the nearest available officer (by network travel time) to each waiting call, FIFO."""
        due = [cid for cid in self.pending if self.calls[cid].call_time_min <= now]
        if due:
            self.pending = [cid for cid in self.pending if self.calls[cid].call_time_min > now]
            self.waiting.extend(sorted(due, key=lambda cid: (self.calls[cid].call_time_min, cid)))
        of, net = self.officers, self.network
        # the responders' routes are routed in one batch after the loop: a chosen officer is no
        # longer free, so no later search reads where they stand
        sent: list[tuple[int, int]] = []
        while self.waiting:
            free = np.flatnonzero(of.available())
            if free.size == 0:
                break
            call = self.calls[self.waiting.pop(0)]
            if free.size == 1:  # the only free officer goes, whoever is nearest: no search to make
                chosen = int(free[0])
            else:
                # one search out of the call's node (over the reversed streets) to the nearest free
                # officer; of officers equally near, the lowest-numbered goes
                nearest, _ = self.router.nearest_source_of(net.indices[of.position_edge[free]],
                                                           int(net.edge_source[call.edge]))  # fmt: skip
                chosen = int(free[nearest])
            call.officer = chosen
            call.dispatch_min = now
            of.state[chosen] = ofc.RESPOND
            of.call[chosen] = call.call_id
            of.needs_orders[chosen] = False
            sent.append((chosen, call.edge))
            self.event_log.add(time_min=now, step=self.clock.step, kind="dispatch", edge=call.edge,
                               segment=int(net.edge_segment[call.edge]), officer_id=chosen,
                               call_id=call.call_id)  # fmt: skip
        if sent:
            who, dest = np.array(sent, dtype=np.int64).T
            start_trips(of, self.routes, who, dest)
        self.view.calls_waiting = len(self.waiting)

    # ------------------------------------------------------------------ orders
    def give_orders(
        self,
        now: float,
        choosers: Sequence[Callable[[NDArray[np.int64]], PatrolOrders | None]],
        fallback: Callable[[NDArray[np.int64]], PatrolOrders],
    ) -> None:
        """Free officers whose timed task ended; give every idle officer patrol orders.

        ``choosers`` are the strategies' ``choose_patrol`` in priority order; officers none of them
        orders take ``fallback`` (random patrol) rather than stand still.
        """
        of = self.officers
        # dwell, on-scene and meeting times are kept to the nearest whole step
        timed = (of.state == ofc.DWELL) | (of.state == ofc.ATTEND) | (of.state == ofc.MEETING)
        done = timed & (now + 0.5 * self.clock.step_min >= of.busy_until_min)
        of.state[done] = ofc.PATROL
        of.call[done] = -1
        of.needs_orders |= done
        idle = np.flatnonzero(of.needs_orders & (of.state != ofc.OFF))
        for choose in choosers:
            if idle.size == 0:
                break
            orders = choose(idle)
            if orders is None or orders.officers.size == 0:
                continue
            self._patrol(orders)
            # idle is sorted and unique, so a mask gives what setdiff1d returns, without its sorts
            ordered = np.zeros(of.n, dtype=bool)
            ordered[orders.officers] = True
            idle = idle[~ordered[idle]]
        if idle.size:
            self._patrol(fallback(idle))

    def _patrol(self, orders: PatrolOrders) -> None:
        of = self.officers
        w = orders.officers
        start_trips(of, self.routes, w, orders.destination_edge)
        of.state[w] = ofc.PATROL
        of.dwell_target_min[w] = orders.dwell_min
        of.needs_orders[w] = False

    def send_officers(
        self,
        officers: NDArray[np.int64],
        destination_edges: NDArray[np.int64],
        *,
        state: int,
        until_min: float,
    ) -> None:
        """Send officers to ``destination_edges`` in ``state`` (e.g. ``MEETING``) until ``until_min``.

        They ask for patrol orders again afterwards. Officers on a call cannot be taken.
        """
        of = self.officers
        officers = np.asarray(officers, dtype=np.int64)
        if np.any((of.state[officers] == ofc.RESPOND) | (of.state[officers] == ofc.ATTEND)):
            raise ValueError("send_officers: some officers are on a call")
        start_trips(of, self.routes, officers, np.asarray(destination_edges, dtype=np.int64))
        of.state[officers] = state
        of.busy_until_min[officers] = until_min
        of.needs_orders[officers] = False

    # ------------------------------------------------------------------ arrivals
    def arrive(self, i: int, t: float) -> None:
        """Officer ``i`` reached the end of their route at ``t``: start the dwell, the call, or patrol."""
        of = self.officers
        edge = int(of.position_edge[i])
        seg = int(self.network.edge_segment[edge])
        if of.state[i] == ofc.PATROL and not of.needs_orders[i]:
            of.state[i] = ofc.DWELL
            of.busy_until_min[i] = t + of.dwell_target_min[i]
            self.event_log.add(time_min=t, step=self.clock.step, kind="patrol_visit", edge=edge, segment=seg,
                               officer_id=i, dwell_min=float(of.dwell_target_min[i]),
                               offset_m=float(of.position_offset_m[i]))  # fmt: skip
        elif of.state[i] == ofc.RESPOND:
            call = self.calls[int(of.call[i])]
            call.arrival_min = t
            of.state[i] = ofc.ATTEND
            of.busy_until_min[i] = t + self.config.on_scene_min
            self.event_log.add(time_min=t, step=self.clock.step, kind="arrival", edge=edge, segment=seg,
                               officer_id=i, call_id=call.call_id, dwell_min=self.config.on_scene_min,
                               offset_m=float(of.position_offset_m[i]))  # fmt: skip
            if call.victim >= 0:  # calls that are not a resident's crime (open_calls) move no one's trust
                good = self.response_was_prompt(call)
                cfg = self.crime_config
                self.residents.adjust_trust(
                    call.victim, cfg.trust_gain_good_response if good else -cfg.trust_loss_slow_response
                )
        elif of.state[i] == ofc.RETURN:
            of.state[i] = ofc.PATROL
            of.needs_orders[i] = True

    def response_was_prompt(self, call: Call) -> bool:
        """Return whether an officer reached ``call`` within ``police.response_target_min`` of the call.

        Victims judge the response by the wait from their call (Skogan 2006).
        """
        return bool(
            call.arrival_min - call.crime_time_min
            <= self.config.response_target_min + (call.call_time_min - call.crime_time_min)
        )

    # ------------------------------------------------------------------ beats
    def beats(self, n_beats: int | None = None) -> Beats:
        """Return the network cut into ``n_beats`` beats (default one per on-duty officer); cached."""
        k = n_beats or max(1, int(self.officers.on_duty().sum()))
        cached = self._beats.get(k)
        if cached is None:
            net = self.network
            centres, node_beat = ofc.partition_beats(net, self.router, k)
            cached = Beats(centre_node=centres, node_beat=node_beat,
                           segment_beat=node_beat[net.edge_source[net.segment_edge]],
                           officer_beat=np.arange(self.officers.n, dtype=np.int64) % k)  # fmt: skip
            self._beats[k] = cached
        return cached
