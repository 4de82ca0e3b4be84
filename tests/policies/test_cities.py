"""Every policy runs on a second, larger city: central Portland from ../shared (slow)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from sim.config import ModelConfig
from sim.model import run_simulation
from sim.network import StreetNetwork, load_network
from tests.conftest import SHARED_OSM

PORTLAND = SHARED_OSM / "portland_central.osm.bz2"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.needs_shared,
    pytest.mark.skipif(
        not PORTLAND.is_file(), reason=f"../shared Portland extract not present at {PORTLAND}"
    ),
]


@pytest.fixture(scope="module")
def portland() -> StreetNetwork:
    # as conf/city/portland.yaml: the drive network of downtown and inner east Portland
    return load_network(PORTLAND, network_type="drive")


def _config(policies: dict) -> ModelConfig:
    cfg = ModelConfig(seed=1, policies=policies)
    cfg.city.path = str(PORTLAND)
    cfg.city.network_type = "drive"
    cfg.police.mode = "car"
    cfg.sim.days = 7.0
    return cfg


CHECKS: dict[str, tuple[dict, Callable[[dict[str, float]], bool]]] = {
    "targeted_patrol": ({"targeted_patrol": {}}, lambda m: m["hotspot_visits"] > 100),
    "cpted": ({"cpted": {}}, lambda m: m["cpted_install_day"] == 1.0 and m["treated_segments"] > 0),
    "community_meetings": ({"community_meetings": {}}, lambda m: m["meetings_held"] >= 8 and m["meeting_attendances"] > 0),
    "all_three": ({"targeted_patrol": {}, "cpted": {}, "community_meetings": {}}, lambda m: m["cost_total"] > 0),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CHECKS))
def test_policy_runs_on_portland(portland: StreetNetwork, name: str) -> None:
    policies, check = CHECKS[name]
    m = run_simulation(_config(policies), network=portland).metrics
    assert m["crimes_total"] > 0
    assert check(m), {k: v for k, v in m.items() if not k.startswith("crimes_")}


def test_cpted_targets_by_way_ids_and_polygon_on_portland(portland: StreetNetwork, tmp_path: Path) -> None:
    ways = sorted({int(w) for w in portland.edge_osm_way_id[:: max(1, portland.n_edges // 30)]})
    m = run_simulation(_config({"cpted": {"targets": "way_ids", "way_ids": ways}}), network=portland).metrics
    assert m["cpted_install_day"] == 0.0 and m["treated_segments"] >= len(ways)
    (lon0, lat0), (lon1, lat1) = portland.node_lonlat.min(axis=0), portland.node_lonlat.max(axis=0)
    west_half = [
        [lon0, lat0],
        [(lon0 + lon1) / 2, lat0],
        [(lon0 + lon1) / 2, lat1],
        [lon0, lat1],
        [lon0, lat0],
    ]
    path = tmp_path / "west.geojson"
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [west_half]}))
    cfg = _config({"cpted": {"targets": "polygon", "polygon_path": str(path)}})
    m = run_simulation(cfg, network=portland).metrics
    assert 0.1 * portland.n_segments < m["treated_segments"] < 0.9 * portland.n_segments
