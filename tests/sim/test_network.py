"""The street-network loader: real OSM files in every format, CSR == graph, cache, bad input."""

from __future__ import annotations

import bz2
import os
import shutil
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pytest

from sim.errors import CacheError, NetworkFileError
from sim.network import build_osmnx_graph, load_network
from tests.conftest import DEFAULT_CITY, FIXTURE_CITY, SHARED_OSM, shared_osm_files, skip_without_shared


def assert_csr_matches_graph(net, g: nx.MultiDiGraph) -> None:
    """Every directed edge of the OSMnx graph appears once in the CSR arrays with its length."""
    assert net.n_nodes == g.number_of_nodes()
    assert net.n_edges == g.number_of_edges()
    assert net.indptr[0] == 0 and net.indptr[-1] == net.n_edges
    assert np.all(np.diff(net.indptr) >= 0)
    # CSR rows agree with edge_source
    rows = np.repeat(np.arange(net.n_nodes), np.diff(net.indptr))
    np.testing.assert_array_equal(rows, net.edge_source)
    ours: dict[tuple[int, int], list[float]] = {}
    for e in range(net.n_edges):
        key = (int(net.node_osm_id[net.edge_source[e]]), int(net.node_osm_id[net.indices[e]]))
        ours.setdefault(key, []).append(float(net.edge_length_m[e]))
    theirs: dict[tuple[int, int], list[float]] = {}
    for u, v, d in g.edges(data=True):
        theirs.setdefault((int(u), int(v)), []).append(float(d["length"]))
    assert ours.keys() == theirs.keys()
    for key, lengths in ours.items():
        np.testing.assert_allclose(sorted(lengths), sorted(theirs[key]), rtol=1e-12)
    # projected node coordinates are the graph's
    xy = np.array([(g.nodes[o]["x"], g.nodes[o]["y"]) for o in net.node_osm_id])
    np.testing.assert_allclose(net.node_xy, xy)


@pytest.mark.parametrize("network_type", ["drive", "walk", "all"])
def test_default_city_loads_and_matches_graph(network_type: str) -> None:
    net = load_network(DEFAULT_CITY, network_type=network_type)
    g, _, _, _ = build_osmnx_graph(DEFAULT_CITY, network_type=network_type)
    assert_csr_matches_graph(net, g)
    assert net.crs == "EPSG:32630"  # UTM zone 30N covers London
    assert nx.is_strongly_connected(net.to_networkx())
    lon0, lat0, lon1, lat1 = net.stats["bbox_lonlat"]
    assert -0.13 < lon0 < lon1 < -0.08 and 51.50 < lat0 < lat1 < 51.53


def test_segments_pair_both_directions() -> None:
    net = load_network(DEFAULT_CITY, network_type="walk")
    # walk networks are bidirectional: every segment has exactly two directed edges
    counts = np.bincount(net.edge_segment, minlength=net.n_segments)
    assert counts.min() >= 1
    assert np.median(counts) == 2
    rep = net.segment_edge
    np.testing.assert_array_equal(net.edge_segment[rep], np.arange(net.n_segments))


def test_to_networkx_round_trip() -> None:
    net = load_network(FIXTURE_CITY)
    g = net.to_networkx()
    assert sorted(g.nodes) == list(range(net.n_nodes))
    for u, v, k, d in g.edges(keys=True, data=True):
        assert net.edge_source[k] == u and net.indices[k] == v
        assert d["length"] == net.edge_length_m[k]


def test_matches_osmnx_graph_from_xml_on_filtered_file() -> None:
    """Independent check: OSMnx's own XML reader on a street-only file gives the same network."""
    path = SHARED_OSM / "west_oakland.osm.bz2"
    if not path.exists():
        pytest.skip(f"{path} absent (../shared data exists in CI and on developer machines only)")
    net = load_network(path, network_type="all", min_nodes=2)
    g = ox.graph_from_xml(path, bidirectional=False, simplify=True, retain_all=True)
    g = ox.truncate.largest_component(g, strongly=True)
    assert net.n_nodes == g.number_of_nodes()
    assert net.n_edges == g.number_of_edges()
    assert set(net.node_osm_id.tolist()) == set(g.nodes)


def test_cache_hit_returns_identical_arrays(tmp_path: Path) -> None:
    first = load_network(DEFAULT_CITY, cache_dir=tmp_path)
    second = load_network(DEFAULT_CITY, cache_dir=tmp_path)
    assert first.stats["from_cache"] is False and second.stats["from_cache"] is True
    for name in (
        "indptr",
        "indices",
        "edge_length_m",
        "edge_osm_way_id",
        "node_xy",
        "geom_xy",
        "edge_segment",
    ):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    assert first.highway_classes == second.highway_classes and first.crs == second.crs
    assert second.stats["load_time_s"] < 0.5
    assert not second.indptr.flags.writeable
    assert [p.name for p in tmp_path.iterdir()] == [f"{first.content_hash}.npz"]


def test_cache_key_depends_on_content_and_options(tmp_path: Path) -> None:
    copy = tmp_path / "copy.osm.bz2"
    shutil.copy(FIXTURE_CITY, copy)
    a = load_network(copy, cache_dir=tmp_path / "c")
    b = load_network(copy, cache_dir=tmp_path / "c", network_type="all")
    assert a.content_hash != b.content_hash
    # same content under another name hits the same entry
    other = tmp_path / "renamed.osm.bz2"
    shutil.copy(FIXTURE_CITY, other)
    c = load_network(other, cache_dir=tmp_path / "c")
    assert c.stats["from_cache"] is True and c.content_hash == a.content_hash


def test_nearest_edges_snaps_points_onto_streets() -> None:
    net = load_network(DEFAULT_CITY, network_type="walk")
    rng = np.random.default_rng(0)
    edges = rng.integers(0, net.n_edges, 200)
    offsets = rng.random(200) * net.edge_length_m[edges]
    pts = net.edge_point(edges, offsets)
    got_edge, got_off, dist = net.nearest_edges(pts[:, 0], pts[:, 1])
    assert np.all(dist < 1e-6)
    # the snapped point is the same place (the edge may be the reverse direction of the same segment)
    back = net.edge_point(got_edge, got_off)
    np.testing.assert_allclose(back, pts, atol=0.05)
    assert np.all((got_off >= 0) & (got_off <= net.edge_length_m[got_edge] + 1e-9))


def test_police_and_community_pois_found_in_city_of_london() -> None:
    net = load_network(DEFAULT_CITY, network_type="walk")
    assert net.poi_police.size >= 1
    assert net.poi_community.size >= 10
    assert net.poi_police.max() < net.n_nodes


@skip_without_shared()
@pytest.mark.parametrize("path", shared_osm_files(), ids=lambda p: p.name)
def test_every_shared_extract_loads(path: Path) -> None:
    # the tiny Boston/Oakland clips have small drive networks; every file must load as "all"
    net = load_network(path, network_type="all", min_nodes=5)
    g, _, _, _ = build_osmnx_graph(path, network_type="all", min_nodes=5)
    assert_csr_matches_graph(net, g)
    assert net.n_nodes >= 5 and net.stats["street_km"] > 0


# ---------------------------------------------------------------- bad input, each a clear one-line error

NO_STREETS = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6"><node id="1" lat="51.5" lon="-0.1"/><node id="2" lat="51.5001" lon="-0.1"/>
<node id="3" lat="51.5001" lon="-0.0999"/>
<way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/><tag k="building" v="yes"/></way></osm>
"""
TINY = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6"><node id="1" lat="51.5" lon="-0.1"/><node id="2" lat="51.5001" lon="-0.1"/>
<node id="3" lat="51.5002" lon="-0.1"/>
<way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way></osm>
"""


def _bad_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    (tmp / "dir.osm").mkdir()
    (tmp / "empty.osm").write_bytes(b"")
    (tmp / "crime.osm").write_text("crime_id,lat,lon\n1,51.5,-0.1\n")
    (tmp / "image.osm").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    raw = FIXTURE_CITY.read_bytes()
    (tmp / "trunc.osm.bz2").write_bytes(raw[: len(raw) // 2])
    pbf = DEFAULT_CITY.read_bytes()
    (tmp / "trunc.osm.pbf").write_bytes(pbf[: len(pbf) // 3])
    (tmp / "nostreets.osm").write_text(NO_STREETS)
    (tmp / "tiny.osm").write_text(TINY)
    (tmp / "notbz2.osm.bz2").write_text("<osm></osm>")
    (tmp / "table.csv").write_text("a,b\n")
    return {
        "missing": (tmp / "missing.osm.pbf", "no such file"),
        "directory": (tmp / "dir.osm", "is a directory"),
        "empty": (tmp / "empty.osm", "empty"),
        "csv renamed": (tmp / "crime.osm", "not OpenStreetMap XML"),
        "png renamed": (tmp / "image.osm", "not OpenStreetMap XML"),
        "truncated bz2": (tmp / "trunc.osm.bz2", "decompress"),
        "truncated pbf": (tmp / "trunc.osm.pbf", "truncated"),
        "no streets": (tmp / "nostreets.osm", "no street ways"),
        "tiny component": (tmp / "tiny.osm", "only 2 nodes"),
        "not bzip2": (tmp / "notbz2.osm.bz2", "not a bzip2 file"),
        "wrong extension": (tmp / "table.csv", "extension"),
    }


@pytest.mark.parametrize(
    "case",
    ["missing", "directory", "empty", "csv renamed", "png renamed", "truncated bz2", "truncated pbf",
     "no streets", "tiny component", "not bzip2", "wrong extension"],
)  # fmt: skip
def test_bad_input_is_a_clear_error_and_leaves_no_cache(tmp_path: Path, case: str) -> None:
    path, expected = _bad_files(tmp_path)[case]
    cache = tmp_path / "cache"
    with pytest.raises(NetworkFileError) as info:
        load_network(path, cache_dir=cache)
    message = str(info.value)
    assert expected in message
    assert str(path) in message and "\n" not in message
    leftovers = list(cache.iterdir()) if cache.exists() else []
    assert leftovers == [], f"half-written cache entries: {leftovers}"


def test_bz2_missing_its_stream_end_is_reported(tmp_path: Path) -> None:
    """Only the last bytes (the end-of-stream marker and CRC) missing: still a clear error."""
    data = bz2.compress(bz2.decompress(FIXTURE_CITY.read_bytes()))
    cut = tmp_path / "cut.osm.bz2"
    cut.write_bytes(data[:-40])
    with pytest.raises(NetworkFileError, match=r"cut\.osm\.bz2"):
        load_network(cut, cache_dir=tmp_path / "cache")


def test_unwritable_cache_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(CacheError, match="not writable") as info:
        load_network(FIXTURE_CITY, cache_dir=blocker / "sub")
    assert "PRECINCT_CACHE_DIR" in str(info.value)


def test_interrupted_cache_write_leaves_no_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.network import _cache

    def boom(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_cache.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        load_network(FIXTURE_CITY, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_osmnx_is_pointed_away_from_the_internet() -> None:
    import sim.network  # noqa: F401  (import sets the offline settings)

    assert ox.settings.use_cache is False
    for url in (ox.settings.overpass_url, ox.settings.nominatim_url):
        assert url.startswith("http://127.0.0.1:9/")


def test_unknown_network_type() -> None:
    with pytest.raises(NetworkFileError, match="unknown network_type 'bus'"):
        load_network(FIXTURE_CITY, network_type="bus")


def test_permission_denied_is_reported(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: file permissions are not enforced")
    path = tmp_path / "locked.osm.bz2"
    shutil.copy(FIXTURE_CITY, path)
    path.chmod(0)
    with pytest.raises(NetworkFileError, match="permission denied"):
        load_network(path)
