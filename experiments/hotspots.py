"""``precinct hotspots score``: rolling hot-spot forecasts of a city's recorded crime, scored as analysts score them.

::

    precinct hotspots score --city MAP --incidents FILE [--network-type walk]
                            [incidents.columns.ROLE=COL ...] [incidents.timezone=ZONE ...]
                            [--test-start YYYY-MM-DD] [--test-end YYYY-MM-DD]
                            [--forecasters prior_counts,grid_kde,network_kde,prospective] [--out scores.csv]

Each week of the test period (default: the last quarter of the file's span) is forecast from every
incident before it and scored on its own incidents: hit rate, PAI and PEI at 1-20% of street length,
pooled over the weeks with bootstrap intervals (:mod:`sim.forecast`, docs/forecasting.md). A file
dated to the month only (police.uk) is forecast calendar month by calendar month instead, without
the prospective forecaster, which weighs crimes by weeks old.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.incidents import parse_overrides
from sim import forecast
from sim.clock import MINUTES_PER_DAY
from sim.errors import ConfigError, PrecinctError
from sim.incidents import MODELLED_NOW, IncidentFileError, IncidentTable, read_incidents
from sim.network import StreetNetwork, load_network

__all__ = [
    "HotspotScores", "choose_period", "dated_crimes", "format_scores", "main", "month_only", "score_hotspots",
]  # fmt: skip

# Police exports carry a few old offences reported late (Portland's 2021 Q1 file reaches back to June
# 2019 with 2% of its incidents before December 2020, docs/incidents.md), so the span's start is taken
# from this quantile of incident times, extended back as if incidents were spread evenly.
SPAN_QUANTILE = 0.05
TEST_SHARE = 0.25  # the default test period: the last quarter of the span
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class HotspotScores:
    """Scores of every forecaster on a test period, week by week (or month by month), their summary, and what was scored."""

    scores: pd.DataFrame
    summary: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp
    n_weeks: int
    n_test_crimes: int
    n_crimes: int
    notes: list[str] = field(default_factory=list)
    period: str = "week"
    """How long each forecast's period is: "week", or "month" for incidents dated to the month only."""


def dated_crimes(table: IncidentTable) -> tuple[pd.DataFrame, list[str]]:
    """Return the incidents of the simulated types that have a date, and notes on what was left out.

    Incidents dated to the month only are left out, unless every incident is (police.uk): then all
    are returned, to be forecast month by month (:func:`month_only`).

    Raises
    ------
    IncidentFileError
        No incident of the simulated types.
    """
    path = table.report.path
    events = table.events
    crimes = events[events["crime_type"].isin(sorted(MODELLED_NOW))]
    if crimes.empty:
        raise IncidentFileError(path, "offence types", "no incident of the simulated types",
                                "incidents mapped to offence classes (incidents.mapping, incidents.type_mapping)")  # fmt: skip
    if month_only(crimes):
        return crimes, [f"all {len(crimes):,} incidents are dated to the month only (as police.uk publishes them): "
                        "forecast month by month; the prospective forecaster, which weighs crimes by weeks old, "
                        "is left out"]  # fmt: skip
    notes = []
    month_only_rows = crimes["time_known"] == "month"
    if month_only_rows.any():
        notes.append(f"{int(month_only_rows.sum()):,} incidents dated to the month only left out")
    return crimes[~month_only_rows], notes


def month_only(crimes: pd.DataFrame) -> bool:
    """Tell whether every incident is dated to the month only (police.uk): forecast by calendar month."""
    return bool(len(crimes)) and bool((crimes["time_known"] == "month").all())


def _minutes(table: IncidentTable, key: str, value: str) -> float:
    """Minutes from the table's origin to local midnight of the date ``value``."""
    try:
        ts = pd.Timestamp(value) if _DATE.match(value) else pd.NaT
    except ValueError:
        ts = pd.NaT
    if pd.isna(ts):
        raise ConfigError(key, value, "a local date YYYY-MM-DD")
    return _minutes_to(table, ts)


def _minutes_to(table: IncidentTable, when: pd.Timestamp) -> float:
    """Minutes from the table's origin to local time ``when``."""
    return float((when - table.origin) / pd.Timedelta(minutes=1))


def _date(table: IncidentTable, time_min: float) -> str:
    return f"{table.origin + pd.Timedelta(minutes=time_min):%Y-%m-%d}"


def choose_period(
    table: IncidentTable, crimes: pd.DataFrame, *, test_start: str | None = None, test_end: str | None = None
) -> tuple[float, float]:
    """Return the test period ``[start, end)`` in the table's minutes, checked against the incidents.

    Default: from the local midnight nearest three quarters into the span to the midnight after
    the last incident; for month-only dates, from the nearest first of a month to the first of the
    month after the last incident, and a given ``test_start`` must be the first of a month. The span ends at the last incident and starts where the 5th percentile of
    incident times puts it if incidents were spread evenly (``(q05 - 0.05 last) / 0.95``, never
    before the first), so a few old offences reported late do not stretch it.

    Raises
    ------
    ConfigError
        A date is not ``YYYY-MM-DD``, or the end is not after the start.
    IncidentFileError
        The start leaves no incident before it to forecast from or none after it, or the period
        holds no incident.
    """
    path = table.report.path
    times = crimes["time_min"].to_numpy(np.float64)
    first, last = float(times.min()), float(times.max())
    after_last = (np.floor(last / MINUTES_PER_DAY) + 1.0) * MINUTES_PER_DAY
    if test_start is None:
        q = float(np.quantile(times, SPAN_QUANTILE))
        lo = max(first, (q - SPAN_QUANTILE * last) / (1.0 - SPAN_QUANTILE))
        start = float(np.round((last - TEST_SHARE * (last - lo)) / MINUTES_PER_DAY) * MINUTES_PER_DAY)
    else:
        start = _minutes(table, "--test-start", test_start)
    end = after_last if test_end is None else _minutes(table, "--test-end", test_end)
    if month_only(crimes):  # a month-only date stands for its whole month: whole months only
        if first == last:
            raise IncidentFileError(path, "dates", f"all {len(times):,} incidents are dated to one month, "
                                    f"{table.origin + pd.Timedelta(minutes=first):%Y-%m}, and monthly forecasts need "
                                    "earlier months to forecast from", "a file of several months")  # fmt: skip
        when = table.origin + pd.Timedelta(minutes=start)
        if test_start is not None and when.day != 1:
            raise ConfigError("--test-start", test_start, "the first day of a month (the incidents are dated "
                              "to the month only)")  # fmt: skip
        nearest = when.to_period("M") + int(when.day > 15)
        start = _minutes_to(table, nearest.to_timestamp())
        if test_end is None:
            end = _minutes_to(
                table, ((table.origin + pd.Timedelta(minutes=last)).to_period("M") + 1).to_timestamp()
            )
    span = f"the incidents run from {_date(table, first)} to {_date(table, last)}"
    key = "--test-start" if test_start is not None else "test period (default: the span's last quarter)"
    if start <= first:
        raise IncidentFileError(path, key, f"{_date(table, start)} leaves no incident before it "
                                f"to forecast from ({span})", "a test start after the first incident")  # fmt: skip
    if start > last:
        raise IncidentFileError(path, key, f"{_date(table, start)} is after the last incident ({span})",
                                "a test start inside the file's span")  # fmt: skip
    if end <= start:
        raise ConfigError("--test-end", test_end, f"a date after the test start {_date(table, start)}")
    if not np.any((times >= start) & (times < end)):
        raise IncidentFileError(path, "test period", f"no incident of the simulated types from {_date(table, start)} "
                                f"until {_date(table, end)} ({span})", "a test period holding incidents")  # fmt: skip
    return start, end


def score_hotspots(
    table: IncidentTable,
    network: StreetNetwork,
    *,
    test_start: str | None = None,
    test_end: str | None = None,
    forecasters: Sequence[str] = forecast.DEFAULT_FORECASTERS,
    coverages: Sequence[float] = forecast.DEFAULT_COVERAGES,
    n_boot: int = 1000,
    rng: int = 0,
) -> HotspotScores:
    """Score weekly forecasts of the table's dated crime of the simulated types over a test period.

    Parameters
    ----------
    table, network
        Incidents read onto the network (:func:`sim.incidents.read_incidents`).
    test_start, test_end
        Local dates ``YYYY-MM-DD`` (end exclusive); default :func:`choose_period`.
    forecasters, coverages
        Forecasters by name and shares of street length (:func:`sim.forecast.rolling_scores`).
    n_boot, rng
        Bootstrap resamples and seed of :func:`sim.forecast.summarise`.
    """
    crimes, notes = dated_crimes(table)
    start, end = choose_period(table, crimes, test_start=test_start, test_end=test_end)
    edges, period = None, "week"
    if month_only(crimes):
        edges, period = forecast.month_starts_min(table.origin, start, end), "month"
        forecasters = [f for f in forecasters if f != "prospective"]
        if not forecasters:
            raise ConfigError("--forecasters", "prospective", "a forecaster other than prospective: it weighs "
                              "crimes by weeks old, and these incidents are dated to the month only")  # fmt: skip
    scores = forecast.rolling_scores(
        crimes, network, start, end, forecasters=forecasters, coverages=coverages, edges_min=edges
    )
    summary = forecast.summarise(scores, n_boot=n_boot, rng=rng)
    times = crimes["time_min"].to_numpy(np.float64)
    return HotspotScores(
        scores=scores, summary=summary, start=table.origin + pd.Timedelta(minutes=start),
        end=table.origin + pd.Timedelta(minutes=end), n_weeks=int(scores["week_start_min"].nunique()),
        n_test_crimes=int(((times >= start) & (times < end)).sum()), n_crimes=len(crimes), notes=notes,
        period=period,
    )  # fmt: skip


def format_scores(result: HotspotScores) -> str:
    """Return the summary as the table ``precinct hotspots score`` prints, units and intervals included."""
    last_day = result.end - pd.Timedelta(days=1)
    n, p = result.n_weeks, result.period
    lines = [
        f"test period: {result.start:%Y-%m-%d} .. {last_day:%Y-%m-%d} ({n} {p}ly forecast{'s' * (n != 1)}, each from "
        f"every earlier incident; {result.n_test_crimes:,} of the {result.n_crimes:,} dated crimes of the simulated types)",
        f"hit rate: % of a {p}'s crimes on the top-ranked segments making up x% of street length",
        f"PAI: hit rate / x% (1 = chance); PEI: crimes captured / crimes the oracle that knew the {p} captured (1 = best)",
        f"pooled over {p}s (weighted by crimes); [95% bootstrap interval, {p}s resampled]",
        "",
    ]  # fmt: skip
    rows = [("forecaster", "street length", "hit rate", "PAI", "PEI")]
    for r in result.summary.itertuples(index=False):
        rows.append((str(r.forecaster), f"{r.coverage:.0%}",
                     f"{r.hit_rate:.1%} [{r.hit_rate_lo:.1%}, {r.hit_rate_hi:.1%}]",
                     f"{r.pai:.2f} [{r.pai_lo:.2f}, {r.pai_hi:.2f}]",
                     f"{r.pei:.2f} [{r.pei_lo:.2f}, {r.pei_hi:.2f}]"))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    if result.notes:
        lines += ["", "notes:", *(f"  - {n}" for n in result.notes)]
    return "\n".join(lines)


def _forecaster_names(value: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    allowed = f"comma-separated names among {', '.join(forecast.DEFAULT_FORECASTERS)}"
    if not names or any(n not in forecast.DEFAULT_FORECASTERS for n in names):
        if "model" in names:
            allowed += " ('model' needs a calibrated model's risk map, which this command has not)"
        raise ConfigError("--forecasters", value, allowed)
    return names


def _fail(message: str) -> int:
    print(f"precinct: error: {' '.join(str(message).split())}", file=sys.stderr)
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="precinct hotspots", description="Hot-spot forecasts of recorded crime."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")
    score = sub.add_parser("score", help="score weekly hot-spot forecasts on a city's incidents (docs/forecasting.md)",
                           description="Forecast each week of a test period from every earlier incident and score "
                           "it: hit rate, PAI and PEI at 1-20% of street length, with bootstrap intervals.")  # fmt: skip
    score.add_argument("overrides", nargs="*", metavar="incidents.KEY=VALUE",
                       help="how to read the file, as precinct incidents inspect: incidents.columns.lon=COL, "
                       "incidents.timezone=ZONE, incidents.mapping=NAME, ...")  # fmt: skip
    score.add_argument("--city", required=True, metavar="MAP", help="OpenStreetMap file of the city")
    score.add_argument("--network-type", default="walk", help="street network type (default walk)")
    score.add_argument("--incidents", required=True, metavar="FILE", help="crime-incident file with dates")
    score.add_argument("--test-start", default=None, metavar="YYYY-MM-DD",
                       help="first day of the test period (default: the last quarter of the file's span)")  # fmt: skip
    score.add_argument("--test-end", default=None, metavar="YYYY-MM-DD",
                       help="day after the test period (default: the day after the last incident)")  # fmt: skip
    score.add_argument("--forecasters", default=",".join(forecast.DEFAULT_FORECASTERS),
                       help=f"comma-separated, default {','.join(forecast.DEFAULT_FORECASTERS)}")  # fmt: skip
    score.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples (default 1000)")
    score.add_argument("--out", default=None, metavar="CSV",
                       help="write the weekly scores there, and the summary beside it (NAME_summary.csv)")  # fmt: skip
    score.add_argument("--no-cache", action="store_true", help="neither read nor write the network cache")
    return parser


def main(argv: list[str]) -> int:
    """Run ``precinct hotspots`` with ``argv`` (the arguments after ``hotspots``); return the status.

    ``score`` prints the summary table and, with ``--out``, writes the weekly scores and the summary
    as CSV. Bad input (a missing file or column, a test period outside the data or without
    incidents, a month-only file's test start that is not the first of a month) prints one ``precinct: error: ...`` line on stderr and returns 2.
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed its usage line
        return int(exc.code or 0)
    bad = [o for o in args.overrides if not o.startswith("incidents.")]
    if bad:
        return _fail(f"unexpected argument(s) {' '.join(bad)}: expected incidents.KEY=VALUE overrides")
    try:
        names = _forecaster_names(args.forecasters)
        if args.n_boot < 1:
            raise ConfigError("--n-boot", args.n_boot, "a positive number of resamples")
        city, source = parse_overrides(
            args.incidents,
            [f"city.path={args.city}", f"city.network_type={args.network_type}", *args.overrides],
        )
        network = load_network(city.path, network_type=city.network_type, use_cache=not args.no_cache)
        table = read_incidents(source, network)
        result = score_hotspots(table, network, test_start=args.test_start, test_end=args.test_end,
                                forecasters=names, n_boot=args.n_boot)  # fmt: skip
    except (PrecinctError, OSError) as exc:
        return _fail(str(exc))
    km = network.segment_length_m.sum() / 1000.0
    print(f"city: {city.name} ({city.path}, {city.network_type} network: {network.n_segments:,} segments, "
          f"{km:,.1f} km of street)")  # fmt: skip
    print(
        f"incidents: {table.report.path} (format {table.report.format}, {table.report.rows_used:,} rows used)"
    )
    print(format_scores(result))
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        result.scores.to_csv(out, index=False)
        summary = out.with_name(f"{out.stem}_summary{out.suffix or '.csv'}")
        result.summary.to_csv(summary, index=False)
        print(f"\n{result.period}ly scores: {out.resolve()}\nsummary: {summary.resolve()}")
    return 0
