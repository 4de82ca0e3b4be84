"""Places a strategy acts on: segments inside a polygon, along OSM ways, or in sight of a home.

Shared by the strategies that act on places chosen in config (CPTED, neighbourhood watch), so each
reads areas the same way and fails the same clear way. Polygons come from the planner's GIS as a
GeoJSON file (lon/lat) or a GeoPackage layer, named as QGIS names it: ``areas.gpkg`` (its first
layer) or ``areas.gpkg|layername=beats``; a GeoPackage layer may be in any CRS. Errors name the
config key of the strategy that asked (``key``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from core_ext import Router
from sim.environment import node_segment_incidence
from sim.errors import ConfigError
from sim.network import StreetNetwork, node_weights_to_segments

__all__ = ["AREA_FILES", "area_file", "segments_in_polygon", "segments_in_sight", "segments_of_ways"]

AREA_FILES = (
    "a GeoJSON file (lon/lat polygons) or a GeoPackage layer (FILE.gpkg or FILE.gpkg|layername=LAYER)"
)
_LAYER = "|layername="


def area_file(path: str) -> Path:
    """Return the file of an area source, without a QGIS-style ``|layername=LAYER`` suffix."""
    return Path(path.split(_LAYER, 1)[0])


def _polygon_geometry(data: Any) -> list[Any]:
    """Return the geometries of a GeoJSON object (FeatureCollection, Feature or bare geometry)."""
    kind = data.get("type") if isinstance(data, dict) else None
    if kind == "FeatureCollection":
        return [g for f in data.get("features", []) for g in _polygon_geometry(f)]
    if kind == "Feature":
        return _polygon_geometry(data.get("geometry"))
    if kind in ("Polygon", "MultiPolygon"):
        return [data]
    return []


def segments_in_polygon(net: StreetNetwork, path: str, *, key: str) -> NDArray[np.bool_]:
    """Return the segments whose midpoint lies inside the (multi)polygons of a GeoJSON file or GeoPackage layer.

    ``path`` is a lon/lat GeoJSON file, or ``FILE.gpkg`` / ``FILE.gpkg|layername=LAYER`` (any CRS).

    Raises ConfigError (naming ``key``) for unreadable files, files without polygons, and polygons
    that cover no street of the network (e.g. another city, or lat/lon swapped).
    """
    import pyproj
    import shapely
    from shapely.geometry import shape

    if area_file(path).suffix.lower() == ".gpkg":
        return _inside(net, _geopackage_area(net, path, key=key), path, key=key)
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(key, path, f"a readable GeoJSON file ({exc})") from exc
    geoms = _polygon_geometry(data)
    if not geoms:
        raise ConfigError(key, path, "GeoJSON holding at least one Polygon or MultiPolygon")
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)

    def project(lonlat: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.column_stack(to_xy.transform(lonlat[:, 0], lonlat[:, 1]))

    area = shapely.union_all([shapely.transform(shape(g), project) for g in geoms])
    return _inside(net, area, path, key=key)


def _geopackage_area(net: StreetNetwork, path: str, *, key: str) -> Any:
    """Return the union of a GeoPackage layer's polygons, projected to the network's CRS."""
    import pyogrio
    import shapely

    source, _, layer = path.partition(_LAYER)
    try:
        layer = layer or str(pyogrio.list_layers(source)[0][0])  # no layer named: the first, as QGIS opens it
        frame = pyogrio.read_dataframe(source, layer=layer)
    except (OSError, ValueError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ConfigError(key, path, f"{AREA_FILES} that can be read ({exc})") from exc
    polygons = frame[frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polygons.empty:
        raise ConfigError(key, path, "a GeoPackage layer holding at least one Polygon or MultiPolygon")
    if polygons.crs is None:
        raise ConfigError(key, path, "a GeoPackage layer with a coordinate reference system")
    return shapely.union_all(polygons.to_crs(net.crs).geometry.to_numpy())


def _inside(net: StreetNetwork, area: Any, path: str, *, key: str) -> NDArray[np.bool_]:
    """Return the segments whose midpoint lies in ``area`` (network CRS); ConfigError if none does."""
    import shapely

    mid = net.edge_midpoint_xy[net.segment_edge]
    inside = np.asarray(shapely.contains_xy(area, mid[:, 0], mid[:, 1]), dtype=bool)
    if not inside.any():
        lo, hi = net.node_lonlat.min(axis=0), net.node_lonlat.max(axis=0)
        raise ConfigError(key, path,
                          f"a polygon (GeoJSON lon, lat order) covering part of the city, whose streets span "
                          f"lon {lo[0]:.4f}..{hi[0]:.4f}, lat {lo[1]:.4f}..{hi[1]:.4f}")  # fmt: skip
    return inside


def segments_of_ways(net: StreetNetwork, way_ids: list[int], *, key: str) -> NDArray[np.bool_]:
    """Return the segments of the given OSM ways; ConfigError naming the unknown ids (and some known ones)."""
    ways = np.asarray(way_ids, dtype=np.int64)
    known = np.unique(net.edge_osm_way_id)
    missing = ways[~np.isin(ways, known)]
    if missing.size:
        examples = ", ".join(str(int(w)) for w in known[:: max(1, known.size // 5)][:5])
        raise ConfigError(key, [int(w) for w in missing[:10]],
                          f"OSM way ids of streets in the network ({known.size} ways, e.g. {examples})")  # fmt: skip
    out = np.zeros(net.n_segments, dtype=bool)
    out[net.edge_segment[np.isin(net.edge_osm_way_id, ways)]] = True
    return out


def segments_in_sight(
    net: StreetNetwork, router: Router, segments: NDArray[np.int64], reach_m: float
) -> sp.csr_matrix:
    """Return the segments x segments matrix of what is in sight from the middle of each of ``segments``.

    Row ``h`` (for ``h`` in ``segments``; other rows are empty) holds every segment within
    ``reach_m`` along the streets of the middle of ``h``, weighted ``1 - d / reach_m`` by the
    distance ``d`` to its nearer end, and ``h`` itself with weight 1: the streets someone at home on
    ``h`` can watch, less well the farther away.
    """
    incidence = node_segment_incidence(net)
    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    vals: list[NDArray[np.float64]] = []
    for h in np.asarray(segments, dtype=np.int64).tolist():
        e = int(net.segment_edge[h])
        half = 0.5 * float(net.edge_length_m[e])
        if half >= reach_m:
            segs, weights = np.array([h], dtype=np.int64), np.ones(1)
        else:
            ends = np.array([net.edge_source[e], net.indices[e]], dtype=np.int64)
            nodes, dist = router.find_nodes_within(ends, reach_m, source_cost=np.array([half, half]))
            segs, weights = node_weights_to_segments(incidence.indptr, incidence.indices, nodes,
                                                     1.0 - dist / reach_m)  # fmt: skip
            weights[segs == h] = 1.0
        rows.append(np.full(segs.size, h, dtype=np.int64))
        cols.append(segs)
        vals.append(weights)
    n = net.n_segments
    if not rows:
        return sp.csr_matrix((n, n))
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
