"""Places (shops, bars, stations, homes, ...) read from OSM tags, snapped to their nearest street segment.

Each OSM object (node, way, or multipolygon relation) whose tags satisfy a kind's rule in
:data:`PLACE_TAGS` counts as one place of that kind, at its node location or at the mean of its
nodes (the outer rings' nodes for a multipolygon). An object that satisfies several rules counts
once in each of those kinds (a pub in a house is a ``bar`` and a ``residential`` building). Places
are snapped to the nearest street segment within :data:`SNAP_RADIUS_M`; farther ones are dropped and
counted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

# Today's node-snapped points of interest (``StreetNetwork.pois``). Their rules are also the
# ``police`` and ``community`` place kinds, so both views count the same venues.
POI_TAGS = {
    "police": {"amenity": {"police"}},
    "community": {
        "amenity": {"community_centre", "place_of_worship", "school", "library", "social_centre"},
        "building": {"school", "church", "mosque", "synagogue", "temple"},
    },
}

PLACE_KINDS = (
    "shop", "bar", "nightclub", "restaurant", "station", "stop", "school", "parking", "atm",
    "community", "police", "residential",
)  # fmt: skip

# None: any value except those in _NOT_A_PLACE (``shop=vacant`` is an empty unit, not a shop).
PLACE_TAGS: dict[str, dict[str, frozenset[str] | None]] = {
    "shop": {"shop": None},
    "bar": {"amenity": frozenset({"bar", "pub", "biergarten"})},
    "nightclub": {"amenity": frozenset({"nightclub"})},
    "restaurant": {"amenity": frozenset({"restaurant", "fast_food", "cafe"})},
    "station": {
        "railway": frozenset({"station", "subway_entrance", "halt"}),
        "public_transport": frozenset({"station"}),
        "amenity": frozenset({"bus_station"}),
    },
    "stop": {
        "highway": frozenset({"bus_stop"}),
        "public_transport": frozenset({"platform", "stop_position"}),
    },
    "school": {"amenity": frozenset({"school", "college", "university", "kindergarten"})},
    "parking": {"amenity": frozenset({"parking", "parking_entrance", "bicycle_parking"})},
    "atm": {"amenity": frozenset({"atm", "bank"})},
    "community": {key: frozenset(values) for key, values in POI_TAGS["community"].items()},
    "police": {key: frozenset(values) for key, values in POI_TAGS["police"].items()},
    "residential": {
        "building": frozenset(
            {"residential", "apartments", "house", "terrace", "detached", "semidetached_house", "dormitory"}
        )
    },
}
_NOT_A_PLACE = frozenset({"no", "vacant"})
# The kinds a street-only (filtered) extract lacks: without any of them, generators and homes fall back.
LAND_USE_KINDS = ("shop", "bar", "nightclub", "restaurant", "residential")
SNAP_RADIUS_M = 150.0

# key -> [(values, kind index)]: one tag lookup per key, not per rule
_RULES_BY_KEY: dict[str, list[tuple[frozenset[str] | None, int]]] = {}
for _k, _kind in enumerate(PLACE_KINDS):
    for _key, _values in PLACE_TAGS[_kind].items():
        _RULES_BY_KEY.setdefault(_key, []).append((_values, _k))


def place_kinds_of(tags: Any) -> list[int]:
    """Return the indices into :data:`PLACE_KINDS` of every kind whose rule ``tags`` satisfy.

    Parameters
    ----------
    tags
        Anything with ``get(key)`` returning the value or None: a dict or an osmium ``TagList``.

    Returns
    -------
    list[int]
        Sorted kind indices, empty when the object is no place.
    """
    kinds: set[int] = set()
    for key, rules in _RULES_BY_KEY.items():
        value = tags.get(key)
        if value is None:
            continue
        for values, kind in rules:
            if value in values if values is not None else value not in _NOT_A_PLACE:
                kinds.add(kind)
    return sorted(kinds)


def segment_lines(
    geom_indptr: NDArray[np.int64], geom_xy: NDArray[np.float64], segment_edge: NDArray[np.int64]
) -> NDArray[np.object_]:
    """Return one shapely LineString per segment: the polyline of its representative edge."""
    import shapely

    starts, stops = geom_indptr[segment_edge], geom_indptr[segment_edge + 1]
    counts = stops - starts
    owner = np.repeat(np.arange(segment_edge.size), counts)
    point = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    lines: NDArray[np.object_] = shapely.linestrings(geom_xy[point], indices=owner)
    return lines


def snap_to_segments(
    lines: NDArray[np.object_], xy: NDArray[np.float64], *, max_distance_m: float = SNAP_RADIUS_M
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Snap projected points to the nearest street segment within ``max_distance_m``.

    Parameters
    ----------
    lines
        One LineString per segment (:func:`segment_lines`), in the points' projected CRS.
    xy
        Points, shape (n, 2), metres.
    max_distance_m
        Points farther than this from every segment are not snapped.

    Returns
    -------
    segment
        Nearest segment per point (the lowest id among equidistant ones), -1 where none is in reach.
    distance_m
        Distance to that segment, ``inf`` where none is in reach.
    """
    import shapely

    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    segment = np.full(xy.shape[0], -1, dtype=np.int64)
    distance_m = np.full(xy.shape[0], np.inf)
    if xy.shape[0] == 0 or lines.size == 0:
        return segment, distance_m
    tree = shapely.STRtree(lines)
    (pt, seg), dist = tree.query_nearest(
        shapely.points(xy), max_distance=max_distance_m, return_distance=True, all_matches=True
    )
    order = np.lexsort((seg, pt))
    pt, seg, dist = pt[order], seg[order], dist[order]
    first = np.unique(pt, return_index=True)[1]
    segment[pt[first]] = seg[first]
    distance_m[pt[first]] = dist[first]
    return segment, distance_m


def count_places_per_segment(
    places: dict[str, list[tuple[float, float]]],
    crs: Any,
    lines: NDArray[np.object_],
    *,
    max_distance_m: float = SNAP_RADIUS_M,
) -> tuple[NDArray[np.int32], dict[str, int], dict[str, int]]:
    """Project places (WGS84 lon, lat per kind) and count them on their nearest segment.

    Returns
    -------
    counts
        Places per segment and kind, int32, shape (n_segments, len(PLACE_KINDS)).
    found
        Places read per kind.
    dropped
        Places per kind farther than ``max_distance_m`` from every segment (not in ``counts``).
    """
    import pyproj

    n_kinds = len(PLACE_KINDS)
    lonlat = [np.asarray(places.get(kind, []), dtype=np.float64).reshape(-1, 2) for kind in PLACE_KINDS]
    kind_of = np.repeat(np.arange(n_kinds), [a.shape[0] for a in lonlat])
    flat = np.vstack(lonlat)
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = to_xy.transform(flat[:, 0], flat[:, 1])
    segment, _ = snap_to_segments(lines, np.column_stack([x, y]), max_distance_m=max_distance_m)
    on = segment >= 0
    counts = np.bincount(segment[on] * n_kinds + kind_of[on], minlength=lines.size * n_kinds)
    found = np.bincount(kind_of, minlength=n_kinds)
    dropped = np.bincount(kind_of[~on], minlength=n_kinds)
    return (
        counts.reshape(lines.size, n_kinds).astype(np.int32),
        {kind: int(found[k]) for k, kind in enumerate(PLACE_KINDS)},
        {kind: int(dropped[k]) for k, kind in enumerate(PLACE_KINDS)},
    )
