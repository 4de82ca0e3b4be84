"""Event logs pinned by hash: a refactoring must leave every run's events byte for byte the same.

The strategy contract (issue 10) moved offending, policing and the strategies' access to the model
into their own modules and left these hashes as they were at commit b509645. They changed once
since, on purpose: offenders now go out around the clock on an hour-of-day x weekday schedule (no
idle 02:00-10:00 window), in the commit that introduced it. A change that is meant to alter
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
    "baseline/0": "eabc5b03c82ff63920e0249c97d001b3d4fe2373e5ad6b0db184c07c8c219e5a",
    "baseline/1": "0b10d742976429869466d88f7f06c3df1ec344d8136caccb2ec419a44d270851",
    "baseline/2": "1004925afc8a7ccbac806d0539b6aea7650d0d20dc17df374e7299e93114ea9b",
    "targeted_patrol/0": "8b36b045e52cd64664d034435c3cdbe0cc9423c4de672335208b0baf7b89b5dd",
    "targeted_patrol/1": "481409f55adfacfa8af1f8ca7ead8aa5295307172b6c3947398549f03f6d0d4f",
    "targeted_patrol/2": "e270ac81a778194ead259368579b1263aa012008ed33e696499d904b4010f38b",
    "cpted/0": "68655e490336b6803e5e87613e462233a58e2a66a26c6d536d3f065650a141e2",
    "cpted/1": "a304ffa85fad6654d5fbaf1a37d323d5472b6925ec5f21f76a9fd2cdd458ccfb",
    "cpted/2": "09c9fc521a8f99c10218115c6e36675a8f03a395469c916ccbe491c115028e31",
    "community_meetings/0": "4ba9504872b45a56d3639b3319aa45ec8ee3e8e0b21c1dad923033a2dfce1ba7",
    "community_meetings/1": "263f12752d375f0826296110b4aca41e0296104790845d87021e5b48c2e4272f",
    "community_meetings/2": "be1f1f72017dc68d50863cc1c57affdfde61a6214c804834d0eb2501db2e29b0",
    "targeted_patrol+cpted/0": "0c802f8e537b596b37ea45e271f4603a75cfbe84c81b744620ef7a5da4d8dd7d",
    "targeted_patrol+cpted/1": "a6f25421d6ddf1da399a92e3d310583bbbba86bd4701a99d65be1745a595f414",
    "targeted_patrol+cpted/2": "d1a8b108e315450847c0f11750d6f320b481a387394f828a9a38e22cc7431c53",
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
