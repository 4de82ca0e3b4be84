"""Neighbourhood watch: members' streets are watched and report more, sightings reach the police, burglary falls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.config import ModelConfig
from sim.errors import ConfigError
from sim.model import PrecinctModel, run_simulation
from sim.outputs import build_result
from sim.policies import NeighbourhoodWatchPolicy, TargetedPatrolPolicy
from sim.policies.areas import segments_in_sight
from tests.policies.conftest import small_config
from tests.policies.effects import compare_arms, run_arms


def _watch(model: PrecinctModel) -> NeighbourhoodWatchPolicy:
    (policy,) = [p for p in model.policies if isinstance(p, NeighbourhoodWatchPolicy)]
    return policy


def _residential_areas(model: PrecinctModel, n: int) -> list[int]:
    """The ``n`` areas where most residents live."""
    homes = np.bincount(model.area[model.residents.home_segment], minlength=int(model.area.max()) + 1)
    return [int(a) for a in np.argsort(-homes, kind="stable")[:n]]


def test_members_watch_the_streets_in_sight_of_home_and_those_streets_report_more(city) -> None:
    probe = PrecinctModel(small_config({"baseline": {}}), network=city, mesa_agents=False)
    areas = _residential_areas(probe, 3)
    params = {"areas_from": "area_ids", "area_ids": areas, "uptake": 0.5, "watch_reach_m": 80.0,
              "watcher_weight": 0.5, "reporting_gain": 0.6}  # fmt: skip
    model = PrecinctModel(small_config({"neighbourhood_watch": params}, days=2.0), network=city,
                          mesa_agents=False)  # fmt: skip
    watch = _watch(model)
    r = model.residents
    in_areas = np.isin(model.area[r.home_segment], areas)
    np.testing.assert_array_equal(watch.in_scheme, in_areas)
    assert watch.members.sum() > 20 and not watch.members[~in_areas].any()
    # the trusting join more
    assert r.trust[watch.members].mean() > r.trust[in_areas & ~watch.members].mean()
    # what a member at home on segment h watches: h itself fully, streets within 80 m less with distance
    sight = segments_in_sight(city, model.router, np.unique(r.home_segment), 80.0)
    h = int(r.home_segment[np.flatnonzero(watch.members)[0]])
    row = sight.getrow(h).toarray().ravel()
    assert row[h] == 1.0 and 1 < np.count_nonzero(row) < 60 and row.max() <= 1.0
    homes = np.bincount(r.home_segment, minlength=city.n_segments).astype(float)
    members = np.bincount(r.home_segment[watch.members], minlength=city.n_segments).astype(float)
    coverage = np.divide(sight.T @ members, sight.T @ homes, out=np.zeros(city.n_segments),
                         where=(sight.T @ homes) > 0)  # fmt: skip
    np.testing.assert_allclose(watch.coverage, coverage)
    np.testing.assert_array_equal(watch.watched, (sight.T @ members) > 0)
    assert watch.watched.sum() > watch.enrolled.sum()  # members watch more than their own street
    np.testing.assert_allclose(
        model.offending.report_factor, np.where(watch.watched, 1.0 + 0.6 * coverage, 1.0)
    )
    np.testing.assert_array_equal(model.env.surveillance, 1.0)  # the street itself is unchanged
    # at the start everyone is at home: every member guards what they see, with weight 0.5
    np.testing.assert_allclose(model.offending.watching_guardians(), 0.5 * (sight.T @ members))
    result = model.run()
    actions = result.actions
    assert {"add_home_watchers", "raise_reporting", "book_cost", "send_officers"} <= set(actions["action"])
    c = watch.config
    capital = c.signage_cost_capital * watch.enrolled.sum() + c.scheme_cost_capital * len(areas)
    assert result.metrics["cost_capital"] == pytest.approx(capital)
    per_day = watch.members.sum() * c.volunteer_hours_per_week / 7.0 * c.volunteer_hour_cost
    assert result.metrics["cost_running"] == pytest.approx(per_day * 2.0)  # launched at the start
    segs = result.segments
    np.testing.assert_array_equal(segs["treated"], watch.watched)
    assert (segs.loc[segs["treated"], "treated_from_min"] == 0.0).all()
    assert result.metrics["watch_members"] == watch.members.sum()


def test_areas_of_recorded_burglary_are_chosen_after_the_burn_in_twin_until_then(city) -> None:
    cfg = small_config({"neighbourhood_watch": {"burn_in_days": 1.0}}, days=2.0)
    model = PrecinctModel(cfg, network=city, mesa_agents=False)
    watch = _watch(model)
    launch = None
    while model.running:
        before = np.isnan(watch.launch_min)
        model.step()
        if before and not np.isnan(watch.launch_min):
            launch = watch.launch_min
            burglary, t_burglary = model.policing.view.recorded_crimes("burglary")
            edges, times = model.policing.view.recorded_crimes()
            burglary, edges = burglary[t_burglary <= launch], edges[times <= launch]
    assert launch is not None and launch >= 1440.0
    n_areas = int(model.area.max()) + 1
    by_burglary = np.bincount(model.area[city.edge_segment[burglary]], minlength=n_areas)
    by_crime = np.bincount(model.area[city.edge_segment[edges]], minlength=n_areas)
    homes = np.bincount(model.area[model.residents.home_segment], minlength=n_areas)
    chosen = watch.scheme_areas
    assert len(chosen) == 3 and all(homes[a] > 0 for a in chosen)
    rank = [(by_burglary[a], by_crime[a]) for a in chosen]
    others = [(by_burglary[a], by_crime[a]) for a in range(n_areas) if homes[a] > 0 and a not in chosen]
    assert min(rank) >= max(others)
    base = run_simulation(small_config({"baseline": {}}, days=2.0), network=city).events
    events = build_result(model).events
    pd.testing.assert_frame_equal(events[events["time_min"] < launch].reset_index(drop=True),
                                  base[base["time_min"] < launch].reset_index(drop=True))  # fmt: skip


def test_coordinator_sessions_come_out_of_the_officer_budget(city) -> None:
    probe = PrecinctModel(small_config({"baseline": {}}), network=city, mesa_agents=False)
    params = {
        "areas_from": "area_ids",
        "area_ids": _residential_areas(probe, 2),
        "coordinator_interval_days": 1.0,
    }
    result = run_simulation(small_config({"neighbourhood_watch": params}, days=3.0), network=city)
    m = result.metrics
    # two schemes, a session a day each at 14:00 for two hours, one officer
    assert m["watch_coordinator_sessions"] + m["watch_sessions_missed"] == 6
    assert m["watch_coordinator_hours"] == pytest.approx(2.0 * m["watch_coordinator_sessions"])
    assert m["officer_hours_meeting"] == pytest.approx(m["watch_coordinator_hours"], abs=0.1)
    sent = result.actions[result.actions["action"] == "send_officers"]
    assert len(sent) == m["watch_coordinator_sessions"] > 0


def test_members_sightings_reach_the_police_view_and_the_hot_spot_map(city) -> None:
    cfg = ModelConfig(seed=1, policies={"neighbourhood_watch": {"areas_from": "area_ids", "area_ids": [], "uptake": 1.0,
                                                                "sighting_report_prob": 1.0}, "targeted_patrol": {}})  # fmt: skip
    cfg.sim.days = 3.0
    probe = PrecinctModel(small_config({"baseline": {}}), network=city, mesa_agents=False)
    cfg.policies["neighbourhood_watch"]["area_ids"] = _residential_areas(probe, 6)
    model = PrecinctModel(cfg, network=city, mesa_agents=False)
    watch = _watch(model)
    (patrol,) = [p for p in model.policies if isinstance(p, TargetedPatrolPolicy)]
    model.run()
    intel = model.policing.view.intelligence()
    assert len(intel) == watch.n_sightings > 0
    assert watch.watched[[s for s, _ in intel]].all()
    _, times = model.policing.view.recorded_crimes()
    last_refresh = patrol.history[-1][0]
    assert patrol.map.n_known == (times <= last_refresh).sum() + sum(t < last_refresh for _, t in intel)


def test_a_watch_needs_residents(city) -> None:
    cfg = small_config({"neighbourhood_watch": {"areas_from": "area_ids", "area_ids": [10_000]}})
    with pytest.raises(ConfigError, match="area_ids") as info:
        PrecinctModel(cfg, network=city, mesa_agents=False)
    assert "where residents live" in str(info.value)


def test_watch_raises_reporting_and_the_recorded_share_and_lowers_burglary_on_members_streets(city) -> None:
    """Bennett, Holloway & Farrington 2006, 2008: crime fell where schemes ran, more with high uptake.

    A city with much more burglary (x20), so that a few days show it on members' streets, and a
    large dose: the ten most residential areas, everyone invited (uptake 1).
    """

    def burglary_city(cfg: ModelConfig) -> None:
        cfg.crime.type_weight = {**cfg.crime.type_weight, "burglary": 20 * cfg.crime.type_weight["burglary"]}

    probe = PrecinctModel(ModelConfig(), network=city, mesa_agents=False)
    watch = {"areas_from": "area_ids", "area_ids": _residential_areas(probe, 10), "uptake": 1.0}
    runs = run_arms({"baseline": {"baseline": {}}, "watch": {"neighbourhood_watch": watch}}, range(4), days=4.0,
                    network=city, configure=burglary_city)  # fmt: skip
    effects = compare_arms(runs["watch"], runs["baseline"])
    for key in ("reporting_rate_treated", "recorded_share_treated", "burglary_treated", "crimes_treated"):
        r = effects[key]
        print(f"{key}: {r.mean_treatment:.3f} vs {r.mean_control:.3f}, {r.mean_diff:+.3f} "
              f"[{r.diff_low:+.3f}, {r.diff_high:+.3f}]")  # fmt: skip
    assert effects["reporting_rate_treated"].diff_low > 0.0
    assert effects["recorded_share_treated"].diff_low > 0.0
    assert effects["burglary_treated"].diff_high < 0.0


def test_same_seed_same_watch(city) -> None:
    cfg = {"neighbourhood_watch": {"burn_in_days": 0.5, "uptake": 0.6}, "targeted_patrol": {}}
    a, b = (run_simulation(small_config(cfg, days=1.5), network=city) for _ in range(2))
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.actions, b.actions)
