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
    "baseline/0": "8bac6c299ed092a8255cb0c4abbc241330a400e8874855d9b9feac5c2dc56717",
    "baseline/1": "dce34b29a0583db5419f736aa3a3ecc7b2a1b07a807c7357c815b8495b9159a3",
    "baseline/2": "841cbea00664aed1cf560ee5d3a29ba5b05142ae9b6eae19128255a1b54e57a3",
    "targeted_patrol/0": "2ca249332b65b256e15d501d3dd3e788fd7f108665082f394cc17ee8a1faa965",
    "targeted_patrol/1": "ce34029cefc384ab195060e79e75508b839956f0d69de3dbf0e64deea8d07f71",
    "targeted_patrol/2": "f258243771ff932169151275e225f340973d13d2a10c31ab439bc633d5bb017a",
    "cpted/0": "3af1d766f9720d9da58467c334af24d4863ebdc8a7ee75b26d70e8e104b4d7eb",
    "cpted/1": "5b4c57290a6908e2831dbbc0b4c918fa8f1ddba29f06f1b3ae1627b517d54fa6",
    "cpted/2": "4d8aff99dc5cc42df8c1bf60eb6e05fdc148c1023388e2227e53a722672fa275",
    "community_meetings/0": "e7d7b63e222dade7c422c22fcd197e87f7f6ec33957897f092bcd82e88f3a5b5",
    "community_meetings/1": "d5da80382b41856bb95e066853789e83faff7b0f2e29c0e4ac0db03d3f661dc0",
    "community_meetings/2": "3e6e69b367ae31309eea8287318a466e82b668fbe3a93875d705eb62f4b98568",
    "targeted_patrol+cpted/0": "8b61addd6d5760093d5df586b873cdca140ef0741f3fe8cc4da394c6c4acb9e0",
    "targeted_patrol+cpted/1": "7fb96a995f485d0da109949f089eab9b81d0e7d48bf247904aec6de76441cd04",
    "targeted_patrol+cpted/2": "b5ef9392a237affe117dd6eb82b55ba2b47698b697f6814d9cba38d39f7fec49",
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
