"""The model's side of the strategy contract: :class:`ModelContext` implements ``PolicyContext``.

Each strategy gets its own context. Reads return read-only arrays; commands act through the owning
module (policing, the environment, the residents), book costs to the strategy in the run's
:class:`Ledger` and append a row to the run's actions table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from core_ext import Router
from sim.agents import offender as off
from sim.agents import officer as ofc
from sim.agents._routes import RouteBook
from sim.agents.officer import Officers
from sim.agents.resident import Residents
from sim.clock import MINUTES_PER_DAY, Clock
from sim.config import ModelConfig, PoliceConfig, SimConfig
from sim.environment import Environment
from sim.events import EventLog
from sim.incidents import NOT_CRIME, IncidentSource, IncidentTable, read_incidents
from sim.network import StreetNetwork
from sim.offending import Offending
from sim.policies.base import Beats, Installation
from sim.policing import PoliceView, Policing

__all__ = ["ACTION_COLUMNS", "Ledger", "ModelContext", "load_incidents"]

# actions the commands log: a logged decision may not pass for one of them
_COMMANDS = ("send_officers", "install", "raise_reporting", "add_home_watchers", "hold_meeting",
             "share_intelligence", "open_calls", "book_cost")  # fmt: skip
# activities a strategy may send officers to (officer states other than patrol, calls and off duty)
ACTIVITIES = {"meeting": ofc.MEETING}
ACTION_COLUMNS: dict[str, str] = {
    "time_min": "float64", "step": "int64", "policy": "string", "action": "string", "n_segments": "int64",
    "n_officers": "int64", "n_residents": "int64", "capital": "float64", "running": "float64",
    "per_day": "float64", "detail": "string",
}  # fmt: skip


def load_incidents(config: ModelConfig, network: StreetNetwork) -> IncidentTable | None:
    """Return the city's recorded crime (``incidents.path``) snapped to ``network``, or None without one."""
    if not config.incidents.path:
        return None
    return read_incidents(IncidentSource(**dataclasses.asdict(config.incidents)), network)


def _ro(a: NDArray[Any]) -> NDArray[Any]:
    view = a.view()
    view.flags.writeable = False
    return view


@dataclass
class Ledger:
    """Costs booked by strategies and the actions they took, in order."""

    actions: list[dict[str, Any]] = field(default_factory=list)

    def log(self, clock: Clock, policy: str, action: str, **values: Any) -> None:
        """Append an action row (missing counts are 0, missing amounts 0.0)."""
        row = {"time_min": clock.now_min, "step": clock.step, "policy": policy, "action": action,
               "n_segments": 0, "n_officers": 0, "n_residents": 0, "capital": 0.0, "running": 0.0,
               "per_day": 0.0, "detail": ""}  # fmt: skip
        row.update(values)
        self.actions.append(row)

    def totals(self, end_min: float) -> dict[str, float]:
        """Return ``cost_capital`` and ``cost_running`` (rates charged from booking to ``end_min``)."""
        capital, running = 0.0, 0.0
        for row in self.actions:
            if row["action"] != "book_cost":
                continue
            capital += row["capital"]
            running += row["running"] + row["per_day"] * ((end_min - row["time_min"]) / MINUTES_PER_DAY)
        return {"cost_capital": capital, "cost_running": running}

    def frame(self) -> pd.DataFrame:
        """Return the actions as a table (columns :data:`ACTION_COLUMNS`)."""
        if not self.actions:
            return pd.DataFrame({c: pd.Series(dtype=t) for c, t in ACTION_COLUMNS.items()})
        return pd.DataFrame(self.actions, columns=list(ACTION_COLUMNS)).astype(ACTION_COLUMNS)


def _per_segment(
    factor: float | NDArray[np.float64], target: NDArray[np.bool_], name: str
) -> NDArray[np.float64]:
    """Return the factors of the ``target`` segments: one for all, or picked from one per segment."""
    values = np.asarray(factor, dtype=np.float64)
    if values.ndim == 0:
        values = np.full(int(target.sum()), float(values))
    elif values.shape != target.shape:
        raise ValueError(f"{name}: one factor, or one per segment ({target.size}), not shape {values.shape}")
    else:
        values = values[target]
    if not np.all(np.isfinite(values) & (values >= 0)):
        raise ValueError(f"{name} must be finite and >= 0")
    return values


class _OfficerView:
    def __init__(self, officers: Officers) -> None:
        self._o = officers

    n = property(lambda self: int(self._o.n))
    state = property(lambda self: _ro(self._o.state))
    position_edge = property(lambda self: _ro(self._o.position_edge))
    speed_mps = property(lambda self: _ro(self._o.speed_mps))
    needs_orders = property(lambda self: _ro(self._o.needs_orders))

    def available(self) -> NDArray[np.bool_]:
        return self._o.available()

    def on_duty(self) -> NDArray[np.bool_]:
        return self._o.on_duty()

    def hours_in(self, activity: str) -> float:
        return float(self._o.minutes[:, ofc.STATE_NAMES.index(activity)].sum() / 60.0)


class _ResidentView:
    def __init__(self, residents: Residents) -> None:
        self._r = residents

    n = property(lambda self: int(self._r.n))
    trust = property(lambda self: _ro(self._r.trust))
    home_edge = property(lambda self: _ro(self._r.home_edge))
    home_segment = property(lambda self: _ro(self._r.home_segment))


class _SegmentView:
    def __init__(self, env: Environment, net: StreetNetwork, offending: Offending) -> None:
        self._env = env
        self._offending = offending
        self.highway_class = _ro(np.array(net.highway_classes)[net.edge_highway[net.segment_edge]])
        self.area = _ro(offending.area)

    static_attractiveness = property(lambda self: _ro(self._env.static_attractiveness))
    maintenance_factor = property(lambda self: _ro(self._env.maintenance_factor))
    lit = property(lambda self: _ro(self._env.lit))
    gated = property(lambda self: _ro(self._env.gated))

    @property
    def collective_efficacy(self) -> NDArray[np.float64]:
        o = self._offending
        return _ro(o.collective_efficacy[o.area])


@dataclass
class ModelParts:
    """What the contexts of one run share (built once by the model)."""

    config: ModelConfig
    network: StreetNetwork
    router: Router
    clock: Clock
    rngs: dict[str, np.random.Generator]
    env: Environment
    residents: Residents
    officers: Officers
    policing: Policing
    offender_routes: RouteBook
    event_log: EventLog
    ledger: Ledger
    mean_trust_start: float
    offending: Offending
    incidents: IncidentTable | None = None


class ModelContext:
    """One strategy's :class:`~sim.policies.base.PolicyContext` onto a running model."""

    def __init__(self, parts: ModelParts, policy: str) -> None:
        self._p = parts
        self.policy = policy
        self._officers = _OfficerView(parts.officers)
        self._residents = _ResidentView(parts.residents)
        self._segments = _SegmentView(parts.env, parts.network, parts.offending)

    # ------------------------------------------------------------------ reads
    network = property(lambda self: self._p.network)
    router = property(lambda self: self._p.router)
    clock = property(lambda self: self._p.clock)
    mean_trust_start = property(lambda self: self._p.mean_trust_start)
    officers = property(lambda self: self._officers)
    residents = property(lambda self: self._residents)
    segments = property(lambda self: self._segments)

    @property
    def sim_config(self) -> SimConfig:
        """Implement :meth:`sim.policies.base.PolicyContext.sim_config`."""
        return self._p.config.sim

    @property
    def police_config(self) -> PoliceConfig:
        """Implement :meth:`sim.policies.base.PolicyContext.police_config`."""
        return self._p.config.police

    @property
    def police_view(self) -> PoliceView:
        """Implement :meth:`sim.policies.base.PolicyContext.police_view`."""
        return self._p.policing.view

    @property
    def meeting_venues(self) -> NDArray[np.int64]:
        """Implement :meth:`sim.policies.base.PolicyContext.meeting_venues`."""
        return self._p.network.poi_community.astype(np.int64)

    def rng(self, stream: str) -> np.random.Generator:
        """Implement :meth:`sim.policies.base.PolicyContext.rng`."""
        if stream not in ("patrol", "policy"):
            raise ValueError(f"strategies draw from the 'patrol' or 'policy' stream, not {stream!r}")
        return self._p.rngs[stream]

    def beats(self, n_beats: int | None = None) -> Beats:
        """Implement :meth:`sim.policies.base.PolicyContext.beats`."""
        return self._p.policing.beats(n_beats)

    def crimes_known_to(
        self, residents: NDArray[np.int64], *, since_min: float, include_street: bool
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """Implement :meth:`sim.policies.base.PolicyContext.crimes_known_to`."""
        victims = set(residents.tolist())
        streets = set(self._p.residents.home_segment[residents].tolist()) if include_street else set()
        out: list[tuple[int, int, float]] = []
        for k, row in enumerate(self._p.event_log.rows("crime")):
            if row["reported"] or row["time_min"] < since_min:
                continue
            if row["victim_id"] in victims or row["segment"] in streets:
                out.append((k, int(row["segment"]), float(row["time_min"])))
        crime = np.array([c for c, _, _ in out], dtype=np.int64)
        return crime, np.array([s for _, s, _ in out], dtype=np.int64), np.array([t for _, _, t in out])

    def recorded_history(self) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Implement :meth:`sim.policies.base.PolicyContext.recorded_history`."""
        table = self._p.incidents
        if table is None:
            return np.zeros(0, np.int64), np.zeros(0)
        crimes = table.events[table.events["crime_type"] != NOT_CRIME]
        return crimes["edge"].to_numpy(np.int64), crimes["time_min"].to_numpy(np.float64)

    def true_crimes(self, start: int = 0) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Implement :meth:`sim.policies.base.PolicyContext.true_crimes`."""
        rows = self._p.event_log.rows("crime")[start:]
        return (np.array([r["edge"] for r in rows], dtype=np.int64),
                np.array([r["time_min"] for r in rows], dtype=np.float64))  # fmt: skip

    def suspicious_activity(self, segments: NDArray[np.bool_]) -> NDArray[np.int64]:
        """Implement :meth:`sim.policies.base.PolicyContext.suspicious_activity`."""
        o = self._p.offending.offenders
        where = self._p.network.edge_segment[o.position_edge[o.state == off.SEARCH]]
        return np.unique(where[np.asarray(segments, dtype=bool)[where]]).astype(np.int64)

    # ------------------------------------------------------------------ commands
    def send_officers(
        self,
        officers: NDArray[np.int64],
        destination_edges: NDArray[np.int64],
        *,
        activity: str,
        until_min: float,
    ) -> None:
        """Implement :meth:`sim.policies.base.PolicyContext.send_officers`."""
        if activity not in ACTIVITIES:
            raise ValueError(f"send_officers: activity {activity!r} is not one of {sorted(ACTIVITIES)}")
        self._p.policing.send_officers(
            officers, destination_edges, state=ACTIVITIES[activity], until_min=until_min
        )
        self._p.ledger.log(self._p.clock, self.policy, "send_officers", n_officers=int(np.size(officers)),
                           detail=f"{activity} until minute {until_min:g}")  # fmt: skip

    def install(
        self,
        segments: NDArray[np.bool_],
        *,
        lighting: bool = False,
        gating: bool = False,
        gating_classes: Sequence[str] = (),
        maintenance_factor: float | None = None,
        surveillance_factor: float | None = None,
    ) -> Installation:
        """Implement :meth:`sim.policies.base.PolicyContext.install`."""
        env = self._p.env
        target = np.asarray(segments, dtype=bool)
        none = np.zeros_like(target)
        lit, gated = none, none
        if lighting:
            lit = target & ~env.lit
            env.lit[target] = True
        if gating:
            alley = np.isin(self._segments.highway_class, list(gating_classes))
            gated = target & alley & ~env.gated
            env.gated[gated] = True
        if maintenance_factor is not None:
            env.maintenance_factor[target] *= maintenance_factor
        if surveillance_factor is not None:
            env.surveillance[target] *= surveillance_factor
        # offenders' routes avoid gated streets from now on
        self._p.offender_routes.set_closed(env.gated_edges() if env.gated.any() else None)
        done = Installation(lighting=lit, gating=gated,
                            maintenance=target.copy() if maintenance_factor is not None else none,
                            surveillance=target.copy() if surveillance_factor is not None else none)  # fmt: skip
        detail = ", ".join(f"{k} {int(m.sum())}" for k, m in done.masks().items())
        self._p.ledger.log(self._p.clock, self.policy, "install", n_segments=int(target.sum()), detail=detail)
        return done

    def raise_reporting(self, segments: NDArray[np.bool_], factor: float | NDArray[np.float64]) -> None:
        """Implement :meth:`sim.policies.base.PolicyContext.raise_reporting`."""
        target = np.asarray(segments, dtype=bool)
        values = _per_segment(factor, target, "raise_reporting factor")
        self._p.offending.report_factor[target] *= values
        mean = float(values.mean()) if values.size else 1.0
        self._p.ledger.log(self._p.clock, self.policy, "raise_reporting", n_segments=int(target.sum()),
                           detail=f"mean factor {mean:.3f}")  # fmt: skip

    def add_home_watchers(self, residents: NDArray[np.int64], watch: sp.csr_matrix) -> None:
        """Implement :meth:`sim.policies.base.PolicyContext.add_home_watchers`."""
        n = self._p.network.n_segments
        if watch.shape != (n, n):
            raise ValueError(f"add_home_watchers: watch must be {n} x {n} (segments), not {watch.shape}")
        who = np.zeros(self._p.residents.n, dtype=bool)
        who[residents] = True
        self._p.offending.add_home_watchers(who, watch)
        rows = np.unique(self._p.residents.home_segment[who])
        watched = int(np.count_nonzero(np.asarray(watch[rows].sum(axis=0)).ravel())) if rows.size else 0
        self._p.ledger.log(self._p.clock, self.policy, "add_home_watchers", n_residents=int(who.sum()),
                           n_segments=watched)  # fmt: skip

    def hold_meeting(
        self,
        attendees: NDArray[np.int64],
        neighbours: NDArray[np.int64],
        *,
        trust_gain: float,
        neighbour_trust_gain: float,
    ) -> None:
        """Implement :meth:`sim.policies.base.PolicyContext.hold_meeting`."""
        r = self._p.residents
        # gains are shares of the headroom, so repeated meetings saturate rather than overflow
        r.trust[attendees] += trust_gain * (1.0 - r.trust[attendees])
        r.trust[neighbours] += neighbour_trust_gain * (1.0 - r.trust[neighbours])
        r.attended_meetings[attendees] += 1
        self._p.ledger.log(self._p.clock, self.policy, "hold_meeting", n_residents=int(attendees.size),
                           detail=f"{neighbours.size} neighbours")  # fmt: skip

    def share_intelligence(self, segments: NDArray[np.int64], times_min: NDArray[np.float64]) -> None:
        """Implement :meth:`sim.policies.base.PolicyContext.share_intelligence`."""
        view = self._p.policing.view
        for s, t in zip(segments.tolist(), times_min.tolist(), strict=True):
            view.add_intelligence(int(s), float(t))
        self._p.ledger.log(self._p.clock, self.policy, "share_intelligence", n_segments=int(segments.size))

    def open_calls(self, edges: NDArray[np.int64], times_min: NDArray[np.float64]) -> None:
        """Implement :meth:`sim.policies.base.PolicyContext.open_calls`."""
        edges = np.asarray(edges, dtype=np.int64)
        times = np.asarray(times_min, dtype=np.float64)
        if edges.shape != times.shape:
            raise ValueError(f"open_calls: one time per edge, not {times.size} times for {edges.size} edges")
        n_edges = self._p.network.n_edges
        if edges.size and (edges.min() < 0 or edges.max() >= n_edges):
            raise ValueError(f"open_calls: edges must be in 0..{n_edges - 1}")
        for e, t in zip(edges.tolist(), times.tolist(), strict=True):
            self._p.policing.open_call(t, t, int(e), -1)
        self._p.ledger.log(self._p.clock, self.policy, "open_calls",
                           n_segments=int(np.unique(self._p.network.edge_segment[edges]).size),
                           detail=f"{edges.size} calls")  # fmt: skip

    def book_cost(
        self, item: str, *, capital: float = 0.0, running: float = 0.0, per_day: float = 0.0
    ) -> None:
        """Implement :meth:`sim.policies.base.PolicyContext.book_cost`."""
        values = {"capital": capital, "running": running, "per_day": per_day}
        for name, value in values.items():
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"book_cost({item!r}): {name} must be a finite amount >= 0, not {value!r}")
        self._p.ledger.log(self._p.clock, self.policy, "book_cost", detail=item, **values)

    def log_decision(self, action: str, detail: str, *, n_segments: int = 0) -> None:
        """Implement :meth:`sim.policies.base.PolicyContext.log_decision`."""
        if action in _COMMANDS:
            raise ValueError(f"log_decision: {action!r} is the name of a command; name the decision itself")
        self._p.ledger.log(self._p.clock, self.policy, action, n_segments=int(n_segments), detail=detail)
