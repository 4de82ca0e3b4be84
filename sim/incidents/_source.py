"""Where the incidents are and how to read them: :class:`IncidentSource` and its resolution.

A source names a file and, where the file is not a known format, which column holds what. Known
formats (police.uk street-level CSV, Portland's NIBRS export, Boston's incident reports) are YAML
presets under ``data/incidents/formats/``, detected from the file's header; any setting of the
source overrides its preset.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.config import IncidentsConfig, repo_root
from sim.errors import ConfigError
from sim.incidents._classes import TARGETS, check_targets, load_mapping
from sim.incidents._errors import IncidentColumnError
from sim.incidents._parse import FORMAT_ROLES

__all__ = ["FORMATS_DIR", "ROLES", "IncidentSource", "ResolvedSource", "load_presets", "resolve_source"]

FORMATS_DIR = repo_root() / "data" / "incidents" / "formats"
#: Column roles a mapping may name.
ROLES = ("lon", "lat", "x", "y", "datetime", "date", "time", "month", "type", "id", "reported")
#: Pseudo-columns of a GeoJSON file's Point geometry.
GEOJSON_LON, GEOJSON_LAT = "geometry.lon", "geometry.lat"
_OPTIONAL_PRESET_KEYS = (
    *(f"{r}_format" for r in FORMAT_ROLES), "timezone", "ignore_utc_offset", "mapping", "id_includes_type", "crs",
)  # fmt: skip


@dataclass
class IncidentSource(IncidentsConfig):
    """A crime-incident file and how to read it; ``None`` settings come from the detected format.

    Parameters
    ----------
    path
        CSV (optionally compressed: ``.gz``, ``.bz2``, ``.zip``, ``.xz``), Parquet or GeoJSON file.
    format
        ``"auto"`` (detect a known format from the header, else ``"custom"``), a preset name
        (``police_uk``, ``portland``, ``boston``), ``"custom"`` or the path of a format YAML.
    columns
        Role -> column name, overriding the format's: roles ``lon``/``lat`` (WGS84) or ``x``/``y``
        (in ``crs``), one of ``datetime``, ``date`` (+ optional ``time``) or ``month``, ``type``
        (the offence category), optional ``id`` and optional ``reported`` (the date the offence
        was reported: a file selected by report date lacks the late reports of its last days, and
        the calibration corrects its counts for them). An empty name removes a role.
    crs
        CRS of ``x``/``y`` columns, e.g. ``"EPSG:2913"``.
    datetime_format, date_format, time_format, month_format, reported_format
        ``strptime`` formats; inferred from the first values when not given (the report says which).
    timezone
        IANA zone of the local times, e.g. ``"America/Los_Angeles"``; UTC when neither given nor
        in the format (the report says so).
    ignore_utc_offset
        Read ``+hh`` offsets in datetimes as mislabelled: keep the clock time as local time.
    mapping
        Category mapping: a shipped name (``police_uk``, ``nibrs``, ``boston``) or a YAML path.
    type_mapping
        Category -> offence class (or ``unmodelled`` / ``not_crime``), overriding single entries.
    id_includes_type
        An incident id is id + offence category (one case number, several offences).
    snap_m
        Incidents farther than this from every street are rejected (``beyond_snap_distance``).
    origin
        Local date or datetime of ``time_min == 0``; default the first incident's local midnight.
    start, end
        Keep incidents from ``start`` (inclusive) to ``end`` (exclusive), local dates; the others
        are rejected as ``outside_period``.
    chunk_rows
        Rows read at a time; memory grows with this, not with the file.
    """

    # every other field is the run's `incidents` config section (one schema for both)
    chunk_rows: int = 200_000


@dataclass(frozen=True)
class ResolvedSource:
    """A source with its format applied, its columns checked against the file and its mapping loaded."""

    path: Path
    kind: str
    format_name: str
    columns: dict[str, str]
    crs: str
    formats: dict[str, str | None]
    timezone: str
    ignore_utc_offset: bool
    mapping_name: str
    mapping: dict[str, str]
    id_includes_type: bool
    snap_m: float
    origin: pd.Timestamp | None
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    chunk_rows: int
    notes: tuple[str, ...]

    @property
    def uses_xy(self) -> bool:
        """True when coordinates come from projected ``x``/``y`` columns."""
        return "x" in self.columns


def file_kind(path: Path) -> str:
    """Return ``csv``, ``parquet`` or ``geojson`` from the file name."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        return "parquet"
    if suffixes and suffixes[-1] in (".geojson", ".json"):
        return "geojson"
    return "csv"


def load_presets() -> dict[str, dict[str, Any]]:
    """Return the shipped formats by name (``data/incidents/formats/*.yaml``)."""
    return {p.stem: _read_yaml(p) for p in sorted(FORMATS_DIR.glob("*.yaml"))}


def _read_yaml(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise ConfigError("incidents.format", str(path), "a YAML mapping with columns: {role: column}")
    return doc


def _pick_preset(source: IncidentSource, header: list[str]) -> tuple[str, dict[str, Any]]:
    presets = load_presets()
    fmt = source.format
    if fmt == "auto":
        present = {h.casefold() for h in header}
        for name, doc in presets.items():
            if all(str(c).casefold() in present for c in doc.get("detect", [])) and doc.get("detect"):
                return name, doc
        return "custom", {}
    if fmt == "custom":
        return "custom", {}
    if fmt in presets:
        return fmt, presets[fmt]
    if Path(fmt).suffix in (".yaml", ".yml") and Path(fmt).is_file():
        return Path(fmt).stem, _read_yaml(Path(fmt))
    raise ConfigError("incidents.format", fmt, f"auto, custom, {', '.join(presets)} or a format YAML path")


def _timestamp(key: str, value: str | None) -> pd.Timestamp | None:
    if value is None or value == "":
        return None
    expected = "a local date or datetime without zone, e.g. 2021-01-01"
    try:
        ts = pd.Timestamp(value)
    except ValueError:
        raise ConfigError(key, value, expected) from None
    if pd.isna(ts) or ts.tzinfo is not None:
        raise ConfigError(key, value, expected)
    return ts


def resolve_source(source: IncidentSource, header: list[str], *, kind: str) -> ResolvedSource:
    """Apply the format preset and overrides, and check every mapped column is in the header.

    Parameters
    ----------
    source
        The user's settings.
    header
        Column names of the file (GeoJSON: property names plus ``geometry.lon``/``geometry.lat``).
    kind
        ``csv``, ``parquet`` or ``geojson``.

    Raises
    ------
    IncidentColumnError
        A needed role is not mapped, or a mapped column is not in the file.
    ConfigError
        A setting has a value that is not allowed.
    IncidentMappingError
        The category mapping names an unknown offence class.
    """
    path = Path(source.path)
    name, preset = _pick_preset(source, header)
    notes: list[str] = []
    columns = {str(k): str(v) for k, v in (preset.get("columns") or {}).items()}
    for role, col in source.columns.items():
        if role not in ROLES:
            raise ConfigError(f"incidents.columns.{role}", col, f"a role among {', '.join(ROLES)}")
        if col:
            columns[role] = col
        else:
            columns.pop(role, None)
    if kind == "geojson" and not {"lon", "lat", "x", "y"} & set(columns):
        columns |= {"lon": GEOJSON_LON, "lat": GEOJSON_LAT}
    _check_roles(path, columns, header, name)
    given = {str(k) for k, v in source.columns.items() if v}
    if "reported" in columns and "reported" not in given and _in_header(columns["reported"], header) is None:
        # a preset's report date is a bonus: an export without it is read as before
        notes.append(
            f"no report-date column {columns.pop('reported')!r}: counts are not corrected for late reports"
        )
    columns = _match_header(path, columns, header)
    settings = {k: preset.get(k) for k in _OPTIONAL_PRESET_KEYS}
    for key in _OPTIONAL_PRESET_KEYS:
        value = getattr(source, key)
        if value is not None:
            settings[key] = value
    timezone = settings["timezone"]
    if not timezone:
        timezone = "UTC"
        notes.append("no timezone given: local times read as UTC (set incidents.timezone)")
    try:
        zoneinfo.ZoneInfo(str(timezone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError("incidents.timezone", timezone, "an IANA zone such as Europe/London") from None
    mapping_name = settings["mapping"] or ""
    # a category spelt as an offence class (``burglary``, ``not_crime``) is that class: files written
    # by Precinct itself, or by an analyst who mapped the categories already, need no mapping
    mapping = check_targets({t: t for t in TARGETS}, path=path, field="mapping")
    mapping |= load_mapping(mapping_name) if mapping_name else {}
    if not mapping_name:
        notes.append("no offence mapping: a category is unmodelled unless it is an offence class's name "
                     "or incidents.type_mapping maps it")  # fmt: skip
    mapping |= check_targets(dict(source.type_mapping), path=path, field="incidents.type_mapping")
    if not (source.snap_m > 0 and source.snap_m < 10_000):
        raise ConfigError("incidents.snap_m", source.snap_m, "a distance in metres in (0, 10000)")
    if not (isinstance(source.chunk_rows, int) and source.chunk_rows >= 1):
        raise ConfigError("incidents.chunk_rows", source.chunk_rows, "a positive integer")
    crs = str(settings["crs"] or "EPSG:4326")
    if "x" in columns and not settings["crs"]:
        raise ConfigError("incidents.crs", None, "the CRS of the x/y columns, e.g. EPSG:27700")
    return ResolvedSource(
        path=path,
        kind=kind,
        format_name=name,
        columns=columns,
        crs=crs,
        formats={f"{r}_format": settings[f"{r}_format"] for r in FORMAT_ROLES},
        timezone=str(timezone),
        ignore_utc_offset=bool(settings["ignore_utc_offset"]),
        mapping_name=str(mapping_name),
        mapping=mapping,
        id_includes_type=bool(settings["id_includes_type"]),
        snap_m=float(source.snap_m),
        origin=_timestamp("incidents.origin", source.origin),
        start=_timestamp("incidents.start", source.start),
        end=_timestamp("incidents.end", source.end),
        chunk_rows=int(source.chunk_rows),
        notes=tuple(notes),
    )


def _check_roles(path: Path, columns: dict[str, str], header: list[str], name: str) -> None:
    """Raise IncidentColumnError when the mapping lacks coordinates, a time or the offence type."""
    present = ", ".join(repr(h) for h in header)
    what = "the file is not a known format" if name == "custom" else f"format {name}"
    has_ll = "lon" in columns and "lat" in columns
    has_xy = "x" in columns and "y" in columns
    if has_ll == has_xy:
        problem = "both lon/lat and x/y mapped" if has_ll else f"no coordinate columns mapped ({what})"
        raise IncidentColumnError(
            path, "columns", problem,
            f"incidents.columns.lon=COL incidents.columns.lat=COL (or .x/.y with incidents.crs); columns present: {present}",
        )  # fmt: skip
    times = [r for r in ("datetime", "date", "month") if r in columns]
    if len(times) != 1:
        problem = f"{'several' if times else 'no'} time columns mapped ({', '.join(times) or what})"
        raise IncidentColumnError(
            path, "columns", problem,
            f"exactly one of incidents.columns.datetime, .date (with optional .time) or .month; columns present: {present}",
        )  # fmt: skip
    if "time" in columns and "date" not in columns:
        raise IncidentColumnError(path, "columns.time", "a time column without a date column",
                                  "incidents.columns.date=COL beside it")  # fmt: skip
    if "type" not in columns:
        raise IncidentColumnError(path, "columns.type", f"no offence type column mapped ({what})",
                                  f"incidents.columns.type=COL; columns present: {present}")  # fmt: skip


def _in_header(col: str, header: list[str]) -> str | None:
    """Return ``col`` as spelt in the header (exact, else ignoring case and spaces), or None."""
    if col in header:
        return col
    return {h.strip().casefold(): h for h in header}.get(col.strip().casefold())


def _match_header(path: Path, columns: dict[str, str], header: list[str]) -> dict[str, str]:
    """Return the mapping with each column as spelt in the header (:func:`_in_header`)."""
    out = {}
    for role, col in columns.items():
        found = _in_header(col, header)
        if found is not None:
            out[role] = found
        else:
            present = ", ".join(repr(h) for h in header)
            raise IncidentColumnError(path, f"column {col!r} ({role})", "not in the file",
                                      f"one of the columns present: {present}")  # fmt: skip
    return out
