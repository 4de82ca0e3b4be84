"""The training app's map as SVG: streets drawn once as vectors from the network, agents redrawn per frame.

No tiles and no web fonts: the street layer is one ``<path>`` per segment (clickable, it carries its
segment number), the overlay holds officers, recorded incidents and the trainee's chosen streets,
in the same coordinates. Only the overlay changes while a shift replays, so a frame is cheap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.network import StreetNetwork

__all__ = ["MapFrame", "overlay_svg", "street_svg"]

WIDTH = 900.0


@dataclass(frozen=True)
class MapFrame:
    """Projection from network metres to the SVG's pixels (y up in metres, down on screen)."""

    x0: float
    y1: float
    scale: float
    width: float
    height: float

    @classmethod
    def of(cls, net: StreetNetwork, width: float = WIDTH) -> MapFrame:
        """Return the frame fitting the whole network into ``width`` pixels."""
        xy = net.geom_xy if net.geom_xy.size else net.node_xy
        (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
        scale = width / max(x1 - x0, 1.0)
        return cls(float(x0), float(y1), float(scale), width, float((y1 - y0) * scale))

    def pixels(self, xy: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return ``xy`` (metres) as SVG pixel coordinates."""
        out = np.empty_like(xy, dtype=np.float64)
        out[:, 0] = (xy[:, 0] - self.x0) * self.scale
        out[:, 1] = (self.y1 - xy[:, 1]) * self.scale
        return out


def _segment_points(net: StreetNetwork, frame: MapFrame) -> list[NDArray[np.float64]]:
    pts = []
    for e in net.segment_edge:
        lo, hi = int(net.geom_indptr[e]), int(net.geom_indptr[e + 1])
        line = net.geom_xy[lo:hi] if hi - lo >= 2 else net.node_xy[[net.edge_source[e], net.indices[e]]]
        pts.append(frame.pixels(line))
    return pts


def street_svg(net: StreetNetwork, frame: MapFrame | None = None) -> str:
    """Return the street layer: one clickable path per segment, ``data-seg`` its number."""
    frame = frame or MapFrame.of(net)
    paths = []
    for seg, line in enumerate(_segment_points(net, frame)):
        d = "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in line)
        paths.append(f'<path data-seg="{seg}" d="{d}"><title>segment {seg}</title></path>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {frame.width:.0f} {frame.height:.0f}" '
            f'width="100%" style="background:#fbfbf8;cursor:pointer" class="precinct-streets">'
            f'<g fill="none" stroke="#b9b9b9" stroke-width="2.2" stroke-linecap="round">{"".join(paths)}</g></svg>')  # fmt: skip


def _circles(xy: NDArray[np.float64], r: float) -> str:
    if xy.size == 0:
        return ""
    rows = np.round(xy, 1)
    return "".join(f'<circle cx="{x}" cy="{y}" r="{r}"/>' for x, y in rows.tolist())


def overlay_svg(
    net: StreetNetwork,
    frame: MapFrame,
    *,
    officers_xy: NDArray[np.float64],
    incidents_xy: NDArray[np.float64] | None = None,
    chosen: Iterable[int] = (),
    hotspots: Iterable[int] = (),
) -> str:
    """Return the overlay: hot spots, chosen streets, recorded incidents (red) and officers (blue)."""

    def lines(segments: Iterable[int], colour: str, width: float) -> str:
        segs = [int(s) for s in segments]
        if not segs:
            return ""
        e = net.segment_edge[segs]
        a = frame.pixels(net.node_xy[net.edge_source[e]])
        b = frame.pixels(net.node_xy[net.indices[e]])
        d = "".join(
            f"M{ax:.1f} {ay:.1f}L{bx:.1f} {by:.1f}"
            for (ax, ay), (bx, by) in zip(a.tolist(), b.tolist(), strict=True)
        )
        return f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{width}" stroke-linecap="round"/>'

    inc = frame.pixels(incidents_xy) if incidents_xy is not None and incidents_xy.size else np.zeros((0, 2))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {frame.width:.0f} {frame.height:.0f}" '
            f'width="100%" class="precinct-overlay">'
            f"{lines(hotspots, '#f4a261', 6)}{lines(chosen, '#2a9d8f', 7)}"
            f'<g fill="#d62828" fill-opacity="0.8">{_circles(inc, 4.5)}</g>'
            f'<g fill="#1d3557" stroke="#fff" stroke-width="1">{_circles(frame.pixels(officers_xy), 5)}</g></svg>')  # fmt: skip
