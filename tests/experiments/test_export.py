"""`precinct export`: per-street results as GeoPackage, GeoJSON and GeoParquet, read back with pyogrio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest

from experiments.cli import main
from experiments.export import GPKG_LAYERS, export_sweep
from sim.errors import ResultsError
from tests.experiments.fakes import fixture_network, write_fake_sweep

ARM = "targeted_patrol_cpted"


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("export")
    write_fake_sweep(root, policies=("baseline", "targeted_patrol+cpted"), seeds=range(3))
    return root


def test_geopackage_layers_crs_and_columns(sweep_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(sweep_dir), "--format", "gpkg"]) == 0
    path = sweep_dir / "gis" / "precinct.gpkg"
    assert str(path) in capsys.readouterr().out
    layers = dict(pyogrio.list_layers(path))
    assert list(layers) == list(GPKG_LAYERS)
    assert layers["runs"] is None and layers["value_for_money"] is None  # plain tables
    net = fixture_network()
    assert pyogrio.read_info(path, layer="segments")["crs"] == net.crs
    assert pyogrio.read_info(path, layer="segments_wgs84")["crs"] == "EPSG:4326"
    assert pyogrio.read_info(path, layer="hotspots")["crs"] == net.crs
    seg = pyogrio.read_dataframe(path, layer="segments")
    assert len(seg) == net.n_segments
    for col in ("street", "name", "osm_way_id", "baseline_crimes_week", "baseline_crimes_week_low",
                "baseline_crimes_week_high", f"{ARM}_crimes_week", f"{ARM}_change_week_low",
                f"{ARM}_change_week_high", f"{ARM}_treated", f"{ARM}_buffer", f"{ARM}_cost"):  # fmt: skip
        assert col in seg, col
    assert set(seg["street"]) <= set(net.segment_name)
    assert np.array_equal(seg["osm_way_id"], net.edge_osm_way_id[net.segment_edge])
    # the same streets in both CRSs: lengths in metres match the network's along the projected lines
    assert np.allclose(seg.geometry.length, seg["length_m"], rtol=0.02)
    wgs = pyogrio.read_dataframe(path, layer="segments_wgs84")
    lon, lat = net.node_lonlat.mean(axis=0)
    x0, y0, x1, y1 = wgs.total_bounds
    assert x0 < lon < x1 and y0 < lat < y1 and x1 - x0 < 0.05
    hot = pyogrio.read_dataframe(path, layer="hotspots")
    assert len(hot) and hot["hotspot"].all()
    runs = pyogrio.read_dataframe(path, layer="runs", read_geometry=False)
    assert len(runs) == 6 and set(runs["policy"]) == {"baseline", "targeted_patrol+cpted"}
    assert "crimes_total" in runs


def test_geojson_and_geoparquet(sweep_dir: Path, tmp_path: Path) -> None:
    written = export_sweep(sweep_dir, fmt="geojson", out_dir=tmp_path / "gj")
    names = {p.name for p in written}
    assert {"segments.geojson", "hotspots.geojson", "segments_city_crs.geojson", "runs.csv"} <= names
    assert pyogrio.read_info(tmp_path / "gj" / "segments.geojson")["crs"] == "EPSG:4326"
    assert pyogrio.read_info(tmp_path / "gj" / "segments_city_crs.geojson")["crs"] == fixture_network().crs

    import geopandas as gpd

    export_sweep(sweep_dir, fmt="parquet", out_dir=tmp_path / "pq")
    seg = gpd.read_parquet(tmp_path / "pq" / "segments.parquet")
    assert seg.crs == fixture_network().crs and seg["geometry_wgs84"].crs == "EPSG:4326"
    assert pd.read_parquet(tmp_path / "pq" / "runs.parquet").shape[0] == 6


def test_export_errors_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ResultsError, match="unknown export format"):
        export_sweep(tmp_path, fmt="shp")
    with pytest.raises(SystemExit):
        main(["export", str(tmp_path)])
    assert "precinct: error:" in capsys.readouterr().err
