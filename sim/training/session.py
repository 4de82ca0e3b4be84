"""A training session: the scenario's city run shift by shift, the trainee deciding between shifts.

The session owns one model whose strategies are the scenario's injects and the trainee's plan
(:mod:`sim.policies.trainee`). Between shifts the trainee sees only what the police would see
(:meth:`TrainingSession.briefing`: recorded crime, calls, a ranked hot-spot list, the trust survey)
and decides (:meth:`TrainingSession.decide`); each decision is checked against the scenario's rules
and refused with a reason, else added to the plan and the decision log. The same log re-simulated
(:func:`replay`) gives the same model, draw for draw: the seed fixes every random stream, and the
plan acts at the same steps.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.config import ModelConfig
from sim.errors import ConfigError, DecisionError, ResultsError
from sim.model import PrecinctModel
from sim.network import StreetNetwork
from sim.policies.scenario_injects import ScenarioInjectsConfig
from sim.policies.trainee import TraineeConfig, TraineePolicy, check_decision
from sim.training.scenario import Scenario

__all__ = ["Briefing", "DecisionLog", "ShiftReport", "TrainingSession", "arm_config", "replay"]

LOG_VERSION = 1
KOPER_MIN = (10.0, 15.0)  # Koper 1995: the stop length that deters longest after it ends


@dataclass
class DecisionLog:
    """Every decision of one trainee on one scenario and seed: what ``precinct train replay`` reads."""

    scenario: dict[str, Any]
    seed: int
    trainee: str = ""
    decisions: list[dict[str, Any]] = field(default_factory=list)
    shifts_run: int = 0
    version: int = LOG_VERSION

    def save(self, path: str | Path) -> Path:
        """Write the log as JSON and return its path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dataclasses.asdict(self), indent=1))
        return path

    @classmethod
    def load(cls, path: str | Path) -> DecisionLog:
        """Read a log written by :meth:`save`; ResultsError naming what is wrong."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ResultsError(f"{path}: not a decision log ({exc})") from None
        if not isinstance(data, dict) or data.get("version") != LOG_VERSION or "scenario" not in data:
            raise ResultsError(f"{path}: not a version-{LOG_VERSION} decision log (no scenario/version)")
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Briefing:
    """What the police know before a shift: nothing the trainee could not know in real life."""

    shift: int
    clock: str
    recorded_last_shift: int
    recorded_total: int
    recorded_history: int
    calls_last_shift: int
    calls_waiting: int
    response_mean_min: float
    hotspots: list[dict[str, Any]]
    trust_estimate: float
    trust_ci: tuple[float, float]
    injects: list[str]
    officers: int


@dataclass
class ShiftReport:
    """What happened in one shift, as the police saw it, and the dose the plan delivered."""

    shift: int
    recorded: int
    calls: int
    response_mean_min: float
    calls_waiting: int
    trust_estimate: float
    officer_minutes_on_plan: dict[int, float]
    stops_on_plan: int
    stops_in_koper_range: int
    frames: list[NDArray[np.float64]]
    incidents: list[tuple[float, float, float]]  # (minute, x, y) of crime recorded in the shift


def arm_config(
    config: ModelConfig, scenario: Scenario, arm: str, decisions: list[dict[str, Any]] | None = None
) -> ModelConfig:
    """Return ``config`` with the scenario's injects and one arm: ``trainee``, ``oracle`` or a strategy name."""
    from sim.policies import policy_spec

    policies: dict[str, Any] = {"scenario_injects": ScenarioInjectsConfig(injects=list(scenario.injects))}
    if arm == "trainee":
        policies["trainee"] = trainee_config(scenario, decisions or [])
    elif arm == "oracle":  # hot-spot patrol on a map of every crime, recorded or not (what police never see)
        policies["targeted_patrol"] = policy_spec("targeted_patrol").config_cls(source="true")
    else:
        policies[arm] = policy_spec(arm).config_cls()
    return dataclasses.replace(config, policies=policies)


def trainee_config(scenario: Scenario, decisions: list[dict[str, Any]]) -> TraineeConfig:
    """Return the trainee's plan with the scenario's fixed terms (shift length, CPTED costs and lead times)."""
    c = TraineeConfig(decisions=list(decisions), shift_hours=scenario.shift_hours)
    c.cpted_cost_per_segment = {**c.cpted_cost_per_segment, **scenario.cpted_cost_per_segment}
    c.cpted_lead_days = {**c.cpted_lead_days, **scenario.cpted_lead_days}
    return c


class TrainingSession:
    """One trainee's run of a scenario: brief, decide, run a shift, repeat; then the log."""

    def __init__(
        self,
        scenario: Scenario,
        config: ModelConfig,
        *,
        network: StreetNetwork | None = None,
        trainee: str = "",
        record_frames: bool = True,
    ) -> None:
        self.scenario = scenario
        self.base_config = config
        self.trainee = trainee
        self.record_frames = record_frames
        self.model = PrecinctModel(
            arm_config(config, scenario, "trainee"), network=network, mesa_agents=False
        )
        self.network = self.model.network
        (self.plan,) = [p for p in self.model.policies if isinstance(p, TraineePolicy)]
        self.shift = 0
        self.pending: list[dict[str, Any]] = []
        self.decisions: list[dict[str, Any]] = []
        self.reports: list[ShiftReport] = []
        self.steps_per_shift = round(scenario.shift_hours * 60.0 / self.model.clock.step_min)

    # ------------------------------------------------------------------ state
    @property
    def finished(self) -> bool:
        """Whether every shift has run."""
        return not self.model.running or self.shift >= self.scenario.n_shifts

    def log(self) -> DecisionLog:
        """Return the decision log so far (decisions of shifts already run and those pending)."""
        return DecisionLog(scenario=self.scenario.to_dict(), seed=self.base_config.seed, trainee=self.trainee,
                           decisions=[*self.decisions, *self.pending], shifts_run=self.shift)  # fmt: skip

    # ------------------------------------------------------------------ the police view
    def briefing(self) -> Briefing:
        """Return what the police know now (recorded crime, calls, hot spots, the latest trust survey)."""
        m = self.model
        s = self.scenario
        now = m.clock.now_min
        shift_start = now - self.steps_per_shift * m.clock.step_min
        edges, times = m.policing.view.recorded_crimes()
        hist_edges, _ = m.contexts[0].recorded_history()
        calls = [c for c in m.policing.calls if shift_start <= c.call_time_min < now]
        waits = [c.arrival_min - c.call_time_min for c in calls if np.isfinite(c.arrival_min)]
        trust, ci = self._trust()
        day = int(now // 1440)
        hour = (m.config.sim.start_hour + now / 60.0) % 24
        start_h = m.config.sim.start_hour
        shift_end = now + self.steps_per_shift * m.clock.step_min
        injects = []
        for x in s.injects:
            begins = x["day"] * 1440.0 + ((x["hour"] - start_h) * 60.0 if "hour" in x else 0.0)
            # planned events are announced before the shift they fall in; calls and complaints are
            # known once they happen; a spree is never announced (it shows in recorded crime, or not)
            known = begins < shift_end if x["kind"] == "festival" else x["kind"] != "spree" and begins <= now
            if known:
                injects.append(
                    f"day {x['day'] + 1:g}, {x.get('hour', start_h):g}:00: {x['label'] or x['kind']}"
                )
        return Briefing(shift=self.shift, clock=f"day {day + 1}, {int(hour):02d}:{int(hour % 1 * 60):02d}",
                        recorded_last_shift=int(np.sum(times >= shift_start)), recorded_total=int(edges.size),
                        recorded_history=int(hist_edges.size), calls_last_shift=len(calls),
                        calls_waiting=len(m.policing.waiting),
                        response_mean_min=float(np.mean(waits)) if waits else float("nan"),
                        hotspots=self.hotspots(s.hotspot_list), trust_estimate=trust, trust_ci=ci,
                        injects=injects, officers=s.officers_per_shift)  # fmt: skip

    def hotspots(self, k: int) -> list[dict[str, Any]]:
        """Return the ``k`` segments with most recorded crime (history, run and intelligence), ranked.

        Crime of the run counts fully; the incident file's previous weeks count half (older news).
        """
        m = self.model
        net = self.network
        edges, _ = m.policing.view.recorded_crimes()
        hist, _ = m.contexts[0].recorded_history()
        intel = np.array([seg for seg, _ in m.policing.view.intelligence()], dtype=np.int64)
        score = np.zeros(net.n_segments)
        np.add.at(score, net.edge_segment[edges], 1.0)
        np.add.at(score, net.edge_segment[hist], 0.5)
        np.add.at(score, intel, 1.0)
        order = np.argsort(-score, kind="stable")[:k]
        classes = np.array(net.highway_classes)[net.edge_highway[net.segment_edge]]
        return [{"rank": r + 1, "segment": int(seg), "score": float(score[seg]), "street": str(classes[seg]),
                 "length_m": float(net.edge_length_m[net.segment_edge[seg]])}
                for r, seg in enumerate(order) if score[seg] > 0]  # fmt: skip

    def _trust(self) -> tuple[float, tuple[float, float]]:
        waves = self.model.survey.frame()
        waves = waves[waves["measure"] == "trust"]
        if waves.empty:
            return float("nan"), (float("nan"), float("nan"))
        last = waves.iloc[-1]
        return float(last["estimate"]), (float(last["ci_low"]), float(last["ci_high"]))

    # ------------------------------------------------------------------ decisions
    def decide(self, decision: dict[str, Any]) -> dict[str, Any]:
        """Check a decision for the next shift against the rules; add it, or raise DecisionError with the reason."""
        if self.finished:
            raise DecisionError("shift", self.shift, "the exercise is over")
        decision = {**decision, "shift": self.shift}
        try:
            d = check_decision(decision, "decision")
        except ConfigError as exc:
            raise DecisionError(exc.key.removeprefix("decision."), exc.value, exc.allowed) from None
        self._check_rules(d)
        self.pending.append(d)
        return d

    def withdraw(self, index: int) -> None:
        """Remove the ``index``-th pending decision of the next shift."""
        if not 0 <= index < len(self.pending):
            raise DecisionError("index", index, f"a pending decision number in 0..{len(self.pending) - 1}")
        self.pending.pop(index)

    def _check_rules(self, d: dict[str, Any]) -> None:
        s = self.scenario
        n_seg = self.network.n_segments
        segs = d.get("segments", [d.get("segment")])
        off_map = [x for x in segs if not 0 <= int(x) < n_seg]
        if off_map:
            raise DecisionError("segments", off_map, f"streets on the map: segment numbers 0..{n_seg - 1}")
        used = sum(p["officers"] for p in self.pending if "officers" in p)
        if d.get("officers", 0) + used > s.officers_per_shift:
            raise DecisionError("officers", d["officers"],
                                f"{s.officers_per_shift} officers on duty this shift, {used} already assigned")  # fmt: skip
        if d["kind"] == "patrol" and d["hours"]:
            hours = self.shift_hours_of_day()
            outside = [h for h in d["hours"] if h not in hours]
            if outside:
                raise DecisionError("hours", outside, f"hours of this shift: {hours}")
        if d["kind"] == "meeting" and int(d["hour"]) not in self.shift_hours_of_day():
            raise DecisionError("hour", d["hour"], f"an hour within this shift: {self.shift_hours_of_day()}")
        if d["kind"] == "cpted":
            cost = trainee_config(s, []).cpted_cost_per_segment[d["measure"]] * len(set(segs))
            spent = self._cpted_spent()
            if spent + cost > s.cpted_budget:
                raise DecisionError("segments", len(segs),
                                    f"the CPTED budget: {s.cpted_budget:,.0f} in all, {spent:,.0f} spent, "
                                    f"this request costs {cost:,.0f}")  # fmt: skip

    def _cpted_spent(self) -> float:
        prices = trainee_config(self.scenario, []).cpted_cost_per_segment
        return float(sum(prices[d["measure"]] * len(set(d["segments"]))
                         for d in [*self.decisions, *self.pending] if d["kind"] == "cpted"))  # fmt: skip

    def shift_hours_of_day(self) -> list[int]:
        """Return the hours of day (0-23) the next shift covers, in order."""
        start = self.model.config.sim.start_hour + self.shift * self.scenario.shift_hours
        return [int(start + h) % 24 for h in range(int(np.ceil(self.scenario.shift_hours)))]

    # ------------------------------------------------------------------ running
    def run_shift(self, on_progress: Callable[[float], None] | None = None) -> ShiftReport:
        """Run the next shift with the pending decisions; return what happened."""
        if self.finished:
            raise DecisionError("shift", self.shift, "the exercise is over")
        m = self.model
        self.plan.extend(self.pending)
        self.decisions += self.pending
        self.pending = []
        start = m.clock.now_min
        n_events = len(m.event_log)
        minutes_before = m.env.police_minutes.copy()
        frames: list[NDArray[np.float64]] = []
        for k in range(self.steps_per_shift):
            if not m.running:
                break
            m.step()
            if self.record_frames:
                frames.append(self.officer_xy())
            if on_progress is not None:
                on_progress((k + 1) / self.steps_per_shift)
        report = self._report(start, n_events, minutes_before, frames)
        self.reports.append(report)
        self.shift += 1
        return report

    def run_to(self, shift: int) -> None:
        """Run shifts (with the decisions already made) until ``shift`` is next."""
        while self.shift < shift and not self.finished:
            self.run_shift()

    def officer_xy(self) -> NDArray[np.float64]:
        """Return each officer's position (metres, the network's projection), along their edge."""
        of = self.model.officers
        return np.asarray(self.network.edge_point(of.position_edge, of.position_offset_m), dtype=np.float64)

    def _report(
        self,
        start: float,
        n_events: int,
        minutes_before: NDArray[np.float64],
        frames: list[NDArray[np.float64]],
    ) -> ShiftReport:
        m = self.model
        net = self.network
        now = m.clock.now_min
        edges, times = m.policing.view.recorded_crimes()
        new = times >= start
        mid = 0.5 * (net.node_xy[net.edge_source[edges[new]]] + net.node_xy[net.indices[edges[new]]])
        calls = [c for c in m.policing.calls if start <= c.call_time_min < now]
        waits = [c.arrival_min - c.call_time_min for c in calls if np.isfinite(c.arrival_min)]
        plan = {s for d in self.plan.plan if d["kind"] == "patrol" and d["shift"] == self.shift
                for s in d["segments"]}  # fmt: skip
        seg = np.array(sorted(plan), dtype=np.int64)
        dose = m.env.police_minutes[seg] - minutes_before[seg]
        stops = [r for r in m.event_log.rows("patrol_visit", start=n_events) if r["segment"] in plan]
        koper = [r for r in stops if KOPER_MIN[0] <= r["dwell_min"] <= KOPER_MIN[1]]
        trust, _ = self._trust()
        return ShiftReport(shift=self.shift, recorded=int(new.sum()), calls=len(calls),
                           response_mean_min=float(np.mean(waits)) if waits else float("nan"),
                           calls_waiting=len(m.policing.waiting), trust_estimate=trust,
                           officer_minutes_on_plan={int(s): float(v) for s, v in zip(seg, dose, strict=True)},
                           stops_on_plan=len(stops), stops_in_koper_range=len(koper), frames=frames,
                           incidents=[(float(t), float(x), float(y))
                                      for t, (x, y) in zip(times[new], mid, strict=True)])  # fmt: skip

    def branch(self, shift: int) -> TrainingSession:
        """Return a new session at the start of ``shift`` with this one's decisions of earlier shifts."""
        if not 0 <= shift <= self.shift:
            raise DecisionError("shift", shift, f"a shift already reached: 0..{self.shift}")
        log = self.log()
        log.decisions = [d for d in log.decisions if d["shift"] < shift]
        return replay(log, self.scenario, self.base_config, network=self.network, until_shift=shift)


def replay(
    log: DecisionLog,
    scenario: Scenario,
    config: ModelConfig,
    *,
    network: StreetNetwork | None = None,
    until_shift: int | None = None,
    record_frames: bool = False,
) -> TrainingSession:
    """Re-simulate a decision log: each shift's decisions made, then the shift run, to ``until_shift``.

    ``until_shift`` None runs the shifts the log ran (``shifts_run``); decisions of later shifts
    stay pending for the next one.
    """
    config = dataclasses.replace(config, seed=log.seed)
    session = TrainingSession(
        scenario, config, network=network, trainee=log.trainee, record_frames=record_frames
    )
    end = log.shifts_run if until_shift is None else until_shift
    by_shift: dict[int, list[dict[str, Any]]] = {}
    for d in log.decisions:
        by_shift.setdefault(int(d["shift"]), []).append(d)
    while session.shift < end and not session.finished:
        for d in by_shift.get(session.shift, []):
            session.decide({k: v for k, v in d.items() if k != "shift"})
        session.run_shift()
    for d in by_shift.get(session.shift, []):
        if not session.finished:
            session.decide({k: v for k, v in d.items() if k != "shift"})
    return session
