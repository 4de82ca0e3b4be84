"""Streets by name: what planners look up after the maps, as tables of named streets with intervals.

A street is named by its OSM ``name``, else its road number (``ref``), else the nearest named street
("near Goss Street"). Tables are per segment, in crimes per week (a run's crimes times 7 / its
days), each with a Student-t 95% interval over the replications (floored at zero for counts); a strategy's change on a segment is
the mean of its paired per-seed differences. The same frame feeds the report's sortable tables
(:func:`sortable_table`) and the GIS export (:mod:`experiments.export`).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from experiments import wording
from experiments.comparison import Arm, Comparison
from sim.network import StreetNetwork
from sim.policies.registry import reference_policy

__all__ = [
    "HOTSPOT_FRACTION",
    "arm_key",
    "changed_streets",
    "hotspot_streets",
    "segment_frame",
    "sortable_table",
    "street_labels",
    "treated_streets",
]

HOTSPOT_FRACTION = 0.05  # hot spots: the top 5% of segments by baseline crime
DAYS_PER_WEEK = 7.0


def street_labels(net: StreetNetwork) -> NDArray[np.str_]:
    """Return a readable name per segment: OSM name, else road number, else "near" the nearest named street.

    Parameters
    ----------
    net
        The street network (its ``segment_name`` and ``segment_ref``).

    Returns
    -------
    numpy.ndarray of str
        One label per segment; "unnamed street" when no street of the network has a name.
    """
    import shapely

    name, ref = net.segment_name, net.segment_ref
    label = np.where(name != "", name, ref).astype(object)
    missing = np.flatnonzero(label == "")
    named = np.flatnonzero(label != "")
    if missing.size and named.size:
        lines = [
            shapely.LineString(net.geom_xy[net.geom_indptr[e] : net.geom_indptr[e + 1]])
            for e in net.segment_edge[named]
        ]
        tree = shapely.STRtree(lines)
        mid = net.edge_midpoint_xy[net.segment_edge[missing]]
        nearest = tree.nearest(shapely.points(mid[:, 0], mid[:, 1]))
        label[missing] = ["near " + str(label[named[i]]) for i in np.asarray(nearest, dtype=np.int64)]
    elif missing.size:
        label[missing] = "unnamed street"
    return np.asarray(label, dtype=np.str_)


def arm_key(arm: Arm | str) -> str:
    """Return a column-safe key for an arm: its label's letters and digits joined by ``_``."""
    label = arm.label if isinstance(arm, Arm) else arm
    words = "".join(ch if ch.isalnum() else " " for ch in label.lower()).split()
    return "_".join(words)


def _interval(values: NDArray[np.float64], confidence: float) -> tuple[NDArray[np.float64], ...]:
    """Column means of ``values`` (seeds x segments) with Student-t intervals (NaN with one seed)."""
    n = values.shape[0]
    mean = values.mean(axis=0)
    if n < 2:
        nan = np.full_like(mean, np.nan)
        return mean, nan, nan
    half = stats.t.ppf(0.5 + confidence / 2, df=n - 1) * values.std(axis=0, ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half


def _per_week(comp: Comparison, arm: Arm, n_segments: int) -> pd.DataFrame:
    crimes = comp.segment_crimes[arm.label].reindex(columns=range(n_segments), fill_value=0.0)
    days = comp.days if math.isfinite(comp.days) and comp.days > 0 else DAYS_PER_WEEK
    return crimes * (DAYS_PER_WEEK / days)


def segment_frame(comp: Comparison, net: StreetNetwork) -> pd.DataFrame:
    """Return one row per segment: its street, OSM way, baseline crime and each strategy's, with intervals.

    Columns: ``segment``, ``street``, ``name``, ``ref``, ``osm_way_id``, ``highway``, ``length_m``,
    ``hotspot``, ``baseline_crimes_week`` (``_low``, ``_high``), then per strategy arm (key
    :func:`arm_key`): ``<key>_crimes_week``, ``<key>_change_week`` (``_low``, ``_high``),
    ``<key>_treated`` and ``<key>_buffer`` (share of replications), ``<key>_cost`` (the arm's mean
    total cost per run shared evenly over the segments it treated, weighted by how often it did).
    """
    n = net.n_segments
    edges = net.segment_edge
    out = pd.DataFrame(
        {
            "segment": np.arange(n),
            "street": street_labels(net),
            "name": net.segment_name,
            "ref": net.segment_ref,
            "osm_way_id": net.edge_osm_way_id[edges],
            "highway": np.asarray(net.highway_classes)[net.edge_highway[edges]],
            "length_m": net.segment_length_m,
        }
    )
    reference = reference_policy()
    base = next((a for a in comp.arms if a.policy == reference), None)
    if base is not None:
        mean, low, high = _interval(_per_week(comp, base, n).to_numpy(), comp.confidence)
        low = np.maximum(low, 0.0)  # a count's mean is never below zero; few seeds stretch t intervals there
        out["baseline_crimes_week"], out["baseline_crimes_week_low"], out["baseline_crimes_week_high"] = (
            mean, low, high,
        )  # fmt: skip
        out["hotspot"] = _top_segments(mean)
    for arm in comp.arms:
        if arm.policy == reference:
            continue
        key = arm_key(arm)
        mine = _per_week(comp, arm, n)
        out[f"{key}_crimes_week"] = mine.mean(axis=0).to_numpy()
        if arm.baseline is not None:
            theirs = _per_week(comp, arm.baseline, n)
            seeds = mine.index.intersection(theirs.index)
            diff = (mine.loc[seeds] - theirs.loc[seeds]).to_numpy()
            if diff.size:
                mean, low, high = _interval(diff, comp.confidence)
                out[f"{key}_change_week"], out[f"{key}_change_week_low"], out[f"{key}_change_week_high"] = (
                    mean, low, high,
                )  # fmt: skip
        means = comp.segment_means[arm.label].reindex(range(n), fill_value=0.0)
        treated = means["treated"].to_numpy(dtype=float)
        out[f"{key}_treated"] = treated
        out[f"{key}_buffer"] = means["buffer"].to_numpy(dtype=float)
        cost = _mean_metric(comp, arm, "cost_total")
        out[f"{key}_cost"] = treated * (cost / treated.sum()) if treated.sum() > 0 and cost > 0 else 0.0
    return out


def _top_segments(crimes: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Return the top :data:`HOTSPOT_FRACTION` of segments by crime (those with any), as the maps mark them."""
    k = max(1, math.ceil(HOTSPOT_FRACTION * crimes.size))
    top = np.argsort(-crimes, kind="stable")[:k]
    out = np.zeros(crimes.size, dtype=bool)
    out[top[crimes[top] > 0]] = True
    return out


def _mean_metric(comp: Comparison, arm: Arm, metric: str) -> float:
    m = comp.sweep.metrics
    values = m.loc[m["run_dir"].isin(arm.runs["run_dir"]) & (m["metric"] == metric), "value"]
    return float(values.mean()) if len(values) else 0.0


_STREET_COLUMNS = ["street", "osm_way_id", "segment"]


def hotspot_streets(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the baseline hot spots (top 5% of segments), most crime first, with their intervals."""
    if "hotspot" not in frame:
        return frame.iloc[0:0]
    cols = [*_STREET_COLUMNS, "highway", "baseline_crimes_week", "baseline_crimes_week_low",
            "baseline_crimes_week_high"]  # fmt: skip
    hot = frame.loc[frame["hotspot"], cols].sort_values("baseline_crimes_week", ascending=False)
    hot.insert(0, "rank", np.arange(1, len(hot) + 1))
    return hot.reset_index(drop=True)


def treated_streets(frame: pd.DataFrame, arm: Arm) -> pd.DataFrame:
    """Return the segments a strategy acted on, most often treated first, with crime before and after."""
    key = arm_key(arm)
    if f"{key}_treated" not in frame:
        return frame.iloc[0:0]
    cols = [*_STREET_COLUMNS, f"{key}_treated", "baseline_crimes_week", f"{key}_crimes_week",
            f"{key}_change_week", f"{key}_change_week_low", f"{key}_change_week_high"]  # fmt: skip
    cols = [c for c in cols if c in frame]
    rows = frame.loc[frame[f"{key}_treated"] > 0, cols]
    rows = rows.sort_values([f"{key}_treated", "baseline_crimes_week"], ascending=False)
    return rows.reset_index(drop=True)


def changed_streets(frame: pd.DataFrame, arm: Arm, top: int = 15) -> pd.DataFrame:
    """Return the ``top`` segments whose crime changed most with the strategy (by the mean's size)."""
    key = arm_key(arm)
    if f"{key}_change_week" not in frame:
        return frame.iloc[0:0]
    cols = [*_STREET_COLUMNS, "baseline_crimes_week", f"{key}_crimes_week", f"{key}_change_week",
            f"{key}_change_week_low", f"{key}_change_week_high", f"{key}_treated"]  # fmt: skip
    order = frame[f"{key}_change_week"].abs().sort_values(ascending=False, kind="stable").index
    rows = frame.loc[order[:top], cols]
    return rows[rows[f"{key}_change_week"] != 0].reset_index(drop=True)


# --------------------------------------------------------------------------- HTML
def _cell(value: Any, kind: str, low: Any = None, high: Any = None, how: str = "") -> str:
    title = f" title='{html.escape(how, quote=True)}'" if how else ""
    if kind == "text":
        return f"<td class='text' data-v='{html.escape(str(value))}'{title}>{html.escape(str(value))}</td>"
    v = float(value) if value is not None and not pd.isna(value) else float("nan")
    data = f"{v!r}" if math.isfinite(v) else ""
    if kind == "int":
        return f"<td data-v='{data}'{title}>{int(v) if math.isfinite(v) else '–'}</td>"
    if kind == "share":
        return f"<td data-v='{data}'{title}>{wording.fmt(100 * v, 0)}%</td>"
    if kind == "signed":
        cell = wording.with_ci(v, float(low), float(high), wording.ci_digits(float(low), float(high), 2))
        css = ""
        if wording.significant(float(low), float(high)):
            css = " class='good'" if v < 0 else " class='bad'"
        return f"<td{css} data-v='{data}'{title}>{cell}</td>"
    text = wording.fmt(v, 2)
    if low is not None and math.isfinite(float(low)) and math.isfinite(float(high)):
        text += f"<span class='ci'>{wording.fmt(float(low), 2)} to {wording.fmt(float(high), 2)}</span>"
    return f"<td data-v='{data}'{title}>{text}</td>"


def sortable_table(
    table_id: str,
    frame: pd.DataFrame,
    columns: Sequence[tuple[str, str, str] | tuple[str, str, str, str]],
    *,
    csv_name: str,
    note: str = "",
) -> str:
    """Render a table that sorts on a header click and downloads as CSV from the page (no server).

    Parameters
    ----------
    table_id
        Unique id on the page (the CSV's data block is ``<table_id>-data``).
    frame
        Rows to show; every column of it goes into the CSV.
    columns
        ``(column, header, kind)`` or ``(column, header, kind, how)``: kind ``text``, ``int``, ``num``,
        ``share`` (0-1 shown as %), or ``ci`` / ``signed`` (the column with ``_low`` / ``_high`` beside
        it; ``signed`` is coloured green when clearly lower, red when clearly higher); ``how``, how the
        column's numbers are computed, is each cell's tooltip.
    csv_name
        File name the download is offered under.
    note
        A sentence under the table saying how its numbers were computed.
    """
    spec = [(c[0], c[1], c[2], c[3] if len(c) > 3 else "") for c in columns]
    head = "".join(
        f"<th class='{'text' if kind == 'text' else 'num'}' title='Sort by {html.escape(header)}'>{html.escape(header)}</th>"
        for _, header, kind, _ in spec
    )
    body = []
    for rec in frame.to_dict("records"):
        cells = [
            _cell(rec.get(col), kind, rec.get(f"{col}_low"), rec.get(f"{col}_high"), how)
            if kind in ("ci", "signed")
            else _cell(rec.get(col), kind, how=how)
            for col, _, kind, how in spec
        ]
        body.append("<tr>" + "".join(cells) + "</tr>")
    data = json.dumps(
        {
            "columns": list(frame.columns),
            "rows": frame.astype(object).where(frame.notna(), None).values.tolist(),
        },
        default=str,
    ).replace("</", "<\\/")
    return (
        f"<div class='tablebox'><table id='{table_id}' class='sortable'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
        f"<p class='note'><button type='button' class='csv' data-table='{table_id}' data-file='{html.escape(csv_name)}'>"
        f"Download CSV</button> {note} Click a column's heading to sort by it.</p>"
        f"<script type='application/json' id='{table_id}-data'>{data}</script>"
    )
