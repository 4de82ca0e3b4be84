"""Fixtures of the training tests: a short scenario on the bundled city, its config built without Hydra."""

from __future__ import annotations

import dataclasses

import pytest

from sim.config import ModelConfig
from sim.network import StreetNetwork, load_network
from sim.training import Scenario, load_scenario
from tests.conftest import DEFAULT_CITY


@pytest.fixture(scope="package")
def city() -> StreetNetwork:
    return load_network(DEFAULT_CITY, network_type="walk")


def short_scenario(name: str = "night_time_economy", *, shifts: int = 2, **changes: object) -> Scenario:
    """A shipped scenario cut to ``shifts`` shifts and two replications against the baseline only."""
    s = load_scenario(name)
    s = dataclasses.replace(s, days=shifts * s.shift_hours / 24.0, replications=2, compare=["baseline"])
    s.injects = [x for x in s.injects if x["day"] < s.days]
    return dataclasses.replace(s, **changes)


def model_config(s: Scenario, *, small: bool = True) -> ModelConfig:
    """The scenario's model config as ``precinct train`` composes it, built directly (the CLI test composes it)."""
    cfg = ModelConfig(seed=s.seed)
    cfg.sim.days = s.days
    cfg.sim.start_hour = s.start_hour
    cfg.sim.start_weekday = s.start_weekday
    cfg.police.foot_per_shift = s.foot_officers
    cfg.police.cars_per_shift = s.car_officers
    cfg.incidents.path = s.incidents
    cfg.survey.interval_weeks = 1 / 7
    if small:  # conf/population/small.yaml
        cfg.population.n_residents = 400
        cfg.population.n_offenders = 8
    return cfg.validate()
