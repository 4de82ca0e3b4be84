"""Event logs pinned by hash: a refactoring must leave every run's events byte for byte the same.

The strategy contract (issue 10) moved offending, policing and the strategies' access to the model
into their own modules and left these hashes as they were at commit b509645. They changed twice
since, on purpose, each time in the commit that made the change: offenders go out around the clock
on an hour-of-day x weekday schedule (no idle 02:00-10:00 window); and the 2-minute pauses of random
patrol no longer count as stops that make offenders give a place up (docs/model.md); and ten offence
types with targets, generators and guardians from the city's places, homes and outings from mapped
places, and the default volume set on the City's fit year (issue 11). A change that is meant to alter
behaviour updates them in the same commit and says why; any other change that moves one is a bug.
"""

from __future__ import annotations

import hashlib

import pytest

from sim.config import ModelConfig
from sim.model import run_simulation
from sim.network import StreetNetwork, load_network
from tests.conftest import DEFAULT_CITY

ARMS = {
    "baseline": ["baseline"],
    "targeted_patrol": ["targeted_patrol"],
    "cpted": ["cpted"],
    "community_meetings": ["community_meetings"],
    "targeted_patrol+cpted": ["targeted_patrol", "cpted"],
}
# sha256 of events.to_csv(index=False): exact floats, independent of the Parquet writer's version
EVENT_SHA256 = {
    "baseline/0": "3a747b2ea552da30a10207b65adb5a78e6c8b40486603fd4cba22705326cdfd5",
    "baseline/1": "bdd93f1ca2f18f3683e19d2e2f6227d818e01f49c58242a63b59e00e3382a60f",
    "baseline/2": "c6487aa1551e489cf1675197446983da68380215c4542049f6ee428b782aa777",
    "targeted_patrol/0": "30e126ce13c561a46db33a9d694f1acbeef79ac5fba365816747606ad0025ef1",
    "targeted_patrol/1": "6e569058274ae0f824d00bf1fc4890529020ab9b5b76c0ef3450b1e94405142b",
    "targeted_patrol/2": "c8ddd8f25a31993c4452adddc139648f6ed96f9b3e1284271c303a39cc6d4095",
    "cpted/0": "700c2c1714bb9036aab8fca98264edf529bc26445151c46c1faf88d525ab5d53",
    "cpted/1": "7a4aafabe081b648415aaa7bd6e5e256d134b44696b06f4ea03419693a871e50",
    "cpted/2": "70ac55364ac9c614b98396ce75a9a4966ff78463080c4658ddaae8e69c8aca8b",
    "community_meetings/0": "4ab01770a0edd1a66d8a7af6d17ddceda887366f9f2c7c5d1988adb52179ac6a",
    "community_meetings/1": "d5e56db78ed6e9d3f89ae2465c3c270027fb2ebcdd2223d9e7c0dbbb3b99b002",
    "community_meetings/2": "a9f797e78028f8467e0dc982392ce378b918a779a689ffc8e36b6623a9b10578",
    "targeted_patrol+cpted/0": "2a0f660a17e858e4ba548f31139a26ee1724108dd68d4b1da46a8f07a47adf4c",
    "targeted_patrol+cpted/1": "e0876069ac61c2e262e0b08735496cfcf1ca1d983ceb61c37743e3594984331d",
    "targeted_patrol+cpted/2": "7f5d354b81f5922b1688d3a18bdcf5e21486f681db221587c5ef49a7f3836577",
}


@pytest.fixture(scope="module")
def city() -> StreetNetwork:
    return load_network(DEFAULT_CITY, network_type="walk")


def _config(policies: list[str], seed: int) -> ModelConfig:
    cfg = ModelConfig(seed=seed, policies={name: {} for name in policies})
    cfg.sim.days = 4.0
    cfg.population.n_residents = 2000
    cfg.population.n_offenders = 100
    cfg.police.n_officers = 6
    return cfg


@pytest.mark.parametrize("key", sorted(EVENT_SHA256))
def test_event_log_is_unchanged(city: StreetNetwork, key: str) -> None:
    arm, seed = key.split("/")
    result = run_simulation(_config(ARMS[arm], int(seed)), network=city)
    assert (result.events["kind"] == "crime").sum() >= 20  # enough crime for every strategy to act
    digest = hashlib.sha256(result.events.to_csv(index=False).encode()).hexdigest()
    assert digest == EVENT_SHA256[key], f"{key}: the event log changed"
