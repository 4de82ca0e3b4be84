"""The ten offence types: each where its mechanism puts it, at its hours, with the victims it has.

Directions from the evidence cited in docs/model.md ("Offences"): shoplifting only where shops are
and when they are open; violence around bars and clubs and late at night (the night-time economy);
theft from the person where crowds gather, not held back by the crowd; homes and outings follow the
city's mapped places (Brantingham & Brantingham 1995; Bernasco & Block 2011).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from sim.config import ModelConfig
from sim.crime import Opportunity, PlaceTargets, crime_hazards
from sim.errors import ConfigError
from sim.landuse import LandUse
from sim.model import PrecinctModel, run_simulation
from sim.network import load_network
from sim.offences import CRIME_TYPES, OFFENCES
from tests.conftest import DEFAULT_CITY, FIXTURE_CITY


@pytest.fixture(scope="module")
def city():  # type: ignore[no-untyped-def]
    return load_network(DEFAULT_CITY, network_type="walk")


@pytest.fixture(scope="module")
def crimes(city) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    out = []
    for seed in range(4):
        cfg = ModelConfig(seed=seed)
        cfg.sim.days = 7
        ev = run_simulation(cfg, network=city).events
        out.append(ev[ev["kind"] == "crime"])
    return pd.concat(out, ignore_index=True)


def _hazards(n_seg: int, **over: object) -> np.ndarray:
    """Hazards of every type on ``n_seg`` identical segments, with the given per-segment overrides."""
    z = np.zeros(n_seg)
    opp = Opportunity(
        people_in_public=np.asarray(over.get("public", np.full(n_seg, 3)), np.int64),
        homes_empty=np.full(n_seg, 2, np.int64),
        homes_occupied=np.full(n_seg, 2, np.int64),
        vehicles=np.full(n_seg, 2, np.int64),
    )
    land = LandUse(
        retail=np.asarray(over.get("retail", z), float), food=z, nightlife=np.asarray(over.get("nightlife", z), float),
        transit=z, parking=z, school=z, atm=z, community=z, residential=z, source="test",
    )  # fmt: skip
    places = PlaceTargets.from_land_use(land, np.full(n_seg, 4, np.int64))
    one = np.ones(n_seg)
    return crime_hazards(
        np.arange(n_seg), opp, places, base_rate_per_hour=1.0, type_weight=np.ones(len(CRIME_TYPES)),
        generator_strength=2.0, attractiveness=one, guardian_strength=np.asarray(over.get("g", 0.15 * one)),
        deterrence=z, dark_street=one, dark_other=one,
    )  # fmt: skip


def test_shoplifting_needs_a_shop_and_more_shops_tempt_more() -> None:
    haz = _hazards(3, retail=[0.0, 1.0, 5.0])
    k = CRIME_TYPES.index("shoplifting")
    assert haz[0, k] == 0.0 and 0.0 < haz[1, k] < haz[2, k]


def test_bars_generate_violence_but_not_burglary() -> None:
    haz = _hazards(2, nightlife=[0.0, 4.0])
    v, b = CRIME_TYPES.index("violence"), CRIME_TYPES.index("burglary")
    assert haz[1, v] > 2.0 * haz[0, v]  # up to 1 + generator_strength where bars stand
    assert haz[1, b] == pytest.approx(haz[0, b])


def test_a_crowd_guards_against_robbery_but_shields_the_pickpocket() -> None:
    haz = _hazards(2, public=[2, 12])
    rob, tfp = CRIME_TYPES.index("robbery"), CRIME_TYPES.index("theft_from_person")
    assert haz[1, rob] < haz[0, rob]  # more guardians
    assert haz[1, tfp] > haz[0, tfp]  # more targets, no guardians in a crowd


def test_every_type_happens_in_the_default_city(crimes: pd.DataFrame) -> None:
    counts = crimes["crime_type"].value_counts()
    # vehicle theft is rare in the City's records (weight 0.003), so it is the one allowed to miss
    assert set(CRIME_TYPES) - {"vehicle_theft"} <= set(counts.index), counts.to_dict()


def test_shoplifting_waits_for_the_shops_to_open(crimes: pd.DataFrame) -> None:
    hour = (crimes["time_min"] // 60 % 24).astype(int)
    shop = hour[crimes["crime_type"] == "shoplifting"]
    assert shop.size >= 20
    night = lambda h: float(np.mean((h >= 23) | (h < 6)))  # noqa: E731
    assert night(shop) < 0.05 and night(shop) < 0.5 * night(hour)


def test_violence_follows_the_night_time_economy(city, crimes: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    hour = (crimes["time_min"] // 60 % 24).astype(int)
    late = (hour >= 21) | (hour < 3)
    violence = crimes["crime_type"] == "violence"
    assert late[violence].mean() > late[~violence].mean() + 0.1
    land = LandUse.from_network(city)
    at_bar = land.nightlife[crimes["segment"].to_numpy()] > 0
    share_bars = float(np.mean(land.nightlife > 0))
    # violence falls on bar segments far beyond their share of segments, and more than other crime
    assert at_bar[violence.to_numpy()].mean() > 2.0 * share_bars
    assert at_bar[violence.to_numpy()].mean() > at_bar[~violence.to_numpy()].mean()


def test_violence_peaks_on_friday_and_saturday_and_shops_close_early_on_sunday(crimes: pd.DataFrame) -> None:
    weekday = (crimes["time_min"] // 1440 % 7).astype(int)  # the runs start on a Monday
    violence, shop = crimes["crime_type"] == "violence", crimes["crime_type"] == "shoplifting"
    weekend_nights = weekday.isin([4, 5])
    assert weekend_nights[violence].mean() > weekend_nights[~violence & ~shop].mean() + 0.05
    sunday = weekday == 6
    assert sunday[shop].mean() < sunday[~violence & ~shop].mean()


def test_victims_match_the_offence(crimes: pd.DataFrame) -> None:
    victim = crimes["victim_id"].to_numpy()
    ctype = crimes["crime_type"].to_numpy()
    assert (victim[ctype == "shoplifting"] == -1).all()  # a shop's loss, no resident victim
    # a burglary is of a home whose resident is out, or of shut premises (no resident victim)
    hour = np.asarray(crimes["time_min"] // 60 % 24, dtype=int)
    home, shut = (ctype == "burglary") & (victim >= 0), (ctype == "burglary") & (victim < 0)
    assert home.sum() > 0 and shut.sum() > 0
    assert np.mean((hour[home] >= 8) & (hour[home] < 18)) > 0.6  # homes empty in the working day
    assert np.mean((hour[shut] >= 20) | (hour[shut] < 8)) > 0.6  # premises shut at night
    assert (victim[np.isin(ctype, ["robbery", "theft_from_person", "violence"])] >= 0).all()


def test_recorded_mix_is_near_the_citys_records(crimes: pd.DataFrame) -> None:
    """The default weights were set on the City's fit year (experiments/tune_offence_mix.py)."""
    target = {"robbery": 0.02, "burglary": 0.052, "theft_from_vehicle": 0.016, "theft_from_person": 0.203,
              "shoplifting": 0.141, "violence": 0.22, "criminal_damage": 0.048, "vehicle_theft": 0.007,
              "bicycle_theft": 0.037, "other_theft": 0.256}  # fmt: skip
    counts = crimes["crime_type"].value_counts()
    expected = np.array([counts.get(k, 0) * OFFENCES[k].report_base for k in CRIME_TYPES], float)
    sim = expected / expected.sum()
    tv = 0.5 * np.abs(sim - np.array([target[k] for k in CRIME_TYPES])).sum()
    assert tv < 0.15, dict(zip(CRIME_TYPES, sim.round(3), strict=True))


def test_homes_and_outings_follow_the_mapped_places(city) -> None:  # type: ignore[no-untyped-def]
    cfg = ModelConfig(seed=0)
    model = PrecinctModel(cfg, network=city, mesa_agents=False)
    land = model.land
    assert land.source == "mapped"
    r = model.residents
    length_share = lambda mask: float(city.segment_length_m[mask].sum() / city.segment_length_m.sum())  # noqa: E731
    homes_on_buildings = float(np.mean(land.residential[r.home_segment] > 0))
    assert homes_on_buildings > 0.6 > 3 * length_share(land.residential > 0)
    venues = (land.retail + land.food + land.nightlife + land.community) > 0
    assert float(np.mean(venues[r.leisure_segment])) == 1.0


def test_a_street_only_extract_falls_back_on_street_class() -> None:
    # the fixture's streets without its places: what a filtered, street-only extract gives
    mapped = load_network(FIXTURE_CITY)
    net = dataclasses.replace(mapped, segment_place_counts=np.zeros_like(mapped.segment_place_counts),
                              places_found=dict.fromkeys(mapped.places_found, 0))  # fmt: skip
    land = LandUse.from_network(net)
    assert land.source == "street class"
    assert land.retail.sum() > 0 and np.all(land.leisure_weights() >= 0)
    cfg = ModelConfig(seed=0)
    cfg.city.path = str(FIXTURE_CITY)
    cfg.city.network_type = "drive"
    cfg.sim.days = 1
    cfg.population.n_residents, cfg.population.n_offenders, cfg.police.n_officers = 200, 10, 1
    result = run_simulation(cfg, network=net)
    assert result.metrics["days"] == 1.0


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("type_weight", {"arson": 1.0}, r"crime\.type_weight\.arson"),
        ("type_weight", {"violence": -1.0}, r"crime\.type_weight\.violence"),
        ("report_base", {"shoplifting": 1.5}, r"crime\.report_base\.shoplifting"),
        ("type_by_weekday", {"violence": [1.0] * 6}, r"crime\.type_by_weekday\.violence"),
    ],
)
def test_bad_offence_settings_name_the_key(field: str, value: dict[str, float], match: str) -> None:
    cfg = ModelConfig()
    setattr(cfg.crime, field, value)
    with pytest.raises(ConfigError, match=match):
        cfg.validate()


def reference_crime_hazards(
    s: np.ndarray, opp: Opportunity, places: PlaceTargets, *, base_rate_per_hour: float, type_weight: np.ndarray,
    generator_strength: float, attractiveness: np.ndarray, guardian_strength: np.ndarray, deterrence: np.ndarray,
    dark_street: np.ndarray, dark_other: np.ndarray, premises_shut: float, extra_guardians: np.ndarray | None,
) -> np.ndarray:  # fmt: skip
    """One type at a time, as crime_hazards computed them before it stacked the types."""
    public = opp.people_in_public[s].astype(np.float64)
    empty = opp.homes_empty[s].astype(np.float64)
    occupied = opp.homes_occupied[s].astype(np.float64)
    vehicles = opp.vehicles[s].astype(np.float64) + places.vehicles[s]
    homes = empty + occupied
    g = guardian_strength[s]
    common = base_rate_per_hour * attractiveness[s] * (1.0 - deterrence)
    dark = {"street": dark_street[s], "other": dark_other[s], "none": 1.0}
    none = np.zeros_like(public)
    others = np.maximum(public - 1.0, 0.0)
    terms = {
        "robbery": (public, others),
        "burglary": (empty + premises_shut * places.premises[s], occupied + public),
        "theft_from_vehicle": (vehicles, public),
        "theft_from_person": (public, none),
        "shoplifting": (places.shops[s], none),
        "violence": (public, none),
        "criminal_damage": (homes + vehicles + places.premises[s], public),
        "vehicle_theft": (vehicles, public),
        "bicycle_theft": (places.bicycles[s], public),
        "other_theft": (public + places.unattended[s], none),
    }
    out = np.empty((s.size, len(CRIME_TYPES)))
    for k, ctype in enumerate(CRIME_TYPES):
        n, guardians = terms[ctype]
        if extra_guardians is not None and guardians is not none:
            guardians = guardians + extra_guardians[s]
        gen = places.generators.get(ctype)
        boost = 1.0 + generator_strength * gen[s] if gen is not None else 1.0
        out[:, k] = (type_weight[k] * common * n / (1.0 + n) * boost * np.exp(-g * guardians)
                     * dark[OFFENCES[ctype].dark])  # fmt: skip
    return out


@pytest.mark.parametrize("watchers", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hazards_of_all_types_at_once_are_the_per_type_numbers(seed: int, watchers: bool) -> None:
    rng = np.random.default_rng(seed)
    n_seg, n_off = 50, 17
    opp = Opportunity(*(rng.integers(0, 9, n_seg) for _ in range(4)))
    land = LandUse(*(rng.uniform(0, 3, n_seg) * (rng.random(n_seg) < 0.5) for _ in range(9)), source="test")
    places = PlaceTargets.from_land_use(land, rng.integers(0, 30, n_seg))
    kw = dict(
        base_rate_per_hour=0.03, type_weight=rng.uniform(0.1, 2, len(CRIME_TYPES)), generator_strength=1.7,
        attractiveness=rng.uniform(0.2, 3, n_seg), guardian_strength=rng.uniform(0, 0.4, n_seg),
        dark_street=rng.choice([1.0, 1.4], n_seg), dark_other=rng.choice([1.0, 1.2], n_seg), premises_shut=0.35,
        extra_guardians=rng.uniform(0, 2, n_seg) if watchers else None,
    )  # fmt: skip
    s = rng.integers(0, n_seg, n_off)
    deterrence = rng.uniform(0, 0.9, n_off)
    got = crime_hazards(s, opp, places, deterrence=deterrence, **kw)  # type: ignore[arg-type]
    np.testing.assert_array_equal(got, reference_crime_hazards(s, opp, places, deterrence=deterrence, **kw))  # type: ignore[arg-type]
    assert got.flags.c_contiguous


def reference_search_segments(o, who, attractiveness, gated, u, power):  # type: ignore[no-untyped-def]
    """One offender at a time, as the search choice was written before it was done in one pass."""
    out = np.empty(who.size, dtype=np.int64)
    for k, i in enumerate(who):
        a, b = o.aware_indptr[i], o.aware_indptr[i + 1]
        segs = o.aware_segment[a:b]
        w = o.aware_weight[a:b] * attractiveness[segs] ** power
        w[gated[segs]] = 0.0
        total = w.sum()
        if total <= 0:
            out[k] = o.home_segment[i]
            continue
        cum = np.cumsum(w)
        out[k] = segs[min(int(np.searchsorted(cum, u[k] * total, side="right")), segs.size - 1)]
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_search_choice_in_one_pass_is_the_choice_one_at_a_time(seed: int) -> None:
    """Every offender's chosen street equals the one-at-a-time choice: gated streets, draws near 0 and 1."""
    cfg = ModelConfig(seed=seed)
    cfg.population.n_residents, cfg.population.n_offenders = 300, 60
    model = PrecinctModel(cfg, network=load_network(DEFAULT_CITY), mesa_agents=False)
    o = model.offenders
    rng = np.random.default_rng(seed)
    n_seg = model.network.n_segments
    gated = rng.random(n_seg) < 0.3
    gated[o.aware_segment[o.aware_indptr[0] : o.aware_indptr[1]]] = True  # offender 0: nowhere to go
    attractiveness = rng.uniform(0.05, 4.0, n_seg)
    who = np.sort(rng.choice(o.n, 40, replace=False))
    who[0] = 0
    u = rng.random(who.size)
    u[1], u[2] = 0.0, np.nextafter(1.0, 0.0)
    for power in (0.5, 1.0, 2.3):
        got = o.choose_search_segments(who, attractiveness, gated, u, power)
        np.testing.assert_array_equal(got, reference_search_segments(o, who, attractiveness, gated, u, power))
    assert got[0] == o.home_segment[0]
    assert o.choose_search_segments(who[:0], attractiveness, gated, u[:0]).size == 0
