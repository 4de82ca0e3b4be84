"""Night foot patrol on the busiest streets: the worked example of docs/policies.md ("Write your own strategy").

At night (``start_hour`` to ``end_hour``), idle officers walk to one of the ``n_streets`` street
segments with the most recorded crime so far and stand there ``dwell_min`` minutes; by day they
patrol at random. Standing still is what deters (Koper 1995: 11-15 minute stops); the hours
follow street robbery, which peaks after dark (Tompson & Bowers 2013).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from core_ext import select_hotspots
from sim.errors import ConfigError
from sim.policies.base import PatrolOrders, Policy, PolicyContext
from sim.policies.registry import register_policy


@dataclass
class NightFootPatrolConfig:
    """Where and when: the top ``n_streets`` by recorded crime, from ``start_hour`` to ``end_hour``."""

    n_streets: int = 5
    start_hour: int = 20
    end_hour: int = 2
    dwell_min: float = 15.0

    def validate(self) -> None:
        """Raise ConfigError naming the first bad key."""
        if not 1 <= self.n_streets <= 1000:
            raise ConfigError("policy.night_foot_patrol.n_streets", self.n_streets, "an integer in 1..1000")
        if not (0 <= self.start_hour <= 23 and 0 <= self.end_hour <= 23):
            raise ConfigError("policy.night_foot_patrol.start_hour", self.start_hour, "hours of day 0-23")


@register_policy("night_foot_patrol", NightFootPatrolConfig, label="Night foot patrol", order=40)
class NightFootPatrolPolicy(Policy):
    """Idle officers stand on the streets with the most recorded crime, at night only."""

    patrol_priority = 5
    config: NightFootPatrolConfig

    def choose_patrol(self, ctx: PolicyContext, officers: NDArray[np.int64]) -> PatrolOrders | None:
        """Send idle officers round the top streets at night; leave them to random patrol by day."""
        c, net = self.config, ctx.network
        hour = int(ctx.clock.hour_of_day)
        night = (
            c.start_hour <= hour or hour < c.end_hour
            if c.start_hour > c.end_hour
            else c.start_hour <= hour < c.end_hour
        )
        edges, _ = ctx.police_view.recorded_crimes()
        if not night or edges.size == 0:
            return None
        counts = np.bincount(net.edge_segment[edges], minlength=net.n_segments).astype(np.float64)
        top = select_hotspots(counts, min(c.n_streets, int((counts > 0).sum())))
        streets = top[np.arange(officers.size) % top.size]
        return PatrolOrders(officers, net.segment_edge[streets], np.full(officers.size, c.dwell_min))
