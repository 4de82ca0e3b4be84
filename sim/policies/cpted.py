"""CPTED: crime prevention through environmental design on chosen street segments.

Interventions (each a toggle; effect sizes and sources in docs/policies.md):

- **lighting**: the segment counts as lit, so darkness no longer multiplies offending there
  (``crime.darkness_*_multiplier``). Street lighting cut crime 21% across 13 studies (Welsh &
  Farrington 2008); new lighting in New York public housing cut night-time outdoor index crime by
  at least 36% (Chalfin et al. 2022, J Quant Criminol 38:127). Segments already lit gain nothing.
- **gating** (access control, alley gating): offenders may not route through or offend on the
  segment; residents keep access. Only alley-like segments (``gating_classes``) are gated: one
  does not gate a main road. Alley gating cut burglary about 37% with diffusion of benefits to
  neighbouring blocks (Bowers, Johnson & Hirschfield 2004; Sidebottom et al. 2018).
- **maintenance** (clean-up, repair, greening): static attractiveness times ``maintenance_factor``
  (Branas et al. 2018, PNAS 115:2946: restoring vacant lots cut gun violence, most in the poorest
  neighbourhoods; the broken-windows mechanism of Wilson & Kelling 1982).
- **surveillance** (natural surveillance: sight lines, windows, active frontage): each person
  present guards ``surveillance_factor`` times as much (Jacobs 1961; Newman 1972; Cozens, Saville
  & Hillier 2005).

Targets are OSM way ids, a polygon (GeoJSON in lon/lat, or a GeoPackage layer), or the top-k hot
spots. Planners pick hot spots from records, so ``targets="hotspots"`` waits
``hotspot_warmup_days`` for recorded crime and installs everything then, on the top-k segments of
the same network KDE the hot-spot patrol uses (until then the arm is its baseline twin). ``hotspots_from="static"`` instead uses the long-run
place risk (static attractiveness) as the planner's prior knowledge and installs at the start.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from core_ext import select_hotspots
from sim.checks import MULTIPLIER, NON_NEGATIVE, POSITIVE, POSITIVE_INT
from sim.clock import MINUTES_PER_DAY
from sim.errors import ConfigError
from sim.policies.areas import AREA_FILES, area_file, segments_in_polygon, segments_of_ways
from sim.policies.base import Policy, PolicyContext
from sim.policies.hotspot_map import HotspotMap, historical_hotspots
from sim.policies.registry import ReportRow, register_policy

__all__ = ["CptedConfig", "CptedPolicy", "segments_in_polygon"]

INTERVENTIONS = ("lighting", "gating", "maintenance", "surveillance")
KEY = "policy.cpted."


@dataclass
class CptedConfig:
    """Environmental changes on chosen segments, with one-off and running costs per segment."""

    targets: str = "hotspots"  # "hotspots", "way_ids" or "polygon"
    way_ids: list[int] = field(default_factory=list)
    polygon_path: str = ""
    top_k: int = 100
    # "recorded" (after a warm-up), "static" (planner's prior) or "incidents" (the incident file's)
    hotspots_from: str = "recorded"
    hotspot_warmup_days: float = 1.0
    hotspot_bandwidth_m: float = 300.0
    hotspot_decay_days: float = 14.0
    lighting: bool = True
    gating: bool = True
    maintenance: bool = True
    surveillance: bool = True
    gating_classes: list[str] = field(
        default_factory=lambda: ["service", "footway", "path", "steps", "track"]
    )
    maintenance_factor: float = 0.8
    surveillance_factor: float = 1.5
    # Costs per treated segment in the run's currency: one-off (capital) and per day (running).
    # Placeholders of a plausible order; set local figures (docs/policies.md).
    lighting_cost_capital: float = 4000.0
    lighting_cost_per_day: float = 1.0
    gating_cost_capital: float = 2000.0
    gating_cost_per_day: float = 0.2
    maintenance_cost_capital: float = 500.0
    maintenance_cost_per_day: float = 2.0
    surveillance_cost_capital: float = 3000.0
    surveillance_cost_per_day: float = 0.5

    def validate(self) -> None:
        """Raise ConfigError naming the first bad key."""
        if self.targets not in ("hotspots", "way_ids", "polygon"):
            raise ConfigError(KEY + "targets", self.targets, "'hotspots', 'way_ids' or 'polygon'")
        if self.targets == "way_ids" and not self.way_ids:
            raise ConfigError(
                KEY + "way_ids", self.way_ids, "a non-empty list of OSM way ids with targets=way_ids"
            )
        if self.targets == "polygon" and not (self.polygon_path and area_file(self.polygon_path).is_file()):
            raise ConfigError(KEY + "polygon_path", self.polygon_path,
                              f"the path of an existing GeoJSON file or GeoPackage: {AREA_FILES}, with targets=polygon")  # fmt: skip
        if self.hotspots_from not in ("recorded", "static", "incidents"):
            raise ConfigError(
                KEY + "hotspots_from", self.hotspots_from, "'recorded', 'static' or 'incidents'"
            )
        POSITIVE_INT.check(self, KEY, "top_k")
        NON_NEGATIVE.check(self, KEY, "hotspot_warmup_days")
        POSITIVE.check(self, KEY, "hotspot_bandwidth_m", "hotspot_decay_days", "surveillance_factor")
        MULTIPLIER.check(self, KEY, "maintenance_factor")
        for kind in INTERVENTIONS:
            NON_NEGATIVE.check(self, KEY, f"{kind}_cost_capital", f"{kind}_cost_per_day")
        if not any(getattr(self, kind) for kind in INTERVENTIONS):
            raise ConfigError(
                KEY + "lighting", False, f"at least one of {', '.join(INTERVENTIONS)} switched on"
            )


@register_policy(
    "cpted",
    CptedConfig,
    label="CPTED (street design)",
    order=20,
    report_rows=(ReportRow("cpted_segments_lighting", "Streets newly lit", "segments"),),
)
class CptedPolicy(Policy):
    """Changes the street environment of its target segments, once, and books what that costs."""

    patrol_priority = -1
    config: CptedConfig

    def setup(self, ctx: PolicyContext) -> None:
        """Install at once on configured targets, or schedule the install on recorded hot spots."""
        c = self.config
        net = ctx.network
        self.changed = {kind: np.zeros(net.n_segments, dtype=bool) for kind in INTERVENTIONS}
        self.install_min = float("nan")
        self.install_at_min = 0.0
        self.map: HotspotMap | None = None
        if c.top_k > net.n_segments and c.targets == "hotspots":
            raise ConfigError(KEY + "top_k", c.top_k, f"at most the number of segments ({net.n_segments})")
        if c.targets == "way_ids":
            self.install(ctx, segments_of_ways(net, c.way_ids, key=KEY + "way_ids"))
        elif c.targets == "polygon":
            self.install(ctx, segments_in_polygon(net, c.polygon_path, key=KEY + "polygon_path"))
        elif c.hotspots_from == "incidents":
            edges, _ = ctx.recorded_history()
            if edges.size == 0:
                raise ConfigError(KEY + "hotspots_from", "incidents",
                                  "an incident file with crime on this map: incidents.path=FILE")  # fmt: skip
            top = historical_hotspots(net, edges, c.top_k, bandwidth_m=c.hotspot_bandwidth_m)
            self.install(ctx, _mask(net.n_segments, top))
        elif c.hotspots_from == "static":
            segs = ctx.segments
            a0 = segs.static_attractiveness * segs.maintenance_factor
            self.install(ctx, _mask(net.n_segments, select_hotspots(a0, c.top_k)))
        else:
            self.map = HotspotMap(net, bandwidth_m=c.hotspot_bandwidth_m, decay_days=c.hotspot_decay_days)
            self.install_at_min = c.hotspot_warmup_days * MINUTES_PER_DAY

    def on_step(self, ctx: PolicyContext) -> None:
        """After the warm-up, install on the top recorded hot spots (once)."""
        if self.map is not None and np.isnan(self.install_min) and ctx.clock.now_min >= self.install_at_min:
            self.map.update(ctx)
            if self.map.n_known == 0:
                self.install_at_min += 60.0  # nothing recorded yet: the planner waits
                return
            hot = self.map.hotspots(ctx.clock.now_min, self.config.top_k)
            self.install(ctx, _mask(ctx.network.n_segments, hot))

    def install(self, ctx: PolicyContext, target: NDArray[np.bool_]) -> None:
        """Apply every switched-on intervention to ``target`` segments (a mask) and book its cost."""
        c = self.config
        self.install_min = ctx.clock.now_min
        self.target = target.copy()
        done = ctx.install(
            target,
            lighting=c.lighting,
            gating=c.gating,
            gating_classes=c.gating_classes,
            maintenance_factor=c.maintenance_factor if c.maintenance else None,
            surveillance_factor=c.surveillance_factor if c.surveillance else None,
        )
        for kind, mask in done.masks().items():
            if getattr(c, kind):
                self.changed[kind] = mask
                n = float(mask.sum())
                ctx.book_cost(
                    kind,
                    capital=n * getattr(c, f"{kind}_cost_capital"),
                    per_day=n * getattr(c, f"{kind}_cost_per_day"),
                )

    def treated_from_min(self, ctx: PolicyContext) -> NDArray[np.float64]:
        """Treated from the installation (after the warm-up when targets are recorded hot spots)."""
        treated = np.zeros(ctx.network.n_segments, dtype=bool)
        for mask in self.changed.values():
            treated |= mask
        return np.where(treated, self.install_min, np.nan)

    def costs(self, ctx: PolicyContext) -> dict[str, float]:
        """Segments changed by each intervention and the day of installation."""
        out = {f"cpted_segments_{kind}": float(mask.sum()) for kind, mask in self.changed.items()}
        out["cpted_install_day"] = self.install_min / MINUTES_PER_DAY
        return out


def _mask(n: int, index: NDArray[np.int64]) -> NDArray[np.bool_]:
    out = np.zeros(n, dtype=bool)
    out[index] = True
    return out
