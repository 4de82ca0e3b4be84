"""Shared fixtures: bundled data paths, the optional ../shared data, an isolated network cache."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
SHARED = (REPO.parent / "shared").resolve()
SHARED_OSM = SHARED / "data" / "osm"
DEFAULT_CITY = DATA / "osm" / "city_of_london.osm.pbf"
FIXTURE_CITY = DATA / "osm" / "west_oakland.osm.bz2"


def shared_osm_files() -> list[Path]:
    """Every OSM file under ../shared/data/osm (filtered and original), or [] where absent."""
    if not SHARED_OSM.is_dir():
        return []
    return sorted(p for p in SHARED_OSM.rglob("*") if p.is_file() and ".osm" in p.name)


def skip_without_shared() -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not SHARED_OSM.is_dir(),
        reason=f"../shared data not present at {SHARED_OSM} (it exists in CI and developer machines only)",
    )


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the network cache per test session, never the user's ~/.cache."""
    monkeypatch.setenv("PRECINCT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "network-cache"))
