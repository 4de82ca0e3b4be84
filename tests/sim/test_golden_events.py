"""Event logs pinned by hash: a refactoring must leave every run's events byte for byte the same.

The strategy contract (issue 10) moved offending, policing and the strategies' access to the model
into their own modules and left these hashes as they were at commit b509645. They changed twice
since, on purpose, each time in the commit that made the change: offenders go out around the clock
on an hour-of-day x weekday schedule (no idle 02:00-10:00 window); and the 2-minute pauses of random
patrol no longer count as stops that make offenders give a place up (docs/model.md). A change that is meant to alter
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
    "baseline/0": "1baac21f8ce8b7c9de5010f7e387c13ca7dd48cd3254c237d7f814f7026774f0",
    "baseline/1": "a49003e3696e8f7a92af19accd7280c7b045cf44432ef7ed795e34948d20ef2e",
    "baseline/2": "b07fb6323572bfac5017eaccb69b6d137c7ba6afa38c326adf10a4b65cc8fe45",
    "targeted_patrol/0": "cbd561f36012898182442fae88b85c9deb585251203bc3050dc36fa4975d734f",
    "targeted_patrol/1": "2623d73c4c05c3d0aa77a035c1da5f5a5fd211ef5d33cadc1b04a33af0059fce",
    "targeted_patrol/2": "dfcc3cd52372008b1c2ff8b330f9756325fda1425e38efca330a39496c9254e5",
    "cpted/0": "be524a7a89db210130b81c9ee4e28ca065b182ba287ab4e35c9a864a3c17f350",
    "cpted/1": "9a0b7eef604d5648fd501ee372710cd8678f21beb4992e26492fb6024b841821",
    "cpted/2": "61aeb265c46670544efb017d2c399ed13cf5a1761a9f52721436cef00248f3c2",
    "community_meetings/0": "e8e95bebebf381b756eb87fcadabe2e56152e389afd26827344b171160569ad4",
    "community_meetings/1": "12dbf33533f157148399d0f06d5c50932c63b9239c4c263b77231a2caa9e9dcf",
    "community_meetings/2": "1b644f648ce697f38d27c96ae4d2fc8fb451dbb4f495cdc46011594d074e7c9a",
    "targeted_patrol+cpted/0": "da1b2b3cc8607c6511d33b2d1a72f6e678c7b924c4a437188d08abd6f0f8e44a",
    "targeted_patrol+cpted/1": "01ecf0fa6f9895827b3961363546755a325282b6ce2c462f81521beae4437b26",
    "targeted_patrol+cpted/2": "d667e40c375e3d7ff57f9dd507cef427e592eff867710708eab7f6101f465b6b",
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
