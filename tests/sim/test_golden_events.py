"""Event logs pinned by hash: a refactoring must leave every run's events byte for byte the same.

The hashes were taken before the strategy contract (issue 10) moved offending, policing and the
strategies' access to the model into their own modules, from the code of commit b509645. A change
that is meant to alter behaviour updates them in the same commit and says why; any other change
that moves one is a bug.
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
    "baseline/0": "42f0622481da67711b9eb62228a780d129dedefdddfb9837be071068802600c4",
    "baseline/1": "32279d96c28e580f89e05563c458dea7434ef138471d9ec07f1703d9fd92f1ff",
    "baseline/2": "cb044305d7ca6edca01862e88e3c560bcc89eb01e294dc7b7e21004973061b22",
    "targeted_patrol/0": "65664169791c7e2c030b1715c74e2a17b77bfd9f54bdcf0edcf1031e0cad0309",
    "targeted_patrol/1": "cfc82ac8e63a5cc05cf94aaa9d46ae3a2dcf16724eabb26deaf7573a6bdb4713",
    "targeted_patrol/2": "a9a288fa6107f9c39c74fdc42b759d5e46ed033acb844447943484e7f304e682",
    "cpted/0": "c23e3a08f2a032d4457cbb2fb0d2b816cc86c26383a5138c503e8e33d7bccb2f",
    "cpted/1": "4f1715e03036b6bb19c4739760905f898379ebfd23cd31c48a3fad8fd6f0223d",
    "cpted/2": "7d13524d5904e21023673557f754f84d62092bacb9ab00900ac62b50719dd76d",
    "community_meetings/0": "b432957db3b9002fc8bb0d097058b09b78e363373c41962a884b7f83f2097c62",
    "community_meetings/1": "ac9ec8f461f2d0ea7224c02d0a94f2eb2f3cf07566a9ecf2898d551555beab4c",
    "community_meetings/2": "f63ca7742f80516cf188b5582391d5280a150539dba5325664193f317687cd1d",
    "targeted_patrol+cpted/0": "3e6fdeacb8207f0d629189a8070ae091b2f23df352f44c8fa1bd965275378aec",
    "targeted_patrol+cpted/1": "393e7dc47393ccf6cad3e46de2c77538ea90b0b8789e31f21eb2ddd9c237f50f",
    "targeted_patrol+cpted/2": "986db6e469341f2e182d564614351037522b826c4e34af1953aa71b50c91572c",
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
