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
    "baseline/0": "fe7acda8ed7159179474d4a7b8ffcf37ab853d79173964fbea9b7bd80e8eaf60",
    "baseline/1": "14dcd4ed137746e431db3445a38fcf24d0d3aff7db7346347d33171358d2ae40",
    "baseline/2": "27df5393d9e035a87cf76337da1f67a2a23844841cf9f4d3695c53b058bacdd4",
    "targeted_patrol/0": "25f82d712a42a2402d04392ed8ec23486d64ccbb71e81e24bdbfdbeea1d2b1bd",
    "targeted_patrol/1": "766694f25876e5715c7230e196715e495fb3b0e3d806ce19395b6bf5f69fab47",
    "targeted_patrol/2": "3823a792f270540ffe8c3f365bd6d7b5200547f37d3292a2ac29f5ed770728c7",
    "cpted/0": "7a5a2e4dc0f23959f987f1ed27abcae7c03a8b587a70c5b2fb543e21623462f5",
    "cpted/1": "9180cb971fb650de144ed0ba04b014f3b0853e7ac89f95e318ba4ba292eb1c10",
    "cpted/2": "2d63587f420e00be879dde502a60fe84143226004b16f7ebd8a7f08f737e5474",
    "community_meetings/0": "de6541e714bc7c01e143228c977f380fa64914f5dc18faf317448d28e6d3afb2",
    "community_meetings/1": "6e125eb0cf4a91957dc9a7ab682cfdfab3b0b8ae13ee93ff5f856421db652c1a",
    "community_meetings/2": "cba337af6103bc578bcf037c76316a22b730f5f59c87071ffba138879b3ecada",
    "targeted_patrol+cpted/0": "73edb1f7be5e571f2a86a7316ceee2698b67dadc22a3cc030c3a2fa0a28cdf13",
    "targeted_patrol+cpted/1": "9f26403e4a0a7d86332f4d3ff4872a38f9d163a2cbc6240dfa2955d47cf824c0",
    "targeted_patrol+cpted/2": "b4503632206dc0ea9b30e0d9b9e23d31d871a71e5f75eb8be3f9d5a2d0de059f",
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
