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

from sim.agents._view import RowView
from sim.config import PopulationConfig
from sim.network import StreetNetwork

__all__ = ["HOME", "LEISURE", "TRAVEL", "WORK", "Resident", "Residents"]

HOME, TRAVEL, WORK, LEISURE = 0, 1, 2, 3
STATE_NAMES = ("home", "travel", "work", "leisure")


class Residents:
    """All residents as arrays (structure of arrays); row ``i`` is resident ``i``."""

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

    def plan_day(self, rng: np.random.Generator, day_start_min: float, weekend: bool) -> None:
        """Draw today's plan for everyone (fixed-size draws: the same stream in every policy arm)."""
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

    def departures(self, now_min: float) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int8]]:
        """Return the residents who leave now, where to (edge) and the state they will be in on arrival."""
        at_home = self.state == HOME
        to_work = at_home & (now_min >= self.leave_for_work_min)
        to_leisure = at_home & ~to_work & (now_min >= self.leave_for_leisure_min)
        from_activity = ((self.state == WORK) | (self.state == LEISURE)) & (now_min >= self.activity_end_min)
        who_work = np.flatnonzero(to_work)
        who_leisure = np.flatnonzero(to_leisure)
        who_home = np.flatnonzero(from_activity)
        self.leave_for_work_min[who_work] = np.inf
        self.leave_for_leisure_min[who_leisure] = np.inf
        self.activity_end_min[who_home] = np.inf
        who = np.concatenate([who_work, who_leisure, who_home])
        dest = np.concatenate([
            self.work_edge[who_work],
            self.leisure_edge[who_leisure, self.leisure_choice[who_leisure]],
            self.home_edge[who_home],
        ])  # fmt: skip
        target = np.concatenate([
            np.full(who_work.size, WORK, np.int8), np.full(who_leisure.size, LEISURE, np.int8),
            np.full(who_home.size, HOME, np.int8),
        ])  # fmt: skip
        return who, dest, target

    def arrive(self, who: NDArray[np.int64], now_min: float) -> None:
        """Let the residents whose trip ended this step take up the state they travelled for."""
        self.state[who] = self.target_state[who]
        at_work = who[self.state[who] == WORK]
        at_leisure = who[self.state[who] == LEISURE]
        self.activity_end_min[at_work] = np.maximum(self.work_end_min[at_work], now_min)
        self.activity_end_min[at_leisure] = now_min + self.leisure_duration_min[at_leisure]

    def in_public(self) -> NDArray[np.bool_]:
        """Return the mask of residents on the street or out at leisure.

        They are the potential robbery victims and guardians.
        """
        return np.asarray((self.state == TRAVEL) | (self.state == LEISURE), dtype=bool)

    def occupancy_kind(self) -> NDArray[np.int8]:
        """Return the kind code for occupancy counting: 0 in public, -1 indoors (not counted)."""
        return np.where(self.in_public(), 0, -1).astype(np.int8)

    def homes_occupied_per_segment(self) -> NDArray[np.int64]:
        """Return the number of residents at home on each segment."""
        return np.bincount(self.home_segment[self.state == HOME], minlength=self.net.n_segments)

    # ------------------------------------------------------------------ trust
    def adjust_trust(self, who: NDArray[np.int64] | int, delta: float) -> None:
        """Add ``delta`` to the trust in police of residents ``who``, clipped to [0, 1]."""
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
