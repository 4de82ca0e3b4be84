"""``precinct incidents inspect``: read a real crime-incident file onto a city's streets and report on it.

::

    precinct incidents inspect FILE [city=NAME] [city.path=MAP] [city.network_type=T]
                               [incidents.columns.lon=COL ...] [incidents.timezone=ZONE ...] [--html OUT]
    precinct incidents inspect incidents.path=FILE ...      the same, as `precinct run` spells it

The report gives rows read, used and rejected by reason, the date range, counts per offence
class, the share snapped to a street, crime concentration against chance, near repeats (Knox),
and hour-of-day and day-of-week profiles: the same :mod:`sim.metrics` a simulated run is measured
with. ``--html`` writes the same as one offline page with a map.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim import metrics as m
from sim.config import CityConfig, repo_root
from sim.errors import ConfigError, PrecinctError
from sim.incidents import (
    MODELLED_NOW,
    NOT_CRIME,
    OFFENCE_CLASSES,
    UNMODELLED,
    IncidentSource,
    IncidentTable,
    read_incidents,
)
from sim.network import StreetNetwork, load_network

__all__ = ["format_report", "inspect_incidents", "main_inspect", "parse_overrides", "write_html"]

OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"
KNOX_BANDS = (("0-100 m, 0-3 days", 100.0, 3.0), ("0-200 m, 0-14 days", 200.0, 14.0))
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SOURCE_ATTRIBUTION = {
    "police_uk": "Crime data: data.police.uk, Open Government Licence v3.0",
    "portland": "Crime data: Portland Police Bureau open data",
    "boston": "Crime data: City of Boston, Crime Incident Reports",
}


# --------------------------------------------------------------------------- the figures
def inspect_incidents(
    table: IncidentTable,
    network: StreetNetwork,
    *,
    rng: int = 0,
    n_draws: int = 200,
    n_permutations: int = 99,
) -> dict[str, Any]:
    """Compute the figures of the inspect report.

    Parameters
    ----------
    table
        What :func:`sim.incidents.read_incidents` returned.
    network
        The network the incidents were snapped to.
    rng
        Seed of the chance baselines (random allocation, Knox permutations).
    n_draws
        Random allocations for the chance concentration.
    n_permutations
        Time permutations of the Knox test.

    Returns
    -------
    dict
        Plain values and small DataFrames: counts, coverage, ``classes``, ``concentration``,
        ``knox`` (a table, or ``knox_skipped`` with the reason), ``hours`` / ``weekdays`` (or
        ``*_skipped``), ``notes``.
    """
    rep = table.report
    events = table.events
    used = rep.class_counts(used=True)
    read = rep.class_counts()
    classes = pd.DataFrame(
        [
            {"offence_class": name, "description": oc.description, "simulated_today": oc.modelled,
             "rows_read": read.get(name, 0), "rows_used": used.get(name, 0)}
            for name, oc in OFFENCE_CLASSES.items()
        ]
        + [
            {"offence_class": UNMODELLED, "description": "place-based crime outside the classes",
             "simulated_today": False, "rows_read": read.get(UNMODELLED, 0), "rows_used": used.get(UNMODELLED, 0)},
            {"offence_class": NOT_CRIME, "description": "no street location, or not a crime: left out",
             "simulated_today": False, "rows_read": read.get(NOT_CRIME, 0), "rows_used": 0},
        ]
    )  # fmt: skip
    info: dict[str, Any] = {
        "file": rep.path, "format": rep.format, "mapping": rep.mapping, "timezone": rep.timezone,
        "encoding": rep.encoding, "rows_read": rep.rows_read, "rows_used": rep.rows_used,
        "rejected": dict(rep.rejected), "first_lines": dict(rep.first_lines),
        "date_first": rep.date_first, "date_last": rep.date_last, "time_known": dict(rep.time_known),
        "share_snapped": rep.share_snapped, "snap_dist_m": dict(rep.snap_dist_m), "coverage": dict(rep.coverage),
        "coverage_used": dict(rep.coverage_used), "classes": classes, "unmodelled": rep.unmodelled,
        "not_crime": rep.not_crime, "unknown_categories": list(rep.unknown_categories),
        "segments": network.n_segments, "notes": list(rep.notes),
        "attribution": SOURCE_ATTRIBUTION.get(rep.format, ""),
    }  # fmt: skip
    info["concentration"] = _concentration(events, network, rng=rng, n_draws=n_draws)
    timed = events[events["time_known"] != "month"]
    if timed.empty:
        reason = "times are known to the month only, so bands of days and hours cannot be told apart"
        info["knox_skipped"] = info["weekdays_skipped"] = reason
    else:
        info.update(_knox(timed, rng=rng, n_permutations=n_permutations))
        info["weekdays"] = _weekdays(timed, table.origin)
    minute = events[events["time_known"] == "minute"]
    if minute.empty:
        info["hours_skipped"] = (
            "no incident has a clock time (month-only dates)"
            if timed.empty
            else "no incident has a clock time (dates only)"
        )
    else:
        info["hours"] = m.count_crimes(minute, by=("hour",))
    return info


def _concentration(events: pd.DataFrame, network: StreetNetwork, *, rng: int, n_draws: int) -> pd.DataFrame:
    """Share of crime on the top 5% of segments, observed and under random allocation by length."""
    rows = []
    sets = (
        ("all place-based", events),
        ("the simulated types", events[events["crime_type"].isin(sorted(MODELLED_NOW))]),
    )
    for label, sub in sets:
        if sub.empty:
            continue
        counts = m.count_crimes_per_segment(sub, network.n_segments)
        observed = float(m.share_on_top_segments(counts, (0.05,)).iloc[0])
        chance = m.random_allocation_concentration(
            int(counts.sum()), network.segment_length_m, rng, n_draws, fractions=(0.05,)
        )["share_on_top_0.05"].to_numpy()
        rows.append(
            {
                "incidents": label,
                "n": int(counts.sum()),
                "share_top5pct": observed,
                "chance_mean": float(chance.mean()),
                "chance_low": float(np.quantile(chance, 0.025)),
                "chance_high": float(np.quantile(chance, 0.975)),
                "segments_with_crime": int(np.count_nonzero(counts)),
            }
        )
    return pd.DataFrame(rows)


def _knox(timed: pd.DataFrame, *, rng: int, n_permutations: int) -> dict[str, Any]:
    if len(timed) < 2:
        return {"knox_skipped": f"only {len(timed)} incident with a known day"}
    x = timed["x"].to_numpy(np.float64)
    y = timed["y"].to_numpy(np.float64)
    t_days = timed["time_min"].to_numpy(np.float64) / 1440.0
    rows = []
    for label, dist_m, days in KNOX_BANDS:
        tab = m.knox_table(x, y, t_days, distance_bands_m=(0.0, dist_m), time_bands_days=(0.0, days),
                           n_permutations=n_permutations, rng=rng)  # fmt: skip
        row = tab.iloc[0]
        rows.append({"band": label, "observed": int(row["observed"]), "expected": float(row["expected"]),
                     "knox_ratio": float(row["knox_ratio"]), "p_value": float(row["p_value"])})  # fmt: skip
    return {"knox": pd.DataFrame(rows)}


def _weekdays(timed: pd.DataFrame, origin: pd.Timestamp) -> pd.DataFrame:
    by_day = m.count_crimes(timed, by=("day",))
    weekday = (origin.day_of_week + by_day["day"].to_numpy()) % 7
    counts = np.bincount(weekday, weights=by_day["count"].to_numpy(), minlength=7).astype(np.int64)
    return pd.DataFrame({"weekday": list(WEEKDAYS), "count": counts})


# --------------------------------------------------------------------------- text
def _pct(v: float) -> str:
    return "n/a" if v != v else f"{v:.1%}"


def _date(t: pd.Timestamp | None, month_only: bool) -> str:
    if t is None:
        return "n/a"
    return f"{t:%Y-%m}" if month_only else f"{t:%Y-%m-%d %H:%M}"


def _summary_rows(info: dict[str, Any]) -> list[tuple[str, str]]:
    read, used = info["rows_read"], info["rows_used"]
    month_only = info["time_known"].get("month", 0) == used
    cov = info["coverage"]
    snap = info["snap_dist_m"]
    return [
        ("file", f"{info['file']} (format {info['format']}, mapping {info['mapping'] or 'none'}, "
                 f"{info['encoding']}, time zone {info['timezone']})"),
        ("rows read", f"{read:,}"),
        ("rows used", f"{used:,} ({used / read:.1%})"),
        ("rows rejected", f"{read - used:,}"),
        ("dates", f"{_date(info['date_first'], month_only)} .. {_date(info['date_last'], month_only)}"
                  + (" (month only)" if month_only else "")),
        ("snapped", f"{_pct(info['share_snapped'])} of located place-based incidents within reach of a "
                    f"street (median {snap.get('median', float('nan')):.1f} m, 95% within "
                    f"{snap.get('p95', float('nan')):.1f} m)"),
        ("coverage", f"of {int(cov['place_based']):,} place-based offences, {_pct(cov['share_modelled_now'])} are "
                     f"of the {len(MODELLED_NOW)} types the model simulates (the rest: unmodelled)"),
    ]  # fmt: skip


def format_report(info: dict[str, Any]) -> str:
    """Return the inspect report as plain text (what ``precinct incidents inspect`` prints)."""
    lines: list[str] = []
    rows = _summary_rows(info)
    width = max(len(k) for k, _ in rows)
    lines += [f"{k:<{width}}  {v}" for k, v in rows]
    lines.append("")
    lines.append("rejected by reason (first lines of the file):")
    if not info["rejected"]:
        lines.append("  none")
    for reason, n in info["rejected"].items():
        first = ", ".join(str(x) for x in info["first_lines"].get(reason, []))
        lines.append(f"  {reason:<24} {n:>9,}   lines {first}")
    lines.append("")
    lines.append("offence classes:")
    cls = info["classes"]
    for r in cls.itertuples(index=False):
        flag = "simulated" if r.simulated_today else ""
        lines.append(f"  {r.offence_class:<20} {r.rows_read:>9,} read {r.rows_used:>9,} used  {flag}")
    for key, title in (("unmodelled", "unmodelled categories (kept as crime_type 'unmodelled')"),
                       ("not_crime", "not crime, left out of every denominator")):  # fmt: skip
        if info[key]:
            items = ", ".join(f"{k} {v:,}" for k, v in info[key].items())
            lines.append(f"{title}: {items}")
    if info["unknown_categories"]:
        lines.append(f"categories not in the mapping (unmodelled): {', '.join(info['unknown_categories'])}")
    lines.append("")
    lines.append(f"concentration on street segments ({info['segments']:,} segments):")
    for r in info["concentration"].itertuples(index=False):
        lines.append(
            f"  {r.incidents:<16} n={r.n:,}: top 5% of segments hold {r.share_top5pct:.1%} of crime; "
            f"chance {r.chance_mean:.1%} ({r.chance_low:.1%}-{r.chance_high:.1%})"
        )
    lines.append("")
    if "knox" in info:
        lines.append("near repeats (Knox, straight-line distance, times permuted):")
        for r in info["knox"].itertuples(index=False):
            lines.append(f"  {r.band:<20} observed {r.observed:,} expected {r.expected:,.1f} "
                         f"ratio {r.knox_ratio:.2f} p={r.p_value:.3f}")  # fmt: skip
    else:
        lines.append(f"near repeats (Knox): skipped: {info['knox_skipped']}")
    if "hours" in info:
        counts = info["hours"]["count"].to_numpy()
        lines.append("hour of day (incidents with a clock time):")
        lines.append("  " + " ".join(f"{h:>4d}" for h in range(12)))
        lines.append("  " + " ".join(f"{c:>4d}" for c in counts[:12]))
        lines.append("  " + " ".join(f"{h:>4d}" for h in range(12, 24)))
        lines.append("  " + " ".join(f"{c:>4d}" for c in counts[12:]))
        if counts.sum() > 0:
            weights = counts / counts.mean()
            profile = ",".join(f"{w:.2f}" for w in weights)
            lines.append(
                "  offenders' hours from this profile (an override for precinct run; it fits the model"
            )
            lines.append(
                "  to these incidents, so judge the run on other data): "
                + f"'crime.activity_by_hour=[{profile}]'"
            )
    else:
        lines.append(f"hour of day: skipped: {info['hours_skipped']}")
    if "weekdays" in info:
        wd = info["weekdays"]
        lines.append(
            "day of week: " + ", ".join(f"{d} {c:,}" for d, c in zip(wd["weekday"], wd["count"], strict=True))
        )
    else:
        lines.append(f"day of week: skipped: {info['weekdays_skipped']}")
    if info["notes"]:
        lines.append("")
        lines.append("notes:")
        lines += [f"  - {n}" for n in info["notes"]]
    return "\n".join(lines)


# --------------------------------------------------------------------------- HTML
def incident_map(table: IncidentTable, network: StreetNetwork, *, width_in: float = 8.5) -> str:
    """Snapped incidents over the street network, as a PNG data URI with the OSM attribution."""
    from matplotlib.collections import LineCollection  # only for --html: keeps the text report quick
    from matplotlib.figure import Figure

    from experiments.figures import ATTRIBUTION, png_data_uri

    x0, y0 = network.geom_xy.min(axis=0)
    x1, y1 = network.geom_xy.max(axis=0)
    aspect = (y1 - y0) / max(x1 - x0, 1.0)
    fig = Figure(figsize=(width_in, max(3.0, min(width_in * aspect, 10.0))))
    ax = fig.add_subplot()
    ax.set_aspect("equal")
    ax.set_axis_off()
    ptr, gxy = network.geom_indptr, network.geom_xy
    lines = [gxy[ptr[e] : ptr[e + 1]] for e in network.segment_edge]
    ax.add_collection(LineCollection(lines, colors="#bdbdbd", linewidths=0.6))
    ev = table.events
    simulated = ev["crime_type"].isin(sorted(MODELLED_NOW)).to_numpy()
    ax.scatter(ev["x"][~simulated], ev["y"][~simulated], s=4, c="#3182bd", alpha=0.35, linewidths=0,
               label="unmodelled place-based")  # fmt: skip
    ax.scatter(ev["x"][simulated], ev["y"][simulated], s=6, c="#de2d26", alpha=0.6, linewidths=0,
               label="the simulated types")  # fmt: skip
    pad = 0.02 * max(x1 - x0, y1 - y0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.legend(loc="upper left", fontsize=7, markerscale=2, frameon=True)
    credit = ATTRIBUTION + ("; " + SOURCE_ATTRIBUTION[table.report.format]
                            if table.report.format in SOURCE_ATTRIBUTION else "")  # fmt: skip
    ax.text(0.99, 0.01, credit, transform=ax.transAxes, ha="right", va="bottom", fontsize=7,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.5})  # fmt: skip
    return png_data_uri(fig)


def _table_html(frame: pd.DataFrame, *, pct: Sequence[str] = ()) -> str:
    shown = frame.copy()
    for col in pct:
        shown[col] = shown[col].map(lambda v: "n/a" if v != v else f"{v:.1%}")
    return shown.to_html(index=False, border=0, classes="t", float_format=lambda v: f"{v:,.2f}")


def write_html(path: str | Path, table: IncidentTable, network: StreetNetwork, info: dict[str, Any]) -> Path:
    """Write the inspect report as one self-contained offline HTML page (map inlined as base64 PNG).

    Parameters
    ----------
    path
        Output file.
    table, network
        The incidents and the network they were snapped to.
    info
        What :func:`inspect_incidents` returned.

    Returns
    -------
    Path
        The file written.
    """
    esc = html.escape
    rejected = pd.DataFrame(
        [
            {"reason": r, "rows": n, "first lines": ", ".join(map(str, info["first_lines"].get(r, [])))}
            for r, n in info["rejected"].items()
        ]
    )
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Incidents: {esc(Path(info['file']).name)}</title>",
        "<style>body{font:14px/1.45 system-ui,sans-serif;max-width:60rem;margin:1.5rem auto;padding:0 1rem;"
        "color:#222}table.t{border-collapse:collapse;margin:.4rem 0 1rem}table.t td,table.t th{padding:"
        ".2rem .6rem;border-bottom:1px solid #ddd;text-align:right}table.t td:first-child,table.t th:first-child"
        "{text-align:left}dt{font-weight:600;float:left;width:9rem}dd{margin-left:10rem}img{max-width:100%}"
        "small{color:#666}</style></head><body>",
        f"<h1>Incidents: {esc(Path(info['file']).name)}</h1><dl>",
        *(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in _summary_rows(info)),
        "</dl>",
        f"<img alt='map of snapped incidents' src='{incident_map(table, network)}'>",
        "<h2>Rejected rows</h2>",
        _table_html(rejected) if not rejected.empty else "<p>none</p>",
        "<h2>Offence classes</h2>",
        _table_html(info["classes"]),
    ]
    for key, title in (("unmodelled", "Unmodelled categories"), ("not_crime", "Not crime (left out)")):
        if info[key]:
            frame = pd.DataFrame({"category": list(info[key]), "rows": list(info[key].values())})
            parts += [f"<h3>{title}</h3>", _table_html(frame)]
    parts += ["<h2>Concentration on street segments</h2>",
              _table_html(info["concentration"], pct=("share_top5pct", "chance_mean", "chance_low", "chance_high"))]  # fmt: skip
    parts.append("<h2>Near repeats (Knox)</h2>")
    parts.append(
        _table_html(info["knox"]) if "knox" in info else f"<p>Skipped: {esc(info['knox_skipped'])}</p>"
    )
    parts.append("<h2>Hour of day</h2>")
    parts.append(_table_html(info["hours"].set_index("hour").T) if "hours" in info
                 else f"<p>Skipped: {esc(info['hours_skipped'])}</p>")  # fmt: skip
    parts.append("<h2>Day of week</h2>")
    parts.append(_table_html(info["weekdays"]) if "weekdays" in info
                 else f"<p>Skipped: {esc(info['weekdays_skipped'])}</p>")  # fmt: skip
    if info["notes"]:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{esc(n)}</li>" for n in info["notes"]) + "</ul>")
    credit = "; ".join(c for c in (OSM_ATTRIBUTION, info.get("attribution", "")) if c)
    parts.append(f"<p><small>Map data {esc(credit)}.</small></p></body></html>")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(parts), encoding="utf-8")
    return out


# --------------------------------------------------------------------------- command line
_BOOL = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_SCALARS = {f.name: f for f in fields(IncidentSource) if f.name not in ("path", "columns", "type_mapping")}
_OVERRIDE = re.compile(r"^(?:city|incidents)(?:\.[^=]*)?=")
_REPO_REF = re.compile(r"\$\{precinct_repo:([^}]*)\}")


def _city_preset(name: str) -> dict[str, Any]:
    conf = repo_root() / "conf" / "city"
    path = conf / f"{name}.yaml"
    if not path.is_file():
        names = ", ".join(sorted(p.stem for p in conf.glob("*.yaml")))
        raise ConfigError("city", name, f"one of {names}")
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = {}
    for key in ("path", "network_type", "name"):
        value = doc.get(key)
        if isinstance(value, str) and "${" not in _REPO_REF.sub("", value):
            out[key] = _REPO_REF.sub(lambda mt: os.path.normpath(repo_root() / mt.group(1)), value)
    return out


def _scalar(key: str, value: str) -> Any:
    f = _SCALARS[key]
    kind = str(f.type)
    if value.lower() in ("null", "none", "~") and "None" in kind:
        return None
    if "bool" in kind:
        if value.lower() not in _BOOL:
            raise ConfigError(f"incidents.{key}", value, "true or false")
        return _BOOL[value.lower()]
    if kind.startswith("float"):
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"incidents.{key}", value, "a number") from None
    if kind.startswith("int"):
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"incidents.{key}", value, "a whole number") from None
    return value


def parse_overrides(file: str | None, overrides: Sequence[str]) -> tuple[CityConfig, IncidentSource]:
    """Turn ``key=value`` overrides into the city and the incident source, as ``precinct run`` would.

    ``city=NAME`` picks ``conf/city/NAME.yaml`` and applies before any ``city.*`` override, whatever
    the order. Keys: ``city.path``, ``city.network_type``, ``city.name``, ``city.cache_dir``,
    ``incidents.columns.ROLE``, ``incidents.type_mapping.CATEGORY`` and ``incidents.FIELD`` for every
    field of :class:`sim.incidents.IncidentSource` (``incidents.path`` when ``file`` is None).

    Raises
    ------
    ConfigError
        An override is not ``key=value``, names an unknown key or has a value of the wrong type.
    """
    city = CityConfig()
    pairs = []
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(item, "", "key=value, e.g. city.path=map.osm.pbf or incidents.columns.lon=X")
        pairs.append((key.strip(), value))
    for key, value in pairs:
        if key == "city":
            city = CityConfig(**_city_preset(value))
    source: dict[str, Any] = {"path": file or "", "columns": {}, "type_mapping": {}}
    city_keys = ("path", "network_type", "name", "cache_dir")
    for key, value in pairs:
        head, _, rest = key.partition(".")
        if key == "city":
            continue
        if head == "city" and rest in city_keys:
            setattr(city, rest, (value or None) if rest == "cache_dir" else value)
            if rest == "path" and "name" not in dict(pairs):
                city.name = Path(value).name.split(".")[0]
        elif head == "incidents" and rest.startswith(("columns.", "type_mapping.")):
            group, _, sub = rest.partition(".")
            source[group][sub] = value
        elif head == "incidents" and rest in _SCALARS:
            source[rest] = _scalar(rest, value)
        elif key == "incidents.path" and file is None:
            source["path"] = value
        else:
            allowed = [f"city.{k}" for k in city_keys] + [
                "incidents.columns.ROLE",
                "incidents.type_mapping.CATEGORY",
            ]
            allowed += [f"incidents.{k}" for k in _SCALARS]
            raise ConfigError(key, value, f"one of city=NAME, {', '.join(allowed)}")
    if not source["path"]:
        raise ConfigError("incidents.path", "", "an incident file: FILE or incidents.path=FILE")
    if not city.path:
        raise ConfigError(
            "city.path", city.path, "the OSM file of the city, e.g. city=custom city.path=map.osm.pbf"
        )
    return city, IncidentSource(**source)


def _fail(message: str) -> int:
    print(f"precinct: error: {' '.join(str(message).split())}", file=sys.stderr)
    return 2


def main_inspect(argv: list[str]) -> int:
    """Run ``precinct incidents inspect`` with ``argv`` (the arguments after ``inspect``); return the status.

    Prints the report; with ``--html OUT`` also writes the page. Bad input (a missing file or
    column, nothing usable left, a bad override) prints one ``precinct: error: ...`` line on stderr
    and returns 2, without a traceback.
    """
    parser = argparse.ArgumentParser(
        prog="precinct incidents inspect",
        description="Read a crime-incident file onto a city's streets and report what it holds.",
    )
    parser.add_argument(
        "args",
        nargs="+",
        metavar="FILE | KEY=VALUE",
        help="the incident file (police.uk CSV, Portland/Boston export, any CSV/Parquet/GeoJSON) and "
        "overrides: city=NAME, city.path=MAP, incidents.columns.lon=COL, incidents.timezone=ZONE, ...",
    )
    parser.add_argument("--html", default=None, metavar="OUT", help="also write a self-contained HTML report")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the network cache")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed its usage line
        return int(exc.code or 0)
    overrides = [a for a in args.args if _OVERRIDE.match(a)]
    files = [a for a in args.args if not _OVERRIDE.match(a)]
    if len(files) > 1:
        return _fail(f"one incident file expected, got {len(files)}: {', '.join(files)}")
    try:
        city, source = parse_overrides(files[0] if files else None, overrides)
        network = load_network(city.path, network_type=city.network_type, cache_dir=city.cache_dir,
                               use_cache=not args.no_cache)  # fmt: skip
        table = read_incidents(source, network)
        info = inspect_incidents(table, network)
    except (PrecinctError, OSError) as exc:
        return _fail(str(exc))
    name = city.name or Path(city.path).name.split(".")[0]
    print(f"city: {name} ({city.path}, {city.network_type} network)")
    print(format_report(info))
    if args.html:
        out = write_html(args.html, table, network, info)
        print(f"\nreport: {out.resolve()}")
    return 0
