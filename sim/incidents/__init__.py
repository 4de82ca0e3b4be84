"""Real crime-incident files read into the model's event table, so sim.metrics runs on both alike.

Read a police.uk street-level CSV, a US open-data export (Portland, Boston) or any CSV, Parquet or
GeoJSON file through a column mapping; every offence category maps to an offence class, to
``unmodelled`` or to ``not_crime``; every incident is snapped to its nearest street segment::

    from sim.incidents import IncidentSource, read_incidents
    from sim.network import load_network

    net = load_network("data/osm/city_of_london.osm.pbf", network_type="walk")
    table = read_incidents("data/incidents/sample/city_of_london_street_2025-05.csv", net)
    table.events          # EVENT_COLUMNS (kind "crime") + incident_id, offence, datetime, ...
    table.report.rejected # rows rejected, by reason

docs/incidents.md describes the formats, mappings, snapping and time zones.
"""

from sim.incidents._classes import (
    MODELLED_NOW,
    NOT_CRIME,
    OFFENCE_CLASSES,
    TARGETS,
    UNMODELLED,
    OffenceClass,
    load_mapping,
)
from sim.incidents._errors import (
    IncidentColumnError,
    IncidentCoordinateError,
    IncidentFileError,
    IncidentMappingError,
    NoUsableIncidentsError,
)
from sim.incidents._parse import REASONS, TIME_KNOWN
from sim.incidents._read import read_incidents, snapper_for
from sim.incidents._snap import EdgeSnapper, SnapResult
from sim.incidents._source import ROLES, IncidentSource, load_presets
from sim.incidents._table import IncidentReport, IncidentTable, coverage_of

__all__ = [
    "MODELLED_NOW",
    "NOT_CRIME",
    "OFFENCE_CLASSES",
    "REASONS",
    "ROLES",
    "TARGETS",
    "TIME_KNOWN",
    "UNMODELLED",
    "EdgeSnapper",
    "IncidentColumnError",
    "IncidentCoordinateError",
    "IncidentFileError",
    "IncidentMappingError",
    "IncidentReport",
    "IncidentSource",
    "IncidentTable",
    "NoUsableIncidentsError",
    "OffenceClass",
    "SnapResult",
    "coverage_of",
    "load_mapping",
    "load_presets",
    "read_incidents",
    "snapper_for",
]
