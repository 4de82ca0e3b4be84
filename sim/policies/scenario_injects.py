"""Scenario injects: the events a training scenario throws at every arm alike (sprees, festivals, calls).

Not a strategy of the police but the world of an exercise, acting through the same contract so that
each change is the model's own and appears in the actions table. Every arm of a training debrief
(the trainee's plan, each built-in strategy, the oracle) carries the same injects, so they cancel in
the paired differences. Kinds (times count from the start of the run):

- ``spree``: from ``day`` for ``days``, segments within ``radius_m`` of ``centre`` are ``factor``
  times as attractive to offenders (one prolific offender or group working an area: Johnson &
  Bowers 2004 on near-repeat sprees), through ``install(maintenance_factor=...)``, undone at the end.
- ``festival``: on ``day`` from ``hour`` for ``hours``, the area is ``factor`` times as attractive
  (crowds and the night-time economy draw theft and violence) and ``calls`` extra calls for service
  come in from it, evenly spread.
- ``call_spike``: ``calls`` calls for service from the area on ``day`` from ``hour`` over ``hours``
  (not recorded crime: they take officers, not the crime map).
- ``complaint``: at ``day`` and ``hour`` residents raise a problem at the area's ``items`` busiest
  segments at a community meeting: it reaches the police as intelligence (``share_intelligence``).

Injects draw no random numbers, so the arms' random streams stay aligned (common random numbers).
An area is a centre (``[lon, lat]``) and a radius; the segments whose midpoint lies within it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.checks import check_tagged, is_number
from sim.clock import MINUTES_PER_DAY
from sim.errors import ConfigError
from sim.network import StreetNetwork
from sim.policies.base import Policy, PolicyContext
from sim.policies.registry import register_policy

__all__ = ["INJECT_KINDS", "ScenarioInjectsConfig", "ScenarioInjectsPolicy", "area_segments", "check_inject"]

KEY = "policy.scenario_injects."
_M_PER_DEGREE = 111_320.0  # metres per degree of latitude
# keys of each kind and their defaults (None: required)
INJECT_KINDS: dict[str, dict[str, Any]] = {
    "spree": {"day": None, "days": 3.0, "centre": None, "radius_m": 250.0, "factor": 3.0, "label": ""},
    "festival": {
        "day": None,
        "hour": 18.0,
        "hours": 6.0,
        "centre": None,
        "radius_m": 300.0,
        "factor": 2.0,
        "calls": 6,
        "label": "",
    },
    "call_spike": {
        "day": None,
        "hour": 12.0,
        "hours": 2.0,
        "centre": None,
        "radius_m": 600.0,
        "calls": 10,
        "label": "",
    },
    "complaint": {"day": None, "hour": 19.0, "centre": None, "radius_m": 200.0, "items": 3, "label": ""},
}


@dataclass
class ScenarioInjectsConfig:
    """The injects of a scenario: one mapping per inject (``kind`` and the keys of that kind)."""

    injects: list[dict[str, Any]] = field(default_factory=list)

    def validate(self) -> None:
        """Raise ConfigError naming the first bad key."""
        for k, inject in enumerate(self.injects):
            check_inject(inject, f"{KEY}injects[{k}]")


def check_inject(inject: Any, where: str) -> dict[str, Any]:
    """Return ``inject`` with its defaults filled in; ConfigError naming the first bad field."""
    out = check_tagged(inject, where, INJECT_KINDS, "inject")
    centre = out["centre"]
    if not (isinstance(centre, list | tuple) and len(centre) == 2 and all(is_number(v) for v in centre)
            and -180 <= centre[0] <= 180 and -90 <= centre[1] <= 90):  # fmt: skip
        raise ConfigError(where + ".centre", centre, "[longitude, latitude] in degrees (WGS84)")
    bounds = {"day": (0, 366), "days": (1e-9, 366), "hour": (0, 23.999), "hours": (1e-9, 24),
              "radius_m": (1, 5000), "factor": (0, 20)}  # fmt: skip
    for key, (lo, hi) in bounds.items():
        if key in out and (not is_number(out[key]) or not lo <= out[key] <= hi):
            raise ConfigError(f"{where}.{key}", out[key], f"a number in [{lo:g}, {hi:g}]")
    for key in ("calls", "items"):
        value = out.get(key, 1)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 500:
            raise ConfigError(f"{where}.{key}", value, "a whole number in [1, 500]")
    if not isinstance(out["label"], str):
        raise ConfigError(where + ".label", out["label"], "a short text")
    return out


def area_segments(net: StreetNetwork, centre: list[float], radius_m: float) -> NDArray[np.int64]:
    """Return the segments whose midpoint lies within ``radius_m`` of the node nearest ``centre`` (lon, lat).

    Empty when no node lies within ``radius_m`` of the centre (a centre off the map).
    """
    lonlat = net.node_lonlat
    # the nearest node in degrees, with longitude shrunk by latitude (fine over a city)
    scale = math.cos(math.radians(float(centre[1])))
    d2 = ((lonlat[:, 0] - centre[0]) * scale) ** 2 + (lonlat[:, 1] - centre[1]) ** 2
    nearest = int(np.argmin(d2))
    if np.sqrt(d2[nearest]) * _M_PER_DEGREE > radius_m:  # the centre is off the map: no area
        return np.zeros(0, dtype=np.int64)
    origin = net.node_xy[nearest]
    mid = 0.5 * (net.node_xy[net.edge_source[net.segment_edge]] + net.node_xy[net.indices[net.segment_edge]])
    return np.flatnonzero(np.hypot(*(mid - origin).T) <= radius_m).astype(np.int64)


@register_policy("scenario_injects", ScenarioInjectsConfig, label="Scenario injects", order=95)
class ScenarioInjectsPolicy(Policy):
    """Applies a scenario's injects at their times; gives no patrol orders."""

    patrol_priority = -10
    config: ScenarioInjectsConfig

    def setup(self, ctx: PolicyContext) -> None:
        """Resolve each inject's area and its start and end minutes."""
        self.items = [check_inject(x, f"{KEY}injects[{k}]") for k, x in enumerate(self.config.injects)]
        start_h = ctx.sim_config.start_hour
        self.areas = [area_segments(ctx.network, x["centre"], x["radius_m"]) for x in self.items]
        for k, area in enumerate(self.areas):
            if area.size == 0:
                raise ConfigError(f"{KEY}injects[{k}].centre", self.items[k]["centre"],
                                  "a point within radius_m of the map's streets")  # fmt: skip
        self.start_min, self.end_min = [], []
        for x in self.items:
            # "day N, hour H": N days from the start, at hour of day H; a spree starts with its day
            t = x["day"] * MINUTES_PER_DAY + ((x["hour"] - start_h) * 60.0 if "hour" in x else 0.0)
            span = x["days"] * MINUTES_PER_DAY if "days" in x else x.get("hours", 0.0) * 60.0
            self.start_min.append(t)
            self.end_min.append(t + span)
        self._started: set[int] = set()
        self._ended: set[int] = set()

    def on_step(self, ctx: PolicyContext) -> None:
        """Start and end injects whose time has come."""
        now = ctx.clock.now_min
        for k, x in enumerate(self.items):
            if k not in self._started and now >= self.start_min[k]:
                self._started.add(k)
                self._start(ctx, k, x)
            if k in self._started and k not in self._ended and now >= self.end_min[k]:
                self._ended.add(k)
                if "factor" in x and x["factor"] > 0:
                    self._attract(ctx, k, 1.0 / x["factor"])

    def _attract(self, ctx: PolicyContext, k: int, factor: float) -> None:
        mask = np.zeros(ctx.network.n_segments, dtype=bool)
        mask[self.areas[k]] = True
        ctx.install(mask, maintenance_factor=factor)

    def _start(self, ctx: PolicyContext, k: int, x: dict[str, Any]) -> None:
        ctx.log_decision(f"inject_{x['kind']}", x["label"] or x["kind"], n_segments=int(self.areas[k].size))
        if "factor" in x:
            self._attract(ctx, k, x["factor"])
        area = self.areas[k]
        # the area's most attractive streets first: where calls and complaints come from
        ranked = area[np.argsort(-ctx.segments.static_attractiveness[area], kind="stable")]
        if "calls" in x:
            n = x["calls"]
            span = self.end_min[k] - self.start_min[k]
            times = self.start_min[k] + span * (np.arange(n) + 0.5) / n
            ctx.open_calls(ctx.network.segment_edge[ranked[np.arange(n) % ranked.size]], times)
        if "items" in x:
            segs = ranked[: x["items"]]
            ctx.share_intelligence(segs, np.full(segs.size, ctx.clock.now_min))
