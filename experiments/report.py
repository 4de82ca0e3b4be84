"""The comparison report: one self-contained HTML page a planner can read, every sentence made from numbers.

All images are embedded PNG data URIs, styles are inline and fonts are the reader's system fonts,
so the page opens offline and makes no requests. The plain-language summary at the top is filled
from the computed effects (a :class:`experiments.comparison.Comparison`, made by
:mod:`experiments.compare`) by :mod:`experiments.wording`. Strategies are named, ordered and given
their own measures by the registry (:mod:`sim.policies.registry`); this module names none of them.
"""

from __future__ import annotations

import html
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from string import Template
from typing import Any

import numpy as np
import pandas as pd

from experiments import figures, interactive, streets, value, wording
from experiments.comparison import Arm, Comparison, Effect
from sim.errors import PrecinctError
from sim.offences import OFFENCES
from sim.policies.registry import PolicySpec, policy_specs, reference_policy
from sim.results import write_file

__all__ = ["METRICS", "STRATEGY_GROUP", "arm_metrics", "write_report"]

TEMPLATE = Path(__file__).with_name("report_template.html")
# (metric, label, unit, better): better is +1 when higher is better, -1 when lower, 0 neither;
# metric "#" starts a group under the heading in label.
METRICS: list[tuple[str, str, str, int]] = [
    ("#", "Crime (every offence, whether or not the police hear of it)", "", 0),
    ("crimes_total", "All crimes", "crimes per run", -1),
    ("crimes_in_treated", "Crimes on treated streets since they were treated", "crimes per run", -1),
    (
        "crimes_in_buffer",
        "Crimes within 400 m of treated streets since treatment nearby",
        "crimes per run",
        -1,
    ),
    *((f"crimes_{o.name}", o.label, "crimes per run", -1) for o in OFFENCES.values()),
    ("crimes_night", "Crimes at night", "crimes per run", -1),
    ("crimes_day", "Crimes by day", "crimes per run", -1),
    (
        "share_crime_top5pct_above_chance",
        "Share of crime on the top 5% of streets, above chance",
        "share (0–1) minus chance's at the same count",
        0,
    ),
    ("deterred_give_up", "Offenders who gave up an outing on seeing police", "outings per run", 0),
    ("deterred_move_on", "Offenders who moved elsewhere on seeing police", "searches per run", 0),
    ("#", "What the police see", "", 0),
    ("crimes_recorded", "Crimes recorded by the police", "crimes per run", 0),
    ("recorded_share", "Share of crimes recorded", "share (0–1)", 1),
    ("reporting_rate", "Share of crimes reported by victims", "share (0–1)", 1),
    ("#", "Response and trust", "", 0),
    ("response_time_mean_min", "Response time, mean", "minutes", -1),
    ("response_time_p90_min", "Response time, 90th percentile", "minutes", -1),
    ("calls_total", "Calls for service", "calls per run", 0),
    ("calls_unanswered", "Calls never answered", "calls per run", -1),
    ("mean_trust_end", "Trust in police at the end", "mean on a 0–1 scale", 1),
    ("survey_trust_estimate", "Trust in police, last survey's estimate", "mean on a 0–1 scale", 1),
    ("mean_fear_end", "Fear of crime at the end", "mean on a 0–1 scale", -1),
    ("survey_fear_estimate", "Fear of crime, last survey's estimate", "mean on a 0–1 scale", -1),
    ("mean_satisfaction_end", "Satisfaction with the police at the end", "mean on a 0–1 scale", 1),
    ("survey_satisfaction_estimate", "Satisfaction, last survey's estimate", "mean on a 0–1 scale", 1),
    ("#", "Officer time and cost", "", 0),
    ("officer_hours_patrol", "Random patrol", "officer-hours per run", 0),
    ("officer_hours_dwell", "Stops and hot-spot visits", "officer-hours per run", 0),
    ("officer_hours_respond", "Travelling to calls", "officer-hours per run", 0),
    ("officer_hours_attend", "At calls", "officer-hours per run", 0),
    ("officer_hours_meeting", "Community meetings", "officer-hours per run", 0),
    ("officer_hours_return", "Returning", "officer-hours per run", 0),
    ("treated_segments", "Street segments treated", "segments", 0),
    ("cost_capital", "One-off cost", "policy's currency units", 0),
    ("cost_running", "Running cost", "policy's currency units per run", 0),
    ("cost_total", "Total cost", "policy's currency units per run", 0),
]
STRATEGY_GROUP = "What the strategy did"
# How each column's numbers are computed: the tooltip of its heading (and so of every number under it).
HOW = {
    "base": "Mean over the baseline runs paired with this strategy's (same seeds)",
    "mine": "Mean over this strategy's runs",
    "diff": "Mean of the per-seed differences, strategy minus baseline (same seed); Student-t 95% CI",
    "pct": "100 × (strategy mean / baseline mean − 1), a ratio of means; delta-method 95% CI over paired seeds",
    "wdq": "Weighted displacement quotient (Bowers & Johnson 2003) of the pooled counts; paired bootstrap 95% CI",
    "hours": "Officer-hours per 30 days moved between activities, where the 95% CI of the change excludes 0",
    "treated_pct": "Crime counted from each street's treatment on; 100 × (strategy mean / baseline mean − 1), "
    "a ratio of means; delta-method 95% CI over paired seeds",
    "survey": "The last survey wave's estimate (mean answer of the residents who responded)",
    "area": "Neighbourhood: a square city.area_cell_m cell (400 m by default) over the street segments' midpoints "
    "(sim/model.py grid_areas), numbered column by column from the west, south to north in a column; "
    "only cells with streets are numbered",
}
# How the numbers of the streets tables are computed (each cell's tooltip).
STREET_HOW = {
    "street": "The segment's OpenStreetMap name, else its road number (ref), else 'near' the nearest named street",
    "way": "OpenStreetMap way id of the street the segment is part of (search for it in JOSM or QGIS)",
    "segment": "Precinct's index of the street segment (sim/network.py; the GIS export's segment column)",
    "treated": "Share of replications in which the strategy acted on this segment",
    "base_week": "Baseline crimes on the segment per week: mean over the baseline replications",
    "base_week_ci": "Baseline crimes on the segment per week: mean over the replications, Student-t 95% CI",
    "mine_week": "Crimes on the segment per week with the strategy: mean over its replications",
    "change_week": "Strategy minus baseline crimes per week on the segment: mean of per-seed differences, Student-t 95% CI",
}


def _title(text: str) -> str:
    """Return a tooltip attribute (`` title='...'``), quotes and all escaped."""
    return f" title='{html.escape(text, quote=True)}'"


# Measures whose percent change means nothing (a difference from chance can be near zero or negative).
NO_PERCENT = {"share_crime_top5pct_above_chance"}


def arm_metrics(arm: Arm) -> list[tuple[str, str, str, int]]:
    """Return the rows of an arm's measures table: :data:`METRICS`, then its strategies' own rows.

    Parameters
    ----------
    arm
        The arm; the ``report_rows`` of each registered strategy it runs (in display order) follow
        the base rows under the heading :data:`STRATEGY_GROUP`.

    Returns
    -------
    list of tuple
        ``(metric, label, unit, better)`` rows; ``metric == "#"`` starts a group.
    """
    specs: dict[str, PolicySpec] = {spec.name: spec for spec in policy_specs()}
    extra: list[tuple[str, str, str, int]] = []
    seen = {row[0] for row in METRICS}
    for spec in (specs[name] for name in arm.policies if name in specs):
        for row in spec.report_rows:
            if row.metric not in seen:
                seen.add(row.metric)
                extra.append((row.metric, row.label, row.unit, row.better))
    return METRICS + ([("#", STRATEGY_GROUP, "", 0), *extra] if extra else [])


# --------------------------------------------------------------------------- tables
def _effects_table(
    effects: dict[str, Effect],
    rows_spec: list[tuple[str, str, str, int]],
    not_estimable: dict[str, str] | None = None,
) -> str:
    head = (
        "<tr><th class='text'>Measure</th><th class='text'>Unit</th>"
        f"<th{_title(HOW['base'])}>Baseline (mean)</th><th{_title(HOW['mine'])}>With strategy (mean)</th>"
        f"<th{_title(HOW['diff'])}>Difference (unit; 95% CI)</th><th{_title(HOW['pct'])}>Change (%; 95% CI)</th></tr>"
    )
    rows = []
    heading = ""  # a group's heading is shown with its first row, so a group with none is left out
    for metric, label, unit, better in rows_spec:
        if metric == "#":
            heading = f"<tr class='group'><td colspan='6'>{html.escape(label)}</td></tr>"
            continue
        e = effects.get(metric)
        if e is None or e.diff.n == 0:
            continue
        rows.append(heading)
        heading = ""
        why = (not_estimable or {}).get(metric)
        if why:
            rows.append(
                f"<tr><td>{html.escape(label)}</td><td class='text'>{html.escape(unit)}</td>"
                f"<td colspan='4' class='text na'>{html.escape(why)}</td></tr>"
            )
            continue
        d = e.diff
        digits = 3 if "share" in unit or "0–1" in unit else 1
        diff = wording.diff_with_ci(d, digits)
        pct = wording.pct_with_ci(d) if metric not in NO_PERCENT else "–"
        css = ""
        if better and wording.significant(d.diff_low, d.diff_high):
            css = " class='good'" if np.sign(d.mean_diff) == better else " class='bad'"
        what = f"{HOW['survey']}. " if metric.startswith("survey_") else ""
        rows.append(
            f"<tr{css}><td>{html.escape(label)}</td><td class='text'>{html.escape(unit)}</td>"
            f"<td{_title(what + HOW['base'])}>{wording.fmt(d.mean_control, digits)}</td>"
            f"<td{_title(what + HOW['mine'])}>{wording.fmt(d.mean_treatment, digits)}</td>"
            f"<td{_title(what + HOW['diff'])}>{diff}</td><td{_title(what + HOW['pct'])}>{pct}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _glance_cell(e: Effect | None, *, pct: bool, digits: int, better: int, how: str) -> str:
    if e is None or e.diff.n == 0:
        return "<td>–</td>"
    d = e.diff
    if pct:
        text, sig = wording.pct_with_ci(d), wording.significant(d.pct_low, d.pct_high)
    else:
        text, sig = wording.diff_with_ci(d, digits), wording.significant(d.diff_low, d.diff_high)
    css = ""
    if sig and better:
        css = " class='good'" if np.sign(d.mean_diff) == better else " class='bad'"
    return f"<td{css}{_title(how)}>{text}</td>"


def _glance_table(comp: Comparison) -> str:
    """Strategies side by side on the measures planners ask about first."""
    arms = [a for a in comp.arms if a.label in comp.effects]
    if not arms:
        return ""
    head = (
        f"<tr><th class='text'>Strategy</th><th{_title(HOW['pct'])}>All crime<br>(% change)</th>"
        f"<th{_title(HOW['treated_pct'])}>Crime on treated streets<br>(% change)</th>"
        f"<th{_title(HOW['wdq'])}>Nearby streets<br>(WDQ)</th><th{_title(HOW['diff'])}>Trust at end<br>(change, 0–1 scale)</th>"
        f"<th{_title(HOW['diff'])}>Mean response time<br>(change, minutes)</th>"
        f"<th class='text'{_title(HOW['hours'])}>Officer time<br>(change, hours per month)</th></tr>"
    )
    rows = []
    for arm in arms:
        eff = comp.effects[arm.label]
        w = comp.wdq.get(arm.label)
        wdq = "<td>–</td>"
        treated = eff.get("crimes_in_treated")
        if w is not None:
            # without a treated-streets effect there is no fall to speak of
            why = (
                wording.wdq_unassessable_because(w, treated.diff)
                if treated is not None
                else wording.NO_CLEAR_FALL
            )
            if why is None:
                wdq = f"<td{_title(HOW['wdq'])}>{wording.fmt(w.wdq, 2)}<span class='ci'>{wording.fmt(w.low, 2)} to {wording.fmt(w.high, 2)}</span></td>"
            else:
                wdq = f"<td class='wrap'><span class='ci'>not assessable: {why}</span></td>"
        shifts = wording.hour_shifts(eff, comp.days)[:3]
        hours = "<br>".join(f"{wording.signed(h, 0)} {p}" for h, p in shifts) or "–"
        rows.append(
            f"<tr><td>{html.escape(wording.arm_title(arm))}</td>"
            + _glance_cell(
                eff.get("crimes_total"),
                pct=True,
                digits=1,
                better=-1,
                how=f"All crimes per run: {HOW['pct']}",
            )
            + (
                _glance_cell(
                    eff.get("crimes_in_treated"),
                    pct=True,
                    digits=1,
                    better=-1,
                    how=f"Crimes on treated streets since treatment: {HOW['pct']}",
                )
                if w
                else "<td>–</td>"
            )
            + wdq
            + _glance_cell(
                eff.get("mean_trust_end"),
                pct=False,
                digits=3,
                better=1,
                how=f"Residents' mean trust (0–1) at the end: {HOW['diff']}",
            )
            + _glance_cell(
                eff.get("response_time_mean_min"),
                pct=False,
                digits=1,
                better=-1,
                how=f"Mean minutes from crime to an officer's arrival: {HOW['diff']}",
            )
            + f"<td class='wrap'{_title(HOW['hours'])}>{hours}</td></tr>"
        )
    note = (
        "<p class='note'>Each cell: the estimate, and under it its 95% confidence interval. Green: better than "
        "baseline with 95% confidence; red: worse; no colour: not distinguishable from baseline.</p>"
    )
    return f"<h3>At a glance</h3><table class='glance'>{head}{''.join(rows)}</table>{note}"


def _areas_table(areas: pd.DataFrame, top: int = 8) -> str:
    if areas.empty:
        return ""
    head = (
        f"<tr><th class='text'>Neighbourhood (grid cell id)</th><th{_title(HOW['base'])}>Baseline crimes (per run)</th>"
        f"<th{_title(HOW['mine'])}>With strategy (per run)</th><th{_title(HOW['pct'])}>Change (%; 95% CI)</th></tr>"
    )
    rows = []
    for r in areas.head(top).to_dict("records"):
        k = wording.pct_digits(r["pct_change"], r["pct_low"], r["pct_high"])
        pct = wording.with_ci(r["pct_change"], r["pct_low"], r["pct_high"], k, "%")
        rows.append(
            f"<tr><td{_title(HOW['area'])}>{r['area']}</td><td{_title(HOW['base'])}>{wording.fmt(r['mean_control'])}</td>"
            f"<td{_title(HOW['mine'])}>{wording.fmt(r['mean_treatment'])}</td><td{_title(HOW['pct'])}>{pct}</td></tr>"
        )
    note = f"<p class='note'>The {min(top, len(areas))} neighbourhoods with most crime in baseline, of {len(areas)}.</p>"
    return f"<table>{head}{''.join(rows)}</table>{note}"


# --------------------------------------------------------------------------- sections
def _load_network(comp: Comparison) -> tuple[Any, str | None]:
    from sim.network import load_network

    first = comp.sweep.runs.iloc[0]
    city = comp.sweep.configs[first["run_dir"]]["city"]
    try:
        net = load_network(city["path"], network_type=city["network_type"], cache_dir=city.get("cache_dir"))
    except (PrecinctError, OSError) as exc:
        return None, f"Maps are left out: the street network could not be loaded ({exc})."
    if first["network_content_hash"] and net.content_hash != first["network_content_hash"]:
        return None, f"Maps are left out: {city['path']} has changed since the runs were made."
    return net, None


def _img(uri: str, alt: str, css: str = "") -> str:
    cls = f" class='{css}'" if css else ""
    return f"<img{cls} src='{uri}' alt='{html.escape(alt)}'>"


def _arm_section(
    comp: Comparison, arm: Arm, net: Any, hotspots: np.ndarray | None, frame: pd.DataFrame | None
) -> str:
    title = wording.arm_title(arm)
    anchor = "arm-" + "".join(ch if ch.isalnum() else "-" for ch in arm.label)
    out = [f"<h2 id='{anchor}'>{html.escape(title)} compared with baseline</h2>"]
    if arm.baseline is None:
        out.append(
            "<p class='warn'>No baseline runs with the same settings: add "
            f"<code>policy={html.escape(reference_policy())}</code> to the sweep to compare this strategy.</p>"
        )
        return "\n".join(out)
    effects = comp.effects.get(arm.label, {})
    n = next(iter(effects.values())).diff.n if effects else 0
    out.append(f"<p>{wording.summary_sentence(arm, effects, comp.wdq.get(arm.label), comp.days)}</p>")
    out.append(
        f"<p class='note'>Means over {n} paired replications of {wording.fmt(comp.days, 0)} simulated days; "
        "green rows changed for the better and red rows for the worse with 95% confidence.</p>"
    )
    out.append(_effects_table(effects, arm_metrics(arm), comp.not_estimable.get(arm.label)))
    on_this_network = net is not None and set(
        comp.sweep.runs.set_index("run_dir").loc[list(arm.runs["run_dir"]), "network_content_hash"]
    ) <= {net.content_hash, None}
    if net is not None and on_this_network:
        base = comp.segment_means[arm.baseline.label]
        mine = comp.segment_means[arm.label]
        diff = mine["crimes"].reindex(range(net.n_segments), fill_value=0) - base["crimes"].reindex(
            range(net.n_segments), fill_value=0
        )
        treated = mine["treated"].reindex(range(net.n_segments), fill_value=0).to_numpy(dtype=float)
        buffer = mine["buffer"].reindex(range(net.n_segments), fill_value=0).to_numpy(dtype=float) >= 0.5
        maps = [
            _img(
                figures.difference_map(
                    net, diff.to_numpy(dtype=float), f"{title}: change in crime per street"
                ),
                f"Map of the change in crime per street segment, {title} minus baseline",
            )
        ]
        if treated.any() or buffer.any():
            no_hotspots = np.zeros(net.n_segments, dtype=bool)
            maps.append(
                _img(
                    figures.treatment_map(net, treated, buffer, hotspots if hotspots is not None else no_hotspots,
                                          f"{title}: where it acted"),
                    f"Map of treated streets, buffer and hot spots for {title}",
                )
            )  # fmt: skip
        out.append("<h3>On the map</h3><p class='note'>Blue streets had fewer crimes with the strategy, red more. "
                   "Where it acted: the darker a street, the more replications the strategy acted on it in.</p>")  # fmt: skip
        out.append(f"<div class='figs two'>{''.join(maps)}</div>")
    if frame is not None and on_this_network:
        out.append(_street_tables(arm, frame))
    areas = comp.areas.get(arm.label)
    if areas is not None and len(areas) > 1:
        out.append("<h3>By neighbourhood</h3>" + _areas_table(areas))
    return "\n".join(out)


def _street_tables(arm: Arm, frame: pd.DataFrame) -> str:
    """Return the streets a strategy treated and those whose crime changed most: sortable, as CSV."""
    key = streets.arm_key(arm)
    change = [("baseline_crimes_week", "Baseline crimes / week", "num", STREET_HOW["base_week"]),
              (f"{key}_crimes_week", "With strategy / week", "num", STREET_HOW["mine_week"]),
              (f"{key}_change_week", "Change / week (95% CI)", "signed", STREET_HOW["change_week"])]  # fmt: skip
    ids = [("street", "Street", "text", STREET_HOW["street"]), ("osm_way_id", "OSM way", "int", STREET_HOW["way"]),
           ("segment", "Segment", "int", STREET_HOW["segment"])]  # fmt: skip
    out = []
    treated = streets.treated_streets(frame, arm)
    if len(treated):
        out.append(f"<h3>Streets it treated ({len(treated)} segments)</h3>" + streets.sortable_table(
            f"treated-{key}", treated, [*ids, (f"{key}_treated", "Replications treated", "share", STREET_HOW["treated"]), *change],
            csv_name=f"treated_streets_{key}.csv",
            note="Segments the strategy acted on in any replication; crimes per week are means over replications.",
        ))  # fmt: skip
    changed = streets.changed_streets(frame, arm)
    if len(changed):
        out.append("<h3>Streets whose crime changed most</h3>" + streets.sortable_table(
            f"changed-{key}", changed, [*ids, *change, (f"{key}_treated", "Replications treated", "share", STREET_HOW["treated"])],
            csv_name=f"changed_streets_{key}.csv",
            note="The segments with the largest mean change, strategy minus baseline, per week (paired seeds, "
                 "Student-t 95% CI); green: clearly fewer crimes, red: clearly more.",
        ))  # fmt: skip
    return "\n".join(out)


def _hotspot_table(frame: pd.DataFrame) -> str:
    hot = streets.hotspot_streets(frame)
    if hot.empty:
        return ""
    cols = [("rank", "Rank", "int", "Rank by baseline crimes per week, 1 = most"), ("street", "Street", "text", STREET_HOW["street"]),
            ("osm_way_id", "OSM way", "int", STREET_HOW["way"]), ("segment", "Segment", "int", STREET_HOW["segment"]),
            ("highway", "Road class", "text", ""),
            ("baseline_crimes_week", "Crimes / week (95% CI)", "ci", STREET_HOW["base_week_ci"])]  # fmt: skip
    return "<h3>Hot spots by name</h3>" + streets.sortable_table(
        "hotspots", hot, cols, csv_name="hotspots.csv",
        note=f"The top 5% of street segments by baseline crime ({len(hot)} with any crime), crimes per week "
             "as the mean over replications with a Student-t 95% CI. Unnamed segments are named after the "
             "nearest named street.",
    )  # fmt: skip


def _binned_series(comp: Comparison, arm: Arm, column: str, bin_h: int, how: str) -> pd.DataFrame:
    rows = {}
    for run_dir, seed in zip(arm.runs["run_dir"], arm.runs["seed"], strict=True):
        ts = pd.read_parquet(comp.sweep.path(str(run_dir), "timeseries.parquet"), columns=["hour", column])
        grouped = ts.groupby(ts["hour"] // bin_h)[column]
        values = grouped.sum() if how == "sum" else grouped.mean()
        values.index = (values.index + 1) * bin_h / 24.0  # end of the bin, in days
        rows[seed] = values
    return pd.DataFrame(rows).T.sort_index(axis=1)


def _time_series(comp: Comparison) -> str:
    days = comp.days if math.isfinite(comp.days) else 1.0
    bin_h = 24 if days >= 4 else 4
    unit = "day" if bin_h == 24 else f"{bin_h} hours"
    arms = [a for a in comp.arms]
    crimes = {wording.arm_title(a): _binned_series(comp, a, "crimes", bin_h, "sum") for a in arms}
    trust = {wording.arm_title(a): _binned_series(comp, a, "mean_trust", bin_h, "mean") for a in arms}
    return (
        _img(figures.series_chart(crimes, x_label="simulated days", y_label=f"crimes per {unit}",
                                  title=f"Crimes per {unit} (mean over replications, 95% CI band)",
                                  confidence=comp.confidence), "Chart of crimes over time per strategy", "wide")
        + _img(figures.series_chart(trust, x_label="simulated days", y_label="mean trust (0–1)",
                                    title="Residents' trust in police (mean, 95% CI band)",
                                    confidence=comp.confidence), "Chart of trust over time per strategy", "wide")
    )  # fmt: skip


def _survey(comp: Comparison) -> str:
    waves: dict[str, pd.DataFrame] = {}
    for arm in comp.arms:
        frames = []
        for run_dir in arm.runs["run_dir"]:
            path = comp.sweep.path(str(run_dir), "survey.parquet")
            if path.is_file():
                frames.append(pd.read_parquet(path))
        frames = [f for f in frames if len(f)]
        if frames:
            waves[wording.arm_title(arm)] = pd.concat(frames, ignore_index=True)
    if not waves:
        return "<p class='note'>No perception survey in these runs (it is on unless <code>survey.enabled=false</code>).</p>"
    first = next(iter(waves.values()))
    size = first.groupby("wave")["n_approached"].first().mean()
    answered = (first["n_responded"] / first["n_approached"].where(first["n_approached"] > 0)).mean()
    return (
        f"<p class='note'>Every wave approaches about {wording.fmt(size, 0)} residents at random and "
        f"{wording.fmt(100 * answered, 0)}% answer (the trusting answer more), so each estimate carries sampling "
        "error, shown as its interval; the dashed line is the true mean of all residents, which a real survey never "
        "sees. The effects of each strategy on the last wave are in its table above.</p>"
        + _img(
            figures.survey_chart(waves, confidence=comp.confidence),
            "Perception survey waves per strategy",
            "wide",
        )
    )


def _officer_hours(comp: Comparison) -> str:
    wide = comp.sweep.metrics.pivot_table(index="run_dir", columns="metric", values="value", aggfunc="first")
    activities = [a for a in figures.ACTIVITY_LABELS if f"officer_hours_{a}" in wide]
    if not activities:
        return "<p class='note'>No officer-time measures in these runs.</p>"
    rows = {}
    for arm in comp.arms:
        sub = wide.reindex(arm.runs["run_dir"])
        scale = wording.DAYS_PER_MONTH / sub["days"] if "days" in sub else 1.0
        rows[wording.arm_title(arm)] = {
            a: float((sub[f"officer_hours_{a}"] * scale).mean()) for a in activities
        }
    table = pd.DataFrame(rows).T[activities]
    return _img(
        figures.officer_hours_chart(table, title="Officer-hours by activity"),
        "Officer-hours by activity",
        "wide",
    )


def _methods(comp: Comparison) -> str:
    runs = comp.sweep.runs
    first = comp.sweep.configs[runs.iloc[0]["run_dir"]]
    info_path = comp.sweep.path(runs.iloc[0]["run_dir"], "run.json")
    info = json.loads(info_path.read_text())
    per_arm = ", ".join(f"{html.escape(wording.arm_title(a))}: {len(a.runs)}" for a in comp.arms)
    commit = info.get("git_commit") or "unknown"
    dirty = " (with uncommitted changes)" if info.get("git_dirty") else ""
    return (
        f"<p><strong>Methods.</strong> {len(runs)} runs on {html.escape(str(first['city']['name']))} "
        f"({html.escape(Path(first['city']['path']).name)}, {html.escape(first['city']['network_type'])} network, "
        f"hash {html.escape(str(runs.iloc[0]['network_content_hash'])[:12])}), {wording.fmt(comp.days, 1)} simulated days each, "
        f"{first['population']['n_residents']} residents, {first['population']['n_offenders']} offenders, "
        f"{first['police']['foot_per_shift']} foot officers and {first['police']['cars_per_shift']} response cars per shift. Seeds {wording.seed_text(list(runs['seed']))}; replications per arm: "
        f"{per_arm}. Each policy run is paired with the baseline run of the same seed (common random numbers). "
        "Differences are means of per-seed differences with Student-t 95% CIs; percent changes are ratios of "
        "means with delta-method 95% CIs (sim.stats.paired_difference_ci). The WDQ (Bowers &amp; Johnson 2003) "
        "compares the policy run (after) with the same-seed baseline run (before), using the policy run's treated "
        "and 400 m buffer segments in both, with a paired bootstrap CI over seeds. Crime on treated streets is "
        "counted from the time each street was first treated (a hot spot: its first patrol visit; CPTED: the "
        "installation), and in the buffer from the first treatment within 400 m, in both runs of a seed: a hot "
        "spot is chosen because of crime, and that crime is not charged to the patrol it attracted. "
        f"Model commit {html.escape(commit[:12])}{dirty}, Precinct {html.escape(str(info.get('versions', {}).get('precinct')))}; "
        f"report generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} from {html.escape(str(comp.sweep.root))}.</p>"
    )  # fmt: skip


def calibration_note(city: dict[str, Any]) -> str:
    """One paragraph: whether the city was calibrated, to what data and period, and its test scores."""
    folder = city.get("calibration") or ""
    if not folder:
        return ("<p class='note'><strong>Not calibrated:</strong> the city's crime is the model's defaults, not fitted "
                "to its records (<code>precinct calibrate</code> fits it and tests it on a later period).</p>")  # fmt: skip
    from sim.calibration import CalibrationError, load_calibration

    try:
        cal = load_calibration(folder)
    except CalibrationError as exc:
        return f"<p class='note'><strong>Calibrated</strong> with {html.escape(str(folder))}, which can no longer be read ({html.escape(str(exc))}).</p>"
    d = cal.data
    scores = []
    for row in cal.validation.values():
        if not isinstance(row, dict) or row.get("status") not in ("pass", "fail"):
            continue
        value = row.get("value")
        shown = f"{value:.3g}" if isinstance(value, int | float) else "-"
        scores.append(f"{html.escape(str(row.get('label', '')))} {shown} ({html.escape(str(row.get('threshold', '')))}: "
                      f"<strong>{html.escape(str(row['status']))}</strong>)")  # fmt: skip
    scored = (
        ("Test-period scores: " + "; ".join(scores) + ".")
        if scores
        else "No test-period scores were recorded."
    )
    return (
        f"<p class='note'><strong>Calibrated city:</strong> fitted to {html.escape(Path(str(d.get('incidents', '?'))).name)} "
        f"over {html.escape(str(d.get('fit_start')))} to {html.escape(str(d.get('fit_end')))} ({d.get('n_fit', '?')} incidents) and "
        f"tested on {html.escape(str(d.get('test_start')))} to {html.escape(str(d.get('test_end')))} ({d.get('n_test', '?')} incidents), "
        f"which the fit never saw. {scored} Full report: {html.escape(str(cal.folder / 'validation.html'))}.</p>"
    )  # fmt: skip


def write_report(comp: Comparison, path: Path) -> Path:
    """Render the comparison as a self-contained HTML page at ``path`` (written atomically)."""
    net, map_note = _load_network(comp)
    reference = reference_policy()
    base_arm = next((a for a in comp.arms if a.policy == reference), None)
    hotspots = None
    if base_arm is not None and net is not None:
        crimes = (
            comp.segment_means[base_arm.label]["crimes"]
            .reindex(range(net.n_segments), fill_value=0)
            .to_numpy()
        )
        k = max(1, math.ceil(0.05 * net.n_segments))
        hotspots = np.zeros(net.n_segments, dtype=bool)
        top = np.argsort(-crimes, kind="stable")[:k]
        hotspots[top[crimes[top] > 0]] = True
        baseline_map = _img(
            figures.crime_map(
                net,
                crimes.astype(float),
                "Baseline: crimes per street segment",
                label=f"crimes per segment (mean per {wording.fmt(comp.days, 0)}-day run)",
            ),
            "Map of crimes per street segment in baseline",
        ) + (
            "<p class='note'>Each line is a street segment of the real network, coloured by the number of crimes "
            "on it per run (mean over replications); grey streets had none.</p>"
        )
    else:
        baseline_map = f"<p class='note'>{html.escape(map_note or 'No baseline runs to map.')}</p>"
    frame = streets.segment_frame(comp, net) if net is not None else None
    compared_arms = [a for a in comp.arms if a.policy != reference]
    if frame is not None:
        baseline_map += _hotspot_table(frame)
        street_map = interactive.street_map(
            net, frame, compared_arms, title="Crimes per street per week in baseline; hover for names"
        )
    else:
        street_map = f"<p class='note'>{html.escape(map_note or 'No network to map.')}</p>"

    compared = [a for a in comp.arms if a.policy != reference]
    bullets = [
        f"<li>{wording.summary_sentence(a, comp.effects[a.label], comp.wdq.get(a.label), comp.days)}</li>"
        for a in compared
        if a.label in comp.effects
    ]
    bullets += [
        f"<li><strong>{html.escape(wording.arm_title(a))}:</strong> no baseline runs with the same settings to compare with.</li>"
        for a in compared
        if a.label not in comp.effects
    ]
    if not bullets:
        bullets = ["<li>Only baseline runs were found: run a sweep with policies to compare, e.g. "
                   f"<code>{html.escape(wording.example_sweep(), quote=False)}</code>.</li>"]  # fmt: skip
    warnings = []
    n_pairs = [e.diff.n for eff in comp.effects.values() for e in list(eff.values())[:1]]
    if n_pairs and min(n_pairs) < 5:
        warnings.append(
            f"Only {min(n_pairs)} paired replications: confidence intervals are wide. For decisions, run more, e.g. "
            "<code>precinct run -m experiment=compare_strategies 'seed=range(0,20)'</code>."
        )
    for label, seeds in comp.unpaired.items():
        warnings.append(
            f"{html.escape(wording.arm_title(label))}: {len(seeds)} run(s) (seeds {wording.seed_text(seeds)}) have no baseline run "
            "with the same seed and settings, so they are left out of the comparison."
        )
    hashes = comp.sweep.runs["network_content_hash"].dropna().unique()
    if len(hashes) > 1:
        warnings.append(
            "These runs use more than one street network; maps show the first one only, for the strategies run on it."
        )
    if comp.sweep.problems:
        items = "".join(
            f"<li>{html.escape(str(p.path.relative_to(comp.sweep.root) if p.path.is_relative_to(comp.sweep.root) else p.path))}: "
            f"{html.escape(p.problem or '')}</li>"
            for p in comp.sweep.problems
        )  # fmt: skip
        warnings.append(
            f"{len(comp.sweep.problems)} run folder(s) left out because they are incomplete:<ul>{items}</ul>"
        )
    if map_note and net is None:
        warnings.append(html.escape(map_note))
    first = comp.sweep.configs[comp.sweep.runs.iloc[0]["run_dir"]]
    city = str(first["city"]["name"])
    page = Template(TEMPLATE.read_text()).substitute(
        title=html.escape(f"Policing strategies compared: {city}"),
        subtitle=html.escape(
            f"{len(comp.arms)} {'strategy' if len(comp.arms) == 1 else 'strategies'}, {len(comp.sweep.runs)} simulation runs of {wording.fmt(comp.days, 0)} days each "
            f"on the real street network of {city}."
        ),
        summary=calibration_note(first["city"]) + "<ul>" + "".join(bullets) + "</ul>",
        glance=_glance_table(comp),
        warnings="".join(f"<div class='warn'>{w}</div>" for w in warnings),
        baseline_map=baseline_map,
        arm_sections="\n".join(_arm_section(comp, a, net, hotspots, frame) for a in compared),
        value=value.value_table(value.value_for_money(comp), comp.days),
        street_map=street_map,
        bokeh=interactive.bokeh_script() if frame is not None else "",
        time_series=_time_series(comp),
        officer_hours=_officer_hours(comp),
        survey=_survey(comp),
        methods=_methods(comp),
        attribution=html.escape(figures.ATTRIBUTION),
    )
    return write_file(path, page)
