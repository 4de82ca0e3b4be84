"""Hot-spot forecasts: the oracle bounds every forecast, chance scores PAI 1, no week leaks into its forecast."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from core_ext import grid_kde as core_grid_kde
from core_ext import network_kde as core_network_kde
from experiments.configuration import build_model_config
from sim import forecast as fc
from sim.config import ModelConfig
from sim.errors import ConfigError
from sim.incidents import MODELLED_NOW, IncidentSource, read_incidents
from sim.model import PrecinctModel
from sim.network import StreetNetwork, load_network
from sim.policies import HotspotMap, TargetedPatrolPolicy
from tests.conftest import DEFAULT_CITY, SHARED, SHARED_OSM

DAY = 1440.0
WEEK = 7 * DAY


@pytest.fixture(scope="module")
def city() -> StreetNetwork:
    return load_network(DEFAULT_CITY, network_type="walk")


def _events(net: StreetNetwork, segments: np.ndarray, times: np.ndarray) -> pd.DataFrame:
    """Crime events at the midpoints of ``segments`` (as sim.events lays them out)."""
    xy = net.edge_midpoint_xy[net.segment_edge[segments]]
    return pd.DataFrame({"time_min": times.astype(float), "kind": "crime", "segment": segments.astype(np.int64),
                         "x": xy[:, 0], "y": xy[:, 1]})  # fmt: skip


def _hot_events(net: StreetNetwork, n: int, days: float, seed: int) -> pd.DataFrame:
    """Crime concentrated on a few segments, the rest spread by length, over ``days``."""
    rng = np.random.default_rng(seed)
    hot = rng.choice(net.n_segments, 40, replace=False)
    length = net.segment_length_m
    background = rng.choice(net.n_segments, n // 2, p=length / length.sum())
    segs = np.concatenate([rng.choice(hot, n - n // 2), background])
    return _events(net, segs, np.sort(rng.uniform(0, days * DAY, n)))


def _repeat_events(net: StreetNetwork, days: float, seed: int) -> pd.DataFrame:
    """Repeat victimisation: each crime is followed, within days, by repeats on the same segment."""
    rng = np.random.default_rng(seed)
    length = net.segment_length_m
    first_seg = rng.choice(net.n_segments, int(days * 4), p=length / length.sum())
    first_t = rng.uniform(0, days * DAY, first_seg.size)
    n_repeats = rng.poisson(4.0, first_seg.size)
    rep_seg = np.repeat(first_seg, n_repeats)
    rep_t = np.repeat(first_t, n_repeats) + rng.exponential(10 * DAY, rep_seg.size)
    segs, times = np.concatenate([first_seg, rep_seg]), np.concatenate([first_t, rep_t])
    keep = times < days * DAY
    order = np.argsort(times[keep], kind="stable")
    return _events(net, segs[keep][order], times[keep][order])


def _counts(net: StreetNetwork, events: pd.DataFrame) -> np.ndarray:
    return np.bincount(events["segment"], minlength=net.n_segments).astype(float)


# --------------------------------------------------------------------------- scoring
def test_captured_crimes_fill_the_length_pro_rata() -> None:
    length = np.array([10.0, 20.0, 30.0, 40.0])  # 100 m of street
    counts = np.array([1.0, 4.0, 3.0, 2.0])
    risk = np.array(
        [4.0, 1.0, 0.0, 2.0]
    )  # per metre: 0.4, 0.05, 0, 0.05 -> order 0, 1, 3, 2 (tie to lower id)
    np.testing.assert_array_equal(fc.rank_segments(risk, length), [0, 1, 3, 2])
    got = fc.count_captured(risk, counts, length, (0.05, 0.10, 0.20, 0.30, 0.50, 1.0))
    # 5 m: half of segment 0; 10 m: all of it; 20 m: + half of segment 1; 30 m: + all of 1; 50 m: + half of 3
    np.testing.assert_allclose(got, [0.5, 1.0, 3.0, 5.0, 6.0, 10.0])
    oracle = fc.count_captured(counts, counts, length, (0.10, 0.30))  # per metre: 0.1, 0.2, 0.1, 0.05
    np.testing.assert_allclose(oracle, [2.0, 4.0 + 1.0])


def test_the_oracle_has_pei_one_and_the_highest_hit_rate(city: StreetNetwork) -> None:
    past = _hot_events(city, 600, 28, seed=1)
    future = _hot_events(city, 300, 7, seed=1)  # the same hot places
    counts = _counts(city, future)
    rng = np.random.default_rng(0)
    risks = {name: fc.FORECASTERS[name](past, city, 28 * DAY) for name in fc.DEFAULT_FORECASTERS}
    risks |= {f"random{i}": rng.random(city.n_segments) for i in range(20)}
    risks["length"] = city.segment_length_m
    risks["by count, not per metre"] = counts * city.segment_length_m
    length = city.segment_length_m
    oracle = fc.score_forecast(counts, counts, length)
    np.testing.assert_array_equal(oracle["pei"], 1.0)
    for name, risk in risks.items():
        scores = fc.score_forecast(risk, counts, length)
        assert (scores["hit_rate"] <= oracle["hit_rate"] + 1e-12).all(), name
        assert (scores["pei"] <= 1.0 + 1e-12).all(), name
    assert fc.score_forecast(risks["prior_counts"], counts, length)["pai"].iloc[0] > 5


def test_a_forecaster_that_knows_the_future_counts_scores_pei_one(city: StreetNetwork) -> None:
    events = _hot_events(city, 900, 35, seed=2)

    def clairvoyant(past: pd.DataFrame, net: StreetNetwork, t_min: float) -> np.ndarray:
        week = events[(events["time_min"] >= t_min) & (events["time_min"] < t_min + WEEK)]
        return _counts(net, week)

    scores = fc.rolling_scores(events, city, 7 * DAY, 35 * DAY, forecasters={"clairvoyant": clairvoyant})
    assert len(scores) == 4 * len(fc.DEFAULT_COVERAGES)
    np.testing.assert_array_equal(scores["pei"], 1.0)


def test_periods_can_be_given_as_edges(city: StreetNetwork) -> None:
    """Calendar months (31, 30, 31 days): each period is scored on its own crimes, from crimes before it."""
    events = _hot_events(city, 900, 100, seed=4)
    edges = np.array([0.0, 31.0, 61.0, 92.0]) * DAY
    seen = []

    def clairvoyant(past: pd.DataFrame, net: StreetNetwork, t_min: float) -> np.ndarray:
        assert past["time_min"].max() < t_min
        seen.append(t_min)
        until = edges[np.searchsorted(edges, t_min, side="right")] if t_min < edges[-1] else 100 * DAY
        return _counts(net, events[(events["time_min"] >= t_min) & (events["time_min"] < until)])

    scores = fc.rolling_scores(events, city, 10 * DAY, 100 * DAY, forecasters={"clairvoyant": clairvoyant},
                               edges_min=edges, coverages=(0.05,))  # fmt: skip
    np.testing.assert_array_equal(scores["week_start_min"], np.array([10.0, 31.0, 61.0, 92.0]) * DAY)
    np.testing.assert_array_equal(scores["week_end_min"], np.array([31.0, 61.0, 92.0, 100.0]) * DAY)
    assert seen == list(scores["week_start_min"])
    t = events["time_min"].to_numpy()
    assert scores["n_crimes"].sum() == ((t >= 10 * DAY) & (t < 100 * DAY)).sum()
    np.testing.assert_array_equal(scores["pei"], 1.0)


def test_a_random_forecast_has_pai_one_on_average(city: StreetNetwork) -> None:
    counts = _counts(city, _hot_events(city, 400, 7, seed=3))
    rng = np.random.default_rng(3)
    coverages = (0.05, 0.10, 0.20)
    pai = np.array([
        fc.score_forecast(rng.random(city.n_segments) * city.segment_length_m, counts, city.segment_length_m,
                          coverages=coverages)["pai"].to_numpy()
        for _ in range(500)
    ])  # fmt: skip
    np.testing.assert_allclose(pai.mean(axis=0), 1.0, atol=0.08)
    assert pai.std(axis=0).min() > 0.05  # the draws differ


def test_prospective_beats_uniform_on_repeat_victimisation(city: StreetNetwork) -> None:
    events = _repeat_events(city, 84, seed=4)

    def uniform(past: pd.DataFrame, net: StreetNetwork, t_min: float) -> np.ndarray:
        return net.segment_length_m.copy()  # the same risk per metre everywhere

    forecasters = {"prospective": fc.prospective, "uniform": uniform}
    scores = fc.rolling_scores(events, city, 28 * DAY, 84 * DAY, forecasters=forecasters, coverages=(0.05,))
    summary = fc.summarise(scores, n_boot=200).set_index("forecaster")
    assert summary.loc["prospective", "pai_lo"] > summary.loc["uniform", "pai_hi"]
    assert summary.loc["prospective", "pai"] > 2 > summary.loc["uniform", "pai"]


# --------------------------------------------------------------------------- rolling weeks
def test_rolling_weeks_have_their_boundaries_and_nothing_of_a_week_leaks_into_its_forecast(
    city: StreetNetwork,
) -> None:
    events = _hot_events(city, 500, 30, seed=5)
    # crimes exactly on the week boundaries belong to the week they open
    boundaries = np.array([7, 14, 14, 21, 28]) * DAY
    events = pd.concat([events, _events(city, np.array([3, 5, 5, 7, 9]), boundaries)], ignore_index=True)
    events = pd.concat([events, events.head(3).assign(kind="call")], ignore_index=True)  # not crime
    seen: list[tuple[float, float, int]] = []

    def spy(past: pd.DataFrame, net: StreetNetwork, t_min: float) -> np.ndarray:
        seen.append((t_min, float(past["time_min"].max()), len(past)))
        assert (past["kind"] == "crime").all()
        return fc.prior_counts(past, net, t_min)

    forecasters = {"spy": spy, "prospective": fc.prospective, "prior_counts": fc.prior_counts}
    scores = fc.rolling_scores(
        events, city, 7 * DAY, 26 * DAY, forecasters=forecasters, coverages=(0.01, 0.1)
    )
    assert len(scores) == 3 * len(forecasters) * 2
    assert list(scores.columns[:4]) == ["forecaster", "week_start_min", "week_end_min", "coverage"]
    assert {"hit_rate", "pai", "pei", "n_crimes"} <= set(scores.columns)
    np.testing.assert_array_equal(np.unique(scores["week_start_min"]), [7 * DAY, 14 * DAY, 21 * DAY])
    np.testing.assert_array_equal(
        np.unique(scores["week_end_min"]), [14 * DAY, 21 * DAY, 26 * DAY]
    )  # cut at the end
    crimes = events[events["kind"] == "crime"]
    for (t_min, latest, n_past), week_end in zip(seen, (14 * DAY, 21 * DAY, 26 * DAY), strict=True):
        assert latest < t_min
        assert n_past == (crimes["time_min"] < t_min).sum()
        n_week = ((crimes["time_min"] >= t_min) & (crimes["time_min"] < week_end)).sum()
        assert (scores.loc[scores["week_start_min"] == t_min, "n_crimes"] == n_week).all()
    # the forecasters themselves ignore what is not strictly before their time
    for name in fc.DEFAULT_FORECASTERS:
        f = fc.FORECASTERS[name]
        np.testing.assert_array_equal(
            f(events, city, 14 * DAY), f(crimes[crimes["time_min"] < 14 * DAY], city, 14 * DAY)
        )


def test_summary_intervals_contain_the_pooled_mean(city: StreetNetwork) -> None:
    events = _repeat_events(city, 84, seed=6)
    scores = fc.rolling_scores(events, city, 28 * DAY, 84 * DAY)
    summary = fc.summarise(scores, n_boot=500, rng=1)
    assert list(summary.columns) == ["forecaster", "coverage", "hit_rate", "hit_rate_lo", "hit_rate_hi", "pai",
                                     "pai_lo", "pai_hi", "pei", "pei_lo", "pei_hi", "n_weeks"]  # fmt: skip
    assert len(summary) == len(fc.DEFAULT_FORECASTERS) * len(fc.DEFAULT_COVERAGES)
    assert (summary["n_weeks"] == 8).all()
    for name in ("hit_rate", "pai", "pei"):
        assert (summary[f"{name}_lo"] <= summary[name]).all() and (
            summary[name] <= summary[f"{name}_hi"]
        ).all()
        assert (summary[f"{name}_lo"] < summary[f"{name}_hi"]).all()
    pooled = scores.groupby(["forecaster", "coverage"], sort=False)[["captured", "n_crimes"]].sum()
    np.testing.assert_allclose(summary["hit_rate"], (pooled["captured"] / pooled["n_crimes"]).to_numpy())
    pd.testing.assert_frame_equal(summary, fc.summarise(scores, n_boot=500, rng=1))


# --------------------------------------------------------------------------- forecasters
def test_kde_forecasters_are_the_kernels_times_length(city: StreetNetwork) -> None:
    events = _hot_events(city, 300, 20, seed=7)
    t = 21 * DAY
    edges = city.segment_edge[events["segment"].to_numpy()]
    length = city.segment_length_m
    for bandwidth in (300.0, 150.0, 300.0):  # the cached kernel holds no events from the call before
        ref = core_network_kde(city.indptr, city.indices, city.edge_length_m, edges, bandwidth_m=bandwidth,
                               edge_segment=city.edge_segment)[city.segment_edge]  # fmt: skip
        np.testing.assert_allclose(fc.network_kde(events, city, t, bandwidth_m=bandwidth), ref * length)
    ref = core_grid_kde(events[["x", "y"]].to_numpy(), city.edge_midpoint_xy[city.segment_edge], bandwidth_m=300.0,
                        cell_m=150.0)  # fmt: skip
    np.testing.assert_allclose(fc.grid_kde(events, city, t), ref * length)
    np.testing.assert_allclose(fc.prior_counts(events, city, t), _counts(city, events))
    recent = fc.prior_counts(events, city, t, window_days=7)
    np.testing.assert_allclose(recent, _counts(city, events[events["time_min"] >= t - 7 * DAY]))


def test_prospective_matches_bowers_johnson_pease_by_brute_force(city: StreetNetwork) -> None:
    events = _repeat_events(city, 70, seed=8).iloc[::5]
    t = 70 * DAY
    got = fc.prospective(events, city, t)
    mid = city.edge_midpoint_xy[city.segment_edge]
    ref = np.zeros(city.n_segments)
    for x, y, time in zip(events["x"], events["y"], events["time_min"], strict=True):
        weeks = np.floor((t - time) / WEEK)
        if t - time > 56 * DAY:
            continue
        d = np.hypot(mid[:, 0] - x, mid[:, 1] - y)
        ref += np.where(d <= 400.0, 1.0 / (1.0 + np.floor(d / 25.0)) / (1.0 + weeks), 0.0)
    np.testing.assert_allclose(got, ref * city.segment_length_m, rtol=1e-12)
    assert (got > 0).sum() > 100


def test_model_passes_its_risk_through_and_empty_history_is_no_risk(city: StreetNetwork) -> None:
    risk = np.arange(city.n_segments, dtype=float)
    empty = _events(city, np.zeros(0, dtype=np.int64), np.zeros(0))
    np.testing.assert_array_equal(fc.FORECASTERS["model"](empty, city, 0.0, risk=risk), risk)
    scores = fc.rolling_scores(_hot_events(city, 100, 14, seed=9), city, 7 * DAY, 14 * DAY,
                               forecasters={"model": functools.partial(fc.model, risk=risk)})  # fmt: skip
    assert len(scores) == len(fc.DEFAULT_COVERAGES)
    with pytest.raises(ValueError, match="risk"):
        fc.model(empty, city, 0.0)
    for name in fc.DEFAULT_FORECASTERS:
        np.testing.assert_array_equal(fc.FORECASTERS[name](empty, city, DAY), 0.0)
    with pytest.raises(ValueError, match="unknown forecaster"):
        fc.rolling_scores(empty, city, 0.0, DAY, forecasters=["nope"])


# --------------------------------------------------------------------------- targeted patrol
def _patrol_config(forecaster: str) -> ModelConfig:
    cfg = ModelConfig(seed=0, policies={"targeted_patrol": {"forecaster": forecaster, "top_k": 20}})
    cfg.sim.days = 2.0
    cfg.population.n_residents = 800
    cfg.population.n_offenders = 40
    cfg.police.n_officers = 4
    return cfg


def test_targeted_patrol_patrols_the_hot_spots_of_the_forecaster_it_is_given(city: StreetNetwork) -> None:
    model = PrecinctModel(_patrol_config("prospective"), network=city, mesa_agents=False)
    while model.running:
        model.step()
    (policy,) = [p for p in model.policies if isinstance(p, TargetedPatrolPolicy)]
    assert type(policy.map) is not HotspotMap and policy.n_refreshes > 1 and policy.n_visits > 0
    refreshed_at, hotspots = policy.history[-1]
    edges, times = model.policing.view.recorded_crimes()
    known = _events(city, city.edge_segment[edges[times <= refreshed_at]], times[times <= refreshed_at])
    risk = fc.prospective(known, city, refreshed_at + 1e-6) / city.segment_length_m
    expected = np.lexsort((np.arange(risk.size), -risk))[: hotspots.size]  # per metre, ties to the lower id
    np.testing.assert_array_equal(hotspots, expected)
    assert (risk[hotspots] > 0).all()


def test_targeted_patrol_keeps_its_default_map(city: StreetNetwork) -> None:
    model = PrecinctModel(_patrol_config("network_kde"), network=city, mesa_agents=False)
    model.step()
    (policy,) = [p for p in model.policies if isinstance(p, TargetedPatrolPolicy)]
    assert type(policy.map) is HotspotMap


@pytest.mark.parametrize(
    ("settings", "key"),
    [({"forecaster": "model"}, "forecaster"), ({"forecaster": "kde"}, "forecaster"),
     ({"forecaster": "prospective", "kde": "grid"}, "kde")],
)  # fmt: skip
def test_targeted_patrol_refuses_forecasters_it_cannot_run(tmp_path, settings: dict, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_model_config(
            {"city": {"path": "x.osm"}, "policy": {"targeted_patrol": settings}}, cwd=str(tmp_path)
        )
    assert info.value.key == f"policy.targeted_patrol.{key}"
    if key == "forecaster":
        assert "prior_counts, grid_kde, network_kde, prospective" in str(info.value)


# --------------------------------------------------------------------------- real crime
@pytest.mark.slow
@pytest.mark.needs_shared
def test_portland_forecasts_beat_chance_at_five_percent_of_street_length() -> None:
    city = SHARED_OSM / "portland_central.osm.bz2"
    incidents = SHARED / "data" / "crime" / "portland_crime_2021-01_2021-03.csv"
    if not (city.exists() and incidents.exists()):
        pytest.skip("../shared data absent (it exists in CI and on developer machines only)")
    net = load_network(city, network_type="walk")
    table = read_incidents(IncidentSource(path=str(incidents), start="2021-01-01"), net)
    crimes = table.events[table.events["crime_type"].isin(sorted(MODELLED_NOW))]
    start = (pd.Timestamp("2021-02-01") - table.origin) / pd.Timedelta(minutes=1)
    scores = fc.rolling_scores(crimes, net, start, start + 8 * WEEK, coverages=(0.05,))
    summary = fc.summarise(scores).set_index("forecaster")
    for name in ("grid_kde", "network_kde", "prospective"):
        assert summary.loc[name, "pai_lo"] > 1.0, summary
