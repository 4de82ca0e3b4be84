"""Police response to calls, and the officer-hours budget by activity.

Response time runs from the crime to the first officer's arrival; longer response lowers clearance
(Blanes i Vidal & Kirchmaier 2018).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.metrics._common import _require_columns

__all__ = [
    "OFFICER_ACTIVITIES",
    "compute_response_times",
    "officer_time_budget",
    "response_time_summary",
]

OFFICER_ACTIVITIES: tuple[str, ...] = ("patrol", "dwell", "respond", "meeting", "return")
"""Officer states in the order reports show them (sim issue 4: patrol / dwell / respond / meeting / return)."""


def compute_response_times(events: pd.DataFrame) -> pd.DataFrame:
    """Return one row per call with its crime, first dispatch and first arrival times.

    Calls are the ``call_id >= 0`` values on crime rows (reported crimes that became calls, queued or
    not) and on dispatch rows. Response time runs from the crime (so it includes the reporting
    delay, the queue and the travel, as in the model issue); travel runs from dispatch to arrival.
    Longer response lowers clearance (Blanes i Vidal & Kirchmaier 2018).

    Parameters
    ----------
    events
        Event table with ``kind``, ``time_min`` and ``call_id``.

    Returns
    -------
    pandas.DataFrame
        Columns ``call_id``, ``crime_time_min``, ``dispatch_time_min``, ``arrival_time_min``,
        ``response_min``, ``travel_min``, ``answered`` and ``crime_type`` when present. Times
        that do not exist are NaN.
    """
    _require_columns(events, ["kind", "time_min", "call_id"], where="compute_response_times")
    calls = events[events["call_id"].to_numpy() >= 0]
    kinds = calls["kind"]

    def first_time(kind: str) -> pd.Series:
        return calls[kinds == kind].groupby("call_id")["time_min"].min()

    crime_t, dispatch_t, arrival_t = first_time("crime"), first_time("dispatch"), first_time("arrival")
    ids = np.union1d(crime_t.index.to_numpy(), dispatch_t.index.to_numpy()).astype(np.int64)
    out = pd.DataFrame({"call_id": ids})
    out["crime_time_min"] = crime_t.reindex(ids).to_numpy(dtype=np.float64)
    out["dispatch_time_min"] = dispatch_t.reindex(ids).to_numpy(dtype=np.float64)
    out["arrival_time_min"] = arrival_t.reindex(ids).to_numpy(dtype=np.float64)
    out["response_min"] = out["arrival_time_min"] - out["crime_time_min"]
    out["travel_min"] = out["arrival_time_min"] - out["dispatch_time_min"]
    out["answered"] = out["arrival_time_min"].notna()
    if "crime_type" in calls.columns:
        types = calls[kinds == "crime"].groupby("call_id")["crime_type"].first()
        out["crime_type"] = types.reindex(ids).to_numpy()
    return out


def response_time_summary(events: pd.DataFrame, *, by: Sequence[str] = ()) -> pd.DataFrame:
    """Summarise response times: mean, median and 90th percentile, with answered and unanswered calls.

    Parameters
    ----------
    events
        Event table (see :func:`compute_response_times`).
    by
        Columns of :func:`compute_response_times` to group by, e.g. ``("crime_type",)``.

    Returns
    -------
    pandas.DataFrame
        Columns ``[*by, n_calls, n_answered, n_unanswered, mean_min, median_min, p90_min,
        mean_travel_min]``; minutes, over answered calls whose crime time is known.
    """
    calls = compute_response_times(events)

    def summarize(group: pd.DataFrame) -> dict[str, float]:
        resp = group["response_min"].dropna().to_numpy()
        travel = group["travel_min"].dropna().to_numpy()
        return {
            "n_calls": len(group),
            "n_answered": int(group["answered"].sum()),
            "n_unanswered": int((~group["answered"]).sum()),
            "mean_min": float(resp.mean()) if resp.size else np.nan,
            "median_min": float(np.median(resp)) if resp.size else np.nan,
            "p90_min": float(np.quantile(resp, 0.9)) if resp.size else np.nan,
            "mean_travel_min": float(travel.mean()) if travel.size else np.nan,
        }

    keys = list(by)
    if not keys:
        return pd.DataFrame([summarize(calls)])
    _require_columns(calls, keys, where="response_time_summary")
    rows = [
        {**dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True)), **summarize(g)}
        for key, g in calls.groupby(keys, sort=True)
    ]
    return pd.DataFrame(rows)


def officer_time_budget(
    records: pd.DataFrame,
    *,
    step_min: float | None = None,
    activities: Sequence[str] = OFFICER_ACTIVITIES,
    column_prefix: str = "",
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Return officer-hours by activity: where the shared officer-hours budget went.

    Two input layouts are accepted:

    * long: columns ``state`` and ``minutes`` (e.g. one row per officer and spell), plus any ``by``
      columns such as ``officer_id``;
    * wide (a per-step time series): one column per activity, ``column_prefix + activity``,
      holding the number of officers in that state at each step; ``step_min`` is required.

    Parameters
    ----------
    records
        Long or wide table as above.
    step_min
        Step length in minutes for the wide layout.
    activities
        Activities to report, in order; in the long layout, other states are appended after them.
    column_prefix
        Prefix of the wide-layout columns (e.g. ``"officers_"``).
    by
        Grouping columns (long layout only).

    Returns
    -------
    pandas.DataFrame
        Columns ``[*by, activity, hours, share]``; every listed activity appears (0 hours when
        unused); ``share`` is of the group's total hours.
    """
    where = "officer_time_budget"
    keys = list(by)
    if "state" in records.columns or "minutes" in records.columns:
        _require_columns(records, ["state", "minutes", *keys], where=where)
        extra = sorted(set(records["state"].astype(str)) - set(activities))
        order = [*activities, *extra]
        hours = records.groupby([*keys, "state"], sort=False)["minutes"].sum() / 60.0
        full: pd.Index
        if keys:
            groups = records[keys].drop_duplicates().sort_values(keys)
            full = pd.MultiIndex.from_tuples(
                [(*g, a) for g in groups.itertuples(index=False) for a in order], names=[*keys, "state"]
            )
        else:
            full = pd.Index(order, name="state")
        out = hours.reindex(full, fill_value=0.0).rename("hours").reset_index()
        out = out.rename(columns={"state": "activity"})
    else:
        if keys:
            raise ValueError(f"{where}: `by` needs the long layout (columns state, minutes)")
        if step_min is None or step_min <= 0:
            raise ValueError(f"{where}: the wide layout needs a positive step_min")
        cols = [column_prefix + a for a in activities]
        _require_columns(records, cols, where=where)
        sums = records[cols].to_numpy(dtype=np.float64).sum(axis=0)
        out = pd.DataFrame({"activity": list(activities), "hours": sums * step_min / 60.0})
    total = out.groupby(keys)["hours"].transform("sum") if keys else out["hours"].sum()
    out["share"] = out["hours"] / total
    return out
