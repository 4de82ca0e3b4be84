"""Reading real crime incidents onto the streets, timed beside OSMnx doing the same work in the same run.

Groups (``extra_info["impl"]`` names the implementation, ``extra_info["work"]`` the incidents per call):

- ``incident_snap_100k``: snap 100,000 points near the default city's streets to the nearest
  segment. ``precinct`` builds :class:`sim.incidents.EdgeSnapper` and snaps (k-d tree over 5 m
  pieces, exact); ``osmnx`` is ``osmnx.distance.nearest_edges`` on the projected graph with the same
  polylines (a shapely STRtree built per call, as OSMnx does); ``strtree`` is the network's own
  :meth:`StreetNetwork.nearest_edges`.
- ``incident_snap_portland``: the same on the largest real extract (../shared, skipped without it).
- ``incident_read_1m``: a 1,000,000-row incident CSV read, parsed, classified, snapped and turned
  into an event table (``precinct``, the floor is 20 s on one core) beside ``osmnx``: pandas
  ``read_csv`` + pyproj + ``osmnx.distance.nearest_edges``, the usual do-it-yourself pipeline, and
  ``read_csv``: pandas reading the file alone, the floor of any reader.
- ``incident_inspect_london``: ``precinct incidents inspect`` figures for the 20k-row London file with
  the network in memory (the floor is 5 s).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from experiments.incidents import format_report, inspect_incidents
from sim.incidents import EdgeSnapper, IncidentSource, read_incidents
from sim.network import StreetNetwork, load_network
from tests.benchmarks.conftest import REPO, SHARED_OSM
from tests.sim.test_incidents import GENERIC, write_synthetic_csv

pytestmark = pytest.mark.slow

SEED = 12345
DEFAULT_CITY = REPO / "data" / "osm" / "city_of_london.osm.pbf"
LONDON_FILE = SHARED_OSM.parent / "crime" / "city_of_london_street_2023-05_2025-05.csv"


def _info(benchmark: Any, impl: str, work: int = 1) -> None:
    benchmark.extra_info.update({"impl": impl, "work": work})


def osmnx_graph(net: StreetNetwork) -> nx.MultiDiGraph:
    """The network as OSMnx sees a projected graph, with each edge's polyline as its geometry."""
    g = net.to_networkx()
    ptr, gxy = net.geom_indptr, net.geom_xy
    for u, v, k in g.edges(keys=True):
        g.edges[u, v, k]["geometry"] = shapely.LineString(gxy[ptr[k] : ptr[k + 1]])
    return g


def near_streets(net: StreetNetwork, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED)
    xy = net.edge_midpoint_xy[rng.integers(0, net.n_edges, n)] + rng.normal(0, 15, (n, 2))
    return xy[:, 0].copy(), xy[:, 1].copy()


@pytest.fixture(scope="module")
def london(tmp_path_factory: pytest.TempPathFactory) -> StreetNetwork:
    cache = tmp_path_factory.getbasetemp() / "bench-network-cache"
    return load_network(DEFAULT_CITY, network_type="walk", cache_dir=cache)


@pytest.fixture(scope="module")
def london_graph(london: StreetNetwork) -> nx.MultiDiGraph:
    return osmnx_graph(london)


# ---------------------------------------------------------------- snapping alone
@pytest.mark.benchmark(group="incident_snap_100k")
@pytest.mark.parametrize("impl", ["precinct", "osmnx", "strtree"])
def test_snap_100k(benchmark: Any, london: StreetNetwork, london_graph: nx.MultiDiGraph, impl: str) -> None:
    import osmnx as ox

    x, y = near_streets(london, 100_000)
    _info(benchmark, impl, x.size)
    if impl == "precinct":
        out = benchmark(lambda: EdgeSnapper(london).snap(x, y, max_dist_m=1e6))
        assert (out.segment >= 0).all()
    elif impl == "osmnx":
        benchmark.pedantic(ox.distance.nearest_edges, args=(london_graph, x, y), rounds=3, iterations=1)
    else:
        benchmark.pedantic(london.nearest_edges, args=(x, y), rounds=3, iterations=1)


@pytest.mark.needs_shared
@pytest.mark.benchmark(group="incident_snap_portland")
@pytest.mark.parametrize("impl", ["precinct", "osmnx"])
def test_snap_largest_extract(benchmark: Any, largest_extract: StreetNetwork, impl: str) -> None:
    import osmnx as ox

    net = largest_extract
    x, y = near_streets(net, 100_000)
    _info(benchmark, impl, x.size)
    if impl == "precinct":
        benchmark(lambda: EdgeSnapper(net).snap(x, y, max_dist_m=1e6))
    else:
        g = osmnx_graph(net)
        benchmark.pedantic(ox.distance.nearest_edges, args=(g, x, y), rounds=2, iterations=1)


# ---------------------------------------------------------------- a million incidents, end to end
@pytest.fixture(scope="module")
def million_csv(tmp_path_factory: pytest.TempPathFactory, london: StreetNetwork) -> Path:
    return write_synthetic_csv(tmp_path_factory.mktemp("incidents") / "one_million.csv", london, 1_000_000)


def _diy_pipeline(path: Path, net: StreetNetwork, graph: nx.MultiDiGraph) -> pd.DataFrame:
    """What one writes without Precinct: read, parse times, project, snap with OSMnx."""
    import osmnx as ox

    frame = pd.read_csv(path)
    frame["when"] = pd.to_datetime(frame["when"], format="%Y-%m-%d %H:%M:%S")
    x, y = pyproj.Transformer.from_crs("EPSG:4326", net.crs, always_xy=True).transform(
        frame["lon"].to_numpy(), frame["lat"].to_numpy()
    )
    edges, dist = ox.distance.nearest_edges(graph, x, y, return_dist=True)
    frame["edge"] = [k for _, _, k in edges]
    frame["dist_m"] = dist
    return frame


@pytest.mark.benchmark(group="incident_read_1m")
@pytest.mark.parametrize("impl", ["precinct", "osmnx", "read_csv"])
def test_read_one_million(
    benchmark: Any, million_csv: Path, london: StreetNetwork, london_graph: nx.MultiDiGraph, impl: str
) -> None:
    _info(benchmark, impl, 1_000_000)
    if impl == "precinct":
        src = IncidentSource(
            path=str(million_csv), columns=dict(GENERIC), mapping="police_uk", timezone="Europe/London"
        )
        table = benchmark.pedantic(read_incidents, args=(src, london), rounds=3, iterations=1)
        assert table.report.rows_read == 1_000_000
        assert benchmark.stats.stats.median <= 20.0, "the issue's floor: 1M incidents in at most 20 s"
    elif impl == "osmnx":
        benchmark.pedantic(_diy_pipeline, args=(million_csv, london, london_graph), rounds=1, iterations=1)
    else:
        benchmark.pedantic(pd.read_csv, args=(million_csv,), rounds=3, iterations=1)


# ---------------------------------------------------------------- inspect on the London file
@pytest.mark.needs_shared
@pytest.mark.benchmark(group="incident_inspect_london")
def test_inspect_london(benchmark: Any, london: StreetNetwork) -> None:
    if not LONDON_FILE.is_file():
        pytest.skip(f"{LONDON_FILE} absent (../shared data exists in CI and on developer machines only)")
    _info(benchmark, "precinct", 19_950)

    def inspect() -> str:
        table = read_incidents(LONDON_FILE, london)
        return format_report(inspect_incidents(table, london))

    text = benchmark.pedantic(inspect, rounds=5, iterations=1)
    assert "rows read" in text
    assert benchmark.stats.stats.median <= 5.0, "the issue's floor: inspect on the London file in at most 5 s"
