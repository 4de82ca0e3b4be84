"""GIS export of a comparison: per-street results as GeoPackage, GeoJSON or GeoParquet, for QGIS or ArcGIS.

``precinct export DIR --format gpkg|geojson|parquet`` writes, per street segment, its geometry in the
city's projected CRS and in WGS84, its street name and OSM way id, baseline crime and each strategy's
crime and change with 95% intervals (per week), the treated and buffer flags (share of replications)
and the strategy's cost shared over the segments it treated (:func:`experiments.streets.segment_frame`).
Written by GeoPandas through pyogrio; the layers:

============== ====================================================================
gpkg           one ``precinct.gpkg``: ``segments`` (city CRS), ``segments_wgs84``,
               ``hotspots`` (city CRS), ``runs`` and ``value_for_money`` (tables)
geojson        ``segments.geojson`` and ``hotspots.geojson`` (WGS84, RFC 7946),
               ``segments_city_crs.geojson`` (city CRS, named in the file), and
               ``runs.csv``, ``value_for_money.csv``
parquet        GeoParquet ``segments.parquet`` (``geometry`` in the city CRS and
               ``geometry_wgs84``), ``hotspots.parquet``, ``runs.parquet``,
               ``value_for_money.parquet``
============== ====================================================================
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from experiments.compare import compare_sweep
from experiments.streets import segment_frame
from experiments.value import value_for_money, value_frame
from sim.errors import ResultsError
from sim.results import Sweep, load_sweep

if TYPE_CHECKING:
    import geopandas as gpd

    from sim.network import StreetNetwork

__all__ = ["FORMATS", "GPKG_LAYERS", "describe_export", "export_sweep"]

FORMATS = ("gpkg", "geojson", "parquet")
GPKG_LAYERS = ("segments", "segments_wgs84", "hotspots", "runs", "value_for_money")


def _network(sweep: Sweep) -> StreetNetwork:
    from sim.network import load_network

    first = sweep.runs.iloc[0]
    city = sweep.configs[first["run_dir"]]["city"]
    net = load_network(city["path"], network_type=city["network_type"], cache_dir=city.get("cache_dir"))
    if first["network_content_hash"] and net.content_hash != first["network_content_hash"]:
        raise ResultsError(
            f"{city['path']} has changed since the runs were made: the streets no longer match the results; "
            "export needs the map the runs used"
        )
    return net


def _segments(net: StreetNetwork, frame: pd.DataFrame) -> gpd.GeoDataFrame:
    import geopandas as gpd
    import shapely

    lines = [
        shapely.LineString(net.geom_xy[net.geom_indptr[e] : net.geom_indptr[e + 1]]) for e in net.segment_edge
    ]
    return gpd.GeoDataFrame(frame, geometry=lines, crs=net.crs)


def _runs(sweep: Sweep) -> pd.DataFrame:
    """One row per run: policy, seed, folder and every scalar measure (columns as GIS tables accept)."""
    wide = sweep.metrics.pivot_table(index="run_dir", columns="metric", values="value", aggfunc="first")
    runs = sweep.runs[["run_dir", "policy", "seed", "wall_time_s", "network_content_hash"]].merge(
        wide.reset_index(), on="run_dir", how="left"
    )
    return runs.astype({c: str for c in ("run_dir", "policy", "network_content_hash")})


def export_sweep(
    sweep_dir: str | os.PathLike[str], *, fmt: str = "gpkg", out_dir: str | os.PathLike[str] | None = None
) -> list[Path]:
    """Export the comparison of the runs under ``sweep_dir`` for GIS; return the files written.

    Parameters
    ----------
    sweep_dir
        The sweep folder (as for ``precinct compare``).
    fmt
        ``gpkg``, ``geojson`` or ``parquet`` (see the module docstring for the layers of each).
    out_dir
        Folder for the files (default ``sweep_dir/gis``); existing files of the same names are replaced.

    Raises
    ------
    ResultsError
        No complete runs, an unknown format, or a street network that no longer matches the runs.
    """
    if fmt not in FORMATS:
        raise ResultsError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    sweep = load_sweep(sweep_dir)
    if sweep.runs.empty:
        raise ResultsError(f"{sweep_dir}: no complete runs to export; run a sweep first")
    comp = compare_sweep(sweep)
    net = _network(sweep)
    segments = _segments(net, segment_frame(comp, net))
    hotspots = segments[segments["hotspot"]] if "hotspot" in segments else segments.iloc[0:0]
    runs = _runs(sweep)
    value = value_frame(value_for_money(comp))
    out = Path(out_dir) if out_dir is not None else Path(sweep_dir) / "gis"
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "gpkg":
        return [_write_gpkg(out / "precinct.gpkg", segments, hotspots, runs, value)]
    if fmt == "geojson":
        return _write_geojson(out, segments, hotspots, runs, value)
    return _write_parquet(out, segments, hotspots, runs, value)


def _write_gpkg(
    path: Path,
    segments: gpd.GeoDataFrame,
    hotspots: gpd.GeoDataFrame,
    runs: pd.DataFrame,
    value: pd.DataFrame,
) -> Path:
    import pyogrio

    tmp = path.with_name(f".{path.name}.tmp.gpkg")
    tmp.unlink(missing_ok=True)
    layers: dict[str, pd.DataFrame] = {
        "segments": segments, "segments_wgs84": segments.to_crs(4326), "hotspots": hotspots,
        "runs": runs, "value_for_money": value,
    }  # fmt: skip
    for name in GPKG_LAYERS:
        pyogrio.write_dataframe(layers[name], tmp, layer=name, driver="GPKG")
    os.replace(tmp, path)  # a reader never sees a half-written GeoPackage
    return path


def _write_geojson(
    out: Path, segments: gpd.GeoDataFrame, hotspots: gpd.GeoDataFrame, runs: pd.DataFrame, value: pd.DataFrame
) -> list[Path]:
    written = []
    for name, frame in (("segments", segments.to_crs(4326)), ("hotspots", hotspots.to_crs(4326))):
        path = out / f"{name}.geojson"
        path.unlink(missing_ok=True)
        frame.to_file(path, driver="GeoJSON", engine="pyogrio", RFC7946="YES")
        written.append(path)
    city = out / "segments_city_crs.geojson"
    city.unlink(missing_ok=True)
    segments.to_file(city, driver="GeoJSON", engine="pyogrio")  # the 2008 spec's "crs" member names the CRS
    written.append(city)
    for name, table in (("runs", runs), ("value_for_money", value)):
        written.append(out / f"{name}.csv")
        table.to_csv(written[-1], index=False)
    return written


def _write_parquet(
    out: Path, segments: gpd.GeoDataFrame, hotspots: gpd.GeoDataFrame, runs: pd.DataFrame, value: pd.DataFrame
) -> list[Path]:
    both = segments.copy()
    both["geometry_wgs84"] = segments.geometry.to_crs(4326)
    written = []
    for name, frame in (("segments", both), ("hotspots", hotspots)):
        written.append(out / f"{name}.parquet")
        frame.to_parquet(written[-1], index=False)
    for name, table in (("runs", runs), ("value_for_money", value)):
        written.append(out / f"{name}.parquet")
        table.to_parquet(written[-1], index=False)
    return written


def describe_export(paths: list[Path]) -> str:
    """Return one line per file written: its layers, rows and CRS (what ``precinct export`` prints)."""
    import pyogrio

    lines = []
    for path in paths:
        if path.suffix in (".gpkg", ".geojson"):
            for layer, _ in pyogrio.list_layers(path):
                info = pyogrio.read_info(path, layer=layer)
                lines.append(
                    f"{path}  layer {layer}: {info['features']} rows, CRS {info['crs'] or 'none (table)'}"
                )
        elif path.suffix == ".parquet":
            meta = pd.read_parquet(path).shape
            geo = _geoparquet_columns(path)
            lines.append(f"{path}: {meta[0]} rows" + (f", geometry columns {', '.join(geo)}" if geo else ""))
        else:
            lines.append(f"{path}: {len(pd.read_csv(path))} rows")
    return "\n".join(lines)


def _geoparquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    geo = meta.get(b"geo")
    return sorted(json.loads(geo)["columns"]) if geo else []
