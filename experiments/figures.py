"""Figures of the comparison report, drawn with matplotlib's Agg canvas and returned as PNG data URIs.

Maps draw each street segment as its real polyline (the network's projected geometry, metres) and
carry the OpenStreetMap attribution the ODbL requires. No pyplot: every figure is a standalone
``matplotlib.figure.Figure``, so nothing depends on a display or on global state.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.typing import NDArray
from scipy import stats

from sim.network import StreetNetwork

__all__ = [
    "ATTRIBUTION",
    "crime_map",
    "difference_map",
    "officer_hours_chart",
    "png_data_uri",
    "series_chart",
    "treatment_map",
]

ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"
ARM_COLOURS = ("#4d4d4d", "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")
ACTIVITY_LABELS = {
    "patrol": "random patrol",
    "dwell": "stops / hot-spot visits",
    "respond": "travel to calls",
    "attend": "at calls",
    "meeting": "community meetings",
    "return": "returning",
}
ACTIVITY_COLOURS = ("#a6cee3", "#1f78b4", "#fb9a99", "#e31a1c", "#33a02c", "#cccccc")


def png_data_uri(fig: Figure, *, dpi: int = 96) -> str:
    """Render a figure to an embedded ``data:image/png;base64,...`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _segment_lines(net: StreetNetwork) -> list[NDArray[np.float64]]:
    ptr, xy = net.geom_indptr, net.geom_xy
    return [xy[ptr[e] : ptr[e + 1]] for e in net.segment_edge]


def _map_axes(net: StreetNetwork, title: str, *, width_in: float = 5.5) -> tuple[Figure, Axes]:
    x0, y0 = net.geom_xy.min(axis=0)
    x1, y1 = net.geom_xy.max(axis=0)
    aspect = (y1 - y0) / max(x1 - x0, 1.0)
    fig = Figure(figsize=(width_in, max(2.5, min(width_in * aspect, 9.0)) + 0.6))
    ax = fig.add_subplot()
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title, fontsize=11, loc="left")
    pad = 0.02 * max(x1 - x0, y1 - y0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    _scale_bar(ax, x0, y0, x1 - x0)
    ax.text(
        0.99, 0.01, ATTRIBUTION, transform=ax.transAxes, ha="right", va="bottom", fontsize=7,
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.5},
    )  # fmt: skip
    return fig, ax


def _scale_bar(ax: Axes, x0: float, y0: float, width_m: float) -> None:
    nice = [50, 100, 200, 250, 500, 1000, 2000, 5000, 10000]
    length = max([n for n in nice if n <= width_m / 4] or [nice[0]])
    ax.plot([x0, x0 + length], [y0, y0], color="black", linewidth=2.5, solid_capstyle="butt")
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length} m"
    ax.text(x0, y0, f"{label}\n", fontsize=7, va="bottom")


def _draw(ax: Axes, lines: Sequence[NDArray[np.float64]], **kwargs: object) -> LineCollection:
    coll = LineCollection(lines, **kwargs)  # type: ignore[arg-type]
    ax.add_collection(coll)
    return coll


def crime_map(
    net: StreetNetwork, crimes: NDArray[np.float64], title: str, *, label: str, width_in: float = 8.5
) -> str:
    """Segments coloured by crimes (e.g. mean per run); streets without crime in light grey."""
    fig, ax = _map_axes(net, title, width_in=width_in)
    lines = _segment_lines(net)
    vmax = max(float(np.quantile(crimes, 0.99)), 1e-9) if crimes.size else 1.0
    none = crimes <= 0
    _draw(ax, [ln for ln, z in zip(lines, none, strict=True) if z], colors="#d9d9d9", linewidths=0.6)
    some = ~none
    coll = _draw(
        ax, [ln for ln, s in zip(lines, some, strict=True) if s], cmap="YlOrRd", norm=Normalize(0, vmax),
        linewidths=0.8 + 2.2 * np.clip(crimes[some] / vmax, 0, 1),
    )  # fmt: skip
    coll.set_array(crimes[some])
    fig.colorbar(coll, ax=ax, shrink=0.7, label=label, extend="max")
    return png_data_uri(fig)


def difference_map(net: StreetNetwork, diff: NDArray[np.float64], title: str) -> str:
    """Policy minus baseline crimes per segment: blue fewer, red more, grey unchanged."""
    fig, ax = _map_axes(net, title)
    lines = _segment_lines(net)
    lim = max(float(np.quantile(np.abs(diff), 0.98)), 0.5)
    changed = np.abs(diff) >= 0.05
    _draw(ax, [ln for ln, c in zip(lines, changed, strict=True) if not c], colors="#d9d9d9", linewidths=0.6)
    idx = np.flatnonzero(changed)
    idx = idx[np.argsort(np.abs(diff[idx]))]  # the big changes last, on top
    coll = _draw(
        ax, [lines[i] for i in idx], cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -lim, lim),
        linewidths=1.0 + 2.2 * np.clip(np.abs(diff[idx]) / lim, 0, 1),
    )  # fmt: skip
    coll.set_array(diff[idx])
    fig.colorbar(coll, ax=ax, shrink=0.7, label="crimes per segment: policy − baseline", extend="both")
    return png_data_uri(fig)


def treatment_map(
    net: StreetNetwork,
    treated: NDArray[np.float64],
    buffer: NDArray[np.bool_],
    hotspots: NDArray[np.bool_],
    title: str,
) -> str:
    """Where the policy acted (shaded by the share of replications), its 400 m buffer, and baseline hot spots."""
    fig, ax = _map_axes(net, title)
    lines = _segment_lines(net)
    acted = treated > 0
    other = ~acted & ~buffer
    _draw(ax, [ln for ln, m in zip(lines, other, strict=True) if m], colors="#d9d9d9", linewidths=0.6)
    _draw(
        ax, [ln for ln, m in zip(lines, buffer & ~acted, strict=True) if m], colors="#c6dbef", linewidths=1.2
    )
    idx = np.flatnonzero(acted)
    idx = idx[np.argsort(treated[idx])]
    coll = _draw(ax, [lines[i] for i in idx], cmap="Blues", norm=Normalize(-0.4, 1.0), linewidths=2.6)
    coll.set_array(treated[idx])
    _draw(ax, [ln for ln, m in zip(lines, hotspots, strict=True) if m], colors="#e31a1c", linewidths=0.9)
    handles = [
        Line2D([], [], color="#08519c", linewidth=2.6, label="treated (darker: in more replications)"),
        Line2D([], [], color="#c6dbef", linewidth=1.5, label="buffer: within 400 m of treated streets"),
        Line2D([], [], color="#e31a1c", linewidth=1.5, label="baseline hot spots (top 5% of streets)"),
        Line2D([], [], color="#d9d9d9", linewidth=1.5, label="other streets"),
    ]
    ax.legend(handles=handles, loc="upper left", fontsize=7, framealpha=0.85)
    return png_data_uri(fig)


def series_chart(
    series: Mapping[str, pd.DataFrame], *, x_label: str, y_label: str, title: str, confidence: float = 0.95
) -> str:
    """Mean over seeds with a confidence band, one line per arm; each frame is seeds x time bins."""
    fig = Figure(figsize=(9.0, 3.4))
    ax = fig.add_subplot()
    for (label, frame), colour in zip(series.items(), ARM_COLOURS * 4, strict=False):
        values = frame.to_numpy(dtype=float)
        x = frame.columns.to_numpy(dtype=float)
        mean = np.nanmean(values, axis=0)
        ax.plot(x, mean, color=colour, linewidth=1.8, label=label)
        n = values.shape[0]
        if n >= 2:
            sem = np.nanstd(values, axis=0, ddof=1) / np.sqrt(n)
            half = stats.t.ppf(0.5 + confidence / 2, df=n - 1) * sem
            ax.fill_between(x, mean - half, mean + half, color=colour, alpha=0.15, linewidth=0)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(title, fontsize=11, loc="left")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=3, loc="best")
    return png_data_uri(fig)


def survey_chart(waves: Mapping[str, pd.DataFrame], *, confidence: float = 0.95) -> str:
    """Draw the perception survey as a planner would get it: one panel per measure, one series per arm.

    Each frame holds an arm's waves over its replications (columns ``day``, ``measure``,
    ``estimate``, ``ci_low``, ``ci_high``, ``true_mean``). A point is the mean estimate over
    replications, its bar the mean of the surveys' own sampling intervals (what one survey of that
    size would report), and the dashed line the true mean of all residents, which no survey sees.
    """
    measures = ("trust", "fear", "satisfaction")
    fig = Figure(figsize=(9.0, 3.2))
    axes = fig.subplots(1, len(measures), sharex=True)
    offsets = np.linspace(-0.25, 0.25, max(len(waves), 1)) if len(waves) > 1 else np.zeros(1)
    for ax, measure in zip(axes, measures, strict=True):
        for (label, frame), colour, dx in zip(waves.items(), ARM_COLOURS * 4, offsets, strict=False):
            sub = frame[frame["measure"] == measure]
            if sub.empty:
                continue
            by_day = sub.groupby("day").agg(
                estimate=("estimate", "mean"), low=("ci_low", "mean"), high=("ci_high", "mean"),
                true_mean=("true_mean", "mean"),
            )  # fmt: skip
            day = by_day.index.to_numpy(dtype=float)
            est = by_day["estimate"].to_numpy(dtype=float)
            err = np.vstack(
                [est - by_day["low"].to_numpy(dtype=float), by_day["high"].to_numpy(dtype=float) - est]
            )
            ax.errorbar(
                day + dx, est, yerr=np.abs(err), fmt="o", color=colour, markersize=4, capsize=2, label=label
            )
            ax.plot(day, by_day["true_mean"].to_numpy(dtype=float), color=colour, linestyle="--", linewidth=1)
        ax.set_title(measure, fontsize=10, loc="left")
        ax.set_xlabel("simulated day of the wave")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean on a 0–1 scale")
    handles, labels = axes[0].get_legend_handles_labels()
    handles.append(Line2D([], [], color="#4d4d4d", linestyle="--", linewidth=1))
    labels.append("true mean of all residents")
    fig.legend(handles, labels, fontsize=8, ncol=4, loc="lower center", bbox_to_anchor=(0.5, 0.0))
    fig.subplots_adjust(top=0.8, bottom=0.3, wspace=0.3)
    fig.suptitle(
        f"Perception survey: estimate with its {confidence:.0%} sampling interval (mean over replications)",
        fontsize=11, x=0.01, ha="left",
    )  # fmt: skip
    return png_data_uri(fig)


def officer_hours_chart(hours: pd.DataFrame, *, title: str) -> str:
    """Stacked bars: officer-hours by activity (columns) for each arm (rows)."""
    fig = Figure(figsize=(9.0, 0.6 + 0.45 * max(len(hours), 2)))
    ax = fig.add_subplot()
    left = np.zeros(len(hours))
    y = np.arange(len(hours))[::-1]
    for activity, colour in zip(hours.columns, ACTIVITY_COLOURS, strict=False):
        values = hours[activity].to_numpy(dtype=float)
        ax.barh(y, values, left=left, color=colour, label=ACTIVITY_LABELS.get(activity, activity))
        left += values
    ax.set_yticks(y, hours.index)
    ax.set_xlabel("officer-hours per 30 days (mean over seeds)")
    ax.set_title(title, fontsize=11, loc="left")
    ax.legend(fontsize=8, ncol=6, loc="upper center", bbox_to_anchor=(0.5, -0.35 if len(hours) < 4 else -0.2))
    ax.grid(axis="x", alpha=0.3)
    return png_data_uri(fig)
