"""Neighbourhood watch: residents of chosen areas enrol, watch their streets and report what they see.

Mechanism and sources (docs/policies.md has the full table):

- **Areas** (``areas_from``): neighbourhoods named by id (``area_ids``, the ``city.area_cell_m``
  grid of the results' ``segments.area``), a polygon (``polygon_path``: GeoJSON or a GeoPackage
  layer, read as CPTED reads it), or the ``n_areas`` neighbourhoods with the most recorded
  burglary after ``burn_in_days`` (``recorded_burglary``, the planner's usual choice). One scheme per area (one for a polygon).
- **Uptake**: each resident of a scheme joins with probability
  ``uptake x trust / mean trust x efficacy / mean trust`` (efficacy: the collective efficacy of the
  home's neighbourhood), drawn once at the launch: people who trust the police and live where
  neighbours act together join more (Sampson, Raudenbush & Earls 1997; Bennett, Holloway &
  Farrington 2006 on who joins). In 2000 over a quarter of households in England and Wales were
  members of a scheme (Sims 2001, cited by Bennett et al. 2008).
- **Watching**: a member at home watches the streets within ``watch_reach_m`` of home and counts
  there as ``watcher_weight`` guardians (less with distance; ``PolicyContext.add_home_watchers``),
  so an empty home whose neighbours are in and watching is guarded. The *coverage* ``c`` of a
  street is the share of the homes in sight of it whose residents are members; on every street in
  sight of a member a crime is ``1 + reporting_gain x c`` times as likely to be reported
  (``PolicyContext.raise_reporting``), and members who see someone searching the street tell the
  police (``sighting_report_prob x c`` per step seen): the sighting reaches the police view as
  intelligence, which the hot-spot map reads. Watching and reporting suspicious activity is the
  mechanism the schemes rest on (Bennett, Holloway & Farrington 2008).
- **Costs**: a coordinator (``coordinator_officers``) meets each scheme every
  ``coordinator_interval_days`` for ``coordinator_session_hours``, taken off patrol (the one
  officer-hours budget); members give ``volunteer_hours_per_week`` each, costed at
  ``volunteer_hour_cost``; signs on every enrolled street and a launch pack per scheme are capital.

Evidence: crime fell 16-26% on average in the evaluated schemes, with weak designs, more where
uptake was high (Bennett, Holloway & Farrington 2006, J Exp Criminol 2:437; 2008, Campbell review).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from sim.checks import HOUR_OF_DAY, NON_NEGATIVE, POSITIVE, POSITIVE_INT, PROBABILITY
from sim.clock import MINUTES_PER_DAY
from sim.errors import ConfigError
from sim.policies.areas import AREA_FILES, area_file, segments_in_polygon, segments_in_sight
from sim.policies.base import Policy, PolicyContext
from sim.policies.registry import ReportRow, register_policy

__all__ = ["NeighbourhoodWatchConfig", "NeighbourhoodWatchPolicy"]

KEY = "policy.neighbourhood_watch."
AREAS_FROM = ("recorded_burglary", "area_ids", "polygon")


@dataclass
class NeighbourhoodWatchConfig:
    """Watch schemes: where, who joins, what members do, and what it costs (defaults: docs/policies.md)."""

    areas_from: str = "recorded_burglary"  # "recorded_burglary", "area_ids" or "polygon"
    area_ids: list[int] = field(default_factory=list)
    polygon_path: str = ""
    n_areas: int = 3
    burn_in_days: float = 2.0
    uptake: float = 0.3
    watch_reach_m: float = 100.0
    watcher_weight: float = 1.0
    reporting_gain: float = 0.5
    sighting_report_prob: float = 0.05
    coordinator_officers: int = 1
    coordinator_interval_days: float = 7.0
    coordinator_hour: float = 14.0
    coordinator_session_hours: float = 2.0
    volunteer_hours_per_week: float = 0.5
    # Placeholders of a plausible order in the run's currency; set local figures (docs/policies.md).
    volunteer_hour_cost: float = 15.0
    signage_cost_capital: float = 50.0
    scheme_cost_capital: float = 300.0

    def validate(self) -> None:
        """Raise ConfigError naming the first bad key."""
        if self.areas_from not in AREAS_FROM:
            raise ConfigError(KEY + "areas_from", self.areas_from, f"one of {', '.join(AREAS_FROM)}")
        ids = self.area_ids
        if self.areas_from == "area_ids" and (
            not ids or any(isinstance(a, bool) or not isinstance(a, int) or a < 0 for a in ids)
        ):
            raise ConfigError(KEY + "area_ids", ids,
                              "a non-empty list of area ids (segments.area of a run) with areas_from=area_ids")  # fmt: skip
        if self.areas_from == "polygon" and not (
            self.polygon_path and area_file(self.polygon_path).is_file()
        ):
            raise ConfigError(KEY + "polygon_path", self.polygon_path,
                              f"the path of an existing GeoJSON file or GeoPackage: {AREA_FILES}, with areas_from=polygon")  # fmt: skip
        POSITIVE_INT.check(self, KEY, "n_areas", "coordinator_officers")
        PROBABILITY.check(self, KEY, "uptake", "sighting_report_prob")
        NON_NEGATIVE.check(self, KEY, "burn_in_days", "watcher_weight", "reporting_gain", "volunteer_hours_per_week",
                           "volunteer_hour_cost", "signage_cost_capital", "scheme_cost_capital")  # fmt: skip
        POSITIVE.check(self, KEY, "watch_reach_m", "coordinator_interval_days", "coordinator_session_hours")
        HOUR_OF_DAY.check(self, KEY, "coordinator_hour")


@register_policy(
    "neighbourhood_watch",
    NeighbourhoodWatchConfig,
    label="Neighbourhood watch",
    order=35,
    report_rows=(
        ReportRow("watch_members", "Residents enrolled in the watch", "residents", 1),
        ReportRow("watch_sightings_reported", "Suspicious activity reported by members", "reports per run"),
        ReportRow("watch_coordinator_hours", "Watch coordinator time", "officer-hours per run"),
        ReportRow("watch_volunteer_hours", "Members' volunteer time", "hours per run"),
    ),
)
class NeighbourhoodWatchPolicy(Policy):
    """Launches the schemes, applies members' watching and reporting, and keeps a coordinator on them."""

    patrol_priority = -1
    config: NeighbourhoodWatchConfig

    def setup(self, ctx: PolicyContext) -> None:
        """Launch at once on configured areas, or schedule the launch after the burn-in."""
        c = self.config
        n_seg, n_res = ctx.network.n_segments, ctx.residents.n
        self.launch_min = float("nan")
        self.launch_at_min = math.inf
        self.members = np.zeros(n_res, dtype=bool)
        self.in_scheme = np.zeros(n_res, dtype=bool)
        self.coverage = np.zeros(n_seg)
        self.enrolled = np.zeros(n_seg, dtype=bool)
        self.watched = np.zeros(n_seg, dtype=bool)
        self.scheme_areas: list[int] = []
        self.sessions: list[tuple[float, int]] = []
        self._centre_edge = np.zeros(0, dtype=np.int64)
        self._next_session = 0
        self.n_sightings = 0
        self.n_sessions = 0
        self.n_sessions_missed = 0
        self.coordinator_hours = 0.0
        homes = np.bincount(ctx.residents.home_segment, minlength=n_seg)
        area = ctx.segments.area
        if c.areas_from == "area_ids":
            known = np.unique(area[homes > 0])
            bad = [a for a in c.area_ids if a not in set(known.tolist())]
            if bad:
                raise ConfigError(KEY + "area_ids", bad,
                                  f"ids of areas where residents live (of 0..{int(area.max())}: "
                                  f"{', '.join(str(int(a)) for a in known[:12])}{', ...' if known.size > 12 else ''})")  # fmt: skip
            ids = list(dict.fromkeys(c.area_ids))
            self._launch(ctx, [area == a for a in ids], ids)
        elif c.areas_from == "polygon":
            inside = segments_in_polygon(ctx.network, c.polygon_path, key=KEY + "polygon_path")
            if not homes[inside].any():
                raise ConfigError(KEY + "polygon_path", c.polygon_path,
                                  "a polygon holding residents' homes (a watch needs households)")  # fmt: skip
            self._launch(ctx, [inside], [-1])
        else:
            self.launch_at_min = c.burn_in_days * MINUTES_PER_DAY

    def on_step(self, ctx: PolicyContext) -> None:
        """Launch after the burn-in; then pass on members' sightings and hold the coordinator's sessions."""
        now = ctx.clock.now_min
        if np.isnan(self.launch_min) and now >= self.launch_at_min:
            chosen = self._busiest_areas(ctx)
            if not chosen:
                self.launch_at_min += 60.0  # nothing recorded yet: the planner waits
                return
            area = ctx.segments.area
            self._launch(ctx, [area == a for a in chosen], chosen)
        if np.isnan(self.launch_min):
            return
        self._report_sightings(ctx, now)
        while self._next_session < len(self.sessions) and now >= self.sessions[self._next_session][0]:
            self._hold_session(ctx, self._next_session)
            self._next_session += 1

    def _busiest_areas(self, ctx: PolicyContext) -> list[int]:
        """Return the ``n_areas`` areas with residents and the most recorded burglary (ties: most crime)."""
        net, area, now = ctx.network, ctx.segments.area, ctx.clock.now_min
        n_areas = int(area.max()) + 1
        edges, times = ctx.police_view.recorded_crimes()
        edges = edges[times <= now]  # a crime is on record from its call on
        if edges.size == 0:
            return []
        burglary, times = ctx.police_view.recorded_crimes("burglary")
        burglary = burglary[times <= now]
        by_burglary = np.bincount(area[net.edge_segment[burglary]], minlength=n_areas)
        by_crime = np.bincount(area[net.edge_segment[edges]], minlength=n_areas)
        homes = np.bincount(area[ctx.residents.home_segment], minlength=n_areas)
        order = np.lexsort((np.arange(n_areas), -by_crime, -by_burglary))
        return [int(a) for a in order if homes[a] > 0][: self.config.n_areas]

    def _launch(self, ctx: PolicyContext, schemes: list[NDArray[np.bool_]], ids: list[int]) -> None:
        """Enrol members in each scheme's area, change their streets, book the costs, plan the sessions."""
        c = self.config
        r, net = ctx.residents, ctx.network
        now = ctx.clock.now_min
        self.launch_min = now
        self.scheme_areas = ids
        in_area = np.zeros(net.n_segments, dtype=bool)
        for mask in schemes:
            in_area |= mask
        self.in_scheme = in_area[r.home_segment]
        efficacy = ctx.segments.collective_efficacy[r.home_segment]
        t0 = ctx.mean_trust_start
        p = np.clip(c.uptake * (r.trust / t0) * (efficacy / t0), 0.0, 1.0)
        u = ctx.rng("policy").random(r.n)  # fixed size: the same draws whoever lives in the areas
        self.members = self.in_scheme & (u < p)
        homes = np.bincount(r.home_segment, minlength=net.n_segments).astype(np.float64)
        members = np.bincount(r.home_segment[self.members], minlength=net.n_segments).astype(np.float64)
        self.enrolled = members > 0
        if self.enrolled.any():
            # what is in sight of every home, members' or not: coverage is the members' share of it
            sight = segments_in_sight(net, ctx.router, np.flatnonzero(homes > 0), c.watch_reach_m)
            seen_by_members, seen_by_all = sight.T @ members, sight.T @ homes
            self.coverage = np.divide(seen_by_members, seen_by_all, out=np.zeros(net.n_segments),
                                      where=seen_by_all > 0)  # fmt: skip
            self.watched = seen_by_members > 0
            ctx.add_home_watchers(np.flatnonzero(self.members), c.watcher_weight * sight)
            ctx.raise_reporting(self.watched, 1.0 + c.reporting_gain * self.coverage)
        n_members = int(self.members.sum())
        ctx.book_cost("watch signage", capital=c.signage_cost_capital * float(self.enrolled.sum())
                      + c.scheme_cost_capital * len(schemes))  # fmt: skip
        ctx.book_cost("watch volunteer time",
                      per_day=n_members * c.volunteer_hours_per_week / 7.0 * c.volunteer_hour_cost)  # fmt: skip
        self._plan_sessions(ctx, schemes, members)

    def _plan_sessions(
        self, ctx: PolicyContext, schemes: list[NDArray[np.bool_]], members: NDArray[np.float64]
    ) -> None:
        """Sessions at each scheme's busiest street: from the launch day, staggered, every interval."""
        c = self.config
        net = ctx.network
        end = ctx.sim_config.days * MINUTES_PER_DAY
        first_day = ctx.clock.day_start_min() + c.coordinator_hour * 60.0
        if first_day < ctx.clock.now_min:
            first_day += MINUTES_PER_DAY
        stagger = max(1, int(c.coordinator_interval_days))
        centres = []
        for k, mask in enumerate(schemes):
            weight = np.where(mask, members, -1)
            centres.append(int(net.segment_edge[int(np.argmax(weight))]))
            t = first_day + (k % stagger) * MINUTES_PER_DAY
            while t < end:
                self.sessions.append((t, k))
                t += c.coordinator_interval_days * MINUTES_PER_DAY
        self.sessions.sort()
        self._centre_edge = np.asarray(centres, dtype=np.int64)

    def _report_sightings(self, ctx: PolicyContext, now: float) -> None:
        """Members who see someone searching their street tell the police (intelligence)."""
        seen = ctx.suspicious_activity(self.watched)
        if seen.size == 0:
            return
        u = ctx.rng("policy").random(seen.size)
        told = seen[u < self.config.sighting_report_prob * self.coverage[seen]]
        if told.size:
            ctx.share_intelligence(told, np.full(told.size, now))
            self.n_sightings += int(told.size)

    def _hold_session(self, ctx: PolicyContext, index: int) -> None:
        """Hold a coordinator's session: officers leave patrol for it, or it is missed."""
        c = self.config
        start, scheme = self.sessions[index]
        of = ctx.officers
        free = np.flatnonzero(of.available())
        if free.size == 0:
            self.n_sessions_missed += 1
            return
        edge = int(self._centre_edge[scheme])
        dist = ctx.router.shortest_path_lengths(int(ctx.network.edge_source[edge]))
        chosen = free[np.argsort(dist[ctx.network.indices[of.position_edge[free]]], kind="stable")]
        chosen = chosen[: c.coordinator_officers]
        until = start + c.coordinator_session_hours * 60.0
        ctx.send_officers(chosen, np.full(chosen.size, edge), activity="meeting", until_min=until)
        self.n_sessions += 1
        self.coordinator_hours += chosen.size * (until - ctx.clock.now_min) / 60.0

    def treated_from_min(self, ctx: PolicyContext) -> NDArray[np.float64]:
        """Return the launch minute on the streets in sight of members' homes (treated from then)."""
        return np.where(self.watched, self.launch_min, np.nan)

    def costs(self, ctx: PolicyContext) -> dict[str, float]:
        """Schemes, members, uptake, sightings reported, coordinator and volunteer hours."""
        c = self.config
        launched = not np.isnan(self.launch_min)
        weeks = (ctx.clock.now_min - self.launch_min) / (7 * MINUTES_PER_DAY) if launched else 0.0
        n_members = float(self.members.sum())
        return {
            "watch_schemes": float(len(self.scheme_areas)),
            "watch_members": n_members,
            "watch_uptake": n_members / max(1.0, float(self.in_scheme.sum())),
            "watch_segments": float(self.watched.sum()),
            "watch_coverage": float(self.coverage[self.watched].mean()) if self.watched.any() else 0.0,
            "watch_sightings_reported": float(self.n_sightings),
            "watch_coordinator_sessions": float(self.n_sessions),
            "watch_sessions_missed": float(self.n_sessions_missed),
            "watch_coordinator_hours": self.coordinator_hours,
            "watch_volunteer_hours": n_members * c.volunteer_hours_per_week * weeks,
            "watch_launch_day": self.launch_min / MINUTES_PER_DAY,
        }
