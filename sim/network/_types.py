"""The street network as read-only, contiguous-index CSR arrays, and helpers that read it.

:class:`StreetNetwork` is what every other part of Precinct sees of the streets; docs/architecture.md
describes every field.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any, ClassVar

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from sim.network._places import PLACE_KINDS

_ARRAY_FIELDS = (
    "indptr", "indices", "edge_source", "edge_length_m", "edge_travel_time_s", "edge_osm_way_id",
    "edge_highway", "edge_lit", "edge_name", "edge_ref", "edge_segment", "segment_edge", "node_xy", "node_lonlat",
    "node_osm_id", "geom_indptr", "geom_xy", "poi_police", "poi_community", "segment_place_counts",
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
    edge_name: NDArray[np.int32]
    edge_ref: NDArray[np.int32]
    edge_segment: NDArray[np.int64]
    segment_edge: NDArray[np.int64]
    node_xy: NDArray[np.float64]
    node_lonlat: NDArray[np.float64]
    node_osm_id: NDArray[np.int64]
    geom_indptr: NDArray[np.int64]
    geom_xy: NDArray[np.float64]
    poi_police: NDArray[np.int64]
    poi_community: NDArray[np.int64]
    segment_place_counts: NDArray[np.int32]
    highway_classes: tuple[str, ...]
    street_names: tuple[str, ...]
    crs: str
    network_type: str
    source: str
    content_hash: str
    places_found: dict[str, int]
    places_dropped: dict[str, int]
    stats: dict[str, Any] = field(default_factory=dict)

    place_kinds: ClassVar[tuple[str, ...]] = PLACE_KINDS

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
    def segment_places(self) -> dict[str, NDArray[np.int32]]:
        """Places per segment by kind (columns of ``segment_place_counts`` as read-only arrays)."""
        return {kind: _readonly(self.segment_place_counts[:, k]) for k, kind in enumerate(self.place_kinds)}

    @cached_property
    def segment_length_cdf(self) -> NDArray[np.float64]:
        """Cumulative share of street length by segment, ending at 1: draws proportional to length.

        ``cdf.searchsorted(rng.random(k), side="right")`` draws exactly what
        ``rng.choice(n_segments, size=k, p=segment_length_m / segment_length_m.sum())`` draws, without
        checking and summing ``p`` again on every call.
        """
        cdf = (self.segment_length_m / self.segment_length_m.sum()).cumsum()
        cdf /= cdf[-1]
        return _readonly(cdf)

    @cached_property
    def edge_midpoint_xy(self) -> NDArray[np.float64]:
        """Point halfway along each edge's geometry, projected metres, shape (n_edges, 2)."""
        return self.edge_point(np.arange(self.n_edges), self.edge_length_m / 2.0)

    @cached_property
    def segment_name(self) -> NDArray[np.str_]:
        """OSM ``name`` of each segment's street ("" where the way has none)."""
        return _readonly(_lookup(self.street_names, self.edge_name[self.segment_edge]))

    @cached_property
    def segment_ref(self) -> NDArray[np.str_]:
        """OSM ``ref`` (road number, e.g. "I 880") of each segment's street ("" where it has none)."""
        return _readonly(_lookup(self.street_names, self.edge_ref[self.segment_edge]))

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


def describe(net: StreetNetwork) -> dict[str, Any]:
    """Return a plain summary of a network for printing or logging."""
    return {
        f.name: getattr(net, f.name) for f in fields(net) if f.name in ("crs", "network_type", "source")
    } | {
        "nodes": net.n_nodes,
        "edges": net.n_edges,
        "segments": net.n_segments,
        **{k: v for k, v in net.stats.items() if k not in ("nodes", "edges", "segments")},
        "places": {
            kind: int(n)
            for kind, n in zip(net.place_kinds, net.segment_place_counts.sum(axis=0), strict=True)
        },
        "places_found": dict(net.places_found),
    }


def _lookup(table: tuple[str, ...], codes: NDArray[np.int32]) -> NDArray[np.str_]:
    """Return the strings of ``codes`` into ``table``, "" for code -1."""
    values = np.array(["", *table], dtype=np.str_)
    out: NDArray[np.str_] = values[np.asarray(codes, dtype=np.int64) + 1]
    return out


def _readonly(a: NDArray[Any]) -> NDArray[Any]:
    """Return a C-contiguous, read-only view (or copy) of ``a``: network arrays are never written."""
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a
