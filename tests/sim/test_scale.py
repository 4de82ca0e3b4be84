"""City scale: head-counts follow the city (or the config), and the run says which it used."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.config import ModelConfig
from sim.errors import ConfigError
from sim.model import PrecinctModel
from sim.network import load_network
from sim.scale import resolve_headcounts
from tests.conftest import DEFAULT_CITY, FIXTURE_CITY, SHARED_OSM


@pytest.fixture(scope="module")
def london():  # type: ignore[no-untyped-def]
    return load_network(DEFAULT_CITY, network_type="walk")


def test_the_default_city_keeps_its_calibrated_head_counts(london) -> None:
    counts = resolve_headcounts(ModelConfig(), london)
    assert abs(counts.n_residents - 3000) <= 5 and counts.n_offenders == 100
    assert (counts.foot_per_shift, counts.cars_per_shift) == (8, 2)
    assert counts.sources["n_residents"] == "30.6 per km of street"


def test_head_counts_scale_with_the_streets(london) -> None:
    path = SHARED_OSM / "portland_central.osm.bz2"
    if not path.exists():
        pytest.skip(f"{path} absent (../shared data exists in CI and on developer machines only)")
    portland = load_network(path, network_type="walk")
    small, big = resolve_headcounts(ModelConfig(), london), resolve_headcounts(ModelConfig(), portland)
    ratio = portland.segment_length_m.sum() / london.segment_length_m.sum()  # about 8.3
    assert big.n_residents / small.n_residents == pytest.approx(ratio, rel=0.01)
    assert big.n_officers / small.n_officers == pytest.approx(ratio, rel=0.15)
    assert big.cars_per_shift > small.cars_per_shift


def test_residents_are_counted_by_building_where_homes_are_mapped(london) -> None:
    # the City maps 137 residential buildings on 98 km (too few to count people by): street length
    assert london.places_found["residential"] / (london.segment_length_m.sum() / 1000) < 10
    # the same streets with 30 homes mapped per segment: people are counted by building
    k = london.place_kinds.index("residential")
    counts = london.segment_place_counts.copy()
    counts[:, k] = 30
    found = dict(london.places_found, residential=int(counts[:, k].sum()))
    mapped = dataclasses.replace(london, segment_place_counts=counts, places_found=found)
    heads = resolve_headcounts(ModelConfig(), mapped)
    assert heads.n_residents == round(2.4 * 30 * london.n_segments)
    assert heads.sources["n_residents"] == f"2.4 per residential building ({30 * london.n_segments:,} mapped)"
    assert heads.n_offenders == round(heads.n_residents / 30)


def test_given_head_counts_win_and_are_labelled(london) -> None:
    cfg = ModelConfig()
    cfg.population.n_residents, cfg.population.n_offenders = 1234, 7
    cfg.police.foot_per_shift, cfg.police.cars_per_shift = 3, 5
    counts = resolve_headcounts(cfg, london)
    assert (counts.n_residents, counts.n_offenders, counts.foot_per_shift, counts.cars_per_shift) == (
        1234,
        7,
        3,
        5,
    )
    assert "1,234 residents (given)" in counts.describe() and "given per shift" in counts.describe()
    cfg.police.n_officers, cfg.police.mode = 6, "car"  # the single-mode form wins
    counts = resolve_headcounts(cfg, london)
    assert (counts.foot_per_shift, counts.cars_per_shift) == (0, 6)
    car_force = ModelConfig()
    car_force.police.mode = "car"  # police=car with scaled numbers: the same posts, all in cars
    counts = resolve_headcounts(car_force, london)
    assert (counts.foot_per_shift, counts.cars_per_shift) == (0, 10)


def test_the_model_runs_foot_and_cars_and_records_the_numbers_used(london) -> None:
    cfg = ModelConfig(seed=1)
    cfg.sim.days = 0.5
    model = PrecinctModel(cfg, network=london, mesa_agents=False)
    of = model.officers
    assert of.n == 10 and of.in_car.sum() == 2
    np.testing.assert_array_equal(of.speed_mps, np.where(of.in_car, 7.0, 1.4))
    result = model.run()
    assert result.config.population.n_residents == model.residents.n
    assert result.config.police.foot_per_shift == 8 and result.config.police.cars_per_shift == 2
    assert result.config.city.name == "City of London"
    assert "2 response cars per shift" in result.extra["headcounts"]


def test_another_extract_takes_its_name_from_the_file() -> None:
    cfg = ModelConfig(seed=0)
    cfg.city.path, cfg.city.network_type = str(FIXTURE_CITY), "drive"
    cfg.sim.days = 0.25
    model = PrecinctModel(cfg, mesa_agents=False)
    assert model.config.city.name == "west_oakland"
    assert model.residents.n == round(model.headcounts.street_km * 30.6)


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("population", "n_residents", 0),
        ("population", "n_offenders", -1),
        ("population", "residents_per_street_km", 0.0),
        ("police", "foot_per_shift", 2.5),
        ("police", "n_officers", 0),
    ],
)
def test_bad_head_counts_are_named(section: str, key: str, value: object) -> None:
    cfg = ModelConfig()
    setattr(getattr(cfg, section), key, value)
    with pytest.raises(ConfigError, match=rf"{section}\.{key}"):
        cfg.validate()


def test_no_officer_at_all_is_an_error() -> None:
    cfg = ModelConfig()
    cfg.police.foot_per_shift, cfg.police.cars_per_shift = 0, 0
    with pytest.raises(ConfigError, match="at least one officer"):
        cfg.validate()
