"""Targeted hot-spot patrol: the map is what the police know, officers dwell and revisit, crime falls there."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core_ext import network_kde, select_hotspots
from sim.config import ModelConfig
from sim.model import PrecinctModel, run_simulation
from sim.outputs import build_result
from sim.policies import TargetedPatrolPolicy
from tests.policies.effects import compare_arms, run_arms


def _config(policies: dict, *, seed: int = 0, days: float = 3.0) -> ModelConfig:
    cfg = ModelConfig(seed=seed, policies=policies)
    cfg.sim.days = days
    return cfg


def _run(cfg: ModelConfig, city) -> tuple[PrecinctModel, pd.DataFrame]:
    model = PrecinctModel(cfg, network=city, mesa_agents=False)
    while model.running:
        model.step()
    return model, build_result(model).events


def _policy(model: PrecinctModel) -> TargetedPatrolPolicy:
    (policy,) = [p for p in model.policies if isinstance(p, TargetedPatrolPolicy)]
    return policy


def test_identical_to_baseline_until_the_first_map(city) -> None:
    """Common random numbers: the arms differ only once the policy acts (no map, no difference)."""
    model, events = _run(_config({"targeted_patrol": {}}, days=2.0), city)
    first = _policy(model).first_map_min
    assert 0 < first < 2 * 1440
    base = run_simulation(_config({"baseline": {}}, days=2.0), network=city).events
    before = events[events["time_min"] < first].reset_index(drop=True)
    pd.testing.assert_frame_equal(before, base[base["time_min"] < first].reset_index(drop=True))
    assert len(before[before["kind"] == "crime"]) >= 5


def test_alone_it_patrols_like_baseline_when_it_has_no_map(city) -> None:
    """Without a baseline policy configured, officers it gives no orders fall back on the baseline rule."""
    alone = run_simulation(_config({"targeted_patrol": {}}, days=2.0), network=city)
    both = run_simulation(_config({"baseline": {}, "targeted_patrol": {}}, days=2.0), network=city)
    pd.testing.assert_frame_equal(alone.events, both.events)
    idle = alone.metrics["officer_hours_patrol"] + alone.metrics["officer_hours_dwell"]
    assert (
        idle > 0.9 * 8 * 48 - alone.metrics["officer_hours_respond"] - alone.metrics["officer_hours_attend"]
    )


@pytest.mark.parametrize("source", ["recorded", "true"])
def test_the_map_is_the_decayed_network_kde_of_known_crime(city, source: str) -> None:
    model, events = _run(_config({"targeted_patrol": {"source": source}}), city)
    policy = _policy(model)
    c = policy.config
    refreshed_at, hotspots = policy.history[-1]
    if source == "recorded":
        # what the police know: recorded crimes, once recorded (burglaries are found later)
        edges, times = model.policing.view.recorded_crimes()
        known = times <= refreshed_at
        edges, times = edges[known], times[known]
        crimes = events[events["kind"] == "crime"]
        assert known.sum() < (crimes["time_min"] <= refreshed_at).sum()  # unrecorded crime is missing
    else:
        crimes = events[(events["kind"] == "crime") & (events["time_min"] <= refreshed_at)]
        edges, times = crimes["edge"].to_numpy(), crimes["time_min"].to_numpy()
    risk = network_kde(city.indptr, city.indices, city.edge_length_m, edges, bandwidth_m=c.bandwidth_m,
                       event_time_min=times, now_min=refreshed_at, decay_timescale_min=c.decay_days * 1440.0,
                       edge_segment=city.edge_segment)  # fmt: skip
    per_segment = risk[city.segment_edge]
    expected = select_hotspots(per_segment, c.top_k)
    expected = expected[per_segment[expected] > 0]
    np.testing.assert_array_equal(np.sort(hotspots), np.sort(expected))
    assert hotspots.size == c.top_k


def test_officers_dwell_on_hot_spots_and_revisit_them_within_two_hours(city) -> None:
    model, events = _run(_config({"targeted_patrol": {}}), city)
    policy = _policy(model)
    visits = events[events["kind"] == "patrol_visit"]
    ends = [t for t, _ in policy.history[1:]] + [model.clock.now_min]
    gaps = []
    for (start, hot), end in zip(policy.history, ends, strict=True):
        during = visits[(visits["time_min"] >= start) & (visits["time_min"] < end)]
        on_hot = during[during["segment"].isin(hot)]
        assert (on_hot["dwell_min"] == 15.0).all()  # Koper dwell
        for _, v in on_hot.groupby("segment"):
            gaps.extend(np.diff(np.sort(v["time_min"].to_numpy())) - 15.0)
    gaps_min = np.asarray(gaps)
    assert gaps_min.size > 100
    # the time between leaving a hot spot and the next officer arriving; calls can delay a revisit
    assert np.quantile(gaps_min, 0.95) <= policy.config.revisit_min + 10.0
    assert gaps_min.max() <= policy.config.revisit_min + 60.0


def test_peak_hours_only_targets_in_peak_hours(city) -> None:
    peak = [18, 19, 20, 21, 22, 23]
    params = {"peak_hours_only": True, "peak_hours": peak, "min_known_crimes": 1}
    _, events = _run(_config({"targeted_patrol": params}), city)
    visits = events[events["kind"] == "patrol_visit"]
    hour = ((visits["time_min"] // 60) % 24).astype(int)
    targeted = visits["dwell_min"] == 15.0
    assert targeted.sum() > 50 and (~targeted).sum() > 50
    # an order given before the hour ends may arrive a little after it
    assert hour[targeted].isin([*peak, 0]).all()
    assert not hour[~targeted & (hour >= 1) & (hour < 18)].empty


def test_grid_kde_option_gives_its_own_hot_spots(city) -> None:
    net_model, _ = _run(_config({"targeted_patrol": {}}, days=2.5), city)
    grid_model, _ = _run(_config({"targeted_patrol": {"kde": "grid"}}, days=2.5), city)
    net_hot, grid_hot = _policy(net_model).hotspots, _policy(grid_model).hotspots
    assert grid_hot.size == net_hot.size == 40
    assert not np.array_equal(np.sort(grid_hot), np.sort(net_hot))


def test_hot_spots_get_much_more_police_time(city) -> None:
    runs = run_arms({"baseline": {"baseline": {}}, "targeted": {"targeted_patrol": {}}}, [0, 1, 2], days=3.0,
                    network=city)  # fmt: skip
    effects = compare_arms(runs["targeted"], runs["baseline"])
    assert effects["police_min_treated"].diff_low > 0
    for run, base in zip(runs["targeted"], runs["baseline"], strict=True):
        treated = run.segments["treated"]
        # more than three times the minutes, in every seed
        assert run.segments["police_min"][treated].sum() > 3 * base.segments["police_min"][treated].sum()
        assert run.metrics["hotspot_dwell_hours"] > 0.5 * 8 * 24  # over half the officer time after burn-in
        assert run.metrics["treated_segments"] == run.metrics["hotspot_segments_visited"]


@pytest.mark.slow
def test_fewer_crimes_on_hot_spots_and_no_displacement_on_average(city) -> None:
    """Braga et al. 2019: hot-spot patrol cuts crime where it is applied; diffusion is more common
    than displacement. Judged on segment-time (hot spots while they were hot), paired seeds."""
    seeds = range(12)
    runs = run_arms({"baseline": {"baseline": {}}, "targeted": {"targeted_patrol": {}}}, seeds, days=14.0,
                    network=city)  # fmt: skip
    effects = compare_arms(runs["targeted"], runs["baseline"])
    hot, near, wdq = effects["crimes_hot_while_hot"], effects["crimes_near_hot_while_hot"], effects["wdq_hot"]
    print(f"hot spots while hot: {hot.pct_change:+.1f}% [{hot.pct_low:+.1f}, {hot.pct_high:+.1f}]; "
          f"within 400 m: {near.pct_change:+.1f}% [{near.pct_low:+.1f}, {near.pct_high:+.1f}]; "
          f"WDQ {wdq.wdq:.2f} [{wdq.low:.2f}, {wdq.high:.2f}]")  # fmt: skip
    assert hot.pct_high < 0.0
    assert near.diff_low <= 0.0  # the surroundings are not significantly worse
    assert effects["police_min_treated"].pct_low > 200.0
    # over the whole run the treated segments are not significantly worse either
    assert effects["crimes_treated"].diff_low <= 0.0


def test_hot_spots_count_as_treated_from_their_first_visit(city) -> None:
    """Crime on a hot spot is judged from its first patrol visit on: the crime that made it hot is not
    charged to the patrol. The buffer starts with the first treated street within 400 m."""
    model, events = _run(_config({"targeted_patrol": {}}), city)
    result = build_result(model)
    seg = result.segments
    treated = seg["treated"].to_numpy(bool)
    since = seg["treated_from_min"].to_numpy()
    assert treated.sum() > 10
    assert np.all(np.isfinite(since[treated])) and np.all(np.isnan(since[~treated]))
    # the first hot-spot visit (a dwell of the policy's length) on each treated segment
    dwell = model.config.policies["targeted_patrol"].get("dwell_min", 15.0)
    visits = events[(events["kind"] == "patrol_visit") & (events["dwell_min"] == dwell)]
    first = visits.groupby("segment")["time_min"].min()
    np.testing.assert_allclose(since[first.index.to_numpy()], first.to_numpy())
    # every buffer segment has a start no earlier than the first treatment; nothing else has one
    buffer = seg["buffer"].to_numpy(bool)
    b_since = seg["buffer_from_min"].to_numpy()
    assert np.all(np.isfinite(b_since[buffer])) and np.all(np.isnan(b_since[~buffer]))
    assert b_since[buffer].min() == since[treated].min()
    # the metric counts exactly the crimes at or after each treated segment's start
    crimes = events[events["kind"] == "crime"]
    start = since[crimes["segment"].to_numpy()]
    expected = int(((crimes["time_min"].to_numpy() >= start) & np.isfinite(start)).sum())
    assert result.metrics["crimes_treated_since"] == expected
    # some crime on the treated segments came before they were first visited (it made them hot)
    assert expected < result.metrics["crimes_treated"]
