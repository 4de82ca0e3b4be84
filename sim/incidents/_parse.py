"""Parse one chunk of raw columns: local wall-clock times, coordinates, and why a row is rejected.

Times become int64 seconds of the local wall clock (``datetime64[s]`` without zone): the hour of
day of an incident is the hour its force wrote down. Offsets in the data (``+00``, ``Z``) are
converted to the city's zone, or dropped when the format says they are mislabelled local times.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pandas.api.types import is_datetime64_any_dtype, is_numeric_dtype
from pandas.tseries.api import guess_datetime_format

__all__ = [
    "FORMAT_ROLES",
    "REASONS",
    "TIME_KNOWN",
    "infer_formats",
    "parse_coordinates",
    "parse_reported",
    "parse_times",
]

#: Roles read with a ``<role>_format`` (inferred when not given): the occurrence's, then the report date.
FORMAT_ROLES = ("datetime", "date", "time", "month", "reported")
#: Rejection reasons, in order of precedence (a row gets the first that applies).
REASONS = (
    "duplicate_id", "not_crime", "missing_datetime", "unparsable_datetime", "unparsable_time",
    "outside_period", "missing_coordinates", "unparsable_coordinates", "outside_map",
    "beyond_snap_distance",
)  # fmt: skip
CODE = {r: i + 1 for i, r in enumerate(REASONS)}  # 0: kept
#: How precisely an incident's time is known, by code.
TIME_KNOWN = ("minute", "day", "month")
NAT = np.iinfo(np.int64).min
# a zone offset after a clock time: "10:00:00+00", "10:00Z", "10:00:00.5 -05:00"
_OFFSET = re.compile(r"(\d\d:\d\d(?::\d\d(?:\.\d+)?)?)\s*(?:[+-]\d\d(?::?\d\d)?|Z|UTC)$")
_HAS_OFFSET = re.compile(_OFFSET.pattern.replace("(\\d", "(?:\\d", 1))
_TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%H%M", "%I:%M:%S %p", "%I:%M %p", "%H:%M:%S.%f", "%H.%M")
_SAMPLE = 500


def _text(s: pd.Series) -> pd.Series:
    """Values as stripped strings, missing values as ""."""
    return s.astype("string").fillna("").str.strip()


def _blank(s: pd.Series) -> NDArray[np.bool_]:
    if is_numeric_dtype(s) or is_datetime64_any_dtype(s):
        return np.asarray(s.isna().to_numpy(), dtype=bool)
    return np.asarray((_text(s) == "").to_numpy(), dtype=bool)


def _sample(s: pd.Series) -> pd.Series:
    t = _text(s)
    return t[t != ""].head(_SAMPLE)


def _share_parsed(sample: pd.Series, fmt: str) -> float:
    with np.errstate(all="ignore"):
        parsed = pd.to_datetime(_strip_offset(sample), format=fmt, errors="coerce")
    return float(parsed.notna().mean()) if len(sample) else 0.0


def _strip_offset(s: pd.Series) -> pd.Series:
    return s.str.replace(_OFFSET, r"\1", regex=True).str.strip()


def _guess(sample: pd.Series, *, time_of_day: bool = False) -> str:
    """Return a strptime format that parses at least 90% of the sample, or "mixed"."""
    if time_of_day:
        candidates: list[str] = list(_TIME_FORMATS)
    else:
        first = _strip_offset(sample.head(1)).iloc[0]
        with warnings.catch_warnings():  # pandas warns when dayfirst does not apply to the value
            warnings.simplefilter("ignore", UserWarning)
            guesses = [guess_datetime_format(first), guess_datetime_format(first, dayfirst=True)]
        candidates = [*dict.fromkeys(g for g in guesses if g), "ISO8601"]
    for fmt in candidates:
        if _share_parsed(sample.str.zfill(4) if fmt == "%H%M" else sample, fmt) >= 0.9:
            return fmt
    return "mixed"


def infer_formats(chunk: pd.DataFrame, columns: dict[str, str], formats: dict[str, str | None]) -> list[str]:
    """Fill the missing formats in ``formats`` from the chunk's first values; return notes saying so."""
    notes = []
    for role in FORMAT_ROLES:
        key = f"{role}_format"
        if role not in columns or formats.get(key):
            continue
        col = chunk[columns[role]]
        if is_datetime64_any_dtype(col):
            formats[key] = "native"
            continue
        sample = _sample(col)
        if sample.empty:
            continue  # try again on the next chunk
        fmt = _guess(sample, time_of_day=role == "time")
        formats[key] = fmt
        detail = " (each value parsed on its own: slow; set it)" if fmt == "mixed" else ""
        notes.append(f"{role} format inferred as {fmt!r} from {sample.iloc[0]!r}{detail}: set "
                     f"incidents.{key} if that is wrong")  # fmt: skip
    return notes


def _to_wall(s: pd.Series, fmt: str, *, timezone: str, ignore_offset: bool) -> NDArray[np.int64]:
    """Parse to local wall-clock seconds; NAT where unparsable."""
    if is_datetime64_any_dtype(s):
        dt = pd.DatetimeIndex(s)
        if dt.tz is not None:
            dt = dt.tz_localize(None) if ignore_offset else dt.tz_convert(timezone).tz_localize(None)
        return _seconds(dt)
    text = _text(s)
    has_offset = bool(text.head(_SAMPLE).str.contains(_HAS_OFFSET).any())
    if has_offset and ignore_offset:
        text = _strip_offset(text)
        fmt = fmt.replace("%z", "").strip()
        has_offset = False
    if has_offset and fmt not in ("ISO8601", "mixed") and "%z" not in fmt:
        fmt = fmt + "%z"
    parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=has_offset)
    dt = pd.DatetimeIndex(parsed)
    if has_offset:
        dt = dt.tz_convert(timezone).tz_localize(None)
    return _seconds(dt)


def _seconds(dt: pd.DatetimeIndex) -> NDArray[np.int64]:
    out = dt.to_numpy(dtype="datetime64[s]").astype(np.int64)
    out[np.asarray(dt.isna())] = NAT
    return out


def _time_of_day_s(s: pd.Series, fmt: str) -> NDArray[np.float64]:
    """Seconds after midnight; NaN where unparsable."""
    text = _text(s)
    if fmt == "%H%M":
        text = text.str.zfill(4)
    parsed = pd.DatetimeIndex(pd.to_datetime(text, format=fmt, errors="coerce"))
    secs = parsed.hour * 3600.0 + parsed.minute * 60.0 + parsed.second
    return np.asarray(secs, dtype=np.float64)


def parse_times(
    chunk: pd.DataFrame,
    columns: dict[str, str],
    formats: dict[str, str | None],
    *,
    timezone: str,
    ignore_offset: bool,
) -> tuple[NDArray[np.int64], NDArray[np.int8], NDArray[np.int8]]:
    """Return local wall-clock seconds, the time-known code and the rejection code of every row.

    A date without a time is placed at noon (``time_known`` "day"); a month at its middle
    (``time_known`` "month"): both stay out of hour-of-day figures.
    """
    n = len(chunk)
    known = np.zeros(n, dtype=np.int8)
    reason = np.zeros(n, dtype=np.int8)
    role = next(r for r in ("datetime", "date", "month") if r in columns)
    col = chunk[columns[role]]
    blank = _blank(col)
    fmt = formats.get(f"{role}_format") or "ISO8601"
    if role == "month":
        start = _to_wall(col, fmt, timezone=timezone, ignore_offset=True)
        ok = start != NAT
        starts = start[ok].astype("datetime64[s]").astype("datetime64[M]")
        half_s = ((starts + 1).astype("datetime64[s]") - starts.astype("datetime64[s]")).astype(np.int64) // 2
        wall = start.copy()
        wall[ok] = starts.astype("datetime64[s]").astype(np.int64) + half_s
        known[:] = 2
    else:
        wall = _to_wall(col, fmt, timezone=timezone, ignore_offset=ignore_offset)
        day_only = role == "date" or (
            fmt not in ("ISO8601", "mixed", "native") and not re.search(r"%[HIT]", fmt)
        )
        if role == "datetime" and fmt in ("ISO8601", "mixed"):
            day_only_rows = np.asarray((~_text(col).str.contains(":")).to_numpy(), dtype=bool)
        else:
            day_only_rows = np.full(n, day_only)
        if role == "date" and "time" in columns:
            tcol = chunk[columns["time"]]
            tblank = _blank(tcol)
            secs = _time_of_day_s(tcol, formats.get("time_format") or "%H:%M")
            bad_time = ~tblank & np.isnan(secs)
            reason[bad_time] = CODE["unparsable_time"]
            has_time = ~tblank & ~np.isnan(secs)
            ok = (wall != NAT) & has_time
            wall[ok] += secs[ok].astype(np.int64)
            day_only_rows = ~has_time
        noon = day_only_rows & (wall != NAT)
        wall[noon] += 12 * 3600
        known[day_only_rows] = 1
    reason[(wall == NAT) & ~blank] = CODE["unparsable_datetime"]
    reason[blank] = CODE["missing_datetime"]
    return wall, known, reason


def parse_reported(
    chunk: pd.DataFrame,
    columns: dict[str, str],
    formats: dict[str, str | None],
    *,
    timezone: str,
    ignore_offset: bool,
) -> NDArray[np.int64]:
    """Return the local wall-clock seconds of each row's report day (its midnight); NAT where blank or unparsable.

    Reporting delays are counted in whole days, so a report's clock time is dropped.
    """
    col = chunk[columns["reported"]]
    wall = _to_wall(
        col, formats.get("reported_format") or "ISO8601", timezone=timezone, ignore_offset=ignore_offset
    )
    ok = wall != NAT
    wall[ok] -= wall[ok] % 86400
    return wall


def parse_coordinates(
    first: pd.Series, second: pd.Series, *, lonlat: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int8]]:
    """Return the two coordinates as floats and the rejection code of every row.

    Blank values and 0, 0 (a common stand-in for "no location") are ``missing_coordinates``;
    text that is not a number, or a longitude/latitude out of range, is ``unparsable_coordinates``.
    """
    blank = _blank(first) | _blank(second)
    a = np.asarray(pd.to_numeric(first, errors="coerce"), dtype=np.float64)
    b = np.asarray(pd.to_numeric(second, errors="coerce"), dtype=np.float64)
    bad = ~(np.isfinite(a) & np.isfinite(b))
    if lonlat:
        with np.errstate(invalid="ignore"):
            bad |= (np.abs(a) > 180) | (np.abs(b) > 90)
    reason = np.zeros(a.size, dtype=np.int8)
    reason[bad] = CODE["unparsable_coordinates"]
    reason[blank | ((a == 0) & (b == 0))] = CODE["missing_coordinates"]
    return a, b, reason
