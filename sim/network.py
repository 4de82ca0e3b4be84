"""Street networks from local OpenStreetMap files, frozen into contiguous-index CSR arrays.

The public entry point is :func:`load_network`; it never touches the internet (OSMnx is pointed
at a closed local port on import) and caches the processed network on disk keyed by the file's
content hash and the options, so the second load of a city takes milliseconds.

Example
-------
>>> from sim.network import load_network
>>> net = load_network("data/osm/city_of_london.osm.pbf")        # doctest: +SKIP
>>> net.n_nodes, net.n_edges, round(net.edge_length_m.sum() / 1000, 1)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import warnings
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import osmnx as ox
from numpy.typing import NDArray

from sim import _osm
from sim.errors import CacheError, NetworkFileError

__all__ = [
    "LOADER_VERSION",
    "NETWORK_TYPES",
    "StreetNetwork",
    "default_cache_dir",
    "load_network",
    "node_weights_to_segments",
]

NETWORK_TYPES = _osm.NETWORK_TYPES
# Bump when the processing changes, so stale cache entries are never reused.
LOADER_VERSION = "2"
# Fallback free-flow speeds (km/h) by highway class where no maxspeed is tagged on any way of the class;
# OSMnx imputes from tagged ways of the same class first.
HIGHWAY_SPEEDS_KPH = {
    "motorway": 90.0, "trunk": 60.0, "primary": 40.0, "secondary": 35.0, "tertiary": 30.0,
    "unclassified": 25.0, "residential": 25.0, "living_street": 10.0, "service": 15.0,
}  # fmt: skip
FALLBACK_SPEED_KPH = 20.0

_ARRAY_FIELDS = (
    "indptr", "indices", "edge_source", "edge_length_m", "edge_travel_time_s", "edge_osm_way_id",
    "edge_highway", "edge_lit", "edge_segment", "segment_edge", "node_xy", "node_lonlat",
    "node_osm_id", "geom_indptr", "geom_xy", "poi_police", "poi_community",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class StreetNetwork:
    """A directed street network as read-only CSR arrays (see docs/architecture.md for every field).

    Edge ids are CSR positions: the out-edges of node ``u`` are ``indptr[u]:indptr[u + 1]`` and edge
    ``e`` runs from ``edge_source[e]`` to ``indices[e]``. Both directions of a two-way street share
    one ``edge_segment`` id: segments are what crime is counted on and what planners treat.
    """

    indptr: NDArray[np.int64]
    indices: NDArray[np.int64]
    edge_source: NDArray[np.int64]
    edge_length_m: NDArray[np.float64]
    edge_travel_time_s: NDArray[np.float64]
    edge_osm_way_id: NDArray[np.int64]
    edge_highway: NDArray[np.int16]
    edge_lit: NDArray[np.int8]
    edge_segment: NDArray[np.int64]
    segment_edge: NDArray[np.int64]
    node_xy: NDArray[np.float64]
    node_lonlat: NDArray[np.float64]
    node_osm_id: NDArray[np.int64]
    geom_indptr: NDArray[np.int64]
    geom_xy: NDArray[np.float64]
    poi_police: NDArray[np.int64]
    poi_community: NDArray[np.int64]
    highway_classes: tuple[str, ...]
    crs: str
    network_type: str
    source: str
    content_hash: str
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        """Number of nodes (intersections and dead ends)."""
        return int(self.indptr.shape[0] - 1)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.indices.shape[0])

    @property
    def n_segments(self) -> int:
        """Number of undirected street segments."""
        return int(self.segment_edge.shape[0])

    @property
    def segment_length_m(self) -> NDArray[np.float64]:
        """Length of each undirected segment in metres."""
        return self.edge_length_m[self.segment_edge]

    @property
    def pois(self) -> dict[str, NDArray[np.int64]]:
        """Points of interest snapped to their nearest node: ``police`` and ``community`` venues."""
        return {"police": self.poi_police, "community": self.poi_community}

    @cached_property
    def edge_midpoint_xy(self) -> NDArray[np.float64]:
        """Point halfway along each edge's geometry, projected metres, shape (n_edges, 2)."""
        return self.edge_point(np.arange(self.n_edges), self.edge_length_m / 2.0)

    def highway_of(self, edge: int) -> str:
        """Return the OSM highway class of an edge."""
        return self.highway_classes[int(self.edge_highway[edge])]

    def edge_point(self, edge: NDArray[np.int64], offset_m: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return projected x, y of points ``offset_m`` metres along edges (vectorised).

        Offsets are measured along the edge polyline and clipped to ``[0, length]``.
        """
        edge = np.asarray(edge, dtype=np.int64)
        offset_m = np.asarray(offset_m, dtype=np.float64)
        edge, offset_m = np.broadcast_arrays(edge, offset_m)
        out = np.empty((*edge.shape, 2), dtype=np.float64)
        flat_e, flat_o, flat_out = edge.ravel(), offset_m.ravel(), out.reshape(-1, 2)
        gxy, gptr, cum = self.geom_xy, self.geom_indptr, self._geom_cum_m
        for i in range(flat_e.size):  # per point; used for output and maps, not in the hot loop
            a, b = gptr[flat_e[i]], gptr[flat_e[i] + 1]
            local = cum[a:b] - cum[a]
            total = local[-1]
            frac = 0.0 if self.edge_length_m[flat_e[i]] <= 0 else flat_o[i] / self.edge_length_m[flat_e[i]]
            d = min(max(frac, 0.0), 1.0) * total
            flat_out[i, 0] = np.interp(d, local, gxy[a:b, 0])
            flat_out[i, 1] = np.interp(d, local, gxy[a:b, 1])
        return out

    @cached_property
    def _geom_cum_m(self) -> NDArray[np.float64]:
        """Cumulative length along the flat polyline array (computed once, not per call)."""
        seg_len = np.hypot(*np.diff(self.geom_xy, axis=0).T)
        return np.concatenate([[0.0], np.cumsum(seg_len)])

    def edge_lonlat(self, edge: NDArray[np.int64], offset_m: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return WGS84 lon, lat of points along edges."""
        xy = self.edge_point(edge, offset_m).reshape(-1, 2)
        lon, lat = self._to_lonlat.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat]).reshape(np.shape(xy))

    @cached_property
    def _to_lonlat(self) -> Any:
        import pyproj

        return pyproj.Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)

    @cached_property
    def _segment_tree(self) -> Any:
        import shapely

        lines = [
            shapely.LineString(self.geom_xy[self.geom_indptr[e] : self.geom_indptr[e + 1]])
            for e in self.segment_edge
        ]
        return shapely.STRtree(lines), lines

    def nearest_edges(
        self, x: NDArray[np.float64] | float, y: NDArray[np.float64] | float
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
        """Snap projected points to the nearest street.

        Parameters
        ----------
        x, y
            Projected coordinates in the network's CRS (metres).

        Returns
        -------
        edge
            Nearest edge (the segment's representative direction) per point.
        offset_m
            Metres along that edge to the snapped point.
        distance_m
            Straight-line distance from the point to the street.
        """
        import shapely

        xs = np.atleast_1d(np.asarray(x, dtype=np.float64))
        ys = np.atleast_1d(np.asarray(y, dtype=np.float64))
        if xs.shape != ys.shape:
            msg = f"x and y must have the same shape, got {xs.shape} and {ys.shape}"
            raise ValueError(msg)
        tree, lines = self._segment_tree
        points = shapely.points(xs, ys)
        (pt_idx, seg_idx), dist = tree.query_nearest(points, return_distance=True, all_matches=True)
        # several equidistant segments: keep the lowest segment id, so snapping is deterministic
        order = np.lexsort((seg_idx, pt_idx))
        pt_idx, seg_idx, dist = pt_idx[order], seg_idx[order], dist[order]
        first = np.unique(pt_idx, return_index=True)[1]
        seg = seg_idx[first]
        edge = self.segment_edge[seg]
        geom_len = np.array([lines[s].length for s in seg])
        along = shapely.line_locate_point(np.asarray(lines, dtype=object)[seg], points)
        scale = np.divide(self.edge_length_m[edge], geom_len, out=np.zeros_like(geom_len), where=geom_len > 0)
        return edge.astype(np.int64), along * scale, dist[first]

    def to_networkx(self) -> nx.MultiDiGraph:
        """Return the network as a MultiDiGraph with nodes ``0..n-1`` and edge key = edge id.

        Edge attributes: ``length`` (m), ``travel_time`` (s), ``osmid``, ``highway``, ``segment``.
        Node attributes: ``x``, ``y`` (projected), ``osmid``.
        """
        g = nx.MultiDiGraph(crs=self.crs)
        for u in range(self.n_nodes):
            g.add_node(
                u, x=float(self.node_xy[u, 0]), y=float(self.node_xy[u, 1]), osmid=int(self.node_osm_id[u])
            )
        for e in range(self.n_edges):
            g.add_edge(
                int(self.edge_source[e]),
                int(self.indices[e]),
                key=e,
                length=float(self.edge_length_m[e]),
                travel_time=float(self.edge_travel_time_s[e]),
                osmid=int(self.edge_osm_way_id[e]),
                highway=self.highway_of(e),
                segment=int(self.edge_segment[e]),
            )
        return g


def node_weights_to_segments(
    indptr: NDArray[np.int64],
    segment_of: NDArray[np.int64],
    nodes: NDArray[np.int64],
    weights: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Segments at the given nodes, each with the largest weight among its nodes.

    ``indptr`` / ``segment_of`` is a CSR from node to segments (e.g. the network's out-edges with
    ``edge_segment``, or a node x segment incidence); ``weights`` holds one value per node in ``nodes``.
    Returns the segments sorted by id and their weights.
    """
    counts = indptr[nodes + 1] - indptr[nodes]
    starts = np.cumsum(counts) - counts
    idx = np.repeat(indptr[nodes], counts) + (np.arange(int(counts.sum())) - np.repeat(starts, counts))
    segs = np.asarray(segment_of[idx], dtype=np.int64)
    ws = np.repeat(weights, counts)
    order = np.lexsort((-ws, segs))
    segs, ws = segs[order], ws[order]
    first = np.ones(segs.size, dtype=bool)
    first[1:] = segs[1:] != segs[:-1]
    return segs[first], ws[first]


def default_cache_dir() -> Path:
    """Return the network cache directory: ``$PRECINCT_CACHE_DIR`` or ``~/.cache/precinct/networks``."""
    env = os.environ.get("PRECINCT_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "precinct" / "networks"


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
                return net
        _ensure_writable(cache_root)
    net = _build(src, network_type, digest, min_nodes)
    if cache_file is not None:
        _write_cache(cache_file, net)
    net.stats["load_time_s"] = time.perf_counter() - t0
    net.stats["from_cache"] = False
    return net


def _check_readable(src: Path) -> None:
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


def _hash_file(src: Path, network_type: str, min_nodes: int) -> str:
    h = hashlib.sha256()
    with src.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    h.update(f"|{network_type}|{min_nodes}|{LOADER_VERSION}|osmnx{ox.__version__}".encode())
    return h.hexdigest()[:32]


def _ensure_writable(cache_root: Path) -> None:
    try:
        cache_root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cache_root, prefix=".probe-"):
            pass
    except OSError as exc:
        msg = (
            f"{cache_root}: network cache directory is not writable ({exc.strerror or exc}); "
            "set PRECINCT_CACHE_DIR (or cache_dir=) to a writable directory, or pass use_cache=False"
        )
        raise CacheError(msg) from exc


def _write_cache(cache_file: Path, net: StreetNetwork) -> None:
    meta = {
        "highway_classes": list(net.highway_classes), "crs": net.crs, "network_type": net.network_type,
        "content_hash": net.content_hash, "stats": net.stats,
    }  # fmt: skip
    arrays = {name: getattr(net, name) for name in _ARRAY_FIELDS}
    fd, tmp = tempfile.mkstemp(dir=cache_file.parent, prefix=f".{cache_file.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, meta=np.array(json.dumps(meta)), **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, cache_file)  # atomic: readers see the old entry or the complete new one
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_cache(cache_file: Path, src: Path) -> StreetNetwork:
    with np.load(cache_file, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        arrays = {name: _readonly(data[name]) for name in _ARRAY_FIELDS}
    return StreetNetwork(
        **arrays,
        highway_classes=tuple(meta["highway_classes"]),
        crs=meta["crs"],
        network_type=meta["network_type"],
        source=str(src),
        content_hash=meta["content_hash"],
        stats=dict(meta["stats"]),
    )


def _readonly(a: NDArray[Any]) -> NDArray[Any]:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def _build(src: Path, network_type: str, digest: str, min_nodes: int) -> StreetNetwork:
    g, lonlat, pois, stats = build_osmnx_graph(src, network_type=network_type, min_nodes=min_nodes)
    return _freeze(g, lonlat, pois, src=src, network_type=network_type, digest=digest, stats=stats)


def build_osmnx_graph(
    src: Path, *, network_type: str = "drive", min_nodes: int = 10
) -> tuple[
    nx.MultiDiGraph, dict[int, tuple[float, float]], dict[str, list[tuple[float, float]]], dict[str, Any]
]:
    """Read, simplify, truncate and project: the OSMnx graph that :func:`load_network` freezes.

    Returns the projected graph (OSM node ids), WGS84 node coordinates, raw points of interest
    and loading statistics. Exposed so tests can check the frozen arrays edge for edge.
    """
    raw = _osm.read_streets(src, network_type)
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
    return g, lonlat, raw.pois, stats


def _first(value: Any) -> Any:
    """One value of an attribute OSMnx merged into a list when simplifying.

    OSMnx builds those lists from sets, so their order depends on Python's string hashing (it
    changes from process to process); taking the smallest keeps the network, and every run on it,
    identical across processes.
    """
    return min(value) if isinstance(value, list) else value


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
        edge_segment=_readonly(segment), segment_edge=_readonly(segment_edge),
        node_xy=_readonly(node_xy), node_lonlat=_readonly(node_lonlat), node_osm_id=_readonly(osm_ids),
        geom_indptr=_readonly(geom_indptr), geom_xy=_readonly(geom_xy),
        poi_police=_readonly(poi_arrays["police"]), poi_community=_readonly(poi_arrays["community"]),
        highway_classes=tuple(classes), crs=crs_text, network_type=network_type, source=str(src),
        content_hash=digest, stats=stats,
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
    for kind in _osm.POI_TAGS:
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


def describe(net: StreetNetwork) -> dict[str, Any]:
    """Return a plain summary of a network for printing or logging."""
    return {
        f.name: getattr(net, f.name) for f in fields(net) if f.name in ("crs", "network_type", "source")
    } | {
        "nodes": net.n_nodes,
        "edges": net.n_edges,
        "segments": net.n_segments,
        **{k: v for k, v in net.stats.items() if k not in ("nodes", "edges", "segments")},
    }
