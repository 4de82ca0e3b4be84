"""Schema-true synthetic run results (docs/architecture.md) for testing the results store and reports.

These are test data only: small DataFrames laid out exactly like the model's output on the real
West Oakland network, with a known policy effect, so compare/report code can be tested without
running the model. End-to-end tests use the real model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import CityConfig, ModelConfig, PopulationConfig, SimConfig
from sim.context import ACTION_COLUMNS
from sim.network import StreetNetwork, load_network
from sim.offences import CRIME_TYPES
from sim.policies.registry import policy_specs
from sim.results import write_run
from sim.survey import SURVEY_COLUMNS

REPO = Path(__file__).resolve().parents[2]
FIXTURE_CITY = REPO / "data" / "osm" / "west_oakland.osm.bz2"
ACTIVITIES = ("patrol", "dwell", "respond", "attend", "meeting", "return")


@dataclass
class FakeResult:
    """Duck-typed stand-in for sim.model.SimulationResult."""

    events: pd.DataFrame
    timeseries: pd.DataFrame
    segments: pd.DataFrame
    metrics: dict[str, float]
    network: StreetNetwork
    config: ModelConfig
    seed: int
    actions: pd.DataFrame = field(default_factory=lambda: fake_actions([]))
    extra: dict[str, Any] = field(default_factory=dict)
    survey: pd.DataFrame = field(default_factory=lambda: fake_survey(0, 2.0))


def fake_actions(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """An actions table (sim.context.ACTION_COLUMNS) holding ``rows``; unset counts are 0, amounts 0.0."""
    blank = {c: ("" if t == "string" else 0) for c, t in ACTION_COLUMNS.items()}
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in ACTION_COLUMNS.items()})
    return pd.DataFrame([{**blank, **r} for r in rows], columns=list(ACTION_COLUMNS)).astype(ACTION_COLUMNS)


def fake_survey(seed: int, days: float, *, trust_shift: float = 0.0) -> pd.DataFrame:
    """Weekly survey waves (sim.survey.SURVEY_COLUMNS) of 300 approached, ~120 answering, from day 0."""
    rng = np.random.default_rng((seed, 2))
    rows = []
    for wave, day in enumerate(np.arange(0.0, days + 1e-9, 7.0)):
        for measure, true in (("trust", 0.6 + trust_shift), ("fear", 0.3), ("satisfaction", 0.6)):
            estimate = true + rng.normal(0, 0.02)
            rows.append({"wave": wave, "time_min": day * 1440.0, "day": day, "measure": measure,
                         "n_approached": 300, "n_responded": 120, "estimate": estimate, "std_error": 0.015,
                         "ci_low": estimate - 0.03, "ci_high": estimate + 0.03, "true_mean": true})  # fmt: skip
    return pd.DataFrame(rows, columns=list(SURVEY_COLUMNS)).astype(SURVEY_COLUMNS)


def fixture_network() -> StreetNetwork:
    return load_network(FIXTURE_CITY, network_type="drive")


def fake_config(policy: str, seed: int, days: float = 2.0) -> ModelConfig:
    names = policy.split("+")
    return ModelConfig(
        city=CityConfig(path=str(FIXTURE_CITY), name="West Oakland (test fixture)", network_type="drive"),
        sim=SimConfig(days=days),
        population=PopulationConfig(n_residents=50, n_offenders=5),
        policies={n: {} for n in names},
        seed=seed,
    )


def fake_result(net: StreetNetwork, policy: str, seed: int, days: float = 2.0) -> FakeResult:
    """A run whose crime falls by half on the policy's treated segments (the first quarter by id)."""
    rng = np.random.default_rng(seed)  # same seed -> same base crime in every arm (common random numbers)
    names = policy.split("+")
    n_seg = net.n_segments
    treated = np.zeros(n_seg, dtype=bool)
    if policy != "baseline":
        treated[: max(1, n_seg // 4)] = True
    buffer = np.zeros(n_seg, dtype=bool)
    if treated.any():
        buffer[n_seg // 4 : n_seg // 2] = True
    base = rng.poisson(6.0, size=n_seg)
    crimes = np.where(treated, rng.binomial(base, 0.5), base)
    hours = int(days * 24)
    seg_of_crime = np.repeat(np.arange(n_seg), crimes)
    n = seg_of_crime.size
    edge = net.segment_edge[seg_of_crime]
    xy = net.edge_point(edge, np.zeros(n))
    t = np.sort(rng.uniform(0, hours * 60, size=n))
    recorded = rng.random(n) < 0.5
    events = pd.DataFrame(
        {
            "time_min": t,
            "step": (t // 5).astype(np.int64),
            "kind": "crime",
            "edge": edge,
            "segment": seg_of_crime,
            "osm_way_id": net.edge_osm_way_id[edge],
            "x": xy[:, 0],
            "y": xy[:, 1],
            "lon": np.zeros(n),
            "lat": np.zeros(n),
            "crime_type": rng.choice(list(CRIME_TYPES), size=n),
            "offender_id": rng.integers(0, 5, size=n),
            "victim_id": rng.integers(0, 50, size=n),
            "reported": recorded,
            "recorded": recorded,
            "officer_id": -1,
            "call_id": -1,
            "dwell_min": np.nan,
            "offender_home_dist_m": rng.uniform(0, 2000, size=n),
        }
    )
    hour_of_crime = (t // 60).astype(int)
    per_hour = np.bincount(hour_of_crime, minlength=hours)
    trust_shift = 0.02 if "community_meetings" in policy else 0.0
    # crime per hour split over the types: an equal share each, the remainder to the first
    by_type = {k: per_hour // len(CRIME_TYPES) for k in CRIME_TYPES}
    by_type[CRIME_TYPES[0]] = per_hour - (len(CRIME_TYPES) - 1) * (per_hour // len(CRIME_TYPES))
    ts = pd.DataFrame(
        {
            "hour": np.arange(hours),
            "day": np.arange(hours) // 24,
            "hour_of_day": np.arange(hours) % 24,
            "crimes": per_hour,
            "crimes_recorded": np.bincount(hour_of_crime[recorded], minlength=hours),
            **by_type,
            "mean_trust": 0.6 + trust_shift * np.linspace(0, 1, hours) + rng.normal(0, 0.002, hours),
            "calls_waiting": rng.integers(0, 3, size=hours),
        }
    )
    dwell_share = 0.4 if policy != "baseline" else 0.05
    for act in ACTIVITIES:
        share = {"patrol": 0.6 - dwell_share, "dwell": dwell_share}.get(act, 0.1)
        ts[f"officer_min_{act}"] = share * 8 * 60.0
    segments = pd.DataFrame(
        {
            "segment": np.arange(n_seg),
            "edge": net.segment_edge,
            "osm_way_id": net.edge_osm_way_id[net.segment_edge],
            "length_m": net.edge_length_m[net.segment_edge],
            "area": np.arange(n_seg) % 3,
            "crimes": crimes,
            "crimes_recorded": np.bincount(seg_of_crime[recorded], minlength=n_seg),
            "crimes_night": crimes // 2,
            "crimes_day": crimes - crimes // 2,
            "police_min": np.where(treated, 300.0, 20.0),
            "treated": treated,
            "buffer": buffer,
        }
    )
    total = float(n)
    capital = 1000.0 if "cpted" in policy else 0.0
    actions = fake_actions(
        [{"policy": "cpted", "action": "book_cost", "n_segments": int(treated.sum()), "capital": capital}]
        if capital
        else []
    )
    # each strategy's own counters (its registered report rows), recorded only in its own runs
    own_rng = np.random.default_rng((seed, 1))  # apart from rng: the base data stay as they were
    own = {
        row.metric: float(own_rng.poisson(50))
        for spec in policy_specs()
        if spec.name in names
        for row in spec.report_rows
    }
    metrics = {
        "crimes_total": total,
        "crimes_recorded": float(recorded.sum()),
        "recorded_share": float(recorded.mean()) if n else float("nan"),
        **{f"crimes_{k}": float(ts[k].sum()) for k in CRIME_TYPES},
        "crimes_night": float(segments["crimes_night"].sum()),
        "crimes_day": float(segments["crimes_day"].sum()),
        "crimes_treated": float(crimes[treated].sum()),
        "crimes_buffer": float(crimes[buffer].sum()),
        "crimes_control": float(crimes[~treated & ~buffer].sum()),
        "reporting_rate": float(recorded.mean()) if n else float("nan"),
        "response_time_mean_min": 12.0 + rng.normal(0, 1),
        "response_time_p90_min": 25.0 + rng.normal(0, 2),
        "calls_total": float(recorded.sum()),
        "calls_unanswered": 0.0,
        "mean_trust_start": 0.6,
        "mean_trust_end": float(ts["mean_trust"].iloc[-1]),
        **{f"officer_hours_{a}": float(ts[f"officer_min_{a}"].sum() / 60) for a in ACTIVITIES},
        "cost_capital": capital,
        "cost_running": 0.0,
        "cost_total": capital,
        "share_segments_50pct": 0.3,
        "share_crime_top5pct": 0.1,
        "days": days,
        **own,
    }
    config = fake_config(policy, seed, days)
    survey = fake_survey(seed, days, trust_shift=trust_shift)
    last = survey[survey["wave"] == survey["wave"].max()].set_index("measure")
    metrics.update({f"survey_{m}_estimate": float(last.loc[m, "estimate"]) for m in last.index})
    return FakeResult(events, ts, segments, metrics, net, config, seed, actions=actions, survey=survey)


def write_fake_sweep(
    root: Path, policies: tuple[str, ...] = ("baseline", "targeted_patrol"), seeds: range = range(4)
) -> list[Path]:
    """Write complete fake runs under ``root/policy=P,seed=S``; return their directories."""
    net = fixture_network()
    out = []
    for policy in policies:
        for seed in seeds:
            run_dir = root / f"policy={policy},seed={seed}"
            write_run(run_dir, fake_result(net, policy, seed), wall_time_s=1.0)
            out.append(run_dir)
    return out


def skip_unless_policies_registered(*names: str) -> None:
    """Skip while the policies an experiment names are not registered yet (sim/policies lands separately)."""
    import pytest

    from sim.policies import policy_registry

    missing = sorted(set(names) - set(policy_registry()))
    if missing:
        pytest.skip(f"policies not registered yet: {', '.join(missing)}")


EXPERIMENT_POLICIES = (
    "baseline", "targeted_patrol", "cpted", "community_meetings", "neighbourhood_watch", "problem_solving",
)  # fmt: skip
