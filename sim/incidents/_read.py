"""Read a crime-incident file onto a street network: parse, classify, snap, de-duplicate, report.

Rows stream through in chunks; per row only a few bytes are kept until the end (a rejection
code, a category code and a 64-bit hash of the incident id), plus the parsed values of the rows
that survive, so memory follows the rows used, not the file.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from numpy.typing import NDArray

from sim.incidents._classes import NOT_CRIME, TARGETS, UNMODELLED, normalise_category
from sim.incidents._errors import IncidentCoordinateError, IncidentFileError, NoUsableIncidentsError
from sim.incidents._events import build_events, count_distinct_points, time_notes
from sim.incidents._parse import (
    CODE,
    REASONS,
    TIME_KNOWN,
    infer_formats,
    parse_coordinates,
    parse_reported,
    parse_times,
)
from sim.incidents._readers import TableReader, physical_lines
from sim.incidents._snap import EdgeSnapper, transformer
from sim.incidents._source import IncidentSource, ResolvedSource, file_kind, resolve_source
from sim.incidents._table import IncidentReport, IncidentTable, coverage_of
from sim.network import StreetNetwork

__all__ = ["read_incidents", "snapper_for"]

_SNAPPERS: weakref.WeakKeyDictionary[StreetNetwork, EdgeSnapper] = weakref.WeakKeyDictionary()
_FIRST_LINES = 5
_BLANK_CATEGORY = "(blank)"


def snapper_for(network: StreetNetwork) -> EdgeSnapper:
    """Return the network's snapping index, built on first use and kept while the network lives."""
    snapper = _SNAPPERS.get(network)
    if snapper is None:
        snapper = _SNAPPERS[network] = EdgeSnapper(network)
    return snapper


class _Categories:
    """Source categories seen so far, each with a global code and its target."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping
        self.code: dict[str, int] = {}
        self.names: list[str] = []
        self.targets: list[int] = []
        self.unknown: list[str] = []

    def codes(self, values: pd.Series) -> NDArray[np.int32]:
        local, uniques = pd.factorize(values.astype("string").fillna("").str.strip())
        glob = np.empty(len(uniques), dtype=np.int32)
        for i, name in enumerate(uniques):
            name = str(name) or _BLANK_CATEGORY
            if name not in self.code:
                target = self.mapping.get(normalise_category(name))
                if target is None:
                    target = UNMODELLED
                    self.unknown.append(name)
                self.code[name] = len(self.names)
                self.names.append(name)
                self.targets.append(TARGETS.index(target))
            glob[i] = self.code[name]
        return glob[local]


class _Accumulator:
    """Everything kept from the chunks read so far."""

    def __init__(
        self, res: ResolvedSource, network: StreetNetwork, snapper: EdgeSnapper, encoding: str
    ) -> None:
        self.res = res
        self.encoding = encoding
        self.net = network
        self.snapper = snapper
        self.formats = dict(res.formats)
        self.notes: list[str] = []
        self.cats = _Categories(res.mapping)
        self.n = 0
        self.reason: list[NDArray[np.int8]] = []
        self.cat: list[NDArray[np.int32]] = []
        self.id_rows: list[NDArray[np.int64]] = []
        self.id_hash: list[NDArray[np.uint64]] = []
        self.kept: list[dict[str, Any]] = []
        self.extent = np.array([np.inf, np.inf, -np.inf, -np.inf])
        self.swap_checked = False
        self.to_net = transformer(res.crs, network.crs)

    def add(self, chunk: pd.DataFrame) -> None:
        res, cols = self.res, self.res.columns
        n = len(chunk)
        if n == 0:
            return
        self.notes += infer_formats(chunk, cols, self.formats)
        rows = np.arange(self.n, self.n + n, dtype=np.int64)
        self.n += n
        cat = self.cats.codes(chunk[cols["type"]])
        target = np.asarray(self.cats.targets, dtype=np.int8)[cat]
        reason = np.zeros(n, dtype=np.int8)
        reason[target == TARGETS.index(NOT_CRIME)] = CODE["not_crime"]
        wall, known, r_time = parse_times(chunk, cols, self.formats, timezone=res.timezone,
                                          ignore_offset=res.ignore_utc_offset)  # fmt: skip
        reported = None
        if "reported" in cols:
            reported = parse_reported(chunk, cols, self.formats, timezone=res.timezone,
                                      ignore_offset=res.ignore_utc_offset)  # fmt: skip
        reason = np.where(reason == 0, r_time, reason).astype(np.int8)
        if res.start is not None or res.end is not None:
            lo = -np.inf if res.start is None else res.start.value // 1_000_000_000
            hi = np.inf if res.end is None else res.end.value // 1_000_000_000
            outside = (reason == 0) & ((wall < lo) | (wall >= hi))
            reason[outside] = CODE["outside_period"]
        c1, c2 = (cols["lon"], cols["lat"]) if "lon" in cols else (cols["x"], cols["y"])
        a, b, r_coord = parse_coordinates(chunk[c1], chunk[c2], lonlat="lon" in cols)
        valid = r_coord == 0
        if valid.any():
            self.extent = np.array([min(self.extent[0], a[valid].min()), min(self.extent[1], b[valid].min()),
                                    max(self.extent[2], a[valid].max()), max(self.extent[3], b[valid].max())])  # fmt: skip
        if not self.swap_checked and valid.sum() >= 1:
            self._check_swapped(a[valid], b[valid])
        reason = np.where(reason == 0, r_coord, reason).astype(np.int8)
        # snap the rows still in play
        todo = np.flatnonzero(reason == 0)
        x, y = self.to_net.transform(a[todo], b[todo])
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        inside = self._inside(x, y)
        reason[todo[~inside]] = CODE["outside_map"]
        todo, x, y = todo[inside], x[inside], y[inside]
        snap = self.snapper.snap(x, y, max_dist_m=res.snap_m)
        hit = snap.segment >= 0
        reason[todo[~hit]] = CODE["beyond_snap_distance"]
        keep = todo[hit]
        self.reason.append(reason)
        self.cat.append(cat)
        ids = self._ids(chunk)
        if ids is not None:
            has = np.asarray((ids != "").to_numpy(), dtype=bool)
            self.id_rows.append(rows[has])
            hashed = pd.util.hash_pandas_object(ids[has], index=False)
            self.id_hash.append(np.asarray(hashed, dtype=np.uint64))
        self.kept.append({
            "row": rows[keep], "wall": wall[keep], "known": known[keep], "cat": cat[keep],
            "segment": snap.segment[hit], "offset_m": snap.offset_m[hit], "dist_m": snap.dist_m[hit],
            "x": snap.x[hit], "y": snap.y[hit], "src_x": x[hit], "src_y": y[hit],
            "id": (pa.array(ids.iloc[keep], type=pa.large_string()) if ids is not None else None),
        })  # fmt: skip
        if reported is not None:
            self.kept[-1]["reported"] = reported[keep]

    def _ids(self, chunk: pd.DataFrame) -> pd.Series | None:
        cols = self.res.columns
        if "id" not in cols:
            return None
        ids = chunk[cols["id"]].astype("string").fillna("").str.strip().reset_index(drop=True)
        if self.res.id_includes_type:
            kind = chunk[cols["type"]].astype("string").fillna("").str.strip().reset_index(drop=True)
            ids = ids.where(ids == "", ids + " | " + kind)
        return ids

    def _inside(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
        x0, y0, x1, y1 = self.snapper.bounds
        m = self.res.snap_m
        with np.errstate(invalid="ignore"):
            return np.asarray((x >= x0 - m) & (x <= x1 + m) & (y >= y0 - m) & (y <= y1 + m), dtype=bool)

    def _check_swapped(self, a: NDArray[np.float64], b: NDArray[np.float64]) -> None:
        """Raise when most points miss the map as given but land on it with the two coordinates exchanged."""
        self.swap_checked = True
        a, b = a[:20_000], b[:20_000]

        def share_inside(p: NDArray[np.float64], q: NDArray[np.float64]) -> float:
            with np.errstate(all="ignore"):
                x, y = self.to_net.transform(p, q, errcheck=False)
            return float(self._inside(np.asarray(x), np.asarray(y)).mean())

        given = share_inside(a, b)
        swapped = share_inside(b, a)
        if given < 0.5 and swapped >= 0.5 and swapped > 2 * given:
            r1, r2 = ("lon", "lat") if "lon" in self.res.columns else ("x", "y")
            c1, c2 = self.res.columns[r1], self.res.columns[r2]
            raise IncidentCoordinateError(
                self.res.path, f"columns {c1!r} ({r1}) and {c2!r} ({r2})",
                f"latitude and longitude look swapped: {given:.0%} of the first {a.size:,} points fall on the "
                f"map as given, {swapped:.0%} with the two exchanged",
                f"{r1} in column {c2!r} and {r2} in {c1!r}: incidents.columns.{r1}={c2} incidents.columns.{r2}={c1}",
            )  # fmt: skip

    def finish(self, encoding_note: str) -> IncidentTable:
        res = self.res
        if self.n == 0:
            raise IncidentFileError(res.path, "rows", "no incident rows below the header",
                                    "one row per incident")  # fmt: skip
        reason = np.concatenate(self.reason)
        cat = np.concatenate(self.cat)
        # concatenate one column at a time, dropping its chunk parts, so no column is held twice
        kept = {k: _cat([c.pop(k) for c in self.kept]) for k in list(self.kept[0]) if k != "id"}
        self.reason.clear()
        self.cat.clear()
        ids = None
        if self.kept[0]["id"] is not None:
            ids = pa.chunked_array(
                [part for c in self.kept for part in _arrow_chunks(c["id"])], type=pa.large_string()
            )
        # duplicate ids: the first row in the file is kept, whatever became of it
        if self.id_hash:
            h, hrows = np.concatenate(self.id_hash), np.concatenate(self.id_rows)
            self.id_hash.clear()
            self.id_rows.clear()
            _, first = np.unique(h, return_index=True)
            dup = np.ones(h.size, dtype=bool)
            dup[first] = False
            reason[hrows[dup]] = CODE["duplicate_id"]
            del h, hrows, first, dup
            not_dup = reason[kept["row"]] == 0
            for key in list(kept):  # in place: each column's unfiltered copy is freed before the next
                kept[key] = kept[key][not_dup]
            ids = None if ids is None else ids.filter(pa.array(not_dup))
        n_used = int(kept["row"].size)
        counts = np.bincount(reason, minlength=len(REASONS) + 1)
        rejected = {r: int(counts[CODE[r]]) for r in REASONS if counts[CODE[r]]}
        first_lines = self._first_lines(reason, rejected)
        if n_used == 0:
            self._raise_nothing_usable(rejected)
        names = np.asarray(self.cats.names, dtype=object)
        targets = np.asarray(TARGETS, dtype=object)[np.asarray(self.cats.targets, dtype=np.int64)]
        read_per_cat = np.bincount(cat, minlength=names.size)
        used_per_cat = np.bincount(kept["cat"], minlength=names.size)
        categories = pd.DataFrame({"offence": names, "offence_class": targets, "rows_read": read_per_cat,
                                   "rows_used": used_per_cat}).sort_values(["rows_read", "offence"],
                                                                           ascending=[False, True])  # fmt: skip
        categories = categories.reset_index(drop=True).astype(
            {"offence": "string", "offence_class": "string"}
        )
        origin = self._origin(kept)
        dist = kept["dist_m"]
        snap_dist_m = {"median": float(np.median(dist)), "p95": float(np.quantile(dist, 0.95)),
                       "max": float(dist.max())}  # fmt: skip
        del reason, cat, dist
        events = build_events(self.net, kept, ids, names, targets, origin, res.timezone)
        kept.clear()  # the event table holds what it needs
        snapped_base = n_used + sum(rejected.get(r, 0) for r in ("outside_map", "beyond_snap_distance"))
        notes = [*res.notes, *([encoding_note] if encoding_note else []), *self.notes]
        notes += time_notes(events, res, origin)
        distinct = count_distinct_points(events["src_x"].to_numpy(), events["src_y"].to_numpy())
        if distinct < 0.2 * n_used:
            notes.append(f"the {n_used:,} incidents lie at only {distinct:,} distinct points (coordinates "
                         "anonymised to snap points, as police.uk does): crime concentration on street "
                         "segments is exaggerated")  # fmt: skip
        if self.cats.unknown:
            notes.append(f"{len(self.cats.unknown)} categories not in mapping {res.mapping_name or '(none)'!r} "
                         f"counted as unmodelled: {', '.join(self.cats.unknown[:10])}"
                         f"{' ...' if len(self.cats.unknown) > 10 else ''}")  # fmt: skip
        by_class = categories.groupby("offence_class")[["rows_read", "rows_used"]].sum()
        cls_read = {str(k): int(v) for k, v in by_class["rows_read"].items()}
        cls_used = {str(k): int(v) for k, v in by_class["rows_used"].items()}
        known = events["time_known"].value_counts()
        report = IncidentReport(
            path=str(res.path), format=res.format_name, encoding=self.encoding.removesuffix("-sig"),
            timezone=res.timezone, mapping=res.mapping_name, formats=self.formats, rows_read=self.n,
            rows_used=n_used, rejected=rejected, first_lines=first_lines, categories=categories,
            unknown_categories=list(self.cats.unknown), coverage=coverage_of(cls_read),
            coverage_used=coverage_of(cls_used), time_known={k: int(known.get(k, 0)) for k in TIME_KNOWN},
            share_snapped=n_used / snapped_base if snapped_base else float("nan"),
            snap_dist_m=snap_dist_m,
            date_first=events["datetime"].min(), date_last=events["datetime"].max(), origin=origin, notes=notes,
        )  # fmt: skip
        return IncidentTable(events=events, report=report, origin=origin, timezone=res.timezone)

    def _first_lines(self, reason: NDArray[np.int8], rejected: dict[str, int]) -> dict[str, list[int]]:
        """Return the first few line numbers of every rejection reason (the header is line 1)."""
        first = {r: np.flatnonzero(reason == CODE[r])[:_FIRST_LINES] + 1 for r in rejected}  # record numbers
        path = self.res.path
        plain_csv = self.res.kind == "csv" and path.suffix.lower() not in (
            ".gz",
            ".bz2",
            ".zip",
            ".xz",
            ".zst",
        )
        if plain_csv and self.encoding != "utf-16" and first:
            records = np.unique(np.concatenate(list(first.values())))
            lines = dict(zip(records.tolist(), physical_lines(path, records).tolist(), strict=True))
            return {r: [lines[int(k)] for k in v] for r, v in first.items()}
        return {r: (v + 1).tolist() for r, v in first.items()}

    def _origin(self, kept: dict[str, NDArray[Any]]) -> pd.Timestamp:
        if self.res.origin is not None:
            return self.res.origin
        wall = kept["wall"].astype("datetime64[s]")
        month = kept["known"] == TIME_KNOWN.index("month")
        first = wall.min()
        if month.any():  # a month-only incident counts from the first day of its month
            first = min(first, wall[month].min().astype("datetime64[M]").astype("datetime64[s]"))
        return pd.Timestamp(first.astype("datetime64[D]"))

    def _raise_nothing_usable(self, rejected: dict[str, int]) -> None:
        res = self.res
        located = sum(rejected.get(r, 0) for r in ("outside_map", "beyond_snap_distance"))
        if located and rejected.get("outside_map", 0) == located:
            to_ll = transformer(self.net.crs, "EPSG:4326")
            x0, y0, x1, y1 = self.snapper.bounds
            lon0, lat0 = to_ll.transform(x0, y0)
            lon1, lat1 = to_ll.transform(x1, y1)
            r1, r2 = ("lon", "lat") if "lon" in res.columns else ("x", "y")
            e = self.extent
            raise IncidentCoordinateError(
                res.path, f"columns {res.columns[r1]!r} and {res.columns[r2]!r}",
                f"none of the {located:,} located incidents falls on the map (map: lon {lon0:.4f}..{lon1:.4f}, "
                f"lat {lat0:.4f}..{lat1:.4f}; incidents: {r1} {e[0]:.4f}..{e[2]:.4f}, {r2} {e[1]:.4f}..{e[3]:.4f})",
                "incidents inside the street network: load the city they belong to (city.path=...)",
            )  # fmt: skip
        summary = ", ".join(f"{r} {n:,}" for r, n in rejected.items())
        err = NoUsableIncidentsError(res.path, "rows", f"no usable incident among {self.n:,} rows ({summary})",
                                     "rows with a date, coordinates on the map and a place-based offence")  # fmt: skip
        raise err


def _arrow_chunks(values: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return list(values.chunks) if isinstance(values, pa.ChunkedArray) else [values]


def _cat(parts: list[Any]) -> NDArray[Any]:
    return np.concatenate(parts) if parts else np.empty(0)


def read_incidents(source: IncidentSource | str | Path, network: StreetNetwork) -> IncidentTable:
    """Read a crime-incident file into an event table on ``network``.

    Parameters
    ----------
    source
        An :class:`IncidentSource`, or just a path (its format is detected from the header).
    network
        The street network incidents are snapped to (nearest segment within ``source.snap_m``).

    Returns
    -------
    IncidentTable
        ``events`` (the columns of :data:`sim.events.EVENT_COLUMNS` plus incident columns) and
        ``report`` (rows read, used, rejected by reason with the first line numbers, coverage).

    Raises
    ------
    IncidentFileError
        The file is missing, empty or malformed; its subclasses: :class:`IncidentColumnError` (a
        needed column is missing), :class:`IncidentCoordinateError` (coordinates swapped, or none on
        the map), :class:`IncidentMappingError` (a mapping names an unknown class) and
        :class:`NoUsableIncidentsError` (every row rejected; the message gives the counts).
    sim.errors.ConfigError
        A setting of ``source`` is not allowed.
    """
    src = source if isinstance(source, IncidentSource) else IncidentSource(path=str(source))
    path = Path(src.path).expanduser()
    kind = file_kind(path)
    reader = TableReader(path, kind)
    header = reader.header()
    res = resolve_source(src, header, kind=kind)
    snapper = snapper_for(network)
    wanted = sorted(set(res.columns.values()))
    while True:
        acc = _Accumulator(res, network, snapper, reader.encoding)
        try:
            coords = frozenset(res.columns[r] for r in ("lon", "lat", "x", "y") if r in res.columns)
            for chunk in reader.chunks(wanted, res.chunk_rows, numeric=coords):
                acc.add(chunk)
        except UnicodeDecodeError:
            if reader.fall_back_to_latin1():
                continue
            raise
        return acc.finish(reader.note)
