"""Strategies that take their places from a city's incident file: last year's hot spots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core_ext import network_kde, select_hotspots
from sim.config import ModelConfig
from sim.errors import ConfigError
from sim.incidents import read_incidents
from sim.model import PrecinctModel
from sim.policies import CptedPolicy, TargetedPatrolPolicy
from tests.conftest import DATA

SAMPLE = next((DATA / "incidents" / "sample").glob("*.csv"))


def _config(policies: dict, *, incidents: Path | None = SAMPLE, days: float = 1.0) -> ModelConfig:
    cfg = ModelConfig(seed=0, policies=policies)
    cfg.sim.days = days
    cfg.population.n_residents, cfg.population.n_offenders = 800, 30
    if incidents is not None:
        cfg.incidents.path = str(incidents)
    return cfg


def _expected_hotspots(city, k: int, bandwidth_m: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    events = read_incidents(str(SAMPLE), city).events
    edges = events.loc[events["crime_type"] != "not_crime", "edge"].to_numpy()
    risk = network_kde(city.indptr, city.indices, city.edge_length_m, edges, bandwidth_m=bandwidth_m,
                       edge_segment=city.edge_segment)[city.segment_edge]  # fmt: skip
    top = select_hotspots(risk, k)
    return top[risk[top] > 0]


def test_targeted_patrol_patrols_the_incident_files_hot_spots_from_the_start(city) -> None:
    model = PrecinctModel(_config({"targeted_patrol": {"hotspots_from": "incidents", "top_k": 20}}), network=city,
                          mesa_agents=False)  # fmt: skip
    (policy,) = [p for p in model.policies if isinstance(p, TargetedPatrolPolicy)]
    np.testing.assert_array_equal(policy.hotspots, _expected_hotspots(city, 20, policy.config.bandwidth_m))
    result = model.run()
    visits = result.events[(result.events["kind"] == "patrol_visit") & (result.events["dwell_min"] == 15.0)]
    assert visits["time_min"].min() < 60.0  # no burn-in: the list exists before the first crime
    assert set(visits["segment"]) <= set(policy.hotspots.tolist())
    assert len(policy.history) == 1  # a fixed list: never refreshed from the run's own records


def test_cpted_installs_on_the_incident_files_hot_spots_at_the_start(city) -> None:
    params = {"cpted": {"hotspots_from": "incidents", "top_k": 30, "gating": False}}
    model = PrecinctModel(_config(params), network=city, mesa_agents=False)
    (policy,) = [p for p in model.policies if isinstance(p, CptedPolicy)]
    assert policy.install_min == 0.0
    expected = _expected_hotspots(city, 30, policy.config.hotspot_bandwidth_m)
    np.testing.assert_array_equal(np.flatnonzero(policy.target), np.sort(expected))


def test_hot_spots_from_incidents_need_an_incident_file(city) -> None:
    with pytest.raises(ConfigError, match=r"policy\.targeted_patrol\.hotspots_from.*incidents\.path"):
        PrecinctModel(
            _config({"targeted_patrol": {"hotspots_from": "incidents"}}, incidents=None), network=city
        )
    cfg = _config({"baseline": {}}, incidents=DATA / "no-such-file.csv")
    with pytest.raises(ConfigError, match=r"incidents\.path"):
        cfg.validate()
