"""Places read with the network: tag rules, counts against an independent pyosmium pass, snapping, cache."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import osmium
import pyproj
import pytest
from numpy.typing import NDArray

from sim.network import PLACE_KINDS, SNAP_RADIUS_M, StreetNetwork, describe, load_network
from sim.network._places import place_kinds_of, segment_lines, snap_to_segments
from tests.conftest import DEFAULT_CITY, SHARED_OSM, skip_without_shared

# The documented tag rules (docs/model.md, "6. Input data"), written out again so the count below
# does not share code with the loader. None: any value except "no" and "vacant".
RULES: dict[str, dict[str, set[str] | None]] = {
    "shop": {"shop": None},
    "bar": {"amenity": {"bar", "pub", "biergarten"}},
    "nightclub": {"amenity": {"nightclub"}},
    "restaurant": {"amenity": {"restaurant", "fast_food", "cafe"}},
    "station": {
        "railway": {"station", "subway_entrance", "halt"},
        "public_transport": {"station"},
        "amenity": {"bus_station"},
    },
    "stop": {"highway": {"bus_stop"}, "public_transport": {"platform", "stop_position"}},
    "school": {"amenity": {"school", "college", "university", "kindergarten"}},
    "parking": {"amenity": {"parking", "parking_entrance", "bicycle_parking"}},
    "atm": {"amenity": {"atm", "bank"}},
    "community": {
        "amenity": {"community_centre", "place_of_worship", "school", "library", "social_centre"},
        "building": {"school", "church", "mosque", "synagogue", "temple"},
    },
    "police": {"amenity": {"police"}},
    "residential": {
        "building": {
            "residential",
            "apartments",
            "house",
            "terrace",
            "detached",
            "semidetached_house",
            "dormitory",
        }
    },
}
STREETS_ONLY = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
<node id="1" lat="51.5000" lon="-0.1000"/><node id="2" lat="51.5010" lon="-0.1000"/>
<node id="3" lat="51.5010" lon="-0.0985"/><node id="4" lat="51.5000" lon="-0.0985"/>
<node id="5" lat="51.5005" lon="-0.0992"><tag k="highway" v="crossing"/></node>
<way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
<tag k="highway" v="residential"/></way>
<way id="11"><nd ref="2"/><nd ref="5"/><nd ref="4"/><tag k="highway" v="residential"/></way>
</osm>
"""


def kinds(tags: dict[str, str]) -> list[str]:
    """The kinds whose test-side rule ``tags`` satisfy."""
    out = []
    for kind, rule in RULES.items():
        for key, values in rule.items():
            value = tags.get(key)
            if value is not None and (value not in ("no", "vacant") if values is None else value in values):
                out.append(kind)
                break
    return out


def independent_places(path: Path) -> dict[str, list[tuple[float, float]]]:
    """Every place in ``path`` by the rules above: nodes, ways, multipolygons (outer ways' nodes)."""
    places: dict[str, list[tuple[float, float]]] = {k: [] for k in RULES}
    way_nodes: dict[int, list[tuple[float, float]]] = {}
    relations = []
    for obj in osmium.FileProcessor(str(path)).with_locations():
        tags = dict(obj.tags)
        if obj.is_node():
            if obj.location.valid():
                for kind in kinds(tags):
                    places[kind].append((obj.location.lon, obj.location.lat))
        elif obj.is_way():
            refs = [n.ref for n in obj.nodes]
            located = [n for n in obj.nodes if n.location.valid()]
            if len(refs) > 2 and refs[0] == refs[-1] and obj.nodes[-1].location.valid():
                located = located[:-1]  # a closed ring: its first node once
            pts = [(n.lon, n.lat) for n in located]
            way_nodes[obj.id] = pts
            if pts:
                for kind in kinds(tags):
                    places[kind].append(tuple(np.mean(pts, axis=0)))
        elif obj.is_relation() and tags.get("type") == "multipolygon":
            outer = [m.ref for m in obj.members if m.type == "w" and m.role in ("outer", "")]
            relations.append((kinds(tags), outer))
    for found, outer in relations:
        pts = [p for ref in outer for p in way_nodes.get(ref, [])]
        if found and pts:
            for kind in found:
                places[kind].append(tuple(np.mean(pts, axis=0)))
    return places


def projected(net: StreetNetwork, lonlat: list[tuple[float, float]]) -> NDArray[np.float64]:
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
    pts = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
    return np.column_stack(to_xy.transform(pts[:, 0], pts[:, 1]))


def brute_force_distances(net: StreetNetwork, xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """Distance from every point to every segment (its representative edge's polyline), (n, n_segments)."""
    a_list, b_list, owner_list = [], [], []
    for s, e in enumerate(net.segment_edge):
        line = net.geom_xy[net.geom_indptr[e] : net.geom_indptr[e + 1]]
        a_list.append(line[:-1])
        b_list.append(line[1:])
        owner_list.append(np.full(len(line) - 1, s))
    a, b, owner = np.vstack(a_list), np.vstack(b_list), np.concatenate(owner_list)
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    ab = b - a
    ab2 = np.maximum((ab**2).sum(axis=1), 1e-300)
    out = np.empty((xy.shape[0], net.n_segments))
    for i in range(0, xy.shape[0], 100):
        p = xy[i : i + 100, None, :]
        t = np.clip(((p - a) * ab).sum(axis=2) / ab2, 0.0, 1.0)
        d = np.hypot(*(a + t[..., None] * ab - p).transpose(2, 0, 1))
        out[i : i + 100] = np.minimum.reduceat(d, starts, axis=1)
    return out


@pytest.fixture(scope="module")
def city() -> StreetNetwork:
    return load_network(DEFAULT_CITY, network_type="walk")


@pytest.fixture(scope="module")
def city_places() -> dict[str, list[tuple[float, float]]]:
    return independent_places(DEFAULT_CITY)


# ------------------------------------------------------------------------------------ tag rules
@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"shop": "convenience"}, ["shop"]),
        ({"shop": "vacant"}, []),
        ({"amenity": "pub", "building": "house"}, ["bar", "residential"]),
        ({"amenity": "school"}, ["school", "community"]),
        ({"railway": "subway_entrance"}, ["station"]),
        ({"highway": "bus_stop", "public_transport": "platform"}, ["stop"]),
        ({"amenity": "bank"}, ["atm"]),
        ({"amenity": "police", "building": "yes"}, ["police"]),
        ({"building": "yes"}, []),
        ({"highway": "residential"}, []),
    ],
)
def test_tag_rules(tags: dict[str, str], expected: list[str]) -> None:
    assert [PLACE_KINDS[k] for k in place_kinds_of(tags)] == sorted(expected, key=PLACE_KINDS.index)
    assert sorted(kinds(tags)) == sorted(expected)


def test_place_kinds_are_the_documented_ones() -> None:
    assert tuple(RULES) == PLACE_KINDS
    assert StreetNetwork.place_kinds == PLACE_KINDS


# ------------------------------------------------------------------------------- a real city
def test_city_of_london_places_are_plausible(city: StreetNetwork) -> None:
    counts = city.segment_place_counts
    assert counts.shape == (city.n_segments, len(PLACE_KINDS)) and counts.dtype == np.int32
    assert not counts.flags.writeable
    on_streets = dict(zip(PLACE_KINDS, counts.sum(axis=0).tolist(), strict=True))
    assert on_streets["shop"] > 100 and on_streets["bar"] > 20 and on_streets["station"] > 0
    assert on_streets["restaurant"] > 100 and on_streets["residential"] > 20 and on_streets["police"] >= 1
    for kind in PLACE_KINDS:
        assert on_streets[kind] == city.places_found[kind] - city.places_dropped[kind]
        assert city.places_dropped[kind] <= 0.1 * city.places_found[kind]
        col = city.segment_places[kind]
        assert col.shape == (city.n_segments,) and not col.flags.writeable
        np.testing.assert_array_equal(col, counts[:, PLACE_KINDS.index(kind)])
    info = describe(city)
    assert info["places"] == on_streets and info["places_found"] == city.places_found


def test_counts_equal_an_independent_pyosmium_count(
    city: StreetNetwork, city_places: dict[str, list[tuple[float, float]]]
) -> None:
    assert city.places_found == {kind: len(pts) for kind, pts in city_places.items()}


@skip_without_shared()
@pytest.mark.parametrize("name", ["london.osm.pbf", "portland-central-filtered.osm.pbf", "boston.osm.pbf"])
def test_counts_on_published_extracts_equal_an_independent_count(name: str) -> None:
    path = SHARED_OSM / "original" / name
    net = load_network(path, network_type="all", min_nodes=5)
    assert net.places_found == {kind: len(pts) for kind, pts in independent_places(path).items()}
    assert net.segment_place_counts.sum(axis=0).tolist() == [
        net.places_found[k] - net.places_dropped[k] for k in PLACE_KINDS
    ]


def test_places_snap_to_the_nearest_segment_by_brute_force(
    city: StreetNetwork, city_places: dict[str, list[tuple[float, float]]]
) -> None:
    lines = segment_lines(city.geom_indptr, city.geom_xy, city.segment_edge)
    expected = np.zeros((city.n_segments, len(PLACE_KINDS)), dtype=np.int64)
    rng = np.random.default_rng(7)
    for k, kind in enumerate(PLACE_KINDS):
        xy = projected(city, city_places[kind])
        segment, dist = snap_to_segments(lines, xy)
        on = segment >= 0
        np.add.at(expected[:, k], segment[on], 1)
        assert int((~on).sum()) == city.places_dropped[kind]
        # brute force on a sample of each kind: the chosen segment is (one of) the nearest
        sample = rng.choice(xy.shape[0], size=min(40, xy.shape[0]), replace=False)
        brute = brute_force_distances(city, xy[sample])
        nearest = brute.min(axis=1)
        for row, i in enumerate(sample):
            if nearest[row] > SNAP_RADIUS_M:
                assert segment[i] == -1
            else:
                assert segment[i] >= 0
                assert brute[row, segment[i]] == pytest.approx(nearest[row], abs=1e-6)
                assert dist[i] == pytest.approx(nearest[row], abs=1e-6)
                assert segment[i] == np.flatnonzero(brute[row] <= nearest[row] + 1e-6)[0]
    np.testing.assert_array_equal(city.segment_place_counts, expected)


def test_police_and_community_node_pois_are_unchanged(city: StreetNetwork) -> None:
    """The node-snapped POIs the model uses keep their own arrays (the model does not use places yet)."""
    assert set(city.pois) == {"police", "community"}
    assert city.poi_police.dtype == np.int64 and city.poi_community.size >= 10


# ------------------------------------------------------------------------------- no places
def test_street_only_extract_has_no_places_and_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "streets.osm"
    path.write_text(STREETS_ONLY)
    for attempt in ("build", "cache"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="precinct"):
            net = load_network(path, cache_dir=tmp_path / "cache", min_nodes=2)
        assert net.stats["from_cache"] is (attempt == "cache")
        assert net.segment_place_counts.shape == (net.n_segments, len(PLACE_KINDS))
        assert int(net.segment_place_counts.sum()) == 0 and not any(net.places_found.values())
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1
        message = warnings[0].getMessage()
        assert str(path) in message and "fall back on street class" in message and "\n" not in message


def test_city_with_places_does_not_warn(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="precinct"):
        load_network(DEFAULT_CITY, network_type="walk")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@skip_without_shared()
@pytest.mark.parametrize("name", ["london_central", "portland_central", "boston_downtown", "west_oakland"])
def test_filtered_shared_extracts_have_no_land_use_and_warn_once(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The street-only extracts keep nodes on the streets (stop positions, some entrances), no shops or homes."""
    path = SHARED_OSM / f"{name}.osm.bz2"
    with caplog.at_level(logging.WARNING, logger="precinct"):
        net = load_network(path, network_type="all", min_nodes=5)
    for kind in ("shop", "bar", "nightclub", "restaurant", "residential"):
        assert net.places_found[kind] == 0
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and str(path) in warnings[0].getMessage()


# ------------------------------------------------------------------------------------ cache
def test_cache_round_trips_places(tmp_path: Path) -> None:
    first = load_network(DEFAULT_CITY, network_type="walk", cache_dir=tmp_path)
    second = load_network(DEFAULT_CITY, network_type="walk", cache_dir=tmp_path)
    assert first.stats["from_cache"] is False and second.stats["from_cache"] is True
    np.testing.assert_array_equal(first.segment_place_counts, second.segment_place_counts)
    assert second.segment_place_counts.dtype == np.int32 and not second.segment_place_counts.flags.writeable
    assert first.places_found == second.places_found and first.places_dropped == second.places_dropped
    assert describe(first)["places"] == describe(second)["places"]
    for kind in PLACE_KINDS:
        np.testing.assert_array_equal(first.segment_places[kind], second.segment_places[kind])


def test_cache_entry_with_other_place_kinds_is_rebuilt(tmp_path: Path) -> None:
    net = load_network(DEFAULT_CITY, network_type="walk", cache_dir=tmp_path)
    entry = tmp_path / f"{net.content_hash}.npz"
    with np.load(entry, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    meta = json.loads(str(arrays.pop("meta")))
    meta["place_kinds"] = [*meta["place_kinds"], "casino"]
    np.savez(entry, meta=np.array(json.dumps(meta)), **arrays)
    again = load_network(DEFAULT_CITY, network_type="walk", cache_dir=tmp_path)
    assert again.stats["from_cache"] is False
    np.testing.assert_array_equal(again.segment_place_counts, net.segment_place_counts)
