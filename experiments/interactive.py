"""The report's interactive street map: Bokeh with its JavaScript inlined, so the page stays offline.

Pan, wheel zoom, box zoom and reset; hovering a street shows its name, OSM way and crime per week
in a tooltip and in a line of text under the map (which the browser test reads). No tiles: the
streets themselves are the map, so nothing is fetched, and the OpenStreetMap attribution the ODbL
requires is drawn on the map.
"""

from __future__ import annotations

import html
from functools import lru_cache

import numpy as np
import pandas as pd

from experiments import wording
from experiments.comparison import Arm
from experiments.figures import ATTRIBUTION
from experiments.streets import arm_key
from sim.network import StreetNetwork

__all__ = ["bokeh_script", "street_map"]

READOUT_ID = "map-readout"


@lru_cache(maxsize=1)
def bokeh_script() -> str:
    """Return BokehJS (core only, no widgets) as one inline ``<script>`` block."""
    from bokeh.resources import Resources

    return str(Resources(mode="inline", components=["bokeh"]).render_js())


def street_map(net: StreetNetwork, frame: pd.DataFrame, arms: list[Arm], *, title: str) -> str:
    """Return the interactive map (a ``<div>`` and its ``<script>``) of baseline crime per street.

    Parameters
    ----------
    net
        The street network the runs were made on (segment polylines, projected metres).
    frame
        :func:`experiments.streets.segment_frame` of the comparison.
    arms
        Strategy arms whose change per street the hover shows.
    title
        The map's title.
    """
    from bokeh.embed import components
    from bokeh.models import ColumnDataSource, CustomJS, HoverTool, Label, LinearColorMapper
    from bokeh.palettes import YlOrRd9
    from bokeh.plotting import figure

    ptr, xy = net.geom_indptr, net.geom_xy
    xs = [xy[ptr[e] : ptr[e + 1], 0].round(1).tolist() for e in net.segment_edge]
    ys = [xy[ptr[e] : ptr[e + 1], 1].round(1).tolist() for e in net.segment_edge]
    crimes = frame.get("baseline_crimes_week", pd.Series(np.zeros(len(frame)))).to_numpy(dtype=float)
    data: dict[str, object] = {
        "xs": xs, "ys": ys, "street": frame["street"].tolist(), "way": frame["osm_way_id"].astype(str).tolist(),
        "crimes": crimes.round(3).tolist(), "width": (1.0 + 3.0 * _scaled(crimes)).round(2).tolist(),
    }  # fmt: skip
    tooltips = [("Street", "@street"), ("OSM way", "@way"), ("Baseline crimes / week", "@crimes{0.00}")]
    for i, arm in enumerate(arms):
        column = f"{arm_key(arm)}_change_week"
        if column in frame:
            data[f"change{i}"] = frame[column].to_numpy(dtype=float).round(3).tolist()
            tooltips.append((f"{wording.arm_title(arm)}: change / week", f"@change{i}{{+0.00}}"))
    source = ColumnDataSource(data)
    x0, y0 = xy.min(axis=0)
    x1, y1 = xy.max(axis=0)
    width = 980
    height = int(np.clip(width * (y1 - y0) / max(x1 - x0, 1.0), 360, 760))
    plot = figure(
        title=title, width=width, height=height, match_aspect=True, tools="pan,wheel_zoom,box_zoom,reset",
        active_scroll="wheel_zoom", x_axis_type=None, y_axis_type=None, name="street-map",
    )  # fmt: skip
    plot.grid.visible = False
    # streets with no crime fall below ``low`` and are drawn grey, not in the palette's palest colour
    top = max(float(np.quantile(crimes, 0.99)), 2e-9)
    mapper = LinearColorMapper(palette=list(reversed(YlOrRd9)), low=1e-9, high=top, low_color="#d9d9d9")
    lines = plot.multi_line(
        "xs", "ys", source=source, line_width="width", line_color={"field": "crimes", "transform": mapper},
        hover_line_color="#1f78b4", hover_line_width=5,
    )  # fmt: skip
    readout = CustomJS(
        args={"source": source},
        code=(
            "const i = cb_data.index.indices;"
            f"const el = document.getElementById('{READOUT_ID}');"
            "if (el && i.length) {"
            "  const d = source.data;"
            "  el.textContent = d.street[i[0]] + ' (OSM way ' + d.way[i[0]] + '): '"
            "    + Number(d.crimes[i[0]]).toFixed(2) + ' crimes per week in baseline';"
            "}"
        ),
    )
    plot.add_tools(HoverTool(renderers=[lines], tooltips=tooltips, line_policy="nearest", callback=readout))
    plot.add_layout(
        Label(x=6, y=6, x_units="screen", y_units="screen", text=ATTRIBUTION, text_font_size="9pt",
              background_fill_color="white", background_fill_alpha=0.8)
    )  # fmt: skip
    script, div = components(plot)
    return (
        f"<div class='bokeh-map'>{div}</div>"
        f"<p class='note' id='{READOUT_ID}' aria-live='polite'>Hover over a street for its name and numbers.</p>"
        f"{script}"
        f"<p class='note'>Drag to pan, scroll to zoom; the lines are the real street segments, coloured by "
        f"{html.escape('baseline crimes per week')} (grey: none). Map data {html.escape(ATTRIBUTION)}.</p>"
    )


def _scaled(values: np.ndarray) -> np.ndarray:
    top = float(np.quantile(values, 0.99)) if values.size else 0.0
    return np.clip(values / top, 0.0, 1.0) if top > 0 else np.zeros_like(values)
