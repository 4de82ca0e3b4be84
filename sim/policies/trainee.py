"""A trainee's plan: the decisions of a training exercise (sim/training), shift by shift, as a strategy.

Each decision applies to one shift (``shift`` counts from 0; a shift is ``shift_hours`` long from
the start of the run) and is one of:

- ``patrol``: up to ``officers`` idle officers visit the given street segments, the most overdue
  first, and stand ``dwell_min`` minutes at each (Koper 1995: 10-15 minutes is the optimum stop);
  with ``hours`` only in those hours of day. Officers the plan does not take patrol at random, as in
  the baseline, so a plan without decisions is the baseline.
- ``meeting``: ``officers`` officers hold a community meeting at a segment at ``hour`` for
  ``duration_min``; residents within ``catchment_m`` attend with a chance that rises with trust and
  falls with distance, and gain trust (Skogan 2006; Gill et al. 2014: trust and legitimacy more
  than crime).
- ``cpted``: a change of street design on the given segments (``measure``: lighting, maintenance,
  surveillance or gating), paid when requested and in place ``lead_days`` later (Welsh & Farrington
  2008 on lighting; Chalfin et al. 2022).

The training session (sim/training) checks each decision against the scenario's rules before it
reaches this plan; the plan checks only that a decision is well formed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.agents import officer as ofc
from sim.checks import POSITIVE, PROBABILITY, check_tagged, is_count, is_number
from sim.clock import MINUTES_PER_DAY
from sim.errors import ConfigError
from sim.policies.base import PatrolOrders, Policy, PolicyContext
from sim.policies.registry import ReportRow, register_policy

__all__ = ["CPTED_MEASURES", "DECISION_KINDS", "TraineeConfig", "TraineePolicy", "check_decision"]

KEY = "policy.trainee."
DECISION_KINDS = ("patrol", "meeting", "cpted")
CPTED_MEASURES = ("lighting", "maintenance", "surveillance", "gating")
# keys of each decision kind and their defaults (None: required)
_FIELDS: dict[str, dict[str, Any]] = {
    "patrol": {"shift": None, "segments": None, "officers": 1, "dwell_min": 15.0, "hours": []},
    "meeting": {"shift": None, "segment": None, "hour": None, "officers": 1, "duration_min": 90.0},
    "cpted": {"shift": None, "segments": None, "measure": None},
}


@dataclass
class TraineeConfig:
    """The plan: decisions (JSON-like dicts, one per decision) and the exercise's fixed terms."""

    decisions: list[dict[str, Any]] = field(default_factory=list)
    shift_hours: float = 8.0
    # community meetings: who comes and what it does (the community_meetings strategy's defaults)
    catchment_m: float = 800.0
    attend_prob: float = 0.1
    attend_decay_m: float = 500.0
    trust_gain_attendee: float = 0.1
    trust_gain_neighbours: float = 0.01
    cost_per_meeting: float = 150.0
    # CPTED: cost per segment and days from request to installation, by measure
    cpted_cost_per_segment: dict[str, float] = field(
        default_factory=lambda: {
            "lighting": 1500.0,
            "maintenance": 400.0,
            "surveillance": 3000.0,
            "gating": 2500.0,
        }
    )
    cpted_lead_days: dict[str, float] = field(
        default_factory=lambda: {"lighting": 2.0, "maintenance": 1.0, "surveillance": 3.0, "gating": 5.0}
    )
    gating_classes: list[str] = field(default_factory=lambda: ["service", "footway", "path", "alley"])

    def validate(self) -> None:
        """Raise ConfigError naming the first bad key."""
        POSITIVE.check(self, KEY, "shift_hours", "catchment_m", "attend_decay_m")
        PROBABILITY.check(self, KEY, "attend_prob", "trust_gain_attendee", "trust_gain_neighbours")
        for table in ("cpted_cost_per_segment", "cpted_lead_days"):
            values = getattr(self, table)
            for measure in CPTED_MEASURES:
                if measure not in values or not is_number(values[measure]) or values[measure] < 0:
                    raise ConfigError(f"{KEY}{table}.{measure}", values.get(measure),
                                      "a non-negative number for each of " + ", ".join(CPTED_MEASURES))  # fmt: skip
        for k, decision in enumerate(self.decisions):
            check_decision(decision, f"{KEY}decisions[{k}]")


def check_decision(decision: Any, where: str) -> dict[str, Any]:
    """Return ``decision`` with its defaults filled in; ConfigError naming the first bad field."""
    out = check_tagged(decision, where, _FIELDS, "decision")
    if not is_count(out["shift"]) or out["shift"] < 0:
        raise ConfigError(where + ".shift", out["shift"], "a shift number >= 0")
    if "officers" in out and (not is_count(out["officers"]) or out["officers"] < 1):
        raise ConfigError(where + ".officers", out["officers"], "a positive whole number of officers")
    if "segments" in out:
        segs = out["segments"]
        if not isinstance(segs, list) or not segs or not all(is_count(s) and s >= 0 for s in segs):
            raise ConfigError(where + ".segments", segs, "a non-empty list of street segment numbers")
    kind = out["kind"]
    if kind == "patrol":
        if not is_number(out["dwell_min"]) or not 1 <= out["dwell_min"] <= 120:
            raise ConfigError(where + ".dwell_min", out["dwell_min"], "minutes per stop in [1, 120]")
        if not isinstance(out["hours"], list) or not all(is_count(h) and 0 <= h <= 23 for h in out["hours"]):
            raise ConfigError(where + ".hours", out["hours"], "a list of hours of day 0-23 (empty: all)")
    elif kind == "meeting":
        if not is_count(out["segment"]) or out["segment"] < 0:
            raise ConfigError(where + ".segment", out["segment"], "a street segment number")
        if not is_number(out["hour"]) or not 0 <= out["hour"] < 24:
            raise ConfigError(where + ".hour", out["hour"], "an hour of day in [0, 24)")
        if not is_number(out["duration_min"]) or not 15 <= out["duration_min"] <= 240:
            raise ConfigError(where + ".duration_min", out["duration_min"], "minutes in [15, 240]")
    elif out["measure"] not in CPTED_MEASURES:
        raise ConfigError(where + ".measure", out["measure"], f"one of {', '.join(CPTED_MEASURES)}")
    return out


@register_policy(
    "trainee",
    TraineeConfig,
    label="Trainee's plan",
    order=90,
    report_rows=(
        ReportRow("trainee_stops", "Patrol stops on the trainee's streets", "stops per run"),
        ReportRow("trainee_meetings", "Meetings held", "meetings per run"),
    ),
)
class TraineePolicy(Policy):
    """Carries out a trainee's decisions; officers it does not order patrol at random."""

    patrol_priority = 20
    config: TraineeConfig

    def setup(self, ctx: PolicyContext) -> None:
        """Prepare once, before the first step (see :meth:`Policy.setup`)."""
        self.plan: list[dict[str, Any]] = [
            check_decision(d, f"{KEY}decisions[{k}]") for k, d in enumerate(self.config.decisions)
        ]
        n = ctx.network.n_segments
        for k, d in enumerate(self.plan):
            segs = d.get("segments", [d.get("segment", 0)])
            if max(segs) >= n:
                raise ConfigError(f"{KEY}decisions[{k}].segments", max(segs), f"segment numbers below {n}")
        self.shift_min = self.config.shift_hours * 60.0
        self.duty = np.full(ctx.officers.n, -1, dtype=np.int64)  # decision each officer patrols for
        self.claim = np.full(ctx.officers.n, -1, dtype=np.int64)  # segment each is heading to
        self.last_visit_min = np.full(n, -np.inf)
        self.first_visit_min = np.full(n, np.nan)
        self.n_stops = 0
        self.n_meetings = 0
        self.n_attendances = 0
        self._done: set[int] = set()  # meetings and CPTED requests already acted on
        self._installs: list[tuple[float, int]] = []  # (due minute, decision)
        self._meetings: dict[int, NDArray[np.int64]] = {}  # decision -> officers sent

    def extend(self, decisions: list[dict[str, Any]]) -> None:
        """Add decisions to the plan (a session adds each shift's before running it)."""
        start = len(self.plan)
        self.plan += [check_decision(d, f"{KEY}decisions[{start + k}]") for k, d in enumerate(decisions)]
        self.config.decisions = self.config.decisions + list(decisions)

    def shift_of(self, now_min: float) -> int:
        """Return the shift number of minute ``now_min``."""
        return int(now_min // self.shift_min)

    # ------------------------------------------------------------------ every step
    def on_step(self, ctx: PolicyContext) -> None:
        """Request CPTED, install what is due, send officers to meetings and hold them."""
        now = ctx.clock.now_min
        shift = self.shift_of(now)
        for k, d in enumerate(self.plan):
            if k in self._done or d["shift"] != shift:
                continue
            if d["kind"] == "cpted":
                self._done.add(k)
                c = self.config
                n = len(set(d["segments"]))
                ctx.book_cost(f"cpted {d['measure']}", capital=c.cpted_cost_per_segment[d["measure"]] * n)
                ctx.log_decision("cpted_request", f"{d['measure']} on {n} segments", n_segments=n)
                self._installs.append((now + c.cpted_lead_days[d["measure"]] * MINUTES_PER_DAY, k))
            elif d["kind"] == "meeting":
                self._meeting(ctx, k, d, now)
        for due, k in [x for x in self._installs if x[0] <= now]:
            self._installs.remove((due, k))
            self._install(ctx, self.plan[k])
        self._book_stops(ctx, now)

    def _install(self, ctx: PolicyContext, d: dict[str, Any]) -> None:
        mask = np.zeros(ctx.network.n_segments, dtype=bool)
        mask[d["segments"]] = True
        measure = d["measure"]
        ctx.install(mask, lighting=measure == "lighting", gating=measure == "gating",
                    gating_classes=self.config.gating_classes,
                    maintenance_factor=0.8 if measure == "maintenance" else None,
                    surveillance_factor=1.5 if measure == "surveillance" else None)  # fmt: skip
        self.first_visit_min[mask] = np.fmin(self.first_visit_min[mask], ctx.clock.now_min)

    def _meeting(self, ctx: PolicyContext, k: int, d: dict[str, Any], now: float) -> None:
        """Send the officers 20 minutes before the start; hold the meeting at the start."""
        start = self.shift_of(now) * self.shift_min + _hours_into_shift(d["hour"], ctx, now, self.shift_min)
        net = ctx.network
        edge = int(net.segment_edge[d["segment"]])
        if k not in self._meetings and now >= start - 20.0:
            of = ctx.officers
            free = np.flatnonzero(of.available())
            node = int(net.indices[edge])
            dist = ctx.router.shortest_path_lengths(node)[net.indices[of.position_edge[free]]]
            chosen = free[np.argsort(dist, kind="stable")[: d["officers"]]]
            self._meetings[k] = chosen
            if chosen.size:
                ctx.send_officers(chosen, np.full(chosen.size, edge), activity="meeting",
                                  until_min=start + d["duration_min"])  # fmt: skip
        if k in self._meetings and now >= start:
            self._done.add(k)
            officers = self._meetings[k]
            u = ctx.rng("policy").random(ctx.residents.n)  # fixed size: the same draws whoever attends
            if officers.size == 0 or not np.any(ctx.officers.state[officers] == ofc.MEETING):
                ctx.log_decision("meeting_cancelled", "no officer free to attend")
                return
            c = self.config
            r = ctx.residents
            dist = ctx.router.shortest_path_lengths(int(net.indices[edge]))[net.indices[r.home_edge]]
            near = dist <= c.catchment_m
            p = c.attend_prob * r.trust / ctx.mean_trust_start * np.exp(-dist / c.attend_decay_m)
            attend = near & (u < np.clip(np.nan_to_num(p), 0.0, 1.0))
            ctx.hold_meeting(np.flatnonzero(attend), np.flatnonzero(near & ~attend),
                             trust_gain=c.trust_gain_attendee, neighbour_trust_gain=c.trust_gain_neighbours)  # fmt: skip
            ctx.book_cost("meeting", running=c.cost_per_meeting)
            self.n_meetings += 1
            self.n_attendances += int(attend.sum())

    def _book_stops(self, ctx: PolicyContext, now: float) -> None:
        of = ctx.officers
        here = (of.state == ofc.DWELL) & (self.claim >= 0)
        here &= ctx.network.edge_segment[of.position_edge] == self.claim
        segs = self.claim[here]
        new = here & (self.last_visit_min[np.maximum(self.claim, 0)] < now - ctx.clock.step_min - 1e-9)
        self.n_stops += int(new.sum())
        self.last_visit_min[segs] = now
        self.first_visit_min[segs] = np.fmin(self.first_visit_min[segs], now)

    # ------------------------------------------------------------------ patrol
    def choose_patrol(self, ctx: PolicyContext, officers: NDArray[np.int64]) -> PatrolOrders | None:
        """Give idle officers to this shift's patrol decisions, up to each one's officers."""
        now = ctx.clock.now_min
        shift = self.shift_of(now)
        hour = int(ctx.clock.hour_of_day) % 24
        of = ctx.officers
        # officers still on a decision's duty: patrolling or standing for it
        busy = ((of.state == ofc.PATROL) | (of.state == ofc.DWELL)) & ~of.needs_orders
        self.duty[~busy] = -1
        self.duty[officers] = -1
        self.claim[self.duty < 0] = -1
        active = [k for k, d in enumerate(self.plan)
                  if d["kind"] == "patrol" and d["shift"] == shift and (not d["hours"] or hour in d["hours"])]  # fmt: skip
        if not active:
            return None
        net = ctx.network
        picked: list[int] = []
        dest: list[int] = []
        dwell: list[float] = []
        pool = list(officers.tolist())
        for k in active:
            d = self.plan[k]
            want = d["officers"] - int(np.sum(self.duty == k))
            segs = np.asarray(d["segments"], dtype=np.int64)
            nodes = net.edge_source[net.segment_edge[segs]]
            while want > 0 and pool:
                i = pool.pop(0)
                dist_m = ctx.router.shortest_path_lengths(int(net.indices[of.position_edge[i]]))[nodes]
                travel = dist_m / of.speed_mps[i] / 60.0
                age = np.where(np.isfinite(self.last_visit_min[segs]), now - self.last_visit_min[segs], 1e9)
                taken = np.isin(segs, self.claim)
                score = np.where(np.isfinite(travel), age - travel - 1e6 * taken, -np.inf)
                j = int(np.argmax(score))
                self.duty[i], self.claim[i] = k, segs[j]
                picked.append(i)
                dest.append(int(net.segment_edge[segs[j]]))
                dwell.append(float(d["dwell_min"]))
                want -= 1
        if not picked:
            return None
        return PatrolOrders(np.array(picked, np.int64), np.array(dest, np.int64), np.array(dwell))

    def treated_from_min(self, ctx: PolicyContext) -> NDArray[np.float64]:
        """Return when each segment was first visited or changed by the plan (NaN where never)."""
        return self.first_visit_min.copy()

    def costs(self, ctx: PolicyContext) -> dict[str, float]:
        """Return stops on the plan's streets, meetings held and their attendance."""
        return {
            "trainee_stops": float(self.n_stops),
            "trainee_meetings": float(self.n_meetings),
            "trainee_attendances": float(self.n_attendances),
            "trainee_decisions": float(len(self.plan)),
        }


def _hours_into_shift(hour: float, ctx: PolicyContext, now: float, shift_min: float) -> float:
    """Minutes from the start of the shift holding ``now`` to the next ``hour`` of day (within the shift or after)."""
    shift_start = (now // shift_min) * shift_min
    clock_h = (ctx.sim_config.start_hour + shift_start / 60.0) % 24
    return ((hour - clock_h) % 24) * 60.0
