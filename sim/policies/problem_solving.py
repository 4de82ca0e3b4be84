"""Problem-oriented policing (SARA): scan for a recurring problem, analyse it, respond, assess, move on.

Mechanism and sources (docs/policies.md has the full table):

- **Team**: ``team_officers`` officers leave patrol for ``session_hours`` at the problem's place at
  each step of SARA (the one officer-hours budget); community partners give
  ``partner_hours_per_week``, costed at ``partner_hour_cost``.
- **Scan**: the recorded crime of the last ``scan_window_days`` (and what residents raised outside
  the records, ``intelligence_weight`` each), grouped by place (a segment and every segment within
  ``place_radius_m``) and offence type. The place and type with the most, at least
  ``min_problem_crimes`` recorded, not yet worked on, is the problem; the next ``n_comparison``
  places of that type are its comparison places.
- **Analysis** (``analysis_days`` later): its hours (the ``peak_window_hours`` in a row that hold
  most of it), how much falls in darkness, its targets and generators (the shops, bars, stations,
  homes ... on its streets).
- **Response**, tailored: lighting where most of it is at night and streets are unlit, clean-up
  and repair of the place (attractiveness x ``cleanup_factor``), a place manager engaged where
  shops, bars or restaurants stand (guardianship x ``manager_guardianship``, attractiveness x
  ``manager_attractiveness``: Eck & Weisburd 1995), and a patrol stop of ``patrol_dwell_min`` every
  ``patrol_revisit_min`` in its peak hours (Koper 1995).
- **Assessment** (``assess_after_weeks`` later): its recorded crime of the type per day since the
  response against its own before (the scan window) and against the comparison places'. A fall of
  ``success_threshold`` or more, larger than the comparison's, closes it as a success; otherwise the
  team adapts (patrol all day, or light it) at most ``max_adaptations`` times, then moves on.

Every step is logged (``PolicyContext.log_decision``), so the actions table tells the story.
Evidence: problem-oriented policing has a modest but significant effect on crime and disorder
(Weisburd et al. 2010, Criminology & Public Policy 9:139); in Jersey City it cut violent and
property crime at violent places without significant displacement (Braga et al. 1999, Criminology
37:541).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from sim.checks import MULTIPLIER, NON_NEGATIVE, NON_NEGATIVE_INT, POSITIVE, POSITIVE_INT, is_number
from sim.clock import MINUTES_PER_DAY
from sim.errors import ConfigError
from sim.offences import CRIME_TYPES
from sim.policies.areas import segments_in_sight
from sim.policies.base import PatrolOrders, Policy, PolicyContext
from sim.policies.registry import ReportRow, register_policy

__all__ = ["Problem", "ProblemSolvingConfig", "ProblemSolvingPolicy"]

KEY = "policy.problem_solving."
PREMISES = ("shop", "bar", "nightclub", "restaurant")
GENERATORS = ("shop", "bar", "nightclub", "restaurant", "station", "stop", "parking", "atm", "residential")


@dataclass
class ProblemSolvingConfig:
    """A SARA team: how it scans, analyses, responds and assesses, and what it costs (docs/policies.md)."""

    team_officers: int = 1
    session_hours: float = 2.0
    partner_hours_per_week: float = 4.0
    scan_after_days: float = 2.0
    scan_window_days: float = 14.0
    min_problem_crimes: int = 3
    place_radius_m: float = 100.0
    intelligence_weight: float = 1.0
    n_comparison: int = 5
    analysis_days: float = 1.0
    peak_window_hours: int = 6
    respond_lighting: bool = True
    respond_cleanup: bool = True
    respond_place_manager: bool = True
    respond_patrol: bool = True
    cleanup_factor: float = 0.8
    manager_guardianship: float = 1.5
    manager_attractiveness: float = 0.9
    patrol_dwell_min: float = 15.0
    patrol_revisit_min: float = 60.0
    assess_after_weeks: float = 1.0
    success_threshold: float = 0.2
    max_adaptations: int = 1
    # Placeholders of a plausible order in the run's currency; set local figures (docs/policies.md).
    partner_hour_cost: float = 15.0
    lighting_cost_capital: float = 4000.0
    lighting_cost_per_day: float = 1.0
    cleanup_cost_capital: float = 500.0
    cleanup_cost_per_day: float = 2.0
    manager_cost_capital: float = 200.0

    def validate(self) -> None:
        """Raise ConfigError naming the first bad key."""
        POSITIVE_INT.check(self, KEY, "team_officers", "min_problem_crimes", "peak_window_hours")
        if not 1 <= self.peak_window_hours <= 24:
            raise ConfigError(KEY + "peak_window_hours", self.peak_window_hours, "hours of day in 1..24")
        NON_NEGATIVE_INT.check(self, KEY, "n_comparison", "max_adaptations")
        POSITIVE.check(self, KEY, "session_hours", "scan_window_days", "place_radius_m", "assess_after_weeks",
                       "patrol_revisit_min", "manager_guardianship")  # fmt: skip
        NON_NEGATIVE.check(self, KEY, "partner_hours_per_week", "scan_after_days", "intelligence_weight",
                           "analysis_days", "patrol_dwell_min", "partner_hour_cost", "lighting_cost_capital",
                           "lighting_cost_per_day", "cleanup_cost_capital", "cleanup_cost_per_day",
                           "manager_cost_capital")  # fmt: skip
        MULTIPLIER.check(self, KEY, "cleanup_factor", "manager_attractiveness")
        if not is_number(self.success_threshold) or not 0 <= self.success_threshold < 1:
            raise ConfigError(KEY + "success_threshold", self.success_threshold, "a share in [0, 1)")
        if not (
            self.respond_lighting or self.respond_cleanup or self.respond_place_manager or self.respond_patrol
        ):
            raise ConfigError(KEY + "respond_patrol", False, "at least one respond_* switched on")


def _percent(change: float) -> str:
    return "n/a" if math.isnan(change) else f"{100 * change:+.0f}%"


@dataclass
class Problem:
    """One problem the team took on: what, where, what it found and did, and how it ended."""

    crime_type: str
    segment: int
    place: NDArray[np.bool_]
    comparison: NDArray[np.bool_]
    known: int
    scan_min: float
    peak_hours: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(24, dtype=bool))
    night_share: float = math.nan
    response: list[str] = field(default_factory=list)
    response_min: float = math.nan
    changes: list[tuple[float, float]] = field(default_factory=list)  # (place, comparison) per assessment
    adaptations: int = 0
    outcome: str = ""


@register_policy(
    "problem_solving",
    ProblemSolvingConfig,
    label="Problem solving (SARA)",
    order=40,
    report_rows=(
        ReportRow("pop_problems", "Problems taken on", "problems per run"),
        ReportRow("pop_successes", "Problems closed as a success", "problems per run", 1),
        ReportRow("pop_team_hours", "Problem-solving team time", "officer-hours per run"),
        ReportRow("pop_patrol_visits", "Patrol stops at problem places", "visits per run"),
    ),
)
class ProblemSolvingPolicy(Policy):
    """Works one problem at a time through scan, analysis, response and assessment."""

    # above hot-spot patrol: the response's one patrol stop an hour goes first when due
    patrol_priority = 12
    config: ProblemSolvingConfig

    def setup(self, ctx: PolicyContext) -> None:
        """Schedule the first scan after the burn-in."""
        c = self.config
        net = ctx.network
        self.problems: list[Problem] = []
        self.worked = np.zeros(net.n_segments, dtype=bool)
        self.treated_from = np.full(net.n_segments, np.nan)
        self.stage = "scan"
        self.due_min = c.scan_after_days * MINUTES_PER_DAY
        self.patrol_hours = np.zeros(24, dtype=bool)
        self.last_patrol_min = -math.inf
        self.n_patrol_visits = 0
        self.team_hours = 0.0
        self.partners_from_min = math.nan
        self.officer_shortfall = 0

    @property
    def current(self) -> Problem | None:
        """Return the problem being worked on, if any."""
        return self.problems[-1] if self.problems and not self.problems[-1].outcome else None

    def on_step(self, ctx: PolicyContext) -> None:
        """Take the next SARA step when it is due."""
        if ctx.clock.now_min < self.due_min:
            return
        if self.stage == "scan":
            self._scan(ctx)
        elif self.stage == "analyse":
            self._analyse(ctx)
            self._respond(ctx)
        elif self.stage == "assess":
            self._assess(ctx)

    # ------------------------------------------------------------------ scan
    def _known(self, ctx: PolicyContext, crime_type: str) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Return the segments and minutes of the recorded crime of ``crime_type`` known now."""
        edges, times = ctx.police_view.recorded_crimes(crime_type)
        keep = times <= ctx.clock.now_min
        return ctx.network.edge_segment[edges[keep]], times[keep]

    def _scan(self, ctx: PolicyContext) -> None:
        c = self.config
        net, now = ctx.network, ctx.clock.now_min
        since = now - c.scan_window_days * MINUTES_PER_DAY
        n = net.n_segments
        counts = {}
        for ctype in CRIME_TYPES:
            segs, times = self._known(ctx, ctype)
            counts[ctype] = np.bincount(segs[times >= since], minlength=n).astype(np.float64)
        intel = np.zeros(n)
        for seg, t in ctx.police_view.intelligence():
            if since <= t <= now:
                intel[seg] += 1.0
        candidates = np.flatnonzero(sum(counts.values()) > 0)
        candidates = candidates[~self.worked[candidates]]
        # place of a candidate segment: itself and every segment within place_radius_m (its row),
        # less the places worked on already
        near = segments_in_sight(net, ctx.router, candidates, c.place_radius_m) > 0
        place = sp.csr_matrix(near @ sp.diags((~self.worked).astype(np.float64)), dtype=np.float64)
        raised = c.intelligence_weight * (place @ intel)
        best: tuple[float, str, int] | None = None
        for ctype, count in counts.items():
            at_place = place @ count
            score = at_place + raised
            ok = np.flatnonzero(at_place >= c.min_problem_crimes)
            if ok.size:
                s = int(ok[np.argmax(score[ok])])
                if best is None or score[s] > best[0]:
                    best = (float(score[s]), ctype, s)
        if best is None:
            ctx.log_decision("sara_scan", f"no place with {c.min_problem_crimes}+ recorded crimes of one type "
                             f"in the last {min(c.scan_window_days, now / MINUTES_PER_DAY):.3g} days; scanning again tomorrow")  # fmt: skip
            self.due_min = now + MINUTES_PER_DAY
            return
        _, ctype, seed = best
        mask = place.getrow(seed).toarray().ravel() > 0
        known = int((place.getrow(seed) @ counts[ctype])[0])
        comparison = self._comparison(place, counts[ctype], mask, seed)
        problem = Problem(ctype, seed, mask, comparison, known, now)
        self.problems.append(problem)
        self.worked |= mask
        if np.isnan(self.partners_from_min):
            self.partners_from_min = now
            ctx.book_cost("partners' time", per_day=c.partner_hours_per_week / 7.0 * c.partner_hour_cost)
        way = int(net.edge_osm_way_id[net.segment_edge[seed]])
        days = min(c.scan_window_days, now / MINUTES_PER_DAY)
        ctx.log_decision("sara_scan", f"problem {len(self.problems)}: {ctype} at OSM way {way} (segment {seed}), "
                         f"{known} recorded in the last {days:.3g} days on {int(mask.sum())} segments; "
                         f"{int(comparison.sum())} comparison segments", n_segments=int(mask.sum()))  # fmt: skip
        self._session(ctx, problem)
        self.stage, self.due_min = "analyse", now + c.analysis_days * MINUTES_PER_DAY

    def _comparison(
        self, place: sp.csr_matrix, count: NDArray[np.float64], chosen: NDArray[np.bool_], seed: int
    ) -> NDArray[np.bool_]:
        """Return the next ``n_comparison`` places of the type by recorded crime, apart from the problem and each other."""
        at_place = place @ count
        taken = chosen | self.worked
        out = np.zeros(chosen.size, dtype=bool)
        found = 0
        for s in np.argsort(-at_place, kind="stable").tolist():
            if found >= self.config.n_comparison or at_place[s] <= 0:
                break
            row = place.getrow(s).toarray().ravel() > 0
            if s == seed or (row & (taken | out)).any():
                continue
            out |= row
            found += 1
        return out

    # ------------------------------------------------------------------ analysis and response
    def _analyse(self, ctx: PolicyContext) -> None:
        c, p = self.config, self.current
        assert p is not None
        net, cfg = ctx.network, ctx.sim_config
        segs, times = self._known(ctx, p.crime_type)
        at = times[p.place[segs]]
        hours = ((at + cfg.start_hour * 60.0) % MINUTES_PER_DAY // 60.0).astype(np.int64)
        by_hour = np.bincount(hours, minlength=24)
        k = c.peak_window_hours
        window = np.array([by_hour[(h + np.arange(k)) % 24].sum() for h in range(24)])
        start = int(np.argmax(window))
        p.peak_hours = np.zeros(24, dtype=bool)
        p.peak_hours[(start + np.arange(k)) % 24] = True
        peak = "all day" if k == 24 else f"{start:02d}:00-{(start + k) % 24:02d}:00"
        dark = (hours < cfg.sunrise_hour) | (hours >= cfg.sunset_hour)
        p.night_share = float(dark.mean()) if at.size else 0.0
        places = net.segment_place_counts[p.place].sum(axis=0)
        found = [f"{int(places[net.place_kinds.index(kind)])} {kind}" for kind in GENERATORS
                 if places[net.place_kinds.index(kind)] > 0]  # fmt: skip
        ctx.log_decision("sara_analysis", f"problem {len(self.problems)}: {at.size} {p.crime_type} known, "
                         f"{100 * p.night_share:.0f}% in darkness, peak {peak}; "
                         f"places: {', '.join(found) or 'none mapped'}", n_segments=int(p.place.sum()))  # fmt: skip
        self._session(ctx, p)

    def _respond(self, ctx: PolicyContext) -> None:
        c, p = self.config, self.current
        assert p is not None
        net, now = ctx.network, ctx.clock.now_min
        p.response_min = now
        self.treated_from[p.place] = np.fmin(self.treated_from[p.place], now)
        unlit = p.place & ~ctx.segments.lit
        light = c.respond_lighting and p.night_share >= 0.5 and bool(unlit.any())
        if light or c.respond_cleanup:
            done = ctx.install(
                p.place, lighting=light, maintenance_factor=c.cleanup_factor if c.respond_cleanup else None
            )
            if light:
                n_lit = float(done.lighting.sum())
                ctx.book_cost(
                    "lighting",
                    capital=n_lit * c.lighting_cost_capital,
                    per_day=n_lit * c.lighting_cost_per_day,
                )
                p.response.append(f"lighting on {int(n_lit)} streets")
            if c.respond_cleanup:
                n = float(p.place.sum())
                ctx.book_cost(
                    "clean-up", capital=n * c.cleanup_cost_capital, per_day=n * c.cleanup_cost_per_day
                )
                p.response.append(f"clean-up of {int(n)} streets")
        premises = np.zeros(net.n_segments, dtype=bool)
        for kind in PREMISES:
            premises |= net.segment_place_counts[:, net.place_kinds.index(kind)] > 0
        managed = p.place & premises
        if c.respond_place_manager and managed.any():
            ctx.install(managed, maintenance_factor=c.manager_attractiveness,
                        surveillance_factor=c.manager_guardianship)  # fmt: skip
            ctx.book_cost("place manager", capital=float(managed.sum()) * c.manager_cost_capital)
            p.response.append(f"place manager at {int(managed.sum())} streets with premises")
        if c.respond_patrol:
            self._patrol(p, p.peak_hours)
        ctx.log_decision("sara_response", f"problem {len(self.problems)}: " + "; ".join(p.response),
                         n_segments=int(p.place.sum()))  # fmt: skip
        self.stage, self.due_min = "assess", now + c.assess_after_weeks * 7 * MINUTES_PER_DAY

    def _patrol(self, p: Problem, hours: NDArray[np.bool_]) -> None:
        c = self.config
        self.patrol_hours = hours.copy()
        self.last_patrol_min = -math.inf
        starts = np.flatnonzero(hours & ~np.roll(hours, 1))
        first = int(starts[0]) if starts.size else 0
        span = "all day" if hours.all() else f"from {first:02d}:00 for {int(hours.sum())} hours"
        p.response.append(
            f"patrol stop of {c.patrol_dwell_min:g} min every {c.patrol_revisit_min:g} min {span}"
        )

    # ------------------------------------------------------------------ assessment
    def _rate_change(
        self,
        segs: NDArray[np.int64],
        times: NDArray[np.float64],
        where: NDArray[np.bool_],
        p: Problem,
        now: float,
    ) -> float:
        """Return the relative change of the recorded rate at ``where``: since the response against the scan window."""
        window = self.config.scan_window_days * MINUTES_PER_DAY
        on = where[segs]
        before = np.count_nonzero(on & (times >= p.scan_min - window) & (times < p.scan_min))
        after = np.count_nonzero(on & (times >= p.response_min) & (times < now))
        before_days = min(window, p.scan_min) / MINUTES_PER_DAY
        if before == 0 or before_days <= 0:
            return math.nan
        return (after / ((now - p.response_min) / MINUTES_PER_DAY)) / (before / before_days) - 1.0

    def _assess(self, ctx: PolicyContext) -> None:
        c, p = self.config, self.current
        assert p is not None
        now = ctx.clock.now_min
        segs, times = self._known(ctx, p.crime_type)
        change = self._rate_change(segs, times, p.place, p, now)
        versus = self._rate_change(segs, times, p.comparison, p, now) if p.comparison.any() else math.nan
        p.changes.append((change, versus))
        fell = change <= -c.success_threshold and not versus <= change
        told = (f"{p.crime_type} per day {_percent(change)} against its own before, "
                f"comparison places {_percent(versus)}")  # fmt: skip
        self._session(ctx, p)
        if fell:
            p.outcome = "success"
            ctx.log_decision("sara_assessment", f"problem {len(self.problems)}: {told}: a success, moving on")
        elif p.adaptations < c.max_adaptations:
            p.adaptations += 1
            what = self._adapt(ctx, p)
            ctx.log_decision("sara_assessment", f"problem {len(self.problems)}: {told}: adapting ({what})")
            self.due_min = now + c.assess_after_weeks * 7 * MINUTES_PER_DAY
            return
        else:
            p.outcome = "closed"
            ctx.log_decision(
                "sara_assessment", f"problem {len(self.problems)}: {told}: no clear effect, moving on"
            )
        self.patrol_hours = np.zeros(24, dtype=bool)
        self.stage, self.due_min = "scan", now

    def _adapt(self, ctx: PolicyContext, p: Problem) -> str:
        """Add what the response lacked: patrol all day, else light the place; return what was added."""
        c = self.config
        if c.respond_patrol and not self.patrol_hours.all():
            self._patrol(p, np.ones(24, dtype=bool))
            return "patrol all day"
        unlit = p.place & ~ctx.segments.lit
        if c.respond_lighting and unlit.any():
            done = ctx.install(p.place, lighting=True)
            n_lit = float(done.lighting.sum())
            ctx.book_cost(
                "lighting", capital=n_lit * c.lighting_cost_capital, per_day=n_lit * c.lighting_cost_per_day
            )
            p.response.append(f"lighting on {int(n_lit)} streets")
            return "lighting"
        return "the same response for longer"

    # ------------------------------------------------------------------ officers
    def _session(self, ctx: PolicyContext, p: Problem) -> None:
        """Take the team off patrol for a session at the place (with its partners)."""
        c = self.config
        of = ctx.officers
        free = np.flatnonzero(of.available())
        n = min(c.team_officers, free.size)
        self.officer_shortfall += c.team_officers - n
        if n == 0:
            return
        edge = int(ctx.network.segment_edge[p.segment])
        dist = ctx.router.shortest_path_lengths(int(ctx.network.edge_source[edge]))
        chosen = free[np.argsort(dist[ctx.network.indices[of.position_edge[free]]], kind="stable")[:n]]
        ctx.send_officers(chosen, np.full(n, edge), activity="meeting",
                          until_min=ctx.clock.now_min + c.session_hours * 60.0)  # fmt: skip
        self.team_hours += n * c.session_hours

    def choose_patrol(self, ctx: PolicyContext, officers: NDArray[np.int64]) -> PatrolOrders | None:
        """Send the nearest idle officer for a stop at the problem place when one is due in its patrol hours."""
        p, c = self.current, self.config
        now = ctx.clock.now_min
        hour = int(ctx.clock.hour_of_day) % 24
        if p is None or not self.patrol_hours[hour] or now - self.last_patrol_min < c.patrol_revisit_min:
            return None
        net = ctx.network
        edge = int(net.segment_edge[p.segment])
        dist = ctx.router.shortest_path_lengths(int(net.edge_source[edge]))[
            net.indices[ctx.officers.position_edge[officers]]
        ]
        if not np.isfinite(dist).any():
            return None
        chosen = officers[int(np.argmin(dist))]
        self.last_patrol_min = now
        self.n_patrol_visits += 1
        return PatrolOrders(np.array([chosen], dtype=np.int64), np.array([edge], dtype=np.int64),
                            np.array([float(c.patrol_dwell_min)]))  # fmt: skip

    def treated_from_min(self, ctx: PolicyContext) -> NDArray[np.float64]:
        """Return when each problem place's response began (NaN elsewhere)."""
        return self.treated_from.copy()

    def costs(self, ctx: PolicyContext) -> dict[str, float]:
        """Problems taken on and how they ended, team, partner and patrol effort."""
        now = ctx.clock.now_min
        weeks = (
            (now - self.partners_from_min) / (7 * MINUTES_PER_DAY)
            if not np.isnan(self.partners_from_min)
            else 0.0
        )
        outcomes = [p.outcome for p in self.problems]
        return {
            "pop_problems": float(len(self.problems)),
            "pop_successes": float(outcomes.count("success")),
            "pop_closed_no_effect": float(outcomes.count("closed")),
            "pop_adaptations": float(sum(p.adaptations for p in self.problems)),
            "pop_team_hours": self.team_hours,
            "pop_team_shortfall": float(self.officer_shortfall),
            "pop_partner_hours": self.config.partner_hours_per_week * weeks,
            "pop_patrol_visits": float(self.n_patrol_visits),
            "pop_place_segments": float(np.isfinite(self.treated_from).sum()),
        }
