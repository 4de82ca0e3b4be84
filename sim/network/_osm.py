"""Read a local OpenStreetMap file (XML, bz2 or PBF) into an unsimplified OSMnx-style street graph.

OSMnx's own `graph_from_xml` reads XML only and turns every way (buildings included) into edges,
so we read with libosmium (pyosmium), keep only street ways using OSMnx's own network-type filter,
split ways where they run off a clipped extract, and hand the graph to OSMnx for simplification,
component truncation and projection.
"""

from __future__ import annotations

import bz2
import itertools
import re
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import osmium
import osmnx as ox

from sim.errors import NetworkFileError
from sim.network._places import PLACE_KINDS, POI_TAGS, place_kinds_of

# OSMnx must never reach the network from inside Precinct: point its endpoints at a closed local
# port and turn its HTTP cache off, so an accidental call fails at once instead of downloading.
ox.settings.use_cache = False
ox.settings.overpass_url = "http://127.0.0.1:9/precinct-is-offline"
ox.settings.nominatim_url = "http://127.0.0.1:9/precinct-is-offline"
ox.settings.elevation_url_template = "http://127.0.0.1:9/precinct-is-offline"
ox.settings.requests_timeout = 1
ox.settings.log_console = False

NETWORK_TYPES = ("drive", "drive_service", "walk", "bike", "all", "all_public")
SUFFIXES = (".osm", ".osm.xml", ".xml", ".osm.bz2", ".xml.bz2", ".osm.pbf", ".pbf")
_TRUE = {"yes", "true", "1"}
_REVERSED = {"-1", "reverse", "t"}  # osmnx treats "T" (reverse) and "-1" as reversed one-ways
_TWO_WAY = {"reversible", "alternating"}
_FILTER_TERM = re.compile(r'\["(?P<key>[^"]+)"(?:(?P<op>!?~)"(?P<regex>[^"]*)")?\]')


@dataclass
class RawStreets:
    """What one pass over an OSM file yields: street graph in lon/lat, points of interest and places.

    ``pois`` are today's police and community venues (nodes and ways); ``places`` holds every
    :data:`~sim.network._places.PLACE_KINDS` kind (nodes, ways and multipolygon relations), each a
    list of WGS84 ``(lon, lat)``.
    """

    graph: nx.MultiDiGraph
    n_ways_total: int
    n_street_ways: int
    n_split_ways: int
    pois: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    places: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


def compile_way_filter(network_type: str) -> list[tuple[str, str | None, re.Pattern[str] | None]]:
    """Return OSMnx's Overpass way filter for `network_type` as (key, op, regex) rules.

    Using OSMnx's own filter string keeps our notion of "drive" or "walk" identical to OSMnx's.
    """
    if network_type not in NETWORK_TYPES:
        msg = f"network_type={network_type!r} is not one of {', '.join(NETWORK_TYPES)}"
        raise ValueError(msg)
    text = ox._overpass._get_network_filter(network_type)
    rules = []
    for m in _FILTER_TERM.finditer(text):
        regex = m.group("regex")
        rules.append((m.group("key"), m.group("op"), re.compile(regex) if regex is not None else None))
    if not rules or rules[0][0] != "highway":
        msg = f"could not parse the OSMnx way filter for {network_type!r}: {text!r}"
        raise RuntimeError(msg)
    return rules


def way_passes(tags: dict[str, str], rules: list[tuple[str, str | None, re.Pattern[str] | None]]) -> bool:
    """Return whether a way's tags pass an Overpass-style filter (Overpass regexes are searches)."""
    for key, op, regex in rules:
        value = tags.get(key)
        if op is None:
            if value is None:
                return False
        elif op == "~":
            if value is None or regex is None or not regex.search(value):
                return False
        elif value is not None and regex is not None and regex.search(value):
            return False
    return True


def sniff_format(path: Path) -> str:
    """Check the file's first bytes and return the osmium format name, or raise NetworkFileError."""
    name = path.name.lower()
    if not name.endswith(SUFFIXES):
        raise NetworkFileError(
            path,
            "unrecognised file name extension",
            f"give an OpenStreetMap extract ending in one of {', '.join(SUFFIXES)}",
        )
    with path.open("rb") as fh:
        head = fh.read(512)
    if not head:
        raise NetworkFileError(path, "the file is empty", "download or export the extract again")
    if name.endswith(".bz2"):
        if not head.startswith(b"BZh"):
            raise NetworkFileError(path, "not a bzip2 file", "give a .osm.bz2 compressed with bzip2")
        try:
            with bz2.open(path, "rb") as fh:
                inner = fh.read(512)
        except (OSError, EOFError) as exc:
            raise NetworkFileError(path, f"cannot decompress ({exc})", "download the extract again") from exc
        _check_xml_head(path, inner)
        return "osm.bz2"
    if name.endswith(".pbf"):
        # PBF starts with a 4-byte big-endian header length, then a BlobHeader naming "OSMHeader"
        if b"OSMHeader" not in head[:64]:
            raise NetworkFileError(
                path, "not an OSM PBF file (no OSMHeader block)", "give a .osm.pbf written by an OSM tool"
            )
        return "pbf"
    _check_xml_head(path, head)
    return "osm"


def _check_xml_head(path: Path, head: bytes) -> None:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not (text.startswith(b"<?xml") or text.startswith(b"<osm")) or b"<osm" not in head:
        raise NetworkFileError(
            path,
            "not OpenStreetMap XML (no <osm> root element)",
            "give an .osm/.osm.bz2/.osm.pbf extract exported from OpenStreetMap",
        )


class _StreetCollector(osmium.SimpleHandler):
    """One pass: street ways with node locations, and points of interest."""

    def __init__(self, rules: list[tuple[str, str | None, re.Pattern[str] | None]], bidirectional: bool):
        super().__init__()
        self.rules = rules
        self.bidirectional = bidirectional
        self.nodes: dict[int, tuple[float, float]] = {}
        self.edges: list[tuple[int, int, dict[str, Any]]] = []
        self.n_ways_total = 0
        self.n_street_ways = 0
        self.n_split_ways = 0
        self.pois: dict[str, list[tuple[float, float]]] = {k: [] for k in POI_TAGS}
        self.places: dict[str, list[tuple[float, float]]] = {k: [] for k in PLACE_KINDS}
        # every way's node sums (lon, lat, count; closing node once), for multipolygon centroids
        self.way_ids = array("q")
        self.way_sums = array("d")
        self.multipolygons: list[tuple[list[int], list[int]]] = []  # (kinds, outer way ids)

    def node(self, n: Any) -> None:
        if len(n.tags) and n.location.valid():
            kind = _poi_kind(n.tags)
            if kind is not None:
                self.pois[kind].append((n.location.lon, n.location.lat))
            for k in place_kinds_of(n.tags):
                self.places[PLACE_KINDS[k]].append((n.location.lon, n.location.lat))

    def way(self, w: Any) -> None:
        self.n_ways_total += 1
        tags = {t.k: t.v for t in w.tags}
        kind = _poi_kind(w.tags)
        if kind is not None:
            pts = [(nd.lon, nd.lat) for nd in w.nodes if nd.location.valid()]
            if pts:
                self.pois[kind].append((sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)))
        street = "highway" in tags and way_passes(tags, self.rules)
        # one pass over the nodes: their sum (a closed ring's first node once) for places and, on a
        # street, the runs of nodes present (a clipped extract splits a way where nodes are missing)
        nodes = w.nodes
        closing = len(nodes) - 1 if len(nodes) > 2 and nodes[0].ref == nodes[-1].ref else -1
        sum_lon = sum_lat = 0.0
        count = 0
        runs: list[list[int]] = [[]]
        for i, nd in enumerate(nodes):
            loc = nd.location
            if loc.valid():
                lon, lat = loc.lon, loc.lat
                if i != closing:
                    sum_lon += lon
                    sum_lat += lat
                    count += 1
                if street:
                    self.nodes[nd.ref] = (lon, lat)
                    runs[-1].append(nd.ref)
            elif street and runs[-1]:
                runs.append([])
        if count:
            self._add_way_place(w.id, tags, sum_lon, sum_lat, count)
        if not street:
            return
        self.n_street_ways += 1
        pieces = [r for r in runs if len(r) >= 2]
        if len(pieces) > 1 or (pieces and len(pieces[0]) < len(w.nodes)):
            self.n_split_ways += 1
        oneway, reverse = self._direction(tags)
        attrs = {
            "osmid": int(w.id),
            "highway": tags["highway"],
            "oneway": oneway,
            "lit": tags.get("lit", ""),
            "name": tags.get("name", ""),
            "ref": tags.get("ref", ""),
            "maxspeed": tags.get("maxspeed"),
        }
        for refs in pieces:
            seq = refs[::-1] if reverse else refs
            for u, v in itertools.pairwise(seq):
                if u == v:
                    continue
                self.edges.append((u, v, {**attrs, "reversed": False}))
                if not oneway:
                    self.edges.append((v, u, {**attrs, "reversed": True}))

    def _add_way_place(
        self, way_id: int, tags: dict[str, str], sum_lon: float, sum_lat: float, count: int
    ) -> None:
        """Keep the way's node sums and count it as a place at the mean of its nodes if it is one."""
        self.way_ids.append(way_id)
        self.way_sums.extend((sum_lon, sum_lat, float(count)))
        for k in place_kinds_of(tags):
            self.places[PLACE_KINDS[k]].append((sum_lon / count, sum_lat / count))

    def relation(self, r: Any) -> None:
        if r.tags.get("type") != "multipolygon":
            return
        kinds = place_kinds_of(r.tags)
        if kinds:
            outer = [m.ref for m in r.members if m.type == "w" and m.role in ("outer", "")]
            self.multipolygons.append((kinds, outer))

    def add_multipolygon_places(self) -> None:
        """Count each multipolygon place at the mean of its outer ways' nodes (those in the file)."""
        if not self.multipolygons or not self.way_ids:
            return
        ids = np.frombuffer(self.way_ids, dtype=np.int64)
        sums = np.frombuffer(self.way_sums, dtype=np.float64).reshape(-1, 3)
        order = np.argsort(ids, kind="stable")
        ids, sums = ids[order], sums[order]
        for kinds, outer in self.multipolygons:
            refs = np.asarray(outer, dtype=np.int64)
            at = np.minimum(np.searchsorted(ids, refs), ids.size - 1)
            total = sums[at[ids[at] == refs]].sum(axis=0)
            if total[2] == 0:  # none of its outer ways' nodes is in the extract
                continue
            centre = (float(total[0] / total[2]), float(total[1] / total[2]))
            for k in kinds:
                self.places[PLACE_KINDS[k]].append(centre)

    def _direction(self, tags: dict[str, str]) -> tuple[bool, bool]:
        """Return (oneway, reversed) following OSMnx's reading of the oneway tags."""
        if self.bidirectional:
            return False, False
        value = tags.get("oneway", "").lower()
        if value in _TWO_WAY:
            return False, False
        if value in _REVERSED:
            return True, True
        if value in _TRUE or tags.get("junction") == "roundabout":
            return True, False
        return False, False


def _poi_kind(tags: Any) -> str | None:
    for kind, rules in POI_TAGS.items():
        for key, values in rules.items():
            if tags.get(key) in values:
                return kind
    return None


def read_streets(path: Path, network_type: str) -> RawStreets:
    """Read the street ways of `path` into an unsimplified MultiDiGraph in WGS84 (OSMnx format)."""
    sniff_format(path)
    rules = compile_way_filter(network_type)
    collector = _StreetCollector(rules, bidirectional=network_type in ox.settings.bidirectional_network_types)
    try:
        collector.apply_file(str(path), locations=True)
    except RuntimeError as exc:  # libosmium reports truncated or malformed input this way
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NetworkFileError(
            path,
            f"cannot be read as OpenStreetMap data ({reason})",
            "the file may be truncated: download it again",
        ) from exc
    collector.add_multipolygon_places()
    graph = nx.MultiDiGraph(crs=ox.settings.default_crs, created_with="precinct")
    used = {u for u, _, _ in collector.edges} | {v for _, v, _ in collector.edges}
    for ref in sorted(used):
        lon, lat = collector.nodes[ref]
        graph.add_node(ref, x=lon, y=lat)
    graph.add_edges_from(collector.edges)
    return RawStreets(
        graph=graph,
        n_ways_total=collector.n_ways_total,
        n_street_ways=collector.n_street_ways,
        n_split_ways=collector.n_split_ways,
        pois=collector.pois,
        places=collector.places,
    )
