"""Street networks from local OpenStreetMap files, frozen into contiguous-index CSR arrays.

The public entry point is :func:`load_network`; it never touches the internet (OSMnx is pointed
at a closed local port on import) and caches the processed network on disk keyed by the file's
content hash and the options, so the second load of a city takes milliseconds.

Internals: ``_types`` holds :class:`StreetNetwork` and the helpers that read it, ``_osm`` reads the
OSM file, ``_places`` says which tags make a shop, bar, station or home and snaps those places to
street segments, ``_build`` turns it into a network and ``_cache`` keeps processed networks on disk.

Example
-------
>>> from sim.network import load_network
>>> net = load_network("data/osm/city_of_london.osm.pbf")        # doctest: +SKIP
>>> net.n_nodes, net.n_edges, round(net.edge_length_m.sum() / 1000, 1)  # doctest: +SKIP
"""

from sim.network._build import FALLBACK_SPEED_KPH, HIGHWAY_SPEEDS_KPH, build_osmnx_graph, load_network
from sim.network._cache import LOADER_VERSION, default_cache_dir
from sim.network._osm import NETWORK_TYPES
from sim.network._places import PLACE_KINDS, PLACE_TAGS, SNAP_RADIUS_M
from sim.network._types import StreetNetwork, describe, node_weights_to_segments

__all__ = [
    "FALLBACK_SPEED_KPH",
    "HIGHWAY_SPEEDS_KPH",
    "LOADER_VERSION",
    "NETWORK_TYPES",
    "PLACE_KINDS",
    "PLACE_TAGS",
    "SNAP_RADIUS_M",
    "StreetNetwork",
    "build_osmnx_graph",
    "default_cache_dir",
    "describe",
    "load_network",
    "node_weights_to_segments",
]
