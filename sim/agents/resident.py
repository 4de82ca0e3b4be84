"""Residents: homes, workplaces and outings from the city's places, daily routines on the network, guardianship and trust.

Homes, workplaces and favourite places to go out are drawn from the city's land use
(:mod:`sim.landuse`). Routine activity theory (Cohen & Felson 1979): crime needs a motivated offender, a suitable target
and no capable guardian at one place and time, and daily routines decide where people (targets and
guardians) and empty homes are. Residents leave home for work or study on weekdays, some go out in
the evening, and all return home; their homes stand empty meanwhile (burglary targets) and they
are in public while travelling or out (robbery targets and guardians).

Trust in police in [0, 1] sets the chance a resident reports a crime (CSEW shares reported, scaled
by trust); victimisation lowers it, a prompt police response raises it a little and a slow one
lowers it (Skogan 2006: negative contacts weigh far more than positive ones).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from core_ext import _routine, advance_along_routes
from sim.agents._calendar import WakeCalendar
from sim.agents._routes import RouteBook, follow_slices
from sim.agents._view import RowView
from sim.config import PopulationConfig
from sim.network import StreetNetwork

__all__ = ["HOME", "LEISURE", "TRAVEL", "WORK", "Resident", "Residents"]

HOME, TRAVEL, WORK, LEISURE = 0, 1, 2, 3
STATE_NAMES = ("home", "travel", "work", "leisure")
# the routine trips, columns of Residents' table of route slices: (from, to) anchors
ROUTINE_TRIPS = (("home", "work"), ("work", "home"), ("home", "leisure0"), ("home", "leisure1"),
                 ("leisure0", "home"), ("leisure1", "home"))  # fmt: skip
ANCHORS = ("home", "work", "leisure0", "leisure1")
_TRIP_ANCHORS = np.array([[ANCHORS.index(a), ANCHORS.index(b)] for a, b in ROUTINE_TRIPS], dtype=np.int64)
_TRIP_FROM, _TRIP_TO = np.ascontiguousarray(_TRIP_ANCHORS[:, 0]), np.ascontiguousarray(_TRIP_ANCHORS[:, 1])


class Residents:
    """All residents as arrays (structure of arrays); row ``i`` is resident ``i``.

    Stepping is event-driven: a resident at home, at work or out is looked at only when their next
    departure is due (:attr:`calendar`, filed by :meth:`plan_day` and on arrival), and only the
    travellers (:attr:`travelling`) are moved. The per-street counts the offenders see (people in
    public per edge, occupied homes per segment) are kept up to date as residents leave and arrive,
    so no step passes over the whole population. ``step_min`` is the clock's step.
    """

    kind = "resident"

    def __init__(
        self,
        net: StreetNetwork,
        config: PopulationConfig,
        rng: np.random.Generator,
        *,
        home_weights: NDArray[np.float64],
        work_weights: NDArray[np.float64],
        leisure_weights: NDArray[np.float64],
        step_min: float,
    ) -> None:
        self.net = net
        self.config = config
        if config.n_residents is None:
            raise ValueError("n_residents must be resolved first (sim.scale.resolve_headcounts)")
        n = int(config.n_residents)
        self.n = n
        # where people live, work and go out: per-segment weights from the city's places
        # (sim.landuse: mapped homes, shops, bars, ... with a street-class fallback)
        self.home_segment = rng.choice(net.n_segments, size=n, p=home_weights).astype(np.int64)
        self.work_segment = rng.choice(net.n_segments, size=n, p=work_weights).astype(np.int64)
        self.is_worker = rng.random(n) < config.work_share
        # each resident has two favourite places to go out to
        self.leisure_segment = rng.choice(net.n_segments, size=(n, 2), p=leisure_weights).astype(np.int64)
        self.has_vehicle = rng.random(n) < config.vehicle_ownership
        self.trust = rng.beta(config.trust_alpha, config.trust_beta, size=n)
        self.trust_start = self.trust.copy()
        self.home_edge = net.segment_edge[self.home_segment]
        self.work_edge = net.segment_edge[self.work_segment]
        self.leisure_edge = net.segment_edge[self.leisure_segment]
        # movement state: everyone starts at home, standing at the end of the home edge
        self.state = np.full(n, HOME, dtype=np.int8)
        self.target_state = np.full(n, HOME, dtype=np.int8)
        self.position_edge = self.home_edge.copy()
        self.position_offset_m = net.edge_length_m[self.home_edge].copy()
        self.route_pos = np.zeros(n, dtype=np.int64)
        self.route_end = np.zeros(n, dtype=np.int64)
        self.speed_mps = np.full(n, config.walk_speed_mps)
        # today's plan, in absolute minutes since the start (inf = not today)
        self.leave_for_work_min = np.full(n, np.inf)
        self.work_end_min = np.full(n, np.inf)
        self.leave_for_leisure_min = np.full(n, np.inf)
        self.leisure_duration_min = np.zeros(n)
        self.leisure_choice = np.zeros(n, dtype=np.int64)
        self.activity_end_min = np.full(n, np.inf)
        self.attended_meetings = np.zeros(n, dtype=np.int64)
        self.victimisations = np.zeros(n, dtype=np.int64)
        # event-driven bookkeeping: who is due when, who travels, who is out, the counts per street
        self.calendar = WakeCalendar(step_min)
        # residents in TRAVEL (by row) and at LEISURE (in no order): the first _n_* of each buffer
        self._travelling_buf = np.zeros(n, dtype=np.int64)
        self._n_travelling = 0
        self._at_leisure_buf = np.zeros(n, dtype=np.int64)
        self._n_at_leisure = 0
        self._leisure_slot = np.zeros(n, dtype=np.int64)  # where each one out is in _at_leisure_buf
        self.leisure_per_edge = np.zeros(net.n_edges, dtype=np.int32)
        self.home_count = np.bincount(self.home_segment, minlength=net.n_segments).astype(np.int64)
        order = np.argsort(self.home_segment, kind="stable")
        self._by_home = order.astype(np.int64)  # residents by home segment, ascending within one
        self._by_home_ptr = np.concatenate([[0], np.cumsum(self.home_count)]).astype(np.int64)
        # the travellers' edges now, by row: gathered once a step
        self._travel_edges: NDArray[np.int64] | None = None
        # the residents in public on the streets asked for this step (prepare_public_on), by row
        self._public_on: dict[int, NDArray[np.int64]] = {}
        self._trip_start = np.zeros((0, len(ROUTINE_TRIPS)), dtype=np.int64)
        self._trip_len = np.zeros((0, len(ROUTINE_TRIPS)), dtype=np.int32)
        self._anchors = np.zeros((0, len(ANCHORS)), dtype=np.int64)

    # ------------------------------------------------------------------ routine
    def routine_trips(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Return (from edge, to edge) of every trip a routine can make.

        Workers go to work and back; everyone goes to either favourite place and back. The trips
        repeat every day: route them once.
        """
        w = self.is_worker
        home, work, leisure = self.home_edge, self.work_edge, self.leisure_edge
        from_edges = np.concatenate([home[w], work[w], home, home, leisure[:, 0], leisure[:, 1]])
        to_edges = np.concatenate([work[w], home[w], leisure[:, 0], leisure[:, 1], home, home])
        return from_edges, to_edges

    def plan_day(self, rng: np.random.Generator, day_start_min: float, weekend: bool, *, step: int) -> None:
        """Draw today's plan for everyone (fixed-size draws: the same stream in every policy arm).

        Residents at home are filed in the calendar under their first departure (from ``step`` on);
        the others are filed when they come home.
        """
        n = self.n
        leave = rng.normal(8.0 * 60, 50.0, n)
        work_len = rng.normal(8.5 * 60, 60.0, n)
        go_out = rng.random(n)
        weekday_evening = rng.normal(19.5 * 60, 90.0, n)
        weekend_afternoon = rng.normal(14.0 * 60, 150.0, n)
        weekend_night = rng.normal(21.0 * 60, 90.0, n)
        duration = rng.lognormal(np.log(120.0), 0.5, n)
        choice = rng.integers(0, 2, n)
        self.leave_for_work_min[:] = np.inf
        self.work_end_min[:] = np.inf
        if not weekend:
            workers = self.is_worker
            self.leave_for_work_min[workers] = day_start_min + leave[workers]
            self.work_end_min[workers] = day_start_min + leave[workers] + np.clip(work_len[workers], 240, 720)
        p_out = self.config.leisure_prob * (1.5 if weekend else 1.0)
        going = go_out < p_out
        # at weekends half of those going out go in the afternoon and half at night (the night-time
        # economy's Friday and Saturday crowds: Hough & Hunter 2008)
        start = (
            np.where(go_out < 0.5 * p_out, weekend_night, weekend_afternoon) if weekend else weekday_evening
        )
        self.leave_for_leisure_min[:] = np.where(going, day_start_min + start, np.inf)
        self.leisure_duration_min[:] = np.clip(duration, 30, 360)
        self.leisure_choice[:] = choice
        home = np.flatnonzero(self.state == HOME)
        self.calendar.push(home, self._next_outing_min(home), not_before=step)

    def _next_outing_min(self, who: NDArray[np.int64]) -> NDArray[np.float64]:
        out: NDArray[np.float64] = np.minimum(self.leave_for_work_min[who], self.leave_for_leisure_min[who])
        return out

    def leave(self, book: RouteBook, now_min: float, step: int) -> NDArray[np.int64]:
        """Send on their way the residents whose departure is due at ``step``; return them in departure order.

        Only the residents the calendar holds for ``step`` are tested (the test a pass over everyone
        would make), in its order: to work, to go out, home, each by row. Each takes the route of their
        routine trip (a trip that is not one is routed by ``book``), the counts per street lose them
        and they join the travellers: one compiled pass (:func:`core_ext._routine.leave`).
        """
        cap = self.calendar.due_count(step)
        if cap == 0:
            return np.zeros(0, dtype=np.int64)
        who = np.empty(cap, dtype=np.int64)
        dest = np.empty(cap, dtype=np.int64)
        unknown = np.empty(cap, dtype=np.int64)
        indexed = self._trip_start.shape[0] == self.n
        n_who, n_unknown, self._n_travelling, self._n_at_leisure = _routine.leave(
            *self.calendar.arrays, step, now_min, self.state, self.target_state, self.leave_for_work_min,
            self.leave_for_leisure_min, self.activity_end_min, self.home_edge, self.work_edge, self.leisure_edge,
            self.leisure_choice, self.home_segment, self.position_edge, self.position_offset_m, self.route_pos,
            self.route_end, self.home_count, self.leisure_per_edge, self._anchors, _TRIP_FROM,
            _TRIP_TO, self._trip_start, self._trip_len, indexed, book.buffer, self._travelling_buf,
            self._n_travelling, self._at_leisure_buf, self._n_at_leisure, self._leisure_slot, who, dest, unknown,
        )  # fmt: skip
        if n_unknown:
            # trips off the routine (the resident stayed put when a place could not be reached): as a batch
            at = who[unknown[:n_unknown]]
            start, end, _ = book.trips(self.position_edge[at], dest[unknown[:n_unknown]])
            follow_slices(self, book, at, start, end)
        self._travel_edges, self._public_on = None, {}
        return who[:n_who]

    @property
    def travelling(self) -> NDArray[np.int64]:
        """The residents in TRAVEL, by row (a view: it changes as they leave and arrive)."""
        return self._travelling_buf[: self._n_travelling]

    @property
    def at_leisure(self) -> NDArray[np.int64]:
        """The residents at LEISURE, in no particular order (a view: it changes as they leave and arrive)."""
        return self._at_leisure_buf[: self._n_at_leisure]

    def move(
        self, book: RouteBook, edge_length_m: NDArray[np.float64], dt_s: float, t_end: float, step: int
    ) -> None:
        """Advance the travellers ``dt_s`` seconds along their routes; those who got there arrive at ``t_end``.

        Arrivals take up the state they travelled for and are filed in the calendar under their next
        departure (from the next step on), in one compiled pass (:func:`core_ext._routine.arrive`).
        """
        t = self.travelling
        if t.size == 0:
            return
        arrived = advance_along_routes(
            book.buffer, self.route_end, edge_length_m, self.route_pos, self.position_edge,
            self.position_offset_m, self.speed_mps, dt_s, route_length_m=book.length_buffer, agents=t,
        )  # fmt: skip
        cal = self.calendar
        cal.reserve(t.size)
        over_agent = np.empty(t.size, dtype=np.int64)
        over_step = np.empty(t.size, dtype=np.int64)
        self._n_travelling, self._n_at_leisure, n_over = _routine.arrive(
            *cal.arrays, step, t_end, cal.step_min, self._travelling_buf, self._n_travelling,
            arrived.view(np.uint8), self.route_pos, self.route_end, self.state, self.target_state,
            self.work_end_min, self.leisure_duration_min, self.activity_end_min, self.leave_for_work_min,
            self.leave_for_leisure_min, self.home_segment, self.position_edge, self.home_count,
            self.leisure_per_edge, self._at_leisure_buf, self._n_at_leisure, self._leisure_slot, over_agent, over_step,
        )  # fmt: skip
        cal.file_overflow(over_agent[:n_over], over_step[:n_over])
        self._travel_edges, self._public_on = None, {}

    # ------------------------------------------------------------------ routes
    def index_routine_routes(self, start: NDArray[np.int64], end: NDArray[np.int64]) -> None:
        """Keep, per resident, the book's slice of each routine trip (:data:`ROUTINE_TRIPS`).

        ``start``, ``end`` are the book's slices of :meth:`routine_trips`, in its order. Departures
        then read their slice by row instead of searching the book's trip keys; a trip that starts
        elsewhere (the resident stayed put when a place could not be reached) still asks the book.
        """
        # -1: not a trip of this resident's routine (non-workers do not go to work)
        first = np.full((self.n, len(ROUTINE_TRIPS)), -1, dtype=np.int64)
        length = np.zeros((self.n, len(ROUTINE_TRIPS)), dtype=np.int32)
        workers = np.flatnonzero(self.is_worker)
        at = 0
        for k, (a, b) in enumerate(ROUTINE_TRIPS):
            who = workers if "work" in (a, b) else np.arange(self.n)
            first[who, k] = start[at : at + who.size]
            length[who, k] = (end[at : at + who.size] - start[at : at + who.size]).astype(np.int32)
            at += who.size
        self._trip_start, self._trip_len = first, length
        # the places the trips join, one row per resident (columns: ANCHORS), read in one pass on departure
        self._anchors = np.column_stack([self.home_edge, self.work_edge, self.leisure_edge]).astype(np.int64)

    # ------------------------------------------------------------------ who is where
    def in_public(self) -> NDArray[np.bool_]:
        """Return the mask of residents on the street or out at leisure.

        They are the potential robbery victims and guardians.
        """
        return np.asarray((self.state == TRAVEL) | (self.state == LEISURE), dtype=bool)

    def occupancy_kind(self) -> NDArray[np.int8]:
        """Return the kind code for occupancy counting: 0 in public, -1 indoors (not counted)."""
        return np.where(self.in_public(), 0, -1).astype(np.int8)

    def _travellers_edges(self) -> NDArray[np.int64]:
        """Return the travellers' edges, by row (gathered once a step: counts and crime pools share it)."""
        if self._travel_edges is None:
            self._travel_edges = self.position_edge[self.travelling]
        return self._travel_edges

    def public_per_edge(self) -> NDArray[np.int32]:
        """Return the residents in public per edge (travelling or out), from the travellers and a kept count."""
        moving = np.bincount(self._travellers_edges(), minlength=self.net.n_edges)
        out: NDArray[np.int32] = self.leisure_per_edge + moving.astype(np.int32)
        return out

    def prepare_public_on(self, segments: NDArray[np.int64]) -> None:
        """Find now, in one pass, the residents in public on ``segments``: :meth:`public_on_segment` then reads them.

        A step's crimes ask for the people on a few dozen streets; one pass over everyone in public
        picks them out, where grouping everyone by street would sort them all.
        """
        edges = np.concatenate([self._travellers_edges(), self.position_edge[self.at_leisure]])
        ids = np.concatenate([self.travelling, self.at_leisure])
        seg = self.net.edge_segment[edges]
        wanted = np.zeros(self.net.n_segments, dtype=bool)
        wanted[segments] = True
        keep = wanted[seg]
        ids, seg = ids[keep], seg[keep]
        order = np.lexsort((ids, seg))  # by street, by row within one
        ids, seg = ids[order], seg[order]
        bounds = np.flatnonzero(np.diff(seg)) + 1
        found = dict.fromkeys(np.unique(segments).tolist(), np.zeros(0, dtype=np.int64))
        if seg.size:
            found.update(zip(seg[np.r_[0, bounds]].tolist(), np.split(ids, bounds), strict=True))
        self._public_on.update(found)

    def public_on_segment(self, segment: int) -> NDArray[np.int64]:
        """Return the residents in public on ``segment`` now, by row (as ``flatnonzero`` over a mask).

        The array is kept for the rest of the step (read it, do not write to it).
        """
        if segment not in self._public_on:
            self.prepare_public_on(np.array([segment], dtype=np.int64))
        return self._public_on[segment]

    def homes_on_segment(self, segment: int) -> NDArray[np.int64]:
        """Return the residents whose home is on ``segment``, by row."""
        return self._by_home[self._by_home_ptr[segment] : self._by_home_ptr[segment + 1]]

    def homes_occupied_per_segment(self) -> NDArray[np.int64]:
        """Return the number of residents at home on each segment (a kept count, updated on the move)."""
        return self.home_count.copy()

    # ------------------------------------------------------------------ trust
    def adjust_trust(self, who: NDArray[np.int64] | int, delta: float) -> None:
        """Add ``delta`` to the trust in police of residents ``who``, clipped to [0, 1]."""
        if isinstance(who, int):  # one victim at a time (each crime, each response): no array round trip
            self.trust[who] = min(max(float(self.trust[who]) + delta, 0.0), 1.0)
        else:
            self.trust[who] = np.clip(self.trust[who] + delta, 0.0, 1.0)


class Resident(RowView):
    """A Mesa view onto one resident's row; reading it never copies the population arrays."""

    population = "residents"
    state_names = STATE_NAMES

    @property
    def trust(self) -> float:
        """Trust in police of this resident, in [0, 1]."""
        return float(self._pop.trust[self.row])

    @property
    def home_segment(self) -> int:
        """Segment of this resident's home."""
        return int(self._pop.home_segment[self.row])

    @property
    def victimisations(self) -> int:
        """Number of times this resident has been a victim of crime so far."""
        return int(self._pop.victimisations[self.row])
