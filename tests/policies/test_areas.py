"""Areas from the planner's GIS: a GeoPackage layer selects the same streets as the same polygon in GeoJSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sim.errors import ConfigError
from sim.policies.areas import area_file, segments_in_polygon
from sim.policies.cpted import CptedConfig
from tests.experiments.fakes import fixture_network


def _square(lon: float, lat: float, half: float) -> dict[str, object]:
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
            [lon - half, lat + half], [lon - half, lat - half]]  # fmt: skip
    return {"type": "Polygon", "coordinates": [ring]}


def test_geopackage_layer_selects_the_same_segments_as_geojson(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import shape

    net = fixture_network()
    lon, lat = net.node_lonlat.mean(axis=0)
    square = _square(float(lon), float(lat), 0.0015)
    geojson = tmp_path / "area.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection",
                                   "features": [{"type": "Feature", "properties": {}, "geometry": square}]}))  # fmt: skip
    expected = segments_in_polygon(net, str(geojson), key="k")
    assert 0 < expected.sum() < net.n_segments

    gpkg = tmp_path / "planning.gpkg"
    other = gpd.GeoDataFrame(
        {"name": ["elsewhere"]}, geometry=[shape(_square(-122.68, 45.52, 0.01))], crs=4326
    )
    other.to_file(gpkg, layer="elsewhere", engine="pyogrio")
    # the planner's layer in the city's projected CRS, not lon/lat
    beats = gpd.GeoDataFrame({"name": ["beat 1"]}, geometry=[shape(square)], crs=4326).to_crs(net.crs)
    beats.to_file(gpkg, layer="beats", engine="pyogrio")
    got = segments_in_polygon(net, f"{gpkg}|layername=beats", key="k")
    assert np.array_equal(got, expected)
    with pytest.raises(ConfigError, match="lon, lat"):  # the first layer lies in another city
        segments_in_polygon(net, str(gpkg), key="k")
    with pytest.raises(ConfigError, match="can be read"):
        segments_in_polygon(net, f"{gpkg}|layername=no_such_layer", key="k")
    assert area_file(f"{gpkg}|layername=beats") == gpkg
    CptedConfig(targets="polygon", polygon_path=f"{gpkg}|layername=beats").validate()
