"""Fixtures for the kernel tests: real street networks (bundled and ../shared extracts) and references."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
BUNDLED_OSM = REPO / "data" / "osm"
SHARED_OSM = (REPO / ".." / "shared").resolve() / "data" / "osm"
SHARED_REASON = f"../shared data not present at {SHARED_OSM} (it exists in CI and on developer machines only)"


def _extracts() -> list[object]:
    """Bundled west_oakland plus every extract in ../shared/data/osm (skipped where absent)."""
    params: list[object] = [pytest.param(BUNDLED_OSM / "west_oakland.osm.bz2", id="west_oakland-bundled")]
    shared = sorted(SHARED_OSM.glob("*.osm*")) if SHARED_OSM.is_dir() else []
    if not shared:
        params.append(
            pytest.param(None, id="shared", marks=[pytest.mark.needs_shared, pytest.mark.skip(SHARED_REASON)])
        )
    for path in shared:
        params.append(pytest.param(path, id=path.name.split(".")[0], marks=pytest.mark.needs_shared))
    # The unfiltered originals yield the same street networks as the files above: slow run only.
    originals = sorted((SHARED_OSM / "original").glob("*.osm*")) if SHARED_OSM.is_dir() else []
    for path in originals:
        marks = [pytest.mark.needs_shared, pytest.mark.slow]
        params.append(pytest.param(path, id="original-" + path.name.split(".")[0], marks=marks))
    return params


@pytest.fixture(scope="session", params=_extracts())
def real_network(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> object:
    """A StreetNetwork loaded with ``sim.network.load_network`` (drive network, session-cached)."""
    from sim.network import load_network

    cache = tmp_path_factory.getbasetemp() / "core-ext-network-cache"
    return load_network(request.param, network_type="drive", cache_dir=cache)


def readonly(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Read-only copies, as StreetNetwork hands them out."""
    out = []
    for a in arrays:
        b = np.array(a)
        b.setflags(write=False)
        out.append(b)
    return tuple(out)
