"""Real crime-incident files as event tables: formats, mappings, snapping, time zones and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from experiments.incidents import format_report, inspect_incidents, main_inspect, write_html
from sim import metrics as m
from sim.errors import ConfigError
from sim.events import EVENT_COLUMNS, EventLog
from sim.incidents import (
    MODELLED_NOW,
    NOT_CRIME,
    OFFENCE_CLASSES,
    TARGETS,
    EdgeSnapper,
    IncidentColumnError,
    IncidentCoordinateError,
    IncidentFileError,
    IncidentMappingError,
    IncidentSource,
    NoUsableIncidentsError,
    load_mapping,
    load_presets,
    read_incidents,
)
from sim.network import StreetNetwork, load_network
from sim.offences import CRIME_TYPES
from tests.conftest import DATA, DEFAULT_CITY, REPO, SHARED, SHARED_OSM

SAMPLE = DATA / "incidents" / "sample" / "city_of_london_street_2025-05.csv"
SHARED_CRIME = SHARED / "data" / "crime"
LONDON_FILE = SHARED_CRIME / "city_of_london_street_2023-05_2025-05.csv"
PORTLAND_FILE = SHARED_CRIME / "portland_crime_2021-01_2021-03.csv"
BOSTON_FILE = SHARED_CRIME / "boston_crime_incidents_2023-01-01_2023-03-17.csv"
GENERIC = {"id": "id", "datetime": "when", "type": "offence", "lon": "lon", "lat": "lat"}


def needs(path: Path) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not path.is_file(),
        reason=f"{path} absent: ../shared data exists in CI and on developer machines only",
    )


@pytest.fixture(scope="module")
def london(tmp_path_factory: pytest.TempPathFactory) -> StreetNetwork:
    return load_network(
        DEFAULT_CITY, network_type="walk", cache_dir=tmp_path_factory.getbasetemp() / "network-cache"
    )


@pytest.fixture(scope="module")
def sample(london: StreetNetwork):  # type: ignore[no-untyped-def]
    return read_incidents(SAMPLE, london)


# --------------------------------------------------------------------------- helpers
def street_lonlat(net: StreetNetwork, n: int, seed: int = 0) -> np.ndarray:
    """``n`` lon/lat points a few metres off random streets of ``net``."""
    rng = np.random.default_rng(seed)
    xy = net.edge_midpoint_xy[rng.integers(0, net.n_edges, n)] + rng.normal(0, 3, (n, 2))
    lon, lat = pyproj.Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True).transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def write_synthetic_csv(path: Path, net: StreetNetwork, n: int, *, seed: int = 1) -> Path:
    """A generic incident CSV of ``n`` rows on ``net``'s streets (columns of ``GENERIC``), quickly."""
    rng = np.random.default_rng(seed)
    xy = net.edge_midpoint_xy[rng.integers(0, net.n_edges, n)] + rng.normal(0, 15, (n, 2))
    lon, lat = pyproj.Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True).transform(xy[:, 0], xy[:, 1])
    when = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365 * 1440, n), unit="min")
    kinds = np.array(["Burglary", "Robbery", "Other theft", "Shoplifting", "Vehicle crime", "Drugs"])
    frame = pd.DataFrame({
        "id": np.char.add("X", np.arange(n).astype(str)), "when": when.strftime("%Y-%m-%d %H:%M:%S"),
        "offence": kinds[rng.integers(0, kinds.size, n)], "lat": np.round(lat, 6), "lon": np.round(lon, 6),
    })  # fmt: skip
    frame.to_csv(path, index=False)
    return path


def generic(path: Path, **kw: object) -> IncidentSource:
    kw.setdefault("columns", dict(GENERIC))
    kw.setdefault("mapping", "police_uk")
    kw.setdefault("timezone", "Europe/London")
    return IncidentSource(path=str(path), **kw)  # type: ignore[arg-type]


def write_rows(path: Path, rows: list[dict[str, object]], *, encoding: str = "utf-8") -> Path:
    pd.DataFrame(rows).to_csv(path, index=False, encoding=encoding)
    return path


def good_rows(net: StreetNetwork, n: int, *, seed: int = 0) -> list[dict[str, object]]:
    pts = street_lonlat(net, n, seed)
    return [
        {"id": f"C{i}", "when": f"2024-03-{1 + i % 28:02d} {i % 24:02d}:15:00", "offence": "Robbery",
         "lon": round(float(pts[i, 0]), 6), "lat": round(float(pts[i, 1]), 6)}
        for i in range(n)
    ]  # fmt: skip


# --------------------------------------------------------------------------- the bundled sample
def test_sample_is_small_and_attributed() -> None:
    assert SAMPLE.stat().st_size < 400_000
    readme = (DATA / "incidents" / "README.md").read_text()
    assert "Open Government Licence v3.0" in readme and SAMPLE.name in readme


def test_sample_loads_as_an_event_table_with_every_column_and_dtype(sample, london: StreetNetwork) -> None:  # type: ignore[no-untyped-def]
    ev = sample.events
    assert list(ev.columns[: len(EVENT_COLUMNS)]) == list(EVENT_COLUMNS)
    simulated = EventLog().to_frame(london)
    assert (ev[list(EVENT_COLUMNS)].dtypes == simulated.dtypes).all()
    assert set(ev["kind"]) == {"crime"} and ev["reported"].all() and ev["recorded"].all()
    assert set(ev["crime_type"]) <= set(TARGETS) - {NOT_CRIME}
    assert (ev["segment"] == london.edge_segment[ev["edge"]]).all()
    assert (ev["osm_way_id"] == london.edge_osm_way_id[ev["edge"]]).all()
    assert ev["datetime"].dt.tz is not None and set(ev["time_known"]) == {"month"}
    assert ev["time_min"].is_monotonic_increasing
    assert set(sample.crimes(MODELLED_NOW)["crime_type"]) <= MODELLED_NOW
    assert len(sample.crimes(time_known=["minute"])) == 0
    assert json.loads(json.dumps(sample.report.to_dict()))["rows_used"] == 310


def test_sample_counts_every_row_once_by_reason(sample) -> None:  # type: ignore[no-untyped-def]
    rep = sample.report
    assert rep.format == "police_uk" and rep.timezone == "Europe/London"
    assert rep.rows_read == 778
    assert rep.rows_read == rep.rows_used + sum(rep.rejected.values())
    assert rep.rejected == {"duplicate_id": 21, "missing_coordinates": 38, "outside_map": 391,
                            "beyond_snap_distance": 18}  # fmt: skip
    assert rep.rows_used == 310
    raw = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    first = raw[~(raw["Crime ID"].ne("") & raw["Crime ID"].duplicated())]
    assert rep.rejected["missing_coordinates"] == int((first["Longitude"] == "").sum())
    line = rep.first_lines["missing_coordinates"][0]
    assert raw.iloc[line - 2]["Longitude"] == ""  # line 1 is the header


def test_month_only_incidents_sit_mid_month_and_count_from_the_first_day(sample) -> None:  # type: ignore[no-untyped-def]
    assert sample.origin == pd.Timestamp("2025-05-01")
    assert set(sample.events["time_min"]) == {15.5 * 1440}  # May has 31 days
    assert any("month only" in n and "leave them out" in n for n in sample.report.notes)


def test_metrics_run_on_real_events_exactly_as_on_simulated_ones(sample, london: StreetNetwork) -> None:  # type: ignore[no-untyped-def]
    real = sample.events
    log = EventLog()
    for r in real.itertuples(index=False):
        log.add(time_min=r.time_min, step=0, kind="crime", edge=r.edge, segment=r.segment,
                crime_type=r.crime_type, reported=True, recorded=True, offset_m=r.offset_m)  # fmt: skip
    sim = log.to_frame(london)
    np.testing.assert_allclose(sim[["x", "y"]].to_numpy(), real[["x", "y"]].to_numpy(), atol=1e-6)
    np.testing.assert_allclose(sim[["lon", "lat"]].to_numpy(), real[["lon", "lat"]].to_numpy(), atol=1e-9)
    for frame in (real, sim):
        counts = m.count_crimes_per_segment(frame, london.n_segments)
        np.testing.assert_array_equal(counts, m.count_crimes_per_segment(real, london.n_segments))
        assert m.share_on_top_segments(counts).equals(
            m.share_on_top_segments(m.count_crimes_per_segment(sim, london.n_segments))
        )
        assert m.count_crimes(frame).equals(m.count_crimes(sim))
        assert m.count_crimes(frame, by=("hour",), recorded_only=True).equals(
            m.count_crimes(sim, by=("hour",))
        )
    knox = [m.knox_table(f["x"], f["y"], f["time_min"] / 1440, n_permutations=9, rng=0) for f in (real, sim)]
    pd.testing.assert_frame_equal(knox[0], knox[1])


# --------------------------------------------------------------------------- snapping
def brute_force_segments(net: StreetNetwork, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance from every point to every segment (shapely): nearest segment and the gap to the next."""
    ptr = net.geom_indptr
    lines = np.array([shapely.LineString(net.geom_xy[ptr[e] : ptr[e + 1]]) for e in net.segment_edge])
    d = shapely.distance(shapely.points(x, y)[:, None], lines[None, :])
    order = np.argsort(d, axis=1)
    rows = np.arange(x.size)
    return order[:, 0], d[rows, order[:, 1]] - d[rows, order[:, 0]]


def test_snapping_agrees_with_osmnx_nearest_edges_and_brute_force(london: StreetNetwork) -> None:
    import osmnx as ox

    rng = np.random.default_rng(7)
    x0, y0 = london.geom_xy.min(axis=0)
    x1, y1 = london.geom_xy.max(axis=0)
    x, y = rng.uniform(x0, x1, 400), rng.uniform(y0, y1, 400)
    g = london.to_networkx()
    for u, v, k in g.edges(keys=True):  # give OSMnx the same polylines we snap to
        g.edges[u, v, k]["geometry"] = shapely.LineString(
            london.geom_xy[london.geom_indptr[k] : london.geom_indptr[k + 1]]
        )
    theirs, _ = ox.distance.nearest_edges(g, x, y, return_dist=True)
    their_seg = london.edge_segment[np.array([key for _, _, key in theirs], dtype=np.int64)]
    snap = EdgeSnapper(london).snap(x, y, max_dist_m=1e6)
    best, gap = brute_force_segments(london, x, y)
    clear = gap > 1.0
    assert clear.sum() >= 300
    assert np.mean(snap.segment[clear] == their_seg[clear]) >= 0.99
    assert np.array_equal(snap.segment[clear], best[clear])  # exact, not approximate
    ours_edge, ours_off, ours_dist = london.nearest_edges(x, y)
    np.testing.assert_allclose(snap.dist_m, ours_dist, atol=1e-6)
    same = london.edge_segment[ours_edge] == snap.segment
    np.testing.assert_allclose(snap.offset_m[same], ours_off[same], atol=1e-6)


def test_snapped_points_lie_on_their_edge_within_reach(sample, london: StreetNetwork) -> None:  # type: ignore[no-untyped-def]
    ev = sample.events
    back = london.edge_point(ev["edge"].to_numpy(), ev["offset_m"].to_numpy())
    np.testing.assert_allclose(back, ev[["x", "y"]].to_numpy(), atol=1e-6)
    dist = np.hypot(ev["src_x"] - ev["x"], ev["src_y"] - ev["y"])
    np.testing.assert_allclose(dist, ev["snap_dist_m"], atol=1e-6)
    assert ev["snap_dist_m"].max() <= 60.0


def test_snap_distance_setting_moves_rows_between_used_and_beyond(london: StreetNetwork) -> None:
    near = read_incidents(IncidentSource(path=str(SAMPLE), snap_m=20), london).report
    far = read_incidents(IncidentSource(path=str(SAMPLE), snap_m=150), london).report
    assert near.rows_used < far.rows_used
    assert near.rejected["beyond_snap_distance"] > far.rejected.get("beyond_snap_distance", 0)


# --------------------------------------------------------------------------- mappings and classes
def test_offence_classes_and_shipped_mappings() -> None:
    # every class police records are sorted into is a type the model simulates, in one order
    assert tuple(OFFENCE_CLASSES) == CRIME_TYPES
    assert set(CRIME_TYPES) == MODELLED_NOW
    assert all(
        oc.description and oc.modelled == (name in MODELLED_NOW) for name, oc in OFFENCE_CLASSES.items()
    )
    for name in ("police_uk", "nibrs", "boston"):
        assert set(load_mapping(name).values()) <= set(TARGETS)
    boston = load_mapping("boston")
    for desc in ("SICK ASSIST", "TOWED MOTOR VEHICLE", "PROPERTY - LOST/ MISSING", "M/V ACCIDENT - OTHER",
                 "INVESTIGATE PERSON"):  # fmt: skip
        assert boston[desc.casefold()] == NOT_CRIME
    assert set(load_presets()) >= {"police_uk", "portland", "boston"}


def test_unknown_category_goes_to_unmodelled_and_is_listed(tmp_path: Path, london: StreetNetwork) -> None:
    rows = good_rows(london, 6)
    rows[2]["offence"] = "Llama rustling"
    rep = read_incidents(generic(write_rows(tmp_path / "a.csv", rows)), london).report
    assert rep.unknown_categories == ["Llama rustling"]
    assert rep.unmodelled == {"Llama rustling": 1} and rep.rows_used == 6
    assert any("Llama rustling" in n for n in rep.notes)


def test_not_crime_is_counted_and_left_out_of_the_denominator(tmp_path: Path, london: StreetNetwork) -> None:
    rows = good_rows(london, 8)
    for r in rows[:4]:
        r["offence"] = "Shoplifting"
    rows[0]["offence"] = "Drugs"
    overrides = {"Shoplifting": "not_crime"}
    tab = read_incidents(generic(write_rows(tmp_path / "a.csv", rows), type_mapping=overrides), london)
    rep = tab.report
    assert rep.rejected == {"not_crime": 3} and rep.not_crime == {"Shoplifting": 3}
    assert rep.coverage["place_based"] == 5 and rep.coverage["share_modelled_now"] == pytest.approx(4 / 5)
    with pytest.raises(IncidentMappingError, match="unknown offence class 'theft'"):
        read_incidents(generic(tmp_path / "a.csv", type_mapping={"Robbery": "theft"}), london)


def test_nothing_but_not_crime_is_nothing_usable(tmp_path: Path, london: StreetNetwork) -> None:
    rows = good_rows(london, 3)
    path = write_rows(tmp_path / "a.csv", rows)
    with pytest.raises(NoUsableIncidentsError, match=r"no usable incident among 3 rows \(not_crime 3"):
        read_incidents(generic(path, type_mapping={"Robbery": "not_crime"}), london)


# --------------------------------------------------------------------------- bad input
def test_missing_column_is_named_with_the_columns_present(tmp_path: Path, london: StreetNetwork) -> None:
    path = write_rows(tmp_path / "a.csv", good_rows(london, 3))
    cols = dict(GENERIC, lat="latitude")
    with pytest.raises(
        IncidentColumnError, match=r"column 'latitude' \(lat\): not in the file.*'lon', 'lat'"
    ) as e:
        read_incidents(generic(path, columns=cols), london)
    assert str(path) in str(e.value) and "\n" not in str(e.value) and isinstance(e.value, ValueError)
    with pytest.raises(
        IncidentColumnError, match=r"no coordinate columns mapped \(the file is not a known format"
    ):
        read_incidents(IncidentSource(path=str(path)), london)


def test_unparsable_values_are_counted_by_reason_with_first_lines(
    tmp_path: Path, london: StreetNetwork
) -> None:
    rows = good_rows(london, 12)
    rows[1]["when"] = ""
    rows[3]["when"] = "yesterday"
    rows[4]["lat"] = "fifty-one"
    rows[5]["lon"] = ""
    rows[6]["lat"] = 95.0  # out of range
    rows[7]["lon"], rows[7]["lat"] = 0, 0  # a common stand-in for "no location"
    rep = read_incidents(generic(write_rows(tmp_path / "a.csv", rows)), london).report
    assert rep.rejected == {"missing_datetime": 1, "unparsable_datetime": 1, "missing_coordinates": 2,
                            "unparsable_coordinates": 2}  # fmt: skip
    assert rep.first_lines == {"missing_datetime": [3], "unparsable_datetime": [5], "missing_coordinates": [7, 9],
                               "unparsable_coordinates": [6, 8]}  # fmt: skip
    assert rep.rows_used == 6


def test_swapped_latitude_and_longitude_is_detected(tmp_path: Path, london: StreetNetwork) -> None:
    rows = good_rows(london, 30)
    swapped = [dict(r, lon=r["lat"], lat=r["lon"]) for r in rows]
    path = write_rows(tmp_path / "a.csv", swapped)
    with pytest.raises(
        IncidentCoordinateError, match=r"latitude and longitude look swapped.*incidents\.columns\.lon=lat"
    ):
        read_incidents(generic(path), london)
    fixed = read_incidents(generic(path, columns=dict(GENERIC, lon="lat", lat="lon")), london)
    assert fixed.report.rows_used == 30


def test_all_points_outside_the_map_says_which_map(tmp_path: Path, london: StreetNetwork) -> None:
    rows = [dict(r, lon=-122.68, lat=45.52) for r in good_rows(london, 5)]  # Portland, on the London map
    with pytest.raises(
        IncidentCoordinateError, match=r"none of the 5 located incidents falls on the map \(map: lon -0"
    ):
        read_incidents(generic(write_rows(tmp_path / "a.csv", rows)), london)


def test_empty_and_header_only_files(tmp_path: Path, london: StreetNetwork) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(IncidentFileError, match=r"empty\.csv: file: the file is empty"):
        read_incidents(generic(empty), london)
    header = tmp_path / "header.csv"
    header.write_text("id,when,offence,lon,lat\n")
    with pytest.raises(IncidentFileError, match="no incident rows below the header"):
        read_incidents(generic(header), london)
    with pytest.raises(IncidentFileError, match="no such file"):
        read_incidents(generic(tmp_path / "absent.csv"), london)


def test_byte_order_mark_and_latin1_fallback(tmp_path: Path, london: StreetNetwork) -> None:
    rows = good_rows(london, 40)
    bom = write_rows(tmp_path / "bom.csv", rows, encoding="utf-8-sig")
    rep = read_incidents(generic(bom), london).report
    assert rep.rows_used == 40 and rep.encoding == "utf-8"
    rows[35]["offence"] = "Vol à l'étalage"  # Latin-1 bytes well after the first chunk
    latin = write_rows(tmp_path / "latin.csv", rows, encoding="latin-1")
    tab = read_incidents(generic(latin, chunk_rows=10), london)
    assert tab.report.encoding == "latin-1" and tab.report.rows_used == 40
    assert any("not valid UTF-8: read as Latin-1" in n for n in tab.report.notes)
    assert "Vol à l'étalage" in tab.report.unknown_categories


def test_duplicate_ids_are_counted_and_the_first_kept(tmp_path: Path, london: StreetNetwork) -> None:
    rows = good_rows(london, 6)
    rows[4]["id"] = rows[1]["id"]
    rows[5]["id"] = rows[1]["id"]
    tab = read_incidents(generic(write_rows(tmp_path / "a.csv", rows), chunk_rows=4), london)
    assert tab.report.rejected == {"duplicate_id": 2}
    assert tab.report.first_lines["duplicate_id"] == [6, 7]
    assert tab.events.loc[tab.events["incident_id"] == rows[1]["id"], "row"].tolist() == [2]


def test_one_case_with_several_offences_keeps_each_offence(tmp_path: Path, london: StreetNetwork) -> None:
    rows = good_rows(london, 3)
    rows[1]["id"] = rows[0]["id"]
    rows[1]["offence"] = "Burglary"
    path = write_rows(tmp_path / "a.csv", rows)
    assert read_incidents(generic(path), london).report.rejected == {"duplicate_id": 1}
    tab = read_incidents(generic(path, id_includes_type=True), london)
    assert tab.report.rows_used == 3 and tab.report.rejected == {}


def test_bad_settings_are_config_errors(tmp_path: Path, london: StreetNetwork) -> None:
    path = write_rows(tmp_path / "a.csv", good_rows(london, 3))
    with pytest.raises(ConfigError, match=r"incidents\.timezone='Mars/Olympus'"):
        read_incidents(generic(path, timezone="Mars/Olympus"), london)
    with pytest.raises(ConfigError, match=r"incidents\.snap_m"):
        read_incidents(generic(path, snap_m=-5), london)
    with pytest.raises(ConfigError, match=r"incidents\.columns\.colour"):
        read_incidents(generic(path, columns=dict(GENERIC, colour="x")), london)
    with pytest.raises(ConfigError, match=r"incidents\.format='nope'"):
        read_incidents(generic(path, format="nope"), london)


def test_quoted_newlines_report_file_lines(tmp_path: Path, london: StreetNetwork) -> None:
    rows = good_rows(london, 5)
    for r in rows:
        r["street"] = "HIGH ST\nLONDON\nUNIT"
    rows[3]["when"] = "garbage"
    rep = read_incidents(generic(write_rows(tmp_path / "a.csv", rows)), london).report
    assert rep.first_lines == {"unparsable_datetime": [1 + 3 * 3 + 1]}  # header, three 3-line records


# --------------------------------------------------------------------------- time
def test_dates_times_offsets_and_zones(tmp_path: Path, london: StreetNetwork) -> None:
    pts = street_lonlat(london, 4)
    base = {"offence": "Robbery", "lon": pts[0, 0], "lat": pts[0, 1]}
    rows = [dict(base, id=i, when=w) for i, w in enumerate(
        ["2024-07-01 12:00:00+00", "2024-07-01 23:30:00+00", "2024-01-02 00:10:00+00", "2024-07-01"])]  # fmt: skip
    path = write_rows(tmp_path / "a.csv", rows)
    utc = read_incidents(generic(path, timezone="America/New_York"), london).events.set_index("incident_id")
    assert utc.loc["0", "datetime"] == pd.Timestamp("2024-07-01 08:00", tz="America/New_York")  # EDT = UTC-4
    assert utc.loc["2", "datetime"] == pd.Timestamp("2024-01-01 19:10", tz="America/New_York")  # EST = UTC-5
    assert utc.loc["3", "time_known"] == "day"
    local = read_incidents(generic(path, timezone="America/New_York", ignore_utc_offset=True), london).events
    local = local.set_index("incident_id")
    assert local.loc["0", "datetime"] == pd.Timestamp("2024-07-01 12:00", tz="America/New_York")
    hours = m.label_hours(local["time_min"])
    assert dict(zip(local.index, hours, strict=True)) == {"2": 0, "0": 12, "1": 23, "3": 12}


def test_date_and_hhmm_time_columns_and_period(tmp_path: Path, london: StreetNetwork) -> None:
    pts = street_lonlat(london, 4)
    rows = [
        {"case": "A", "d": "3/9/2024", "t": "0715", "kind": "Robbery"},
        {"case": "B", "d": "3/10/2024", "t": "", "kind": "Robbery"},  # daylight saving starts in the US
        {"case": "C", "d": "3/10/2024", "t": "2500", "kind": "Robbery"},
        {"case": "D", "d": "12/31/2019", "t": "2359", "kind": "Robbery"},
    ]
    for r, (lon, lat) in zip(rows, pts, strict=True):
        r["x"], r["y"] = lon, lat
    path = write_rows(tmp_path / "a.csv", rows)
    cols = {"id": "case", "date": "d", "time": "t", "type": "kind", "lon": "x", "lat": "y"}
    src = IncidentSource(path=str(path), columns=cols, mapping="police_uk", timezone="America/Los_Angeles",
                         date_format="%m/%d/%Y", time_format="%H%M", start="2020-01-01")  # fmt: skip
    tab = read_incidents(src, london)
    assert tab.report.rejected == {"unparsable_time": 1, "outside_period": 1}
    ev = tab.events.set_index("incident_id")
    assert ev.loc["A", "datetime"] == pd.Timestamp("2024-03-09 07:15", tz="America/Los_Angeles")
    assert ev.loc["B", "time_known"] == "day" and ev.loc["B", "datetime"].hour == 12
    assert tab.origin == pd.Timestamp("2024-03-09") and ev.loc["A", "time_min"] == 7 * 60 + 15


def test_report_dates_become_days_from_the_origin_and_are_summarised(
    tmp_path: Path, london: StreetNetwork
) -> None:
    pts = street_lonlat(london, 4)
    rows = [
        {"case": "A", "d": "3/9/2024", "t": "0715", "r": "3/9/2024"},
        {"case": "B", "d": "3/9/2024", "t": "2300", "r": "3/14/2024"},
        {"case": "C", "d": "3/10/2024", "t": "1200", "r": "soon"},  # unreadable: kept, its delay unknown
        {"case": "D", "d": "3/11/2024", "t": "1200", "r": "3/10/2024"},  # reported before it occurred
    ]
    for r, (lon, lat) in zip(rows, pts, strict=True):
        r["x"], r["y"], r["kind"] = lon, lat, "Robbery"
    path = write_rows(tmp_path / "a.csv", rows)
    cols = {"id": "case", "date": "d", "time": "t", "type": "kind", "lon": "x", "lat": "y", "reported": "r"}
    src = IncidentSource(path=str(path), columns=cols, mapping="police_uk", timezone="America/Los_Angeles",
                         date_format="%m/%d/%Y", time_format="%H%M", reported_format="%m/%d/%Y")  # fmt: skip
    tab = read_incidents(src, london)
    assert tab.report.rows_used == 4  # a report date never rejects an incident
    ev = tab.events.set_index("incident_id")
    # the report day's midnight, in minutes from the origin (2024-03-09)
    assert ev.loc["A", "reported_min"] == 0.0 and ev.loc["B", "reported_min"] == 5 * 1440.0
    assert np.isnan(ev.loc["C", "reported_min"]) and ev.loc["D", "reported_min"] == 1440.0
    notes = " ".join(tab.report.notes)
    assert "reported up to 2024-03-14 ('r')" in notes
    assert "1 incidents have no readable report date ('r')" in notes
    assert "1 incidents were reported before they occurred ('r')" in notes
    # without the role the table is as before: no report column
    plain = {k: v for k, v in cols.items() if k != "reported"}
    src2 = IncidentSource(path=str(path), columns=plain, mapping="police_uk", timezone="America/Los_Angeles",
                          date_format="%m/%d/%Y", time_format="%H%M")  # fmt: skip
    assert "reported_min" not in read_incidents(src2, london).events.columns


def test_a_preset_report_date_missing_from_the_file_is_a_note_not_an_error(
    tmp_path: Path, london: StreetNetwork
) -> None:
    pts = street_lonlat(london, 3)
    rows = [{"CaseNumber": f"C{i}", "OccurDate": "3/9/2021", "OccurTime": "1200", "OffenseType": "Robbery",
             "OpenDataLat": lat, "OpenDataLon": lon} for i, (lon, lat) in enumerate(pts)]  # fmt: skip
    tab = read_incidents(write_rows(tmp_path / "portland_like.csv", rows), london)
    assert tab.report.format == "portland" and tab.report.rows_used == 3
    assert "reported_min" not in tab.events.columns
    assert any("no report-date column 'ReportDate'" in n for n in tab.report.notes)


# --------------------------------------------------------------------------- other file kinds
def test_parquet_and_geojson_read_like_the_csv(tmp_path: Path, london: StreetNetwork) -> None:
    rows = good_rows(london, 20)
    csv = read_incidents(generic(write_rows(tmp_path / "a.csv", rows)), london).events
    pq = tmp_path / "a.parquet"
    frame = pd.DataFrame(rows)
    frame["when"] = pd.to_datetime(frame["when"])
    frame.to_parquet(pq)
    from_pq = read_incidents(generic(pq), london).events
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                 "properties": {k: r[k] for k in ("id", "when", "offence")}} for r in rows]  # fmt: skip
    gj = tmp_path / "a.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    cols = {k: v for k, v in GENERIC.items() if k not in ("lon", "lat")}
    from_gj = read_incidents(generic(gj, columns=cols), london).events
    for other in (from_pq, from_gj):
        pd.testing.assert_frame_equal(other[list(EVENT_COLUMNS)], csv[list(EVENT_COLUMNS)])


def test_projected_xy_columns(tmp_path: Path, london: StreetNetwork) -> None:
    rows = good_rows(london, 10)
    to_bng = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    for r in rows:
        r["east"], r["north"] = to_bng.transform(r.pop("lon"), r.pop("lat"))
    cols = {"id": "id", "datetime": "when", "type": "offence", "x": "east", "y": "north"}
    path = write_rows(tmp_path / "a.csv", rows)
    with pytest.raises(ConfigError, match=r"incidents\.crs"):
        read_incidents(generic(path, columns=cols), london)
    assert read_incidents(generic(path, columns=cols, crs="EPSG:27700"), london).report.rows_used == 10


# --------------------------------------------------------------------------- the shared real files
@needs(LONDON_FILE)
@pytest.mark.needs_shared
def test_london_police_uk_file_on_the_bundled_city(london: StreetNetwork) -> None:
    tab = read_incidents(LONDON_FILE, london)
    rep = tab.report
    assert rep.rows_read == 19_950 and rep.rows_used == 7_681
    assert rep.rejected == {"duplicate_id": 416, "missing_coordinates": 1_713, "outside_map": 9_532,
                            "beyond_snap_distance": 608}  # fmt: skip
    assert rep.coverage["share_in_classes"] >= 0.8
    assert rep.unmodelled.keys() == {"Drugs", "Anti-social behaviour", "Other crime", "Possession of weapons"}
    info = inspect_incidents(tab, london, n_draws=20, n_permutations=9)
    assert "knox" not in info and "month" in info["knox_skipped"] and "hours" not in info


@needs(PORTLAND_FILE)
@pytest.mark.needs_shared
def test_portland_nibrs_file_on_central_portland(tmp_path_factory: pytest.TempPathFactory) -> None:
    net = load_network(SHARED_OSM / "portland_central.osm.bz2", network_type="drive",
                       cache_dir=tmp_path_factory.getbasetemp() / "network-cache")  # fmt: skip
    tab = read_incidents(PORTLAND_FILE, net)
    rep = tab.report
    assert rep.format == "portland" and rep.timezone == "America/Los_Angeles"
    assert rep.rows_read == 13_490 and rep.rows_used == 3_757
    assert rep.rejected == {"not_crime": 1_019, "missing_coordinates": 1_255, "outside_map": 6_714,
                            "beyond_snap_distance": 745}  # fmt: skip
    assert rep.coverage["share_in_classes"] >= 0.8 and "duplicate_id" not in rep.rejected
    assert tab.events["incident_id"].str.contains(" | ", regex=False).all()
    info = inspect_incidents(tab, net, n_draws=20, n_permutations=19)
    assert info["knox"]["knox_ratio"].iloc[0] > 1.0 and info["hours"]["count"].sum() == rep.rows_used
    assert "Portland Police Bureau" in info["attribution"]
    # the file holds what was reported in 2021 Q1: its last report day is 31 March
    rep_day = tab.origin + pd.to_timedelta(tab.events["reported_min"].max(), unit="min")
    assert rep_day == pd.Timestamp("2021-03-31")
    assert any(n.startswith("reported up to 2021-03-31 ('ReportDate')") for n in rep.notes)


@needs(BOSTON_FILE)
@pytest.mark.needs_shared
def test_boston_file_keeps_local_clock_time_and_drops_non_crime(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    net = load_network(SHARED_OSM / "boston_downtown.osm.bz2", network_type="walk",
                       cache_dir=tmp_path_factory.getbasetemp() / "network-cache")  # fmt: skip
    tab = read_incidents(BOSTON_FILE, net)
    rep = tab.report
    assert rep.rows_read == 14_527 and rep.rows_used == 44  # only ~105 rows fall in this small extract
    assert rep.rejected == {"not_crime": 9_836, "missing_coordinates": 847, "outside_map": 3_777,
                            "beyond_snap_distance": 23}  # fmt: skip
    assert rep.coverage["share_in_classes"] >= 0.8
    assert {"SICK ASSIST", "TOWED MOTOR VEHICLE", "INVESTIGATE PERSON"} <= rep.not_crime.keys()
    raw = pd.read_csv(BOSTON_FILE, dtype=str, keep_default_na=False)
    hour_column = raw["HOUR"].astype(int).to_numpy()[tab.events["row"].to_numpy() - 1]
    assert np.array_equal(tab.events["datetime"].dt.hour.to_numpy(), hour_column)


# --------------------------------------------------------------------------- inspect and the command
def test_inspect_figures_on_timed_incidents(tmp_path: Path, london: StreetNetwork) -> None:
    tab = read_incidents(generic(write_synthetic_csv(tmp_path / "s.csv", london, 3000)), london)
    info = inspect_incidents(tab, london, n_draws=20, n_permutations=9)
    assert info["hours"]["count"].sum() == tab.report.rows_used == info["weekdays"]["count"].sum()
    assert list(info["knox"]["band"]) == ["0-100 m, 0-3 days", "0-200 m, 0-14 days"]
    conc = info["concentration"].set_index("incidents")
    assert conc.loc["all place-based", "n"] == tab.report.rows_used
    assert 0 < conc.loc["all place-based", "chance_mean"] < 1
    text = format_report(info)
    assert "rows read" in text and "hour of day" in text and "Knox" in text
    page = write_html(tmp_path / "r.html", tab, london, info).read_text()
    assert "© OpenStreetMap contributors" in page and "data:image/png;base64," in page
    assert "http" not in page.replace("http-equiv", "")  # offline: nothing fetched


def test_command_prints_the_report_and_writes_html(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    assert main_inspect([str(SAMPLE), "--html", str(out)]) == 0
    text = capsys.readouterr().out
    assert "rows read      778" in text and "Knox" in text and out.is_file()


def test_command_takes_city_and_column_overrides(
    tmp_path: Path, london: StreetNetwork, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [dict(r, lng=r.pop("lon")) for r in good_rows(london, 5)]
    path = write_rows(tmp_path / "a.csv", rows)
    argv = [str(path), "city=custom", f"city.path={DEFAULT_CITY}", "city.network_type=walk",
            "incidents.columns.id=id", "incidents.columns.datetime=when", "incidents.columns.type=offence",
            "incidents.columns.lon=lng", "incidents.columns.lat=lat", "incidents.mapping=police_uk",
            "incidents.snap_m=80", "incidents.timezone=Europe/London"]  # fmt: skip
    assert main_inspect(argv) == 0
    assert "rows used      5 (100.0%)" in capsys.readouterr().out
    assert main_inspect([*argv[1:], f"incidents.path={path}"]) == 0
    assert "rows used      5 (100.0%)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["absent.csv"], "absent.csv: file: no such file"),
        ([str(SAMPLE), "city=narnia"], "config city='narnia' is not allowed"),
        ([str(SAMPLE), "incidents.snap_m=far"], "incidents.snap_m='far'"),
        ([str(SAMPLE), "colour=red"], "one incident file expected, got 2"),
        (["city=west_oakland"], "incidents.path=''"),
        ([str(SAMPLE), "incidents.columns.lat=Nope"], "column 'Nope' (lat): not in the file"),
        ([str(SAMPLE), f"city.path={REPO / 'data' / 'osm' / 'west_oakland.osm.bz2'}"], "none of the"),
    ],
)
def test_command_bad_input_is_one_line_and_status_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main_inspect(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("precinct: error: ") and err.count("\n") == 1 and message in err
    assert "Traceback" not in err


# --------------------------------------------------------------------------- 2 million rows
@pytest.mark.slow
def test_two_million_rows_stream_with_bounded_memory(tmp_path: Path, london: StreetNetwork) -> None:
    path = write_synthetic_csv(tmp_path / "big.csv", london, 2_000_000)
    # the reader's own peak: the high-water mark is reset once the network is built (its build can
    # peak higher than the read, and ru_maxrss would charge that to the reader), then read back
    script = f"""
from sim.incidents import IncidentSource, read_incidents, snapper_for
from sim.network import load_network
net = load_network({str(DEFAULT_CITY)!r}, network_type="walk", cache_dir={str(tmp_path / "cache")!r})
snapper_for(net)
def status_mb(key):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(key)) / 1024
base = status_mb("VmRSS")
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset VmHWM to the current RSS (Linux >= 4.0)
src = IncidentSource(path={str(path)!r}, columns={GENERIC!r}, mapping="police_uk", timezone="Europe/London")
tab = read_incidents(src, net)
print(tab.report.rows_read, tab.report.rows_used, status_mb("VmHWM") - base)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO
    )
    rows_read, rows_used, growth_mb = done.stdout.split()
    assert int(rows_read) == 2_000_000 and int(rows_used) > 1_990_000
    assert float(growth_mb) < 1024, f"peak RSS grew by {float(growth_mb):.0f} MB"
