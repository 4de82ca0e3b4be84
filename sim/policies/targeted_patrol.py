"""Targeted hot-spot patrol: officers not on calls visit the top segments of a prospective crime map.

Mechanism and sources (docs/policies.md has the full table):

- The map is a prospective hot-spot surface: each known crime spreads risk to places within
  ``bandwidth_m`` along the street network and fades with age, ``exp(-age / decay_days)``
  (Bowers, Johnson & Pease 2004, Br J Criminol 44:641: near-repeat risk within ~200-400 m for
  weeks; Johnson et al. 2007). Measuring "near" along the network rather than on a grid captures
  more future crime at equal coverage (Rosser et al. 2017, J Quant Criminol 33:569); ``kde="grid"``
  gives the grid comparison.
- The police map only what they know: recorded crime (``ctx.police_view``) plus problems
  residents raise at community meetings (``police_view.extra_intelligence``). ``source="true"``
  maps every crime instead, to expose the feedback loop of recorded-crime maps (Lum & Isaac 2016;
  Ensign et al. 2018).
- The map is refreshed once per shift (``refresh_hours``); the top ``top_k`` segments are the hot
  spots. An idle officer goes to the most overdue hot spot (each is revisited at least every
  ``revisit_min`` = 2 hours) and stays ``dwell_min`` = 15 minutes: stops under ~10 minutes barely
  deter, 11-15 minutes is the optimum, and deterrence outlasts the stop (Koper 1995, Justice Q
  12:649; Telep, Mitchell & Weisburd 2014). Hot-spot patrol cuts crime modestly where it is applied
  and more often diffuses benefits than displaces crime (Braga et al. 2019; Sherman & Weisburd 1995).
- ``forecaster`` picks the map: ``network_kde`` (default) is the map above; ``prior_counts``,
  ``grid_kde`` and ``prospective`` rank by the :mod:`sim.forecast` forecaster of that name, with its
  defaults (docs/forecasting.md), over the same known events, hot spots the top segments by risk
  per metre; ``bandwidth_m``, ``decay_days``, ``kernel`` and ``kde`` shape the default map only.
- Burn-in: before ``min_known_crimes`` crimes are known there is no map; officers patrol at random
  (the baseline rule, drawing the same random numbers, so a targeted arm equals its baseline twin
  until the first map exists).

Outside peak hours and during burn-in the strategy gives no orders, so idle officers fall back on
random patrol (:mod:`sim.policies.patrol`), and ``policy=targeted_patrol`` alone never leaves
officers standing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from core_ext import select_hotspots
from sim.agents import officer as ofc
from sim.checks import is_number
from sim.errors import ConfigError
from sim.forecast import DEFAULT_FORECASTERS, FORECASTERS, risk_per_metre
from sim.network import StreetNetwork
from sim.policies.base import PatrolOrders, Policy, PolicyContext
from sim.policies.hotspot_map import KERNELS, HotspotMap, historical_hotspots
from sim.policies.registry import ReportRow, register_policy

__all__ = ["TargetedPatrolConfig", "TargetedPatrolPolicy"]


@dataclass
class TargetedPatrolConfig:
    """Hot-spot patrol from a prospective map of known crime (defaults: docs/policies.md)."""

    top_k: int = 40
    bandwidth_m: float = 300.0
    decay_days: float = 14.0
    kernel: str = "quartic"
    kde: str = "network"
    grid_cell_m: float = 100.0
    # the map's forecaster (sim/forecast.py): network_kde is the decayed network KDE above
    forecaster: str = "network_kde"
    source: str = "recorded"
    # "recorded": a live map of crime recorded during the run; "incidents": last year's hot spots,
    # the top_k of the incident file (incidents.path), fixed from the start
    hotspots_from: str = "recorded"
    intelligence_weight: float = 1.0
    refresh_hours: float = 8.0
    dwell_min: float = 15.0
    revisit_min: float = 120.0
    peak_hours_only: bool = False
    # empty: the hours of day whose recorded crime is above the hourly mean (from the police map)
    peak_hours: list[int] = field(default_factory=list)
    min_known_crimes: int = 5

    def validate(self) -> None:
        """Raise ConfigError naming the first bad key."""
        key = "policy.targeted_patrol."
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 1:
            raise ConfigError(key + "top_k", self.top_k, "a positive integer number of segments")
        positive = {"bandwidth_m": self.bandwidth_m, "decay_days": self.decay_days,
                    "grid_cell_m": self.grid_cell_m, "refresh_hours": self.refresh_hours,
                    "revisit_min": self.revisit_min}  # fmt: skip
        for name, value in positive.items():
            if not is_number(value) or value <= 0:
                raise ConfigError(key + name, value, "a positive finite number")
        if not is_number(self.dwell_min) or self.dwell_min < 0:
            raise ConfigError(
                key + "dwell_min", self.dwell_min, "a non-negative number of minutes (Koper: 15)"
            )
        if not is_number(self.intelligence_weight) or self.intelligence_weight < 0:
            raise ConfigError(key + "intelligence_weight", self.intelligence_weight, "a non-negative weight")
        if self.kernel not in KERNELS:
            raise ConfigError(key + "kernel", self.kernel, f"one of {', '.join(KERNELS)}")
        if self.kde not in ("network", "grid"):
            raise ConfigError(key + "kde", self.kde, "'network' or 'grid'")
        if self.forecaster not in DEFAULT_FORECASTERS:
            raise ConfigError(key + "forecaster", self.forecaster,
                              f"one of {', '.join(DEFAULT_FORECASTERS)} (the forecasters of sim/forecast.py "
                              "that need only past crime; 'model' needs a calibrated risk map)")  # fmt: skip
        if self.forecaster != "network_kde" and self.kde != "network":
            raise ConfigError(key + "kde", self.kde,
                              "'network' unless forecaster=network_kde: kde shapes the default map only")  # fmt: skip
        if self.hotspots_from not in ("recorded", "incidents"):
            raise ConfigError(key + "hotspots_from", self.hotspots_from,
                              "'recorded' (a live map) or 'incidents' (the incident file's hot spots)")  # fmt: skip
        if self.source not in ("recorded", "true"):
            raise ConfigError(key + "source", self.source, "'recorded' (police view) or 'true' (every crime)")
        if any(isinstance(h, bool) or not isinstance(h, int) or not 0 <= h <= 23 for h in self.peak_hours):
            raise ConfigError(key + "peak_hours", self.peak_hours, "hours of day, integers 0-23")
        if (
            isinstance(self.min_known_crimes, bool)
            or not isinstance(self.min_known_crimes, int)
            or (self.min_known_crimes < 1)
        ):
            raise ConfigError(key + "min_known_crimes", self.min_known_crimes, "a positive integer")


def _forecast_risk(
    forecaster: str,
    net: StreetNetwork,
    edges: NDArray[np.int64],
    times: NDArray[np.float64],
    now_min: float,
    weights: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Return a :mod:`sim.forecast` forecaster's risk per metre from the crime known at ``now_min``.

    Known crime is placed at its segment's midpoint, as the grid map places it.
    """
    seg = net.edge_segment[edges]
    xy = net.edge_midpoint_xy[net.segment_edge[seg]]
    events = pd.DataFrame({"segment": seg, "x": xy[:, 0], "y": xy[:, 1], "time_min": times,
                           "weight": np.ones(seg.size) if weights is None else weights})  # fmt: skip
    # forecasters use events strictly before their time: what is known at now_min counts
    risk = FORECASTERS[forecaster](events, net, float(np.nextafter(now_min, np.inf)))
    return risk_per_metre(risk, net.segment_length_m)


def _top(risk: NDArray[np.float64], k: int) -> NDArray[np.int64]:
    """Return the ``k`` highest-risk segments with positive risk, highest first."""
    top = select_hotspots(risk, min(k, risk.size))
    return np.asarray(top[risk[top] > 0], dtype=np.int64)


class _ForecastMap(HotspotMap):
    """The live map of known crime with its risk from a :mod:`sim.forecast` forecaster.

    The parent collects what the police know (``update``); ``kde="grid"`` keeps it from building a
    network kernel this map does not use.
    """

    def __init__(self, network: StreetNetwork, forecaster: str, **known: Any) -> None:
        super().__init__(network, kde="grid", **known)
        self._net = network
        self._forecaster = forecaster

    def risk(self, now_min: float) -> NDArray[np.float64]:
        """Risk per metre of every segment at ``now_min``, from every event known by then."""
        if not self._seg:
            return np.zeros(self._n_segments)
        net = self._net
        edges = net.segment_edge[np.concatenate(self._seg)]
        return _forecast_risk(self._forecaster, net, edges, np.concatenate(self._time), now_min,
                              np.concatenate(self._weight))  # fmt: skip


@register_policy(
    "targeted_patrol",
    TargetedPatrolConfig,
    label="Targeted patrol",
    order=10,
    report_rows=(
        ReportRow("hotspot_visits", "Hot-spot visits", "visits per run"),
        ReportRow("hotspot_dwell_hours", "Time standing on hot spots", "officer-hours per run"),
    ),
)
class TargetedPatrolPolicy(Policy):
    """Idle officers visit the most overdue of the top-k hot spots and dwell there (Koper 1995)."""

    patrol_priority = 10
    config: TargetedPatrolConfig

    def setup(self, ctx: PolicyContext) -> None:
        """Prepare once, before the first step (see :meth:`Policy.setup`)."""
        c = self.config
        net = ctx.network
        if c.top_k > net.n_segments:
            raise ConfigError("policy.targeted_patrol.top_k", c.top_k,
                              f"at most the number of street segments ({net.n_segments})")  # fmt: skip
        known: dict[str, Any] = {
            "bandwidth_m": c.bandwidth_m, "decay_days": c.decay_days, "kernel": c.kernel,
            "grid_cell_m": c.grid_cell_m, "source": c.source, "intelligence_weight": c.intelligence_weight,
        }  # fmt: skip
        self.map: HotspotMap = (
            HotspotMap(net, kde=c.kde, **known)
            if c.forecaster == "network_kde"
            else _ForecastMap(net, c.forecaster, **known)
        )
        self.hotspots = np.zeros(0, dtype=np.int64)
        # (time, hot spots) at every map refresh: which segments were hot when (for evaluation)
        self.history: list[tuple[float, NDArray[np.int64]]] = []
        self.last_visit_min = np.full(net.n_segments, -np.inf)
        self.first_visit_min = np.full(net.n_segments, np.nan)  # NaN: never visited
        self.dwell_min_on = np.zeros(net.n_segments)
        self.claim = np.full(ctx.officers.n, -1, dtype=np.int64)  # hot spot each officer is heading to
        self.next_refresh_min = 0.0
        self.first_map_min = float("nan")
        self.n_refreshes = 0
        self.n_visits = 0
        self.peak = np.ones(24, dtype=bool)
        if c.peak_hours:
            self.peak = np.zeros(24, dtype=bool)
            self.peak[c.peak_hours] = True
        if c.hotspots_from == "incidents":
            edges, times = ctx.recorded_history()
            if edges.size == 0:
                raise ConfigError("policy.targeted_patrol.hotspots_from", "incidents",
                                  "an incident file with crime on this map: incidents.path=FILE")  # fmt: skip
            if c.forecaster == "network_kde":
                self.hotspots = historical_hotspots(
                    net, edges, c.top_k, bandwidth_m=c.bandwidth_m, kernel=c.kernel
                )
            else:  # the forecaster's map as of the file's last incident
                self.hotspots = _top(
                    _forecast_risk(c.forecaster, net, edges, times, float(times.max())), c.top_k
                )
            self.history.append((0.0, self.hotspots))
            self.first_map_min = 0.0
            self.n_refreshes = 1
            self.next_refresh_min = np.inf  # a fixed list: no refresh from the run's records

    def on_step(self, ctx: PolicyContext) -> None:
        """Act at the start of a step (see :meth:`Policy.on_step`)."""
        now = ctx.clock.now_min
        if now >= self.next_refresh_min:
            self.map.update(ctx)
            if self.map.n_known >= self.config.min_known_crimes:
                self.hotspots = self.map.hotspots(now, self.config.top_k)
                self.history.append((now, self.hotspots))
                self.n_refreshes += 1
                if np.isnan(self.first_map_min):
                    self.first_map_min = now
                if not self.config.peak_hours:
                    self.peak = self.map.busy_hours(ctx.sim_config.start_hour)
                self.next_refresh_min = now + self.config.refresh_hours * 60.0
            else:
                # burn-in: look again next hour
                self.next_refresh_min = now + 60.0
        self._book_visits(ctx, now)

    def _book_visits(self, ctx: PolicyContext, now: float) -> None:
        """Officers dwelling on the hot spot they were sent to count as a visit (last visit = now)."""
        of = ctx.officers
        here = (of.state == ofc.DWELL) & (self.claim >= 0)
        here &= ctx.network.edge_segment[of.position_edge] == self.claim
        segs = self.claim[here]
        new_visit = here & (self.last_visit_min[np.maximum(self.claim, 0)] < now - ctx.clock.step_min - 1e-9)
        self.n_visits += int(new_visit.sum())
        self.last_visit_min[segs] = now
        self.first_visit_min[segs] = np.fmin(self.first_visit_min[segs], now)
        np.add.at(self.dwell_min_on, segs, ctx.clock.step_min)

    def choose_patrol(self, ctx: PolicyContext, officers: NDArray[np.int64]) -> PatrolOrders | None:
        """Return patrol orders for idle officers (see :meth:`Policy.choose_patrol`)."""
        hour = int(ctx.clock.hour_of_day) % 24
        if self.hotspots.size == 0 or (self.config.peak_hours_only and not self.peak[hour]):
            self.claim[officers] = -1
            return None  # random patrol
        net = ctx.network
        of = ctx.officers
        now = ctx.clock.now_min
        valid = ((of.state == ofc.PATROL) | (of.state == ofc.DWELL)) & ~of.needs_orders
        self.claim[~valid] = -1
        self.claim[officers] = -1
        hs = self.hotspots
        hs_node = net.edge_source[net.segment_edge[hs]]
        age = np.where(np.isfinite(self.last_visit_min[hs]), now - self.last_visit_min[hs], 1e9)
        dest = np.empty(officers.size, dtype=np.int64)
        for k, i in enumerate(officers):
            dist_m = ctx.router.shortest_path_lengths(int(net.indices[of.position_edge[i]]))[hs_node]
            travel = np.where(np.isfinite(dist_m), dist_m / of.speed_mps[i] / 60.0, np.inf)
            free = ~np.isin(hs, self.claim) & np.isfinite(travel)
            if not free.any():
                free = np.isfinite(travel)
            overdue = free & (age + travel >= self.config.revisit_min)
            if overdue.any():
                # most overdue first; ties (never visited) to the nearest
                score = np.where(overdue, age * 1e3 - travel, -np.inf)
            else:
                # all visited recently: the stalest net of the walk there
                score = np.where(free, age - travel, -np.inf)
            j = int(np.argmax(score))
            self.claim[i] = hs[j]
            dest[k] = net.segment_edge[hs[j]]
        return PatrolOrders(officers, dest, np.full(officers.size, float(self.config.dwell_min)))

    def treated_from_min(self, ctx: PolicyContext) -> NDArray[np.float64]:
        """Return each hot spot's first patrol visit: it is treated from then (its selection came from earlier crime)."""
        return self.first_visit_min.copy()

    def costs(self, ctx: PolicyContext) -> dict[str, float]:
        """Visits, time on hot spots and map refreshes (their officer time is in the run's budget)."""
        return {
            "hotspot_visits": float(self.n_visits),
            "hotspot_dwell_hours": float(self.dwell_min_on.sum()) / 60.0,
            "hotspot_segments_visited": float(np.isfinite(self.first_visit_min).sum()),
            "hotspot_map_refreshes": float(self.n_refreshes),
            "hotspot_first_map_hour": self.first_map_min / 60.0,
        }
