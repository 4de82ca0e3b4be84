"""Benchmark fixtures (synthetic and real street graphs) and JSON output for ``tests.benchmarks.report``.

``make bench`` runs pytest-benchmark; unless ``--benchmark-json`` is given, the results are written to
``.benchmarks/latest.json`` at the repository root, which ``python -m tests.benchmarks.report`` reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
from scipy.sparse import csr_array

from tests.benchmarks.graphs import SyntheticStreets, street_grid

REPO = Path(__file__).resolve().parents[2]
LATEST_JSON = REPO / ".benchmarks" / "latest.json"
SHARED_OSM = (REPO / ".." / "shared").resolve() / "data" / "osm"
LARGEST_EXTRACT = SHARED_OSM / "portland_central.osm.bz2"


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    session = getattr(config, "_benchmarksession", None)
    if session is not None and not session.disabled and not session.skip and not session.json:
        LATEST_JSON.parent.mkdir(exist_ok=True)
        session.json = str(LATEST_JSON)


@pytest.fixture(scope="session")
def grid_100k() -> SyntheticStreets:
    """The ~100k-node synthetic street grid of the issue (see graphs.py for the recipe)."""
    return street_grid(316)


@pytest.fixture(scope="session")
def grid_10k() -> SyntheticStreets:
    """A ~10k-node synthetic street grid, for the KDE refresh floor."""
    return street_grid(100)


def as_scipy(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray) -> csr_array:
    """SciPy's view of the graph (the generators have no parallel edges, so nothing is summed)."""
    n = len(indptr) - 1
    return csr_array((weights, indices, indptr), shape=(n, n))


def as_networkx(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray) -> nx.DiGraph:
    tail = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    g = nx.DiGraph()
    g.add_nodes_from(range(len(indptr) - 1))
    g.add_weighted_edges_from(
        zip(tail.tolist(), indices.tolist(), weights.tolist(), strict=True), weight="length"
    )
    return g


@pytest.fixture(scope="session")
def grid_100k_scipy(grid_100k: SyntheticStreets) -> csr_array:
    return as_scipy(grid_100k.indptr, grid_100k.indices, grid_100k.edge_length_m)


@pytest.fixture(scope="session")
def grid_100k_networkx(grid_100k: SyntheticStreets) -> nx.DiGraph:
    return as_networkx(grid_100k.indptr, grid_100k.indices, grid_100k.edge_length_m)


@pytest.fixture(scope="session")
def largest_extract(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The largest real extract (Portland), or a skip naming why it is absent."""
    if not LARGEST_EXTRACT.is_file():
        pytest.skip(f"{LARGEST_EXTRACT} absent (../shared data exists in CI and on developer machines only)")
    from sim.network import load_network

    return load_network(LARGEST_EXTRACT, cache_dir=tmp_path_factory.getbasetemp() / "bench-network-cache")
