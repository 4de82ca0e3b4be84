"""The Precinct model: residents, offenders and officers on a real street network (Mesa 3).

This module holds the set-up and the order of a step, nothing else. Agent state lives in arrays
(one population object per kind) stepped whole through the ``core_ext`` kernels; Mesa ``Agent``
objects are thin views onto one row each, so ``model.agents``, ``AgentSet.select`` and
``DataCollector`` work as Mesa users expect while the hot loop never calls Python once per agent.
What happens in a step lives beside its subject: offending and reporting in :mod:`sim.offending`
and :mod:`sim.crime`, calls, dispatch, orders and beats in :mod:`sim.policing`, the strategies'
view of the model in :mod:`sim.context`, the time series in :mod:`sim.timeseries`. docs/model.md
is the ODD description, with the sources of every mechanism.

Example
-------
>>> from sim import ModelConfig, run_simulation
>>> result = run_simulation(ModelConfig(seed=1))          # doctest: +SKIP
>>> result.metrics["crimes_total"]                         # doctest: +SKIP
"""

from __future__ import annotations

import logging

import mesa
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from core_ext import advance_along_routes, count_occupancy
from sim.agents import offender as off
from sim.agents import officer as ofc
from sim.agents import resident as res
from sim.agents._routes import RouteBook
from sim.clock import MINUTES_PER_DAY, Clock
from sim.config import ModelConfig
from sim.context import Ledger, ModelContext, ModelParts, load_incidents
from sim.environment import KOPER_NO_RESIDUAL_MIN
from sim.errors import ConfigError
from sim.events import EventLog
from sim.network import StreetNetwork, load_network
from sim.offending import Offending
from sim.outputs import SimulationResult, build_result
from sim.policies import build_policies, random_patrol
from sim.policing import Policing
from sim.progress import SETUP_STAGES, Progress, no_progress, peak_memory_bytes
from sim.setup import LANDMARKS, OffendingSide, build_offending_side
from sim.survey import Survey
from sim.timeseries import TimeSeries

__all__ = [
    "LANDMARKS",
    "OffendingSide",
    "PrecinctModel",
    "Progress",
    "SimulationResult",
    "build_offending_side",
    "peak_memory_bytes",
    "run_simulation",
]

_log = logging.getLogger("precinct")

N_KINDS = 3  # occupancy kinds: 0 residents in public, 1 offenders out, 2 officers on the street


class PrecinctModel(mesa.Model):  # type: ignore[misc]
    """One simulated city. Build with a validated :class:`~sim.config.ModelConfig`; call :meth:`step`.

    Parameters
    ----------
    config
        Every parameter of the run, including the seed.
    network
        A loaded network to reuse across runs (it must be the one ``config.city`` names); loaded
        from ``config.city`` when omitted.
    mesa_agents
        Create one Mesa ``Agent`` view per row (needed for ``model.agents`` and agent-level data
        collection; skip it for very large batch runs).
    progress
        Optional ``progress(phase, done, total)`` callback, called as the set-up's stages finish
        (phase ``"set-up"``, ``total`` = :data:`SETUP_STAGES`) and by :meth:`run` after every step
        (phase ``"run"``).
    """

    def __init__(
        self,
        config: ModelConfig,
        *,
        network: StreetNetwork | None = None,
        mesa_agents: bool = True,
        progress: Progress | None = None,
    ):
        config.validate()
        super().__init__(seed=config.seed)
        self.config = config
        self.progress = progress or no_progress
        net = network or load_network(config.city.path, network_type=config.city.network_type,
                                      cache_dir=config.city.cache_dir)  # fmt: skip
        self.network = net
        self.progress("set-up", 1, SETUP_STAGES)
        # independent streams per process, so that the same seed gives the same residents, offenders
        # and routines in every policy arm (common random numbers); head-counts given, or scaled with
        # the streets (the results record the numbers used)
        side = build_offending_side(config, net)
        self.rngs, self.headcounts, config = side.rngs, side.headcounts, side.config
        self.config = config
        _log.info("%s: %s", config.city.name, self.headcounts.describe())
        self.clock = Clock(config.sim)
        self.router, self.land, self.env = side.router, side.land, side.env
        _log.info("%s: homes, workplaces and crime generators from %s", config.city.name,
                  "the extract's mapped places" if self.land.source == "mapped" else "street class (no places mapped)")  # fmt: skip
        self.area = grid_areas(net, config.city.area_cell_m)
        self.progress("set-up", 2, SETUP_STAGES)
        self.residents = res.Residents(net, config.population, side.build["population"],
                                       home_weights=side.home_weights, work_weights=self.land.work_weights(net),
                                       leisure_weights=self.land.leisure_weights(),
                                       step_min=config.sim.step_min)  # fmt: skip
        self.offenders = side.offenders
        self.officers = ofc.Officers(net, config.police, self._station_nodes())
        self.resident_routes, self.offender_routes, self.officer_routes = (
            RouteBook(self.router, net.edge_source, net.indices, net.edge_length_m) for _ in range(3)
        )
        self.progress("set-up", 3, SETUP_STAGES)
        self._route_routines()
        self.progress("set-up", 4, SETUP_STAGES)
        self.occupancy = np.zeros((N_KINDS, net.n_edges), dtype=np.int32)
        self.event_log = EventLog()
        self.series = TimeSeries(self.clock, config.sim.timeseries_every_min)
        self.policing = Policing(network=net, router=self.router, clock=self.clock, config=config.police,
                                 crime_config=config.crime, officers=self.officers, residents=self.residents,
                                 event_log=self.event_log, routes=self.officer_routes)  # fmt: skip
        self.offending = Offending(network=net, router=self.router, clock=self.clock, config=config.crime,
                                   rngs=self.rngs, offenders=self.offenders, residents=self.residents, env=self.env,
                                   routes=self.offender_routes, event_log=self.event_log, policing=self.policing,
                                   area=self.area, land=self.land, on_crime=self.series.crime,
                                   on_expected=self.series.expected)  # fmt: skip
        self.mean_trust_start = self.offending.mean_trust_start
        self.survey = Survey(config.survey, self.rngs["survey"], residents=self.residents, event_log=self.event_log,
                             policing=self.policing, nearby=self.offending.nearby_segments,
                             n_segments=net.n_segments, days=config.sim.days)  # fmt: skip
        if mesa_agents:
            for i in range(self.residents.n):
                res.Resident(self, i)
            for i in range(self.offenders.n):
                off.Offender(self, i)
            for i in range(self.officers.n):
                ofc.Officer(self, i)
        self.ledger = Ledger()
        self.incidents = load_incidents(config, net)
        parts = ModelParts(config=config, network=net, router=self.router, clock=self.clock, rngs=self.rngs,
                           env=self.env, residents=self.residents, officers=self.officers, policing=self.policing,
                           offender_routes=self.offender_routes, event_log=self.event_log, ledger=self.ledger,
                           mean_trust_start=self.mean_trust_start, offending=self.offending,
                           incidents=self.incidents)  # fmt: skip
        self.policies = build_policies(config.policies)
        self.contexts = [ModelContext(parts, p.name) for p in self.policies]
        self._fallback = ModelContext(parts, "patrol")
        self.offending.update_collective_efficacy()
        for policy, ctx in zip(self.policies, self.contexts, strict=True):
            policy.setup(ctx)
        self.offender_routes.set_closed(self.env.gated_edges() if self.env.gated.any() else None)
        self.running = True
        self.progress("set-up", SETUP_STAGES, SETUP_STAGES)

    # ------------------------------------------------------------------ set-up helpers
    def _route_routines(self) -> None:
        """Route every resident's routine trips once, in one batch (they repeat every day).

        One shortest-path tree per origin (``RouteBook`` -> ``Router.routes_from_trees``): at 1M
        residents about 5M distinct trips from the few thousand nodes of a city.
        """
        book = self.resident_routes
        start, end, _ = book.trips(*self.residents.routine_trips())
        self.residents.index_routine_routes(start, end)
        _log.info("routed %s routine trips: %s edges, %.0f MiB", f"{book.n_trips:,}", f"{book.size:,}",
                  book.nbytes / 2**20)  # fmt: skip

    def _station_nodes(self) -> NDArray[np.int64]:
        net = self.network
        if self.config.police.stations:
            lookup = {int(o): i for i, o in enumerate(net.node_osm_id)}
            missing = [s for s in self.config.police.stations if int(s) not in lookup]
            if missing:
                raise ConfigError("police.stations", missing, "OSM node ids of nodes in the street network")
            return np.array([lookup[int(s)] for s in self.config.police.stations], dtype=np.int64)
        if net.poi_police.size:
            return net.poi_police.astype(np.int64)
        return np.array([ofc.find_central_node(net)], dtype=np.int64)

    # ------------------------------------------------------------------ the step
    def step(self) -> None:
        """Advance the city by one clock step (process order in docs/model.md)."""
        c = self.clock
        now, t_end = c.now_min, c.now_min + c.step_min
        if c.is_midnight:
            self.residents.plan_day(self.rngs["routine"], c.day_start_min(), c.is_weekend, step=c.step)
            self.offending.update_collective_efficacy()
        self.survey.observe(now, midnight=c.is_midnight)
        for policy, ctx in zip(self.policies, self.contexts, strict=True):
            policy.on_step(ctx)
        self.residents.leave(self.resident_routes, now, c.step)
        self.offending.routine(now, c.hour_of_day, c.weekday)
        self.policing.dispatch(now)
        choosers = [lambda idle, p=p, ctx=ctx: p.choose_patrol(ctx, idle)
                    for p, ctx in zip(self.policies, self.contexts, strict=True)]  # fmt: skip
        self.policing.give_orders(now, choosers, lambda idle: random_patrol(self._fallback, idle))
        self._move(c.step_min * 60.0, t_end)
        self.offending.offend(t_end, self.occupancy, c.is_dark, c.hour_of_day, c.weekday)
        self._update_police_presence(t_end)
        self.env.decay_and_spread(c.step_min / MINUTES_PER_DAY)
        self.officers.book_time(c.step_min)
        self.series.end_step(now, self.officers.minutes, self.residents.trust, len(self.policing.waiting))
        c.step += 1
        if c.step >= c.n_steps:
            self.running = False
            self.survey.finish(c.now_min)

    def _move(self, dt_s: float, t_end: float) -> None:
        """Advance every traveller along its route; handle arrivals; recount occupancy per edge.

        Residents are event-driven (only travellers move, and their counts per edge are kept); the
        few offenders and officers are stepped and counted whole.
        """
        r, o, of = self.residents, self.offenders, self.officers
        r.move(self.resident_routes, self.network.edge_length_m, dt_s, t_end, self.clock.step)
        arrived_o = self._advance(o, self.offender_routes, dt_s)
        arrived_p = self._advance(of, self.officer_routes, dt_s)
        # agents whose trip was empty (already there) arrive at once
        self.offending.arrive(np.flatnonzero((o.state == off.TRAVEL) & (arrived_o | (o.route_pos >= o.route_end))),
                              t_end)  # fmt: skip
        for i in np.flatnonzero(arrived_p | (of.route_pos >= of.route_end)):
            self.policing.arrive(int(i), t_end)
        kinds = np.concatenate([o.occupancy_kind(), of.occupancy_kind()])
        edges = np.concatenate([o.position_edge, of.position_edge])
        count_occupancy(edges, kinds, N_KINDS, self.network.n_edges, out=self.occupancy)
        self.occupancy[0] += r.public_per_edge()

    def _advance(self, pop: off.Offenders | ofc.Officers, book: RouteBook, dt_s: float) -> NDArray[np.bool_]:
        return advance_along_routes(
            book.buffer, pop.route_end, self.network.edge_length_m, pop.route_pos, pop.position_edge,
            pop.position_offset_m, pop.speed_mps, dt_s, route_length_m=book.length_buffer,
        )  # fmt: skip

    def _update_police_presence(self, t_end: float) -> None:
        of = self.officers
        on_street = of.occupancy_kind() >= 0
        segments = self.network.edge_segment[of.position_edge[on_street]]
        # a stop watches a place only if it is long enough to matter: the brief pauses of random
        # patrol suppress the moment but make no offender give a place up (Koper 1995: stops under
        # 5-10 minutes barely deter; Kelling et al. 1974: random patrol made no difference)
        stop = (of.state == ofc.DWELL) & (of.dwell_target_min >= KOPER_NO_RESIDUAL_MIN)
        standing = stop | (of.state == ofc.ATTEND)
        self.env.update_police(segments, t_end, self.clock.step_min, standing[on_street])

    # ------------------------------------------------------------------ outputs
    def run(self) -> SimulationResult:
        """Run to the configured end and return the results (peak memory goes to the ``precinct`` log)."""
        while self.running:
            self.step()
            self.progress("run", self.clock.step, self.clock.n_steps)
        _log.info("%s: %s steps done; peak memory %.2f GiB (ru_maxrss)", self.config.city.name,
                  f"{self.clock.step:,}", peak_memory_bytes() / 2**30)  # fmt: skip
        return build_result(self)

    def timeseries(self) -> pd.DataFrame:
        """Return the time series so far (one row per ``sim.timeseries_every_min``)."""
        return self.series.frame()


def grid_areas(net: StreetNetwork, cell_m: float) -> NDArray[np.int64]:
    """Return a neighbourhood id per segment: square ``cell_m`` cells over segment midpoints, 0..k-1."""
    mid = (
        net.node_xy[net.edge_source[net.segment_edge]] * 0.5
        + net.node_xy[net.indices[net.segment_edge]] * 0.5
    )
    cell = np.floor((mid - mid.min(axis=0)) / cell_m).astype(np.int64)
    key = cell[:, 0] * (int(cell[:, 1].max()) + 1) + cell[:, 1]
    _, area = np.unique(key, return_inverse=True)
    return area.astype(np.int64).ravel()


def run_simulation(
    config: ModelConfig, *, network: StreetNetwork | None = None, progress: Progress | None = None
) -> SimulationResult:
    """Build a model from ``config``, run it to the end and return its results.

    ``progress(phase, done, total)`` is told how the set-up and the run advance (see :class:`PrecinctModel`).
    """
    return PrecinctModel(config, network=network, mesa_agents=False, progress=progress).run()
