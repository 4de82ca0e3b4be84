"""Registration, Hydra schemas and misconfiguration: a bad policy setting fails at start, clearly."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from sim.config import ModelConfig
from sim.errors import ConfigError
from sim.model import PrecinctModel
from sim.policies import (
    CommunityMeetingsConfig,
    CptedConfig,
    TargetedPatrolConfig,
    build_policies,
    policy_registry,
)
from tests.policies.conftest import small_config

POLICIES = (
    "baseline",
    "community_meetings",
    "cpted",
    "neighbourhood_watch",
    "problem_solving",
    "targeted_patrol",
)


def test_every_policy_is_registered_with_a_valid_default_config() -> None:
    registry = policy_registry()
    assert set(POLICIES) <= set(registry)
    for name in POLICIES:
        cfg = registry[name]()
        cfg.validate()
        (policy,) = build_policies({name: {}})
        assert policy.name == name


@pytest.mark.parametrize("name", POLICIES)
def test_config_schemas_are_hydra_structured_configs(name: str) -> None:
    omegaconf = pytest.importorskip("omegaconf")
    cls = policy_registry()[name]
    node = omegaconf.OmegaConf.structured(cls)
    # round trip: what Hydra composes builds the same dataclass
    back = omegaconf.OmegaConf.to_object(node)
    assert back == cls()
    for f in dataclasses.fields(cls):
        assert f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


def test_unknown_policy_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="targeted_patrol") as info:
        build_policies({"hotspot_patrol": {}})
    assert info.value.key == "policy"
    for name in POLICIES:
        assert name in str(info.value)


def test_unknown_policy_key_is_named() -> None:
    with pytest.raises(ConfigError, match=r"policy\.targeted_patrol\.dwell"):
        build_policies({"targeted_patrol": {"dwell": 15}})


@pytest.mark.parametrize(
    ("name", "params", "key"),
    [
        ("targeted_patrol", {"dwell_min": -5.0}, "policy.targeted_patrol.dwell_min"),
        ("baseline", {"use_beats": 1}, "policy.baseline.use_beats"),
        ("targeted_patrol", {"top_k": 0}, "policy.targeted_patrol.top_k"),
        ("targeted_patrol", {"source": "oracle"}, "policy.targeted_patrol.source"),
        ("targeted_patrol", {"kde": "raster"}, "policy.targeted_patrol.kde"),
        ("targeted_patrol", {"revisit_min": 0.0}, "policy.targeted_patrol.revisit_min"),
        ("targeted_patrol", {"peak_hours": [25]}, "policy.targeted_patrol.peak_hours"),
        ("cpted", {"lighting_cost_capital": -100.0}, "policy.cpted.lighting_cost_capital"),
        ("cpted", {"gating_cost_per_day": -1.0}, "policy.cpted.gating_cost_per_day"),
        ("cpted", {"targets": "everywhere"}, "policy.cpted.targets"),
        ("cpted", {"targets": "way_ids"}, "policy.cpted.way_ids"),
        ("cpted", {"maintenance_factor": 1.5}, "policy.cpted.maintenance_factor"),
        ("cpted", {"lighting": False, "gating": False, "maintenance": False, "surveillance": False},
         "policy.cpted.lighting"),
        ("community_meetings", {"officers_per_meeting": 0}, "policy.community_meetings.officers_per_meeting"),
        ("community_meetings", {"duration_min": -90.0}, "policy.community_meetings.duration_min"),
        ("community_meetings", {"cost_per_meeting": -1.0}, "policy.community_meetings.cost_per_meeting"),
        ("community_meetings", {"venues": "pubs"}, "policy.community_meetings.venues"),
        ("community_meetings", {"attend_prob": 2.0}, "policy.community_meetings.attend_prob"),
        ("neighbourhood_watch", {"areas_from": "hotspots"}, "policy.neighbourhood_watch.areas_from"),
        ("neighbourhood_watch", {"areas_from": "area_ids"}, "policy.neighbourhood_watch.area_ids"),
        ("neighbourhood_watch", {"areas_from": "polygon"}, "policy.neighbourhood_watch.polygon_path"),
        ("neighbourhood_watch", {"uptake": 1.5}, "policy.neighbourhood_watch.uptake"),
        ("neighbourhood_watch", {"watch_reach_m": 0.0}, "policy.neighbourhood_watch.watch_reach_m"),
        ("neighbourhood_watch", {"reporting_gain": -0.1}, "policy.neighbourhood_watch.reporting_gain"),
        ("neighbourhood_watch", {"n_areas": 0}, "policy.neighbourhood_watch.n_areas"),
        ("neighbourhood_watch", {"signage_cost_capital": -1.0}, "policy.neighbourhood_watch.signage_cost_capital"),
        ("neighbourhood_watch", {"coordinator_hour": 24.0}, "policy.neighbourhood_watch.coordinator_hour"),
        ("problem_solving", {"team_officers": 0}, "policy.problem_solving.team_officers"),
        ("problem_solving", {"min_problem_crimes": 0}, "policy.problem_solving.min_problem_crimes"),
        ("problem_solving", {"peak_window_hours": 25}, "policy.problem_solving.peak_window_hours"),
        ("problem_solving", {"place_radius_m": -1.0}, "policy.problem_solving.place_radius_m"),
        ("problem_solving", {"cleanup_factor": 1.2}, "policy.problem_solving.cleanup_factor"),
        ("problem_solving", {"success_threshold": 1.0}, "policy.problem_solving.success_threshold"),
        ("problem_solving", {"partner_hour_cost": -5.0}, "policy.problem_solving.partner_hour_cost"),
        ("problem_solving", {"respond_lighting": False, "respond_cleanup": False, "respond_place_manager": False,
                             "respond_patrol": False}, "policy.problem_solving.respond_patrol"),
    ],
)  # fmt: skip
def test_bad_values_fail_validation_with_their_key(name: str, params: dict, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_policies({name: params})
    assert info.value.key == key
    assert key in str(info.value)


def test_negative_officer_budget_fails_at_start() -> None:
    cfg = ModelConfig(policies={"targeted_patrol": {}})
    cfg.police.budget_hours_per_day = -24.0
    with pytest.raises(ConfigError, match=r"police\.budget_hours_per_day"):
        PrecinctModel(cfg, mesa_agents=False)


def test_cpted_way_ids_not_in_the_network(city) -> None:
    real = int(city.edge_osm_way_id[0])
    cfg = small_config({"cpted": {"targets": "way_ids", "way_ids": [real, 1, 2]}})
    with pytest.raises(ConfigError) as info:
        PrecinctModel(cfg, network=city, mesa_agents=False)
    err = info.value
    assert err.key == "policy.cpted.way_ids"
    assert err.value == [1, 2]
    assert "e.g." in err.allowed  # names some ways that do exist


def _square(path: Path, lon: float, lat: float, half_deg: float) -> str:
    ring = [[lon - half_deg, lat - half_deg], [lon + half_deg, lat - half_deg], [lon + half_deg, lat + half_deg],
            [lon - half_deg, lat + half_deg], [lon - half_deg, lat - half_deg]]  # fmt: skip
    feature = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return str(path)


def test_cpted_polygon_outside_the_city(city, tmp_path: Path) -> None:
    portland = _square(tmp_path / "portland.geojson", -122.68, 45.52, 0.01)
    cfg = small_config({"cpted": {"targets": "polygon", "polygon_path": portland}})
    with pytest.raises(ConfigError, match="lon, lat") as info:
        PrecinctModel(cfg, network=city, mesa_agents=False)
    assert info.value.key == "policy.cpted.polygon_path"
    # lat/lon swapped is the classic mistake: it lands in the Indian Ocean, outside the city too
    lon, lat = city.node_lonlat.mean(axis=0)
    swapped = _square(tmp_path / "swapped.geojson", lat, lon, 0.003)
    cfg = small_config({"cpted": {"targets": "polygon", "polygon_path": swapped}})
    with pytest.raises(ConfigError, match="polygon_path"):
        PrecinctModel(cfg, network=city, mesa_agents=False)


def test_cpted_polygon_file_must_exist_and_hold_a_polygon(city, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="existing GeoJSON"):
        CptedConfig(targets="polygon", polygon_path=str(tmp_path / "missing.geojson")).validate()
    point = tmp_path / "point.geojson"
    point.write_text(json.dumps({"type": "Point", "coordinates": [-0.1, 51.5]}))
    cfg = small_config({"cpted": {"targets": "polygon", "polygon_path": str(point)}})
    with pytest.raises(ConfigError, match="Polygon"):
        PrecinctModel(cfg, network=city, mesa_agents=False)


def test_cpted_polygon_inside_the_city_selects_its_segments(city, tmp_path: Path) -> None:
    lon, lat = city.node_lonlat.mean(axis=0)
    path = _square(tmp_path / "centre.geojson", lon, lat, 0.002)
    cfg = small_config({"cpted": {"targets": "polygon", "polygon_path": path}})
    model = PrecinctModel(cfg, network=city, mesa_agents=False)
    treated = model.policies[0].target
    mid = city.edge_lonlat(city.segment_edge, city.edge_length_m[city.segment_edge] / 2.0)
    inside = (np.abs(mid[:, 0] - lon) < 0.002) & (np.abs(mid[:, 1] - lat) < 0.002)
    # the projected square is not exactly the lon/lat square: allow the rim to differ
    assert treated.sum() > 10
    assert (treated & inside).sum() >= 0.9 * inside.sum()
    assert (treated & ~inside).sum() <= 0.1 * treated.sum()


def test_watch_polygon_selects_the_residents_inside(city, tmp_path: Path) -> None:
    lon, lat = city.node_lonlat.mean(axis=0)
    path = _square(tmp_path / "centre.geojson", lon, lat, 0.003)
    cfg = small_config(
        {"neighbourhood_watch": {"areas_from": "polygon", "polygon_path": path, "uptake": 1.0}}
    )
    model = PrecinctModel(cfg, network=city, mesa_agents=False)
    watch = model.policies[0]
    mid = city.edge_lonlat(city.segment_edge, city.edge_length_m[city.segment_edge] / 2.0)
    home = mid[model.residents.home_segment]
    inside = (np.abs(home[:, 0] - lon) < 0.003) & (np.abs(home[:, 1] - lat) < 0.003)
    assert watch.in_scheme.sum() > 10 and watch.members.any()
    assert (watch.in_scheme & inside).sum() >= 0.9 * inside.sum()
    assert not watch.members[~watch.in_scheme].any()
    # the polygon must hold homes, and lie in the city (the same reader as CPTED's, naming this key)
    portland = _square(tmp_path / "portland.geojson", -122.68, 45.52, 0.01)
    cfg = small_config({"neighbourhood_watch": {"areas_from": "polygon", "polygon_path": portland}})
    with pytest.raises(ConfigError, match="lon, lat") as info:
        PrecinctModel(cfg, network=city, mesa_agents=False)
    assert info.value.key == "policy.neighbourhood_watch.polygon_path"


def test_more_meeting_officers_than_exist(city) -> None:
    cfg = small_config({"community_meetings": {"officers_per_meeting": 5}})  # 4 officers
    with pytest.raises(ConfigError, match="officers_per_meeting") as info:
        PrecinctModel(cfg, network=city, mesa_agents=False)
    assert "4 officers" in str(info.value)


def test_meeting_venue_ids_not_in_the_network(city) -> None:
    cfg = small_config({"community_meetings": {"venues": "config", "venue_node_ids": [1, 2]}})
    with pytest.raises(ConfigError, match="venue_node_ids"):
        PrecinctModel(cfg, network=city, mesa_agents=False)


def test_more_hot_spots_than_segments(city) -> None:
    cfg = small_config({"targeted_patrol": {"top_k": city.n_segments + 1}})
    with pytest.raises(ConfigError, match="top_k"):
        PrecinctModel(cfg, network=city, mesa_agents=False)


def test_config_dataclasses_take_plain_values() -> None:
    # notebooks build policies without Hydra: dataclass instances are accepted as they are
    specs = {"targeted_patrol": TargetedPatrolConfig(top_k=10), "cpted": CptedConfig(top_k=5),
             "community_meetings": CommunityMeetingsConfig(officers_per_meeting=2)}  # fmt: skip
    built = build_policies(specs)
    assert [p.name for p in built] == ["targeted_patrol", "cpted", "community_meetings"]
