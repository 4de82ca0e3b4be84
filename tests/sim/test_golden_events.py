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
    "baseline/0": "6934f2d580edda6b381875e7cc96c80537ccb26e57e756d126634c5df31585b5",
    "baseline/1": "d1b7642319b6d4fe67ae02fac4adb8155b37428944dbfa1a958858a7e0732e8d",
    "baseline/2": "6f8e3359c8a73a551bca38df9cb9dbb5afa75b03b2c1e638a176c1bfa9869591",
    "targeted_patrol/0": "3a0366de6783e1fbe69ae3fa183dfaf4da047193a5a5b6c126f14e9c4f167f7c",
    "targeted_patrol/1": "69a64ae7a777c78f5e9d16715fea04082694acf5ce1de52e1d8ffe3787555d50",
    "targeted_patrol/2": "489b5c1e7d7b6acb9e3d635d0f3092c94c04432bc21db355009729da4687e440",
    "cpted/0": "605709a17983cae17557f1fc40875b9734e1a7fb947998d9ff978714c2554ea9",
    "cpted/1": "7f936f6f14ebcabb6ffa8c2d4faf2841eb373f5db75a10a07969a176733ba3e1",
    "cpted/2": "3a85652c6ddf400c9ae20b47a9a14a9e271017fcfeab33b611d0a3799ccae708",
    "community_meetings/0": "137e23eca19debd7ad54749b57fb90c088077331b50d96fb1418fb50ff39fed2",
    "community_meetings/1": "10f9d0e3ca320d1f54d97f1135ac1b5444c10be42e26c7eb5c9b9b8a6b584ea2",
    "community_meetings/2": "09ed2fd1f7c34b17bfe5c6c4cfb70d71604f47717e79ac3e80c33b42834884e5",
    "targeted_patrol+cpted/0": "4082dfbee97f3d5fe91021ead8972477b88712d52846d99f0400d8fb90079610",
    "targeted_patrol+cpted/1": "4092ce26c161901e20be97b7545d0135600a3a2ff9c9b7b5f29b5f99e2d7a4fd",
    "targeted_patrol+cpted/2": "1fac49799d10fa33f5dfdd296e078cc02566e0626e8bf346d79716a5bbe5c006",
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
