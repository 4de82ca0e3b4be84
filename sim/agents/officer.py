"""Officers: stations, a patrol/response state machine, and beats.

States: ``patrol`` (travelling to a patrol point chosen by the active policy), ``dwell`` (stopped at
it), ``respond`` (travelling to a call), ``attend`` (on scene), ``meeting`` (at or going to a
community meeting), ``return`` (going back to the beat after a call or meeting), ``off`` (off duty:
the officer-hours budget is smaller than round-the-clock staffing). Every officer-minute is booked
to exactly one state, so the time budget adds up.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from core_ext import Router
from sim.agents._view import RowView
from sim.config import PoliceConfig
from sim.network import StreetNetwork

__all__ = [
    "ATTEND",
    "DWELL",
    "MEETING",
    "OFF",
    "PATROL",
    "RESPOND",
    "RETURN",
    "STATE_NAMES",
    "Officer",
    "Officers",
    "partition_beats",
]  # fmt: skip

PATROL, DWELL, RESPOND, ATTEND, MEETING, RETURN, OFF = range(7)
STATE_NAMES = ("patrol", "dwell", "respond", "attend", "meeting", "return", "off")


def find_central_node(net: StreetNetwork) -> int:
    """Return the node nearest the centroid of all nodes: the station when none is known."""
    centre = net.node_xy.mean(axis=0)
    return int(np.argmin(np.hypot(*(net.node_xy - centre).T)))


def partition_beats(
    net: StreetNetwork, router: Router, n_beats: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Split the network into ``n_beats`` beats of nearby nodes.

    Beat centres are spread by farthest-point sampling on network distance from the central node
    (deterministic), then every node joins the centre nearest by network distance (multi-source
    search). Returns (centre node per beat, beat per node).
    """
    centres = [find_central_node(net)]
    best = router.shortest_path_lengths(centres[0])
    for _ in range(1, max(1, n_beats)):
        finite = np.where(np.isfinite(best), best, -1.0)
        nxt = int(np.argmax(finite))
        centres.append(nxt)
        best = np.minimum(best, router.shortest_path_lengths(nxt))
    centre_nodes = np.asarray(centres, dtype=np.int64)
    label, _ = router.nearest_sources(centre_nodes)
    return centre_nodes, label.astype(np.int64)


class Officers:
    """All officers as arrays."""

    kind = "officer"

    def __init__(self, net: StreetNetwork, config: PoliceConfig, station_nodes: NDArray[np.int64]) -> None:
        self.net = net
        self.config = config
        foot, cars = int(config.foot_per_shift or 0), int(config.cars_per_shift or 0)
        n = foot + cars
        self.n = n
        self.station_node = station_nodes[np.arange(n) % station_nodes.size].astype(np.int64)
        # stand on an edge arriving at the station node
        rev_edge = np.array([_edge_into(net, v) for v in self.station_node], dtype=np.int64)
        self.home_edge = rev_edge
        self.state = np.full(n, PATROL, dtype=np.int8)
        budget = config.budget_hours_per_day
        if budget is not None:
            on_duty = min(n, round(budget / 24.0))
            self.state[on_duty:] = OFF
        self.position_edge = rev_edge.copy()
        self.position_offset_m = net.edge_length_m[rev_edge].copy()
        self.route_pos = np.zeros(n, dtype=np.int64)
        self.route_end = np.zeros(n, dtype=np.int64)
        # foot patrol first, then the response cars (which drive the same street graph)
        self.speed_mps = np.where(np.arange(n) < foot, config.speed_foot_mps, config.speed_car_mps)
        self.in_car = np.arange(n) >= foot
        self.busy_until_min = np.zeros(n)
        self.call = np.full(n, -1, dtype=np.int64)
        self.dwell_target_min = np.zeros(n)
        self.minutes = np.zeros((n, len(STATE_NAMES)))
        self.needs_orders = self.state != OFF

    def on_duty(self) -> NDArray[np.bool_]:
        """Return the mask of officers on duty (in any state but ``off``)."""
        return np.asarray(self.state != OFF, dtype=bool)

    def available(self) -> NDArray[np.bool_]:
        """Return the mask of officers who can take a call: on patrol, dwelling or returning."""
        return np.asarray((self.state == PATROL) | (self.state == DWELL) | (self.state == RETURN), dtype=bool)

    def occupancy_kind(self) -> NDArray[np.int8]:
        """Return the kind code for occupancy counting: 2 on duty, -1 off duty or at a meeting."""
        return np.where((self.state == OFF) | (self.state == MEETING), -1, 2).astype(np.int8)

    def book_time(self, step_min: float) -> None:
        """Book ``step_min`` minutes to each officer's current state."""
        self.minutes[np.arange(self.n), self.state] += step_min


def _edge_into(net: StreetNetwork, node: int) -> int:
    into = np.flatnonzero(net.indices == node)
    return int(into[0]) if into.size else int(net.indptr[node])


class Officer(RowView):
    """A Mesa view onto one officer's row."""

    population = "officers"
    state_names = STATE_NAMES

    @property
    def hours_by_state(self) -> dict[str, float]:
        """Hours this officer has spent in each state so far, by state name."""
        return {s: float(m) / 60.0 for s, m in zip(STATE_NAMES, self._pop.minutes[self.row], strict=True)}
