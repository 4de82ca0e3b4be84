"""Each policy's effect vs baseline over paired seeds, with 95% CIs: ``python -m tests.policies.effects``.

Every arm runs the same seeds as the baseline arm; with common random numbers a seed's baseline
run is that seed's counterfactual, so effects are paired differences (``sim.stats``). The treated
and buffer sets are the policy run's, applied to both runs of a seed, and crime on them is counted
from the time each place was treated (its buffer: from the first treatment near it) on; counted
over the whole run, hot spots would be charged with the crime that made them hot. Targeted patrol moves its hot
spots every shift, so it is also judged on *segment-time*: crimes on segments while they were hot
spots (and within 400 m of them while they were), in both runs. The direction tests in this
package and the results table of docs/policies.md both come from here.
"""

from __future__ import annotations

import argparse
import copy
import math
import multiprocessing
import pickle
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.config import ModelConfig
from sim.model import PrecinctModel
from sim.network import StreetNetwork, load_network
from sim.outputs import buffer_segments, build_result, count_since
from sim.policies import CommunityMeetingsPolicy, TargetedPatrolPolicy
from sim.stats import PairedDifference, paired_difference_ci, paired_weighted_displacement_quotient

__all__ = ["ARMS", "RunSummary", "compare_arms", "format_table", "run_arm", "run_arms"]

# The arms of the results table: Hydra-style policy specs (a policy alone carries its own random
# patrol fallback, so `policy=cpted` is the same arm as `policy=[baseline,cpted]`).
ARMS: dict[str, dict[str, Any]] = {
    "baseline": {"baseline": {}},
    "targeted_patrol": {"targeted_patrol": {}},
    "targeted_patrol (true-crime map)": {"targeted_patrol": {"source": "true"}},
    "cpted": {"cpted": {}},
    "cpted lighting only": {"cpted": {"gating": False, "maintenance": False, "surveillance": False}},
    "cpted gating only": {"cpted": {"lighting": False, "maintenance": False, "surveillance": False}},
    "community_meetings": {"community_meetings": {}},
    "neighbourhood_watch": {"neighbourhood_watch": {}},
    "neighbourhood_watch high uptake": {"neighbourhood_watch": {"uptake": 0.8}},
    "problem_solving": {"problem_solving": {}},
    "neighbourhood_watch+targeted_patrol": {"neighbourhood_watch": {}, "targeted_patrol": {}},
}
Window = tuple[float, float, NDArray[np.bool_], NDArray[np.bool_]]


@dataclass
class RunSummary:
    """What the comparisons need from one run (small and picklable)."""

    arm: str
    seed: int
    metrics: dict[str, float]
    crime_segment: NDArray[np.int64]
    crime_time_min: NDArray[np.float64]
    crime_night: NDArray[np.bool_]
    crime_type: NDArray[np.str_]
    segments: dict[str, NDArray[Any]]
    trust_end: NDArray[np.float64]
    crime_reported: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    crime_recorded: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    attended: NDArray[np.bool_] | None = None
    # targeted patrol: (from, until, hot mask, buffer mask) per map refresh
    windows: list[Window] = field(default_factory=list)


def run_arm(
    seed: int,
    policies: dict[str, Any],
    *,
    days: float,
    network: StreetNetwork,
    arm: str = "",
    configure: Callable[[ModelConfig], None] | None = None,
) -> RunSummary:
    """Run one seed of one arm on ``network`` and summarise it."""
    cfg = ModelConfig(seed=seed)
    cfg.sim.days = days
    cfg.policies = copy.deepcopy(policies)
    if configure is not None:
        configure(cfg)
    model = PrecinctModel(cfg, network=network, mesa_agents=False)
    while model.running:
        model.step()
    result = build_result(model)
    crimes = result.events[result.events["kind"] == "crime"]
    seg = result.segments
    night = _night(crimes["time_min"].to_numpy(np.float64), cfg)
    summary = RunSummary(
        arm=arm or "+".join(policies), seed=seed, metrics=dict(result.metrics),
        crime_segment=crimes["segment"].to_numpy(np.int64), crime_time_min=crimes["time_min"].to_numpy(np.float64),
        crime_night=night, crime_type=crimes["crime_type"].to_numpy(str),
        segments={c: seg[c].to_numpy() for c in ("crimes", "crimes_night", "crimes_day", "police_min", "treated",
                                                  "buffer", "treated_from_min", "buffer_from_min")},
        trust_end=model.residents.trust.copy(), crime_reported=crimes["reported"].to_numpy(bool),
        crime_recorded=crimes["recorded"].to_numpy(bool),
    )  # fmt: skip
    for policy in model.policies:
        if isinstance(policy, TargetedPatrolPolicy):
            summary.windows = _hot_windows(model, policy)
        if isinstance(policy, CommunityMeetingsPolicy):
            summary.attended = policy.attended.copy()
    return summary


def _night(time_min: NDArray[np.float64], cfg: ModelConfig) -> NDArray[np.bool_]:
    hour = ((time_min + cfg.sim.start_hour * 60.0) % 1440.0) / 60.0
    return ~((hour >= cfg.sim.sunrise_hour) & (hour < cfg.sim.sunset_hour))


def _hot_windows(model: PrecinctModel, policy: TargetedPatrolPolicy) -> list[Window]:
    n = model.network.n_segments
    out = []
    times = [t for t, _ in policy.history] + [model.clock.now_min]
    for (start, hot), end in zip(policy.history, times[1:], strict=True):
        mask = np.zeros(n, dtype=bool)
        mask[hot] = True
        out.append((start, end, mask, buffer_segments(model, mask)))
    return out


def count_in_windows(run: RunSummary, windows: Sequence[Window]) -> tuple[int, int]:
    """Crimes of ``run`` on hot segments while hot, and in their 400 m buffer meanwhile."""
    hot = buf = 0
    for start, end, hot_mask, buf_mask in windows:
        during = (run.crime_time_min >= start) & (run.crime_time_min < end)
        hot += int(hot_mask[run.crime_segment[during]].sum())
        buf += int(buf_mask[run.crime_segment[during]].sum())
    return hot, buf


def _run_job(job: tuple[str, dict[str, Any], int, float]) -> RunSummary:
    arm, policies, seed, days = job
    assert _NETWORK is not None
    return run_arm(seed, policies, days=days, network=_NETWORK, arm=arm, configure=_CONFIGURE)


_NETWORK: StreetNetwork | None = None
_CONFIGURE: Callable[[ModelConfig], None] | None = None


def run_arms(
    arms: dict[str, dict[str, Any]],
    seeds: Sequence[int],
    *,
    days: float,
    network: StreetNetwork,
    jobs: int = 1,
    configure: Callable[[ModelConfig], None] | None = None,
) -> dict[str, list[RunSummary]]:
    """Run every arm on every seed (``jobs`` processes) and return the summaries by arm, in seed order.

    ``configure`` changes every run's config (the same in every arm), e.g. a city with more burglary.
    """
    global _NETWORK, _CONFIGURE
    _NETWORK, _CONFIGURE = network, configure
    work = [(arm, spec, seed, days) for arm, spec in arms.items() for seed in seeds]
    if jobs > 1:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            done = list(pool.map(_run_job, work))
    else:
        done = [_run_job(w) for w in work]
    out: dict[str, list[RunSummary]] = {arm: [] for arm in arms}
    for s in done:
        out[s.arm].append(s)
    return out


def compare_arms(policy: Sequence[RunSummary], baseline: Sequence[RunSummary]) -> dict[str, Any]:
    """Paired effects of one arm vs baseline: ``{outcome: PairedDifference}`` plus ``"wdq"`` entries."""
    if [p.seed for p in policy] != [b.seed for b in baseline]:
        raise ValueError("policy and baseline runs must cover the same seeds in the same order")
    rows: dict[str, tuple[list[float], list[float]]] = {}

    def add(name: str, p: float, b: float) -> None:
        rows.setdefault(name, ([], []))
        rows[name][0].append(p)
        rows[name][1].append(b)

    for p, b in zip(policy, baseline, strict=True):
        for key in ("crimes_total", "crimes_burglary", "crimes_night", "crimes_day", "recorded_share", "reporting_rate",
                    "mean_trust_end", "response_time_mean_min", "response_from_call_mean_min", "cost_total"):  # fmt: skip
            add(key, p.metrics.get(key, math.nan), b.metrics.get(key, math.nan))
        add("officer_hours_patrol_dwell", _patrol_hours(p.metrics), _patrol_hours(b.metrics))
        add("officer_hours_meeting", p.metrics["officer_hours_meeting"], b.metrics["officer_hours_meeting"])
        treated = p.segments["treated"].astype(bool)
        if treated.any():
            # from the time each place was treated (or its buffer began) on, in both runs: the crime
            # that made a place a hot spot is not charged to the patrol it attracted
            since_t, since_b = p.segments["treated_from_min"], p.segments["buffer_from_min"]
            add("crimes_treated", *(_since(r, since_t) for r in (p, b)))
            add("crimes_buffer", *(_since(r, since_b) for r in (p, b)))
            add(
                "crimes_treated_whole_run",
                p.segments["crimes"][treated].sum(),
                b.segments["crimes"][treated].sum(),
            )
            for when, night in (("night", True), ("day", False)):
                add(f"crimes_treated_{when}", *(_since(r, since_t, r.crime_night == night) for r in (p, b)))
            add(
                "police_min_treated",
                p.segments["police_min"][treated].sum(),
                b.segments["police_min"][treated].sum(),
            )
            burglary = (p.crime_type == "burglary", b.crime_type == "burglary")
            add("burglary_treated", *(_since(r, since_t, k) for r, k in zip((p, b), burglary, strict=True)))
            on_p, on_b = (_on_since(r, since_t) for r in (p, b))
            if on_p.any() and on_b.any():
                add("reporting_rate_treated", p.crime_reported[on_p].mean(), b.crime_reported[on_b].mean())
                add("recorded_share_treated", p.crime_recorded[on_p].mean(), b.crime_recorded[on_b].mean())
        if p.windows:
            hot_p, buf_p = count_in_windows(p, p.windows)
            hot_b, buf_b = count_in_windows(b, p.windows)
            add("crimes_hot_while_hot", hot_p, hot_b)
            add("crimes_near_hot_while_hot", buf_p, buf_b)
        if p.attended is not None and p.attended.any():
            add("trust_end_attendees", p.trust_end[p.attended].mean(), b.trust_end[p.attended].mean())
    out: dict[str, Any] = {k: paired_difference_ci(np.array(t), np.array(c)) for k, (t, c) in rows.items()}
    for treated_key, buffer_key, name in (("crimes_treated", "crimes_buffer", "wdq_treated"),
                                          ("crimes_hot_while_hot", "crimes_near_hot_while_hot", "wdq_hot")):  # fmt: skip
        if treated_key in rows:
            # the baseline arm is each seed's counterfactual ("before"); no separate control needed
            (rt, rb), (bt, bb) = rows[treated_key], rows[buffer_key]
            ones = np.ones(len(rt))  # the seeds where the strategy treated anything
            out[name] = paired_weighted_displacement_quotient(rb, rt, bb, bt, ones, ones)
    return out


def _since(run: RunSummary, from_min: NDArray[np.float64], keep: NDArray[np.bool_] | None = None) -> int:
    """Crimes of ``run`` (those in ``keep``) on segments with a start time, at or after it."""
    k = np.ones(run.crime_segment.size, dtype=bool) if keep is None else keep
    return count_since(run.crime_segment[k], run.crime_time_min[k], from_min)


def _on_since(run: RunSummary, from_min: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Mask of the crimes of ``run`` on segments with a start time, at or after it."""
    start = from_min[run.crime_segment]
    return np.isfinite(start) & (run.crime_time_min >= start)


def _patrol_hours(m: dict[str, float]) -> float:
    return m["officer_hours_patrol"] + m["officer_hours_dwell"] + m["officer_hours_return"]


ROWS = (
    ("crimes_total", "all crime"),
    ("crimes_burglary", "all burglary"),
    ("crimes_treated", "crime on treated segments since treated"),
    ("crimes_buffer", "crime within 400 m of treated since then"),
    ("wdq_treated", "WDQ (treated / buffer)"),
    ("crimes_treated_whole_run", "crime on treated segments, whole run (biased for hot spots)"),
    ("crimes_hot_while_hot", "crime on hot spots while hot"),
    ("crimes_near_hot_while_hot", "crime within 400 m of hot spots while hot"),
    ("wdq_hot", "WDQ (hot spots while hot)"),
    ("police_min_treated", "police minutes on treated segments"),
    ("burglary_treated", "burglary on treated segments since treated"),
    ("reporting_rate_treated", "reporting rate on treated segments since treated"),
    ("recorded_share_treated", "recorded share on treated segments since treated"),
    ("crimes_treated_night", "night crime on treated segments since treated"),
    ("crimes_treated_day", "day crime on treated segments since treated"),
    ("recorded_share", "recorded share of crime"),
    ("reporting_rate", "reporting rate"),
    ("mean_trust_end", "mean trust at end"),
    ("trust_end_attendees", "attendees' trust at end"),
    ("officer_hours_patrol_dwell", "officer hours on patrol"),
    ("officer_hours_meeting", "officer hours in meetings"),
    ("response_time_mean_min", "mean time from crime to arrival (min)"),
    ("response_from_call_mean_min", "mean time from call to arrival (min)"),
    ("cost_total", "cost (currency units)"),
)
PERCENT_ROWS = {"crimes_total", "crimes_burglary", "crimes_treated", "crimes_buffer", "crimes_treated_whole_run", "crimes_hot_while_hot",
                "crimes_near_hot_while_hot", "police_min_treated", "crimes_treated_night", "crimes_treated_day",
                "burglary_treated"}  # fmt: skip


def format_table(effects: dict[str, dict[str, Any]]) -> str:
    """A Markdown table: one row per arm and outcome, change vs baseline with its 95% CI."""
    lines = ["| policy | outcome | policy | baseline | effect [95% CI] |", "|---|---|---:|---:|---|"]
    for arm, res in effects.items():
        for key, label in ROWS:
            r = res.get(key)
            if r is None:
                continue
            if key.startswith("wdq"):
                lines.append(f"| {arm} | {label} | {r.wdq:.2f} | | [{r.low:.2f}, {r.high:.2f}] (bootstrap) |")
                continue
            assert isinstance(r, PairedDifference)
            if key == "cost_total" and r.mean_treatment == 0 and r.mean_control == 0:
                continue
            if key in PERCENT_ROWS:
                eff = f"{r.pct_change:+.1f}% [{r.pct_low:+.1f}, {r.pct_high:+.1f}]"
            else:
                eff = f"{r.mean_diff:+.3g} [{r.diff_low:+.3g}, {r.diff_high:+.3g}]"
            lines.append(f"| {arm} | {label} | {r.mean_treatment:.3g} | {r.mean_control:.3g} | {eff} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.policies.effects", description=__doc__)
    parser.add_argument("--seeds", type=int, default=20, help="paired seeds 0..N-1 (default 20)")
    parser.add_argument("--days", type=float, default=14.0, help="simulated days per run (default 14)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--city", default=None, help="OSM file (default: the bundled City of London)")
    parser.add_argument("--arms", nargs="*", default=None, help=f"subset of: {', '.join(ARMS)}")
    parser.add_argument("--save", default=None, help="also pickle the run summaries to this file")
    args = parser.parse_args(argv)
    city = args.city or ModelConfig().city.path
    network = load_network(city, network_type="walk")
    arms = {a: ARMS[a] for a in (args.arms or ARMS)}
    arms.setdefault("baseline", ARMS["baseline"])
    t0 = time.perf_counter()
    runs = run_arms(arms, range(args.seeds), days=args.days, network=network, jobs=args.jobs)
    if args.save:
        with open(args.save, "wb") as fh:
            pickle.dump(runs, fh)
    effects = {arm: compare_arms(r, runs["baseline"]) for arm, r in runs.items() if arm != "baseline"}
    print(f"{args.seeds} paired seeds x {args.days:g} days, {city}, {time.perf_counter() - t0:.0f} s\n")
    print(format_table(effects))
    return 0


if __name__ == "__main__":
    sys.exit(main())
