"""The debrief's numbers: a trainee's plan against each built-in strategy and an oracle, on the same seeds.

Every arm runs the scenario with its injects on the same replication seeds (common random numbers:
the same residents, offenders and random draws), so a paired difference between arms is the
decisions, not luck. The trainee's arm is their decision log replayed; the oracle is hot-spot patrol
on a map of every crime, recorded or not (what no police force sees: Lum & Isaac 2016). Measures
on the trainee's streets are taken on the same streets in every arm, so "crime on my hot spots"
compares like with like; the 200 m around them shows displacement or diffusion (Guerette & Bowers
2009). The HTML page is experiments/training_report.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from core_ext import Router
from sim.config import ModelConfig
from sim.model import PrecinctModel
from sim.network import StreetNetwork, load_network
from sim.outputs import buffer_segments, build_result
from sim.stats import PairedDifference, mean_ci, paired_difference_ci
from sim.training.scenario import SCORE_MEASURES, Scenario
from sim.training.session import KOPER_MIN, DecisionLog, arm_config

__all__ = [
    "MEASURES",
    "ArmOutcome",
    "ArmRun",
    "Debrief",
    "measure",
    "plan_segments",
    "run_arm",
    "run_debrief",
]

# measure -> (label, unit, better: -1 lower, +1 higher, 0 neither)
MEASURES: dict[str, tuple[str, str, int]] = {
    "crimes_total": ("Crime (true: recorded or not)", "crimes", -1),
    "crimes_recorded": ("Recorded crime (what police see)", "crimes", -1),
    "plan_crimes": ("Crime on the trainee's streets", "crimes", -1),
    "plan_recorded": ("Recorded crime on the trainee's streets", "crimes", -1),
    "buffer_crimes": ("Crime within 200 m of them (displacement +, diffusion -)", "crimes", -1),
    "response_time_mean_min": ("Response time, crime to arrival", "minutes", -1),
    "calls_unanswered": ("Calls never answered", "calls", -1),
    "mean_trust_end": ("Trust at the end (true mean)", "0-1", 1),
    "survey_trust_estimate": ("Trust as the survey measured it", "0-1", 1),
    "plan_officer_min": ("Officer minutes on the trainee's streets", "minutes", 0),
    "plan_koper_stops": ("Stops of 10-15 min on the trainee's streets (Koper)", "stops", 0),
    "cost_total": ("Cost (CPTED, meetings)", "£", -1),
    "score": ("Score (scenario weights; baseline = 0)", "points", 1),
}


@dataclass
class ArmOutcome:
    """One arm's measures over the replications (one value per seed, in seed order)."""

    arm: str
    label: str
    values: dict[str, list[float]]
    crimes_by_segment: np.ndarray  # mean true crimes per segment over the replications
    recorded_by_segment: np.ndarray


@dataclass
class Debrief:
    """Everything the debrief page shows."""

    scenario: Scenario
    log: DecisionLog
    seeds: list[int]
    arms: dict[str, ArmOutcome]
    plan_segments: list[int]
    shifts: pd.DataFrame  # the trainee's own run (first seed), per shift: true, recorded, dose
    differences: dict[str, dict[str, PairedDifference]] = field(default_factory=dict)

    def interval(self, arm: str, measure: str) -> tuple[float, float, float]:
        """Return (mean, low, high) of ``measure`` in ``arm`` over the replications."""
        ci = mean_ci(self.arms[arm].values[measure])
        return ci.mean, ci.low, ci.high


def plan_segments(decisions: Sequence[dict[str, Any]]) -> list[int]:
    """Return the segments the plan patrols or changes (CPTED), sorted."""
    segs = {s for d in decisions if d["kind"] in ("patrol", "cpted") for s in d["segments"]}
    return sorted(int(s) for s in segs)


@dataclass
class ArmRun:
    """What one arm's run on one seed left: its metrics, per-segment table and events."""

    metrics: dict[str, float]
    segments: pd.DataFrame
    events: pd.DataFrame


@dataclass
class _Streets:
    """The network and router :func:`sim.outputs.buffer_segments` needs."""

    network: StreetNetwork
    router: Router


def run_arm(config: ModelConfig, network: StreetNetwork | None) -> ArmRun:
    """Run one arm on one seed to the end."""
    model = PrecinctModel(config, network=network, mesa_agents=False)
    while model.running:
        model.step()
    result = build_result(model)
    return ArmRun(result.metrics, result.segments, result.events)


def measure(run: ArmRun, plan: Sequence[int], near: NDArray[np.bool_]) -> dict[str, float]:
    """Return a run's debrief measures, those on the trainee's streets ``plan`` and the 200 m ``near`` them."""
    seg = run.segments
    mask = np.zeros(len(seg), dtype=bool)
    mask[list(plan)] = True
    ev = run.events
    stops = ev[(ev["kind"] == "patrol_visit") & ev["segment"].isin(list(plan))]
    values = {k: float(run.metrics[k]) for k in MEASURES if k in run.metrics}
    values.update({
        "plan_crimes": float(seg["crimes"][mask].sum()), "plan_recorded": float(seg["crimes_recorded"][mask].sum()),
        "buffer_crimes": float(seg["crimes"][near].sum()), "plan_officer_min": float(seg["police_min"][mask].sum()),
        "plan_koper_stops": float(stops["dwell_min"].between(*KOPER_MIN).sum()),
    })  # fmt: skip
    return values


def _label(arm: str) -> str:
    from sim.policies import policy_spec

    if arm == "trainee":
        return "Trainee's plan"
    if arm == "oracle":
        return "Oracle (patrol on true crime)"
    return policy_spec(arm).label


def run_debrief(
    log: DecisionLog,
    scenario: Scenario,
    config: ModelConfig,
    *,
    network: StreetNetwork | None = None,
    replications: int | None = None,
    arms: Sequence[str] | None = None,
    on_progress: Callable[[str, int], None] | None = None,
    shared: dict[tuple[str, int], ArmRun] | None = None,
) -> Debrief:
    """Run every arm on ``replications`` seeds from the log's, and pair each with the trainee's plan.

    ``shared`` caches runs of arms that do not depend on the log (key: arm, seed), for class mode.
    """
    n = replications or scenario.replications
    seeds = [log.seed + r for r in range(n)]
    names = ["trainee", *(arms if arms is not None else [*scenario.compare, "oracle"])]
    if "baseline" not in names:
        names.append("baseline")
    plan = plan_segments(log.decisions)
    cache: dict[tuple[str, int], ArmRun] = {} if shared is None else shared
    near: NDArray[np.bool_] | None = None
    outcomes: dict[str, ArmOutcome] = {}
    first: ArmRun | None = None
    for arm in names:
        values: dict[str, list[float]] = {}
        crimes, recorded = [], []
        for seed in seeds:
            if on_progress is not None:
                on_progress(arm, seed)
            run = cache.get((arm, seed)) if arm != "trainee" else None
            if run is None:
                cfg = dataclasses.replace(arm_config(config, scenario, arm, log.decisions), seed=seed)
                run = run_arm(cfg, network)
                if arm != "trainee":
                    cache[(arm, seed)] = run
            if near is None:
                network = network or load_network(config.city.path, network_type=config.city.network_type,
                                                  cache_dir=config.city.cache_dir)  # fmt: skip
                near = _near(network, plan)
            if arm == "trainee" and first is None:
                first = run
            for k, v in measure(run, plan, near).items():
                values.setdefault(k, []).append(v)
            crimes.append(run.segments["crimes"].to_numpy(np.float64))
            recorded.append(run.segments["crimes_recorded"].to_numpy(np.float64))
        outcomes[arm] = ArmOutcome(
            arm, _label(arm), values, np.mean(crimes, axis=0), np.mean(recorded, axis=0)
        )
    _add_scores(outcomes, scenario)
    assert first is not None
    debrief = Debrief(scenario=scenario, log=log, seeds=seeds, arms=outcomes, plan_segments=plan,
                      shifts=_shift_table(first.events, log, scenario))  # fmt: skip
    for arm in names[1:]:
        debrief.differences[arm] = {
            k: paired_difference_ci(outcomes["trainee"].values[k], outcomes[arm].values[k])
            for k in MEASURES
            if k in outcomes["trainee"].values and k in outcomes[arm].values
        }
    return debrief


def _near(network: StreetNetwork, plan: Sequence[int]) -> NDArray[np.bool_]:
    mask = np.zeros(network.n_segments, dtype=bool)
    mask[list(plan)] = True
    router = Router(network.indptr, network.indices, network.edge_length_m, node_xy=network.node_xy)
    return buffer_segments(_Streets(network, router), mask)  # type: ignore[arg-type]


def _add_scores(outcomes: dict[str, ArmOutcome], scenario: Scenario) -> None:
    """Score each run against the baseline of its seed: sum of weight x change in % of the baseline, signed.

    Cost counts in percent of the scenario's CPTED budget instead (the baseline spends nothing).
    """
    base = outcomes["baseline"].values
    for arm in outcomes.values():
        n = len(next(iter(arm.values.values())))
        score = np.zeros(n)
        for measure, weight in scenario.scoring.items():
            if measure not in arm.values:
                continue
            a, b = np.asarray(arm.values[measure]), np.asarray(base[measure])
            # money is in percent of the CPTED budget (the baseline spends nothing, so a share of it
            # would be infinite); every other measure in percent of the baseline's value
            scale = (
                np.full_like(b, max(scenario.cpted_budget, 1.0))
                if measure == "cost_total"
                else np.maximum(np.abs(b), 1.0)
            )
            change = np.nan_to_num((a - b) / scale * 100.0)
            score += weight * SCORE_MEASURES[measure] * change
        arm.values["score"] = score.tolist()


def _shift_table(events: pd.DataFrame, log: DecisionLog, scenario: Scenario) -> pd.DataFrame:
    """Per shift of the trainee's own run: true and recorded crime, decisions, stops and Koper stops."""
    shift_min = scenario.shift_hours * 60.0
    rows = []
    for k in range(scenario.n_shifts):
        lo, hi = k * shift_min, (k + 1) * shift_min
        ev = events[(events["time_min"] >= lo) & (events["time_min"] < hi)] if not events.empty else events
        crimes = ev[ev["kind"] == "crime"] if not ev.empty else ev
        own = {s for d in log.decisions if d["shift"] == k and d["kind"] == "patrol" for s in d["segments"]}
        stops = ev[(ev["kind"] == "patrol_visit") & ev["segment"].isin(list(own))] if not ev.empty else ev
        rows.append({
            "shift": k, "decisions": sum(1 for d in log.decisions if d["shift"] == k),
            "crimes_true": len(crimes), "crimes_recorded": int(crimes["recorded"].sum()) if len(crimes) else 0,
            "stops_on_plan": len(stops),
            "koper_stops": int(stops["dwell_min"].between(*KOPER_MIN).sum()) if len(stops) else 0,
        })  # fmt: skip
    return pd.DataFrame(rows)
