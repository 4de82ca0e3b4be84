"""Build a :class:`StreetNetwork` from a local OpenStreetMap file: read, simplify, project, freeze, cache."""

from __future__ import annotations

import logging
import os
import time
import warnings
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import osmnx as ox
from numpy.typing import NDArray

from sim.errors import NetworkFileError
from sim.network._cache import _ensure_writable, _hash_file, _read_cache, _write_cache, default_cache_dir
from sim.network._osm import NETWORK_TYPES, RawStreets, read_streets
from sim.network._places import LAND_USE_KINDS, POI_TAGS, count_places_per_segment, segment_lines
from sim.network._types import StreetNetwork, _readonly

_log = logging.getLogger("precinct")

# Fallback free-flow speeds (km/h) by highway class where no maxspeed is tagged on any way of the class;
# OSMnx imputes from tagged ways of the same class first.
HIGHWAY_SPEEDS_KPH = {
    "motorway": 90.0, "trunk": 60.0, "primary": 40.0, "secondary": 35.0, "tertiary": 30.0,
    "unclassified": 25.0, "residential": 25.0, "living_street": 10.0, "service": 15.0,
}  # fmt: skip
FALLBACK_SPEED_KPH = 20.0


def load_network(
    path: str | os.PathLike[str],
    *,
    network_type: str = "drive",
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    min_nodes: int = 10,
) -> StreetNetwork:
    """Load a local OpenStreetMap extract as a frozen street network.

    Reads ``.osm``, ``.osm.xml``, ``.osm.bz2`` and ``.osm.pbf`` files as downloaded (all kinds of
    ways present, ways clipped at the edge), keeps street ways by OSMnx's filter for
    ``network_type``, simplifies the topology, keeps the largest strongly connected component,
    projects to the local UTM zone and freezes the result into CSR arrays.

    Parameters
    ----------
    path
        The OSM file. Nothing is ever downloaded.
    network_type
        One of ``drive``, ``drive_service``, ``walk``, ``bike``, ``all``, ``all_public`` (OSMnx's meanings).
    cache_dir
        Where processed networks are cached; default :func:`default_cache_dir`.
    use_cache
        Read and write the cache. Entries are keyed by the file's sha256 and the options.
    min_nodes
        Refuse networks whose largest strongly connected component has fewer nodes.

    Returns
    -------
    StreetNetwork
        Read-only arrays; ``stats`` records what was dropped and how long loading took.

    Raises
    ------
    NetworkFileError
        The file is missing, unreadable, not OSM, truncated, or holds too few streets.
    CacheError
        The cache directory cannot be written.
    """
    t0 = time.perf_counter()
    src = Path(path).expanduser()
    _check_readable(src)
    if network_type not in NETWORK_TYPES:
        raise NetworkFileError(
            src, f"unknown network_type {network_type!r}", f"use one of {', '.join(NETWORK_TYPES)}"
        )
    digest = _hash_file(src, network_type, min_nodes)
    cache_file: Path | None = None
    if use_cache:
        cache_root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        cache_file = cache_root / f"{digest}.npz"
        if cache_file.is_file():
            try:
                net = _read_cache(cache_file, src)
            except (OSError, ValueError, KeyError):  # unreadable entry: rebuild it
                pass
            else:
                net.stats["load_time_s"] = time.perf_counter() - t0
                net.stats["from_cache"] = True
                _warn_if_no_places(net, src)
                return net
        _ensure_writable(cache_root)
    net = _build(src, network_type, digest, min_nodes)
    if cache_file is not None:
        _write_cache(cache_file, net)
    net.stats["load_time_s"] = time.perf_counter() - t0
    net.stats["from_cache"] = False
    _warn_if_no_places(net, src)
    return net


def _warn_if_no_places(net: StreetNetwork, src: Path) -> None:
    """Log one warning line when the extract has no shops, bars, restaurants or homes (a street-only file)."""
    if not any(net.places_found[kind] for kind in LAND_USE_KINDS):
        _log.warning(
            "no shops, bars, restaurants or residential buildings in %s: "
            "crime generators and homes fall back on street class",
            src,
        )


def _check_readable(src: Path) -> None:
    """Raise NetworkFileError unless ``src`` is an existing, readable, non-empty file."""
    if not src.exists():
        raise NetworkFileError(src, "no such file", "check the path (nothing is downloaded at run time)")
    if src.is_dir():
        raise NetworkFileError(
            src, "is a directory, not an OSM file", "give the path of a .osm/.osm.bz2/.osm.pbf file"
        )
    if not os.access(src, os.R_OK):
        raise NetworkFileError(src, "cannot be read (permission denied)", "make the file readable")
    if src.stat().st_size == 0:
        raise NetworkFileError(src, "the file is empty", "download or export the extract again")


def _build(src: Path, network_type: str, digest: str, min_nodes: int) -> StreetNetwork:
    raw = read_streets(src, network_type)
    g, lonlat, stats = _simplify(raw, src, network_type=network_type, min_nodes=min_nodes)
    return _freeze(
        g, lonlat, raw.pois, raw.places, src=src, network_type=network_type, digest=digest, stats=stats
    )


def build_osmnx_graph(
    src: Path, *, network_type: str = "drive", min_nodes: int = 10
) -> tuple[
    nx.MultiDiGraph, dict[int, tuple[float, float]], dict[str, list[tuple[float, float]]], dict[str, Any]
]:
    """Read, simplify, truncate and project: the OSMnx graph that :func:`load_network` freezes.

    Returns the projected graph (OSM node ids), WGS84 node coordinates, raw points of interest
    and loading statistics. Exposed so tests can check the frozen arrays edge for edge.
    """
    raw = read_streets(src, network_type)
    g, lonlat, stats = _simplify(raw, src, network_type=network_type, min_nodes=min_nodes)
    return g, lonlat, raw.pois, stats


def _simplify(
    raw: RawStreets, src: Path, *, network_type: str, min_nodes: int
) -> tuple[nx.MultiDiGraph, dict[int, tuple[float, float]], dict[str, Any]]:
    """Simplify, truncate to the largest strongly connected component, add speeds and project."""
    g = raw.graph
    if g.number_of_edges() == 0:
        raise NetworkFileError(
            src,
            f"no street ways for network_type={network_type!r} among {raw.n_ways_total} ways",
            "check that the extract covers streets, or try network_type='all'",
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # osmnx/pandas chatter about dtypes is not the user's concern
        g = ox.distance.add_edge_lengths(g)
        g = ox.simplify_graph(g)
        n_before, e_before = g.number_of_nodes(), g.number_of_edges()
        n_components = nx.number_strongly_connected_components(g)
        g = ox.truncate.largest_component(g, strongly=True)
        if g.number_of_nodes() < min_nodes:
            raise NetworkFileError(
                src,
                f"largest connected street network has only {g.number_of_nodes()} nodes "
                f"(fewer than min_nodes={min_nodes}; the extract has {n_components} separate pieces)",
                "use a larger or less fragmented extract, or network_type='all'",
            )
        g = ox.routing.add_edge_speeds(g, hwy_speeds=HIGHWAY_SPEEDS_KPH, fallback=FALLBACK_SPEED_KPH)
        g = ox.routing.add_edge_travel_times(g)
        lonlat = {n: (d["x"], d["y"]) for n, d in g.nodes(data=True)}
        g = ox.projection.project_graph(g)
    stats = {
        "osm_ways": raw.n_ways_total,
        "street_ways": raw.n_street_ways,
        "ways_split_at_clip": raw.n_split_ways,
        "components": n_components,
        "components_dropped": n_components - 1,
        "nodes_dropped": n_before - g.number_of_nodes(),
        "edges_dropped": e_before - g.number_of_edges(),
    }
    return g, lonlat, stats


def _first(value: Any) -> Any:
    """One value of an attribute OSMnx merged into a list when simplifying.

    OSMnx builds those lists from sets, so their order depends on Python's string hashing (it
    changes from process to process); taking the smallest keeps the network, and every run on it,
    identical across processes.
    """
    return min(value) if isinstance(value, list) else value


def _text(value: Any) -> str:
    """One non-empty tag value of an attribute OSMnx may have merged into a list ("" if none).

    The smallest, for the same reason as :func:`_first`; a merged edge whose ways have a name and
    no name keeps the name.
    """
    values = value if isinstance(value, list) else [value]
    texts = sorted(str(v) for v in values if isinstance(v, str) and v)
    return texts[0] if texts else ""


def _codes(texts: list[str], table: dict[str, int]) -> NDArray[np.int32]:
    """Return the code of each text in ``table`` (adding new ones), -1 for ""."""
    return np.array([table.setdefault(t, len(table)) if t else -1 for t in texts], dtype=np.int32)


def _lit_code(value: Any) -> int:
    values = value if isinstance(value, list) else [value]
    if any(v in ("yes", "24/7", "automatic", "limited", "interval") for v in values):
        return 1
    if any(v in ("no", "disused") for v in values):
        return 0
    return -1


def _freeze(
    g: nx.MultiDiGraph,
    lonlat: dict[int, tuple[float, float]],
    pois: dict[str, list[tuple[float, float]]],
    places: dict[str, list[tuple[float, float]]],
    *,
    src: Path,
    network_type: str,
    digest: str,
    stats: dict[str, Any],
) -> StreetNetwork:
    """Turn a projected OSMnx graph into contiguous-index CSR arrays (deterministic order)."""
    osm_ids = np.array(sorted(g.nodes), dtype=np.int64)
    index = {int(n): i for i, n in enumerate(osm_ids)}
    n = osm_ids.size
    node_xy = np.array([(g.nodes[o]["x"], g.nodes[o]["y"]) for o in osm_ids], dtype=np.float64)
    node_lonlat = np.array([lonlat[int(o)] for o in osm_ids], dtype=np.float64)

    rows = sorted(
        ((index[u], index[v], k, d) for u, v, k, d in g.edges(keys=True, data=True)),
        key=lambda r: (r[0], r[1], r[2]),
    )
    m = len(rows)
    src_idx = np.fromiter((r[0] for r in rows), dtype=np.int64, count=m)
    dst_idx = np.fromiter((r[1] for r in rows), dtype=np.int64, count=m)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, src_idx + 1, 1)
    np.cumsum(indptr, out=indptr)
    length = np.array([float(r[3]["length"]) for r in rows])
    travel = np.array([float(r[3]["travel_time"]) for r in rows])
    way_id = np.array([int(_first(r[3]["osmid"])) for r in rows], dtype=np.int64)
    classes = sorted({str(_first(r[3]["highway"])) for r in rows})
    class_code = {c: i for i, c in enumerate(classes)}
    highway = np.array([class_code[str(_first(r[3]["highway"]))] for r in rows], dtype=np.int16)
    lit = np.array([_lit_code(r[3].get("lit", "")) for r in rows], dtype=np.int8)
    # street names and road numbers, for planners' tables and GIS files (the model never reads them)
    names = [_text(r[3].get("name", "")) for r in rows]
    refs = [_text(r[3].get("ref", "")) for r in rows]
    name_table: dict[str, int] = {}
    for text in sorted({*names, *refs} - {""}):
        name_table[text] = len(name_table)
    edge_name, edge_ref = _codes(names, name_table), _codes(refs, name_table)

    geoms: list[NDArray[np.float64]] = []
    for u, v, _, d in rows:
        if "geometry" in d:
            geoms.append(np.asarray(d["geometry"].coords, dtype=np.float64))
        else:
            geoms.append(np.vstack([node_xy[u], node_xy[v]]))
    geom_indptr = np.zeros(m + 1, dtype=np.int64)
    geom_indptr[1:] = np.cumsum([len(c) for c in geoms])
    geom_xy = np.vstack(geoms) if geoms else np.zeros((0, 2))

    # undirected segment: both directions of one street between the same two nodes, matched by
    # unordered endpoints, way and length (to 1 cm), so parallel but different streets stay apart
    lo, hi = np.minimum(src_idx, dst_idx), np.maximum(src_idx, dst_idx)
    keys = np.rec.fromarrays([lo, hi, way_id, np.round(length * 100).astype(np.int64)])
    _, first_edge, segment = np.unique(keys, return_index=True, return_inverse=True)
    # renumber segments in order of their first edge so segment ids follow edge ids
    order = np.argsort(first_edge, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    segment = rank[segment.ravel()].astype(np.int64)
    segment_edge = np.sort(first_edge).astype(np.int64)

    poi_arrays = _snap_pois(pois, g.graph["crs"], node_xy)
    lines = segment_lines(geom_indptr, geom_xy, segment_edge)
    place_counts, places_found, places_dropped = count_places_per_segment(places, g.graph["crs"], lines)
    stats = {
        **stats,
        "nodes": int(n), "edges": int(m), "segments": int(segment_edge.size),
        "street_km": float(length[segment_edge].sum() / 1000.0),
        "bbox_lonlat": [float(v) for v in (*node_lonlat.min(axis=0), *node_lonlat.max(axis=0))],
    }  # fmt: skip
    crs = g.graph["crs"]
    crs_text = crs.to_string() if hasattr(crs, "to_string") else str(crs)
    return StreetNetwork(
        indptr=_readonly(indptr), indices=_readonly(dst_idx), edge_source=_readonly(src_idx),
        edge_length_m=_readonly(length), edge_travel_time_s=_readonly(travel),
        edge_osm_way_id=_readonly(way_id), edge_highway=_readonly(highway), edge_lit=_readonly(lit),
        edge_name=_readonly(edge_name), edge_ref=_readonly(edge_ref), street_names=tuple(name_table),
        edge_segment=_readonly(segment), segment_edge=_readonly(segment_edge),
        node_xy=_readonly(node_xy), node_lonlat=_readonly(node_lonlat), node_osm_id=_readonly(osm_ids),
        geom_indptr=_readonly(geom_indptr), geom_xy=_readonly(geom_xy),
        poi_police=_readonly(poi_arrays["police"]), poi_community=_readonly(poi_arrays["community"]),
        segment_place_counts=_readonly(place_counts),
        highway_classes=tuple(classes), crs=crs_text, network_type=network_type, source=str(src),
        content_hash=digest, places_found=places_found, places_dropped=places_dropped, stats=stats,
    )  # fmt: skip


def _snap_pois(
    pois: dict[str, list[tuple[float, float]]], crs: Any, node_xy: NDArray[np.float64]
) -> dict[str, NDArray[np.int64]]:
    """Project points of interest and snap each to its nearest network node (unique, sorted)."""
    import pyproj
    from scipy.spatial import cKDTree

    tree = cKDTree(node_xy)
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    lo, hi = node_xy.min(axis=0), node_xy.max(axis=0)
    out: dict[str, NDArray[np.int64]] = {}
    for kind in POI_TAGS:
        pts = np.asarray(pois.get(kind, []), dtype=np.float64).reshape(-1, 2)
        if pts.size == 0:
            out[kind] = np.zeros(0, dtype=np.int64)
            continue
        x, y = to_xy.transform(pts[:, 0], pts[:, 1])
        xy = np.column_stack([x, y])
        inside = np.all((xy >= lo) & (xy <= hi), axis=1)  # POIs off the network's bbox are not ours
        _, nearest = tree.query(xy[inside])
        out[kind] = np.unique(np.asarray(nearest, dtype=np.int64))
    return out
