"""Build the event table of real incidents (EVENT_COLUMNS and their dtypes, then the incident columns).

String columns are built in Arrow from a few distinct values and integer codes, and every column is
handed to pandas without a consolidating copy, so a million incidents cost seconds and no more
memory than the table itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from numpy.typing import NDArray

from sim.events import EVENT_COLUMNS
from sim.incidents._parse import NAT, TIME_KNOWN
from sim.incidents._snap import transformer
from sim.incidents._source import ResolvedSource
from sim.network import StreetNetwork

__all__ = ["build_events", "count_distinct_points", "time_notes"]


def time_notes(events: pd.DataFrame, res: ResolvedSource, origin: pd.Timestamp) -> list[str]:
    notes = []
    known = events["time_known"]
    n_month = int((known == "month").sum())
    if n_month:
        notes.append(f"{n_month:,} incidents are dated to the month only ({res.format_name}): placed at the middle "
                     "of their month; hour-of-day, day-of-week and near-repeat (Knox) figures leave them out")  # fmt: skip
    time_min = events["time_min"].to_numpy()
    if time_min.size >= 100:
        early = time_min < np.quantile(time_min, 0.01) - 30 * 1440
        if early.any():
            first = events.loc[early, "datetime"].min()
            notes.append(f"{int(early.sum()):,} incidents occurred more than 30 days before 99% of the others "
                         f"(the earliest on {first:%Y-%m-%d}): offences reported long after; incidents.start="
                         "YYYY-MM-DD leaves them out")  # fmt: skip
    n_day = int((known == "day").sum())
    if n_day:
        notes.append(
            f"{n_day:,} incidents have a date but no time: placed at noon; hour-of-day figures leave them out"
        )
    if "reported_min" in events.columns:
        notes += _reported_notes(events, res, origin)
    minute = events.loc[known == "minute", "time_min"].to_numpy()
    if minute.size:
        share = float(np.mean(minute % 1440 == 0))
        if share > 0.03:
            notes.append(f"{share:.1%} of timed incidents are at exactly 00:00: forces often record an unknown "
                         "time as midnight, so hour 0 is inflated")  # fmt: skip
    return notes


def _reported_notes(events: pd.DataFrame, res: ResolvedSource, origin: pd.Timestamp) -> list[str]:
    """Say what the report dates hold: the last one, the delays, and the rows without a usable one."""
    col = res.columns["reported"]
    rep = events["reported_min"].to_numpy()
    occurred = np.floor(events["time_min"].to_numpy() / 1440.0)
    given = np.isfinite(rep)
    if not given.any():
        return [f"no report date in column {col!r} could be read (set incidents.reported_format): "
                "counts are not corrected for late reports"]  # fmt: skip
    lag = np.floor(rep[given] / 1440.0) - occurred[given]
    before = int((lag < 0).sum())
    lag = lag[lag >= 0]
    last = origin + pd.Timedelta(minutes=float(np.nanmax(rep)))
    delays = (f": half the incidents were reported within {np.median(lag):.0f} days of occurring, 90% within "
              f"{np.quantile(lag, 0.9):.0f}" if lag.size else "")  # fmt: skip
    notes = [f"reported up to {last:%Y-%m-%d} ({col!r}){delays}"]
    if (~given).sum():
        notes.append(f"{int((~given).sum()):,} incidents have no readable report date ({col!r})")
    if before:
        notes.append(f"{before:,} incidents were reported before they occurred ({col!r}): their delay is "
                     "left out of the reporting-delay estimate")  # fmt: skip
    return notes


def build_events(
    net: StreetNetwork,
    kept: dict[str, NDArray[Any]],
    ids: pa.ChunkedArray | None,
    names: NDArray[Any],
    targets: NDArray[Any],
    origin: pd.Timestamp,
    timezone: str,
) -> pd.DataFrame:
    """Build the event table (EVENT_COLUMNS and dtypes, then the incident columns), in time order."""
    n = kept["row"].size
    time_min = (kept["wall"] - origin.value // 1_000_000_000) / 60.0
    order = np.lexsort((kept["row"], time_min))
    for key in list(kept):  # in place, so the unsorted arrays are freed one by one
        kept[key] = kept[key][order]
    time_min = time_min[order]
    seg = kept["segment"]
    edge = net.segment_edge[seg]
    lon, lat = transformer(net.crs, "EPSG:4326").transform(kept["x"], kept["y"])
    local = pd.DatetimeIndex(kept["wall"].astype("datetime64[s]"))
    aware = local.tz_localize(timezone, ambiguous=np.zeros(n, dtype=bool), nonexistent="shift_forward")
    cat = pa.array(kept["cat"].astype(np.int32))
    cols: dict[str, Any] = {
        "time_min": time_min, "step": np.full(n, -1, dtype=np.int64), "kind": _strings(np.zeros(n, np.int32), ["crime"]),
        "edge": edge, "segment": seg, "osm_way_id": net.edge_osm_way_id[edge], "x": kept["x"], "y": kept["y"],
        "lon": np.asarray(lon), "lat": np.asarray(lat), "crime_type": _strings(cat, targets),
        "offender_id": np.full(n, -1, dtype=np.int64), "victim_id": np.full(n, -1, dtype=np.int64),
        "reported": np.ones(n, dtype=bool), "recorded": np.ones(n, dtype=bool),
        "officer_id": np.full(n, -1, dtype=np.int64), "call_id": np.full(n, -1, dtype=np.int64),
        "dwell_min": np.full(n, np.nan), "offender_home_dist_m": np.full(n, np.nan), "offset_m": kept["offset_m"],
        "incident_id": pd.Series(ids.take(pa.array(order)) if ids is not None else pa.array([""] * n),
                                 dtype=pd.StringDtype("pyarrow")),
        "offence": _strings(cat, names), "datetime": aware,
        "time_known": _strings(kept["known"].astype(np.int32), TIME_KNOWN),
        "snap_dist_m": kept["dist_m"], "src_x": kept["src_x"], "src_y": kept["src_y"], "row": kept["row"] + 1,
    }  # fmt: skip
    if "reported" in kept:  # the report day, in minutes from the origin (NaN: not given or unreadable)
        rep = kept["reported"]
        cols["reported_min"] = np.where(rep == NAT, np.nan, (rep - origin.value // 1_000_000_000) / 60.0)
    # copy=False keeps one block per column: no consolidated copy of every column at once
    events = pd.DataFrame(cols, copy=False)
    return events.astype(EVENT_COLUMNS)  # same dtypes: a lazy no-copy under copy-on-write


def _strings(codes: pa.Array | NDArray[np.int32], values: Any) -> pd.Series:
    """Return a string column of codes into a few values, built in Arrow (no Python object per row)."""
    dictionary = pa.array([str(v) for v in values], type=pa.large_string())
    indices = codes if isinstance(codes, pa.Array) else pa.array(codes)
    return pd.Series(pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.large_string()),
                     dtype=pd.StringDtype("pyarrow"))  # fmt: skip


def count_distinct_points(x: NDArray[np.float64], y: NDArray[np.float64], *, sample: int = 100_000) -> int:
    """Return how many distinct points there are, to the decimetre (hashing, not sorting).

    Only when the first ``sample`` points are few distinct ones are all points counted: the count
    matters when it is small, and then its hash table is small too.
    """

    def distinct(n: int | None) -> int:
        hx = pd.util.hash_array(np.round(x[:n], 1))
        hy = pd.util.hash_array(np.round(y[:n], 1))
        with np.errstate(over="ignore"):
            return int(pd.unique(hx * np.uint64(1_000_003) + hy).size)

    if x.size > sample and distinct(sample) >= 0.2 * sample:
        return x.size  # many distinct points: the exact number does not matter
    return distinct(None)
