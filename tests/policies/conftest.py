"""Fixtures of the policy tests: the default city's walk network, loaded once per module."""

from __future__ import annotations

import pytest

from sim.config import ModelConfig
from sim.network import StreetNetwork, load_network
from tests.conftest import DEFAULT_CITY


@pytest.fixture(scope="module")
def city() -> StreetNetwork:
    return load_network(DEFAULT_CITY, network_type="walk")


def small_config(policies: dict, *, seed: int = 0, days: float = 1.0) -> ModelConfig:
    """A quick run for checks of wiring and errors (not for effect sizes)."""
    cfg = ModelConfig(seed=seed, policies=policies)
    cfg.sim.days = days
    cfg.population.n_residents = 600
    cfg.population.n_offenders = 20
    cfg.police.n_officers = 4
    return cfg
