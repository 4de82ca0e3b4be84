"""The Precinct model: residents, offenders and officers on a real street network (Mesa 3).

Agent state lives in arrays owned by the model (one population object per kind) and each step
advances whole populations through the ``core_ext`` kernels; Mesa ``Agent`` objects are thin views
onto one row each, so ``model.agents``, ``AgentSet.select`` and ``DataCollector`` work as Mesa users
expect while the hot loop never calls Python once per agent. See docs/model.md for the ODD
description and the sources of every mechanism.

Example
-------
>>> from sim.config import ModelConfig
>>> from sim.model import run_simulation
>>> result = run_simulation(ModelConfig(seed=1))          # doctest: +SKIP
>>> result.metrics["crimes_total"]                         # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import mesa
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from core_ext import Router, advance_along_routes, count_occupancy
from sim.agents import offender as off
from sim.agents import officer as ofc
from sim.agents import resident as res
from sim.agents._routes import RouteBook
from sim.clock import MINUTES_PER_DAY, Clock
from sim.config import ModelConfig
from sim.crime import CRIME_TYPES, Opportunity, crime_hazards
from sim.environment import Environment
from sim.events import EventLog
from sim.network import StreetNetwork, load_network
from sim.policies import BaselineConfig, BaselinePolicy, PatrolOrders, build_policies

__all__ = ["PoliceView", "PrecinctModel", "SimulationResult", "run_simulation"]

RNG_STREAMS = ("population", "offenders", "environment", "routine", "offending", "victims", "reporting",
               "patrol", "policy")  # fmt: skip
N_KINDS = 3  # occupancy kinds: 0 residents in public, 1 offenders out, 2 officers on the street


@dataclass
class Call:
    """A reported crime waiting for, or served by, an officer."""

    call_id: int
    crime_time_min: float
    call_time_min: float
    edge: int
    victim: int
    officer: int = -1
    dispatch_min: float = math.nan
    arrival_min: float = math.nan


class PoliceView:
    """What the police side may see: recorded crime only (Lum & Isaac 2016 on why this matters)."""

    def __init__(self, model: PrecinctModel) -> None:
        self._model = model
        self._edges: list[int] = []
        self._times: list[float] = []
        self._types: list[str] = []
        self.extra_intelligence: list[tuple[int, float]] = []  # (segment, time) surfaced at meetings

    def record(self, edge: int, time_min: float, crime_type: str) -> None:
        self._edges.append(edge)
        self._times.append(time_min)
        self._types.append(crime_type)

    def recorded_crimes(self) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """(edge, time_min) of every recorded crime so far."""
        return np.asarray(self._edges, dtype=np.int64), np.asarray(self._times, dtype=np.float64)


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
    """

    def __init__(
        self, config: ModelConfig, *, network: StreetNetwork | None = None, mesa_agents: bool = True
    ):
        config.validate()
        super().__init__(seed=config.seed)
        self.config = config
        # independent streams per process, so that the same seed gives the same residents, offenders
        # and routines in every policy arm (common random numbers)
        streams = np.random.SeedSequence(config.seed).spawn(len(RNG_STREAMS))
        self.rngs = {name: np.random.default_rng(s) for name, s in zip(RNG_STREAMS, streams, strict=True)}
        net = network or load_network(
            config.city.path, network_type=config.city.network_type, cache_dir=config.city.cache_dir
        )
        self.network = net
        self.clock = Clock(config.sim)
        self.router = Router(net.indptr, net.indices, net.edge_length_m, node_xy=net.node_xy)
        self.env = Environment(net, config.crime, self.rngs["environment"], self.router)
        self.area = _grid_areas(net, config.city.area_cell_m)
        self.n_areas = int(self.area.max()) + 1
        home_w = res._class_weights(net, res.HOME_CLASS_WEIGHT, 0.3)
        self.residents = res.Residents(
            net, config.population, self.rngs["population"], self._leisure_segments()
        )
        self.offenders = off.Offenders(net, config.population, self.rngs["offenders"], self.router, home_w)
        self.officers = ofc.Officers(net, config.police, self._station_nodes())
        self.homes_per_segment = np.bincount(self.residents.home_segment, minlength=net.n_segments)
        self.vehicles_per_segment = np.bincount(
            self.residents.home_segment[self.residents.has_vehicle], minlength=net.n_segments
        )
        self.resident_routes = RouteBook(self.router, net.edge_source, net.indices, net.edge_length_m)
        self.offender_routes = RouteBook(self.router, net.edge_source, net.indices, net.edge_length_m)
        self.officer_routes = RouteBook(self.router, net.edge_source, net.indices, net.edge_length_m)
        self._route_routines()
        self.occupancy = np.zeros((N_KINDS, net.n_edges), dtype=np.int32)
        self.event_log = EventLog()
        self.police_view = PoliceView(self)
        self.calls: list[Call] = []
        self.pending: list[int] = []  # reported, not yet called in
        self.waiting: list[int] = []  # called in, no officer free yet
        self.offender_heading_home = np.zeros(self.offenders.n, dtype=bool)
        self.collective_efficacy = np.zeros(self.n_areas)
        self._beats: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None
        self._nearby: dict[int, NDArray[np.int64]] = {}
        self._hour_rows: list[dict[str, float]] = []
        self._hour_acc = _HourAccumulator()
        self.mean_trust_start = float(self.residents.trust.mean())
        if mesa_agents:
            for i in range(self.residents.n):
                res.Resident(self, i)
            for i in range(self.offenders.n):
                off.Offender(self, i)
            for i in range(self.officers.n):
                ofc.Officer(self, i)
        self.policies = build_policies(config.policies)
        self._fallback_patrol = BaselinePolicy(BaselineConfig())
        self._update_collective_efficacy()
        for policy in self.policies:
            policy.setup(self)
        self.offender_routes.set_closed(self.env.gated_edges() if self.env.gated.any() else None)
        self.running = True

    # ------------------------------------------------------------------ set-up helpers
    def _route_routines(self) -> None:
        """Route every resident's routine trips once, in one batch (they repeat every day)."""
        r = self.residents
        w = r.is_worker
        home, work, leisure = r.home_edge, r.work_edge, r.leisure_edge
        origins = np.concatenate([home[w], work[w], home, home, leisure[:, 0], leisure[:, 1]])
        targets = np.concatenate([work[w], home[w], leisure[:, 0], leisure[:, 1], home, home])
        self.resident_routes.trips(origins, targets)

    def _leisure_segments(self) -> NDArray[np.int64]:
        """Where people go out: community venues and the most attractive 5% of segments."""
        net = self.network
        a0 = self.env.static_attractiveness
        top = np.argsort(-a0, kind="stable")[: max(1, net.n_segments // 20)]
        venues = (
            net.edge_segment[net.indptr[net.poi_community]]
            if net.poi_community.size
            else np.zeros(0, np.int64)
        )
        return np.unique(np.concatenate([top, venues])).astype(np.int64)

    def _station_nodes(self) -> NDArray[np.int64]:
        net = self.network
        if self.config.police.stations:
            lookup = {int(o): i for i, o in enumerate(net.node_osm_id)}
            missing = [s for s in self.config.police.stations if int(s) not in lookup]
            if missing:
                from sim.errors import ConfigError

                raise ConfigError("police.stations", missing, "OSM node ids of nodes in the street network")
            return np.array([lookup[int(s)] for s in self.config.police.stations], dtype=np.int64)
        if net.poi_police.size:
            return net.poi_police.astype(np.int64)
        return np.array([ofc.find_central_node(net)], dtype=np.int64)

    def nearby_segments(self, segment: int) -> NDArray[np.int64]:
        """Segments with an end node within ``crime.near_repeat_m`` of the segment's ends (cached)."""
        cached = self._nearby.get(segment)
        if cached is None:
            net = self.network
            e = int(net.segment_edge[segment])
            nodes, _ = self.router.find_nodes_within(np.array([net.edge_source[e], net.indices[e]]),
                                                     self.config.crime.near_repeat_m)  # fmt: skip
            edges = np.concatenate([np.arange(net.indptr[v], net.indptr[v + 1]) for v in nodes])
            cached = np.unique(net.edge_segment[edges])
            self._nearby[segment] = cached
        return cached

    def beats(self, n_beats: int | None = None) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Partition the network into beats (one per on-duty officer by default); assign officers."""
        if self._beats is None or (n_beats is not None and self._beats[0].size != n_beats):
            k = n_beats or max(1, int(self.officers.on_duty().sum()))
            self._beats = ofc.partition_beats(self.network, self.router, k)
            self.officers.beat[:] = np.arange(self.officers.n) % k
        return self._beats

    def segment_beat(self) -> NDArray[np.int64]:
        _, node_beat = self.beats()
        return node_beat[self.network.edge_source[self.network.segment_edge]]

    # ------------------------------------------------------------------ the step
    def step(self) -> None:
        """Advance the city by one clock step (process order in docs/model.md)."""
        c = self.clock
        now = c.now_min
        if c.is_midnight:
            self.residents.plan_day(self.rngs["routine"], c.day_start_min(), c.is_weekend)
            self._update_collective_efficacy()
        for policy in self.policies:
            policy.on_step(self)
        self._start_resident_trips(now)
        self._offender_routine(now, c.hour_of_day)
        self._dispatch(now)
        self._officer_orders(now)
        self._move(c.step_min * 60.0, now + c.step_min)
        self._offend(now + c.step_min)
        of = self.officers
        officer_on_street = of.occupancy_kind() >= 0
        seg_officers = self.network.edge_segment[of.position_edge[officer_on_street]]
        standing = (of.state == ofc.DWELL) | (of.state == ofc.ATTEND)
        self.env.update_police(seg_officers, now + c.step_min, c.step_min, standing[officer_on_street])
        self.env.decay_and_spread(c.step_min / MINUTES_PER_DAY)
        self.officers.book_time(c.step_min)
        self._record_hour(now)
        c.step += 1
        if c.step >= c.n_steps:
            self.running = False

    def _start_resident_trips(self, now: float) -> None:
        r = self.residents
        who, dest, target = r.departures(now)
        if who.size:
            self._start_trips(r, self.resident_routes, who, dest)
            r.state[who] = res.TRAVEL
            r.target_state[who] = target

    def _start_trips(
        self, pop: Any, book: RouteBook, who: NDArray[np.int64], dest: NDArray[np.int64]
    ) -> NDArray[np.bool_]:
        """Give agents ``who`` routes from where they stand to the end of edges ``dest``."""
        start, end, ok = book.trips(pop.position_edge[who], dest)
        moving = end > start
        w = who[moving]
        pop.route_pos[w] = start[moving]
        pop.route_end[w] = end[moving]
        pop.position_edge[w] = book.buffer[start[moving]]
        pop.position_offset_m[w] = 0.0
        stay = who[~moving]
        pop.route_pos[stay] = 0
        pop.route_end[stay] = 0
        return ok

    def _offender_routine(self, now: float, hour: float) -> None:
        o = self.offenders
        cfg = self.config.crime
        active = o.is_active_hour(hour)
        # fixed-size draws per offender per step, so the stream stays aligned across policy arms
        u, u_return, u_pick, u_motive, u_phase = self.rngs["offenders"].random((5, o.n))
        # offending careers are intermittent: spells of activity between dormant spells
        step_days = self.clock.step_min / MINUTES_PER_DAY
        p_stop = 1.0 - math.exp(-step_days / cfg.active_spell_days)
        p_start = 1.0 - math.exp(-step_days / cfg.dormant_spell_days)
        flip = np.where(o.in_spell, u_phase < p_stop, u_phase < p_start)
        o.in_spell ^= flip
        # motivation to go out arrives at random (a Poisson process while rested and in active hours)
        p_out = 1.0 - math.exp(-cfg.outings_per_day * self.clock.step_min / off.ACTIVE_MIN_PER_DAY)
        rested = (o.state == off.REST) & (now >= o.rest_until_min) & (u_motive < p_out) & o.in_spell
        done_search = (o.state == off.SEARCH) & (now >= o.search_until_min)
        if not active:
            home = np.flatnonzero(done_search | ((o.state == off.TRAVEL) & ~self.offender_heading_home))
            self._send_offenders_home(home)
            return
        going_home = np.flatnonzero(done_search & (now >= o.outing_until_min))
        self._send_offenders_home(going_home)
        go = np.flatnonzero(rested | (done_search & (now < o.outing_until_min)))
        if go.size == 0:
            return
        o.outing_until_min[go[o.state[go] == off.REST]] = now + cfg.outing_max_hours * 60.0
        segs = o.choose_search_segments(
            go, self.env.attractiveness(), self.env.gated, u[go], cfg.attraction_power
        )
        back = o.choose_return_segments(go, now, self.nearby_segments, self.env.gated, cfg.return_prob,
                                        cfg.return_decay_days, cfg.patch_stay, u_return[go], u_pick[go])  # fmt: skip
        segs = np.where(back >= 0, back, segs)
        self._start_trips(o, self.offender_routes, go, self.network.segment_edge[segs])
        o.state[go] = off.TRAVEL
        self.offender_heading_home[go] = False

    def _send_offenders_home(self, who: NDArray[np.int64]) -> None:
        if who.size:
            o = self.offenders
            self._start_trips(o, self.offender_routes, who, o.home_edge[who])
            o.state[who] = off.TRAVEL
            self.offender_heading_home[who] = True

    def _dispatch(self, now: float) -> None:
        """Send the nearest available officer (by network travel time) to each waiting call, FIFO."""
        due = [cid for cid in self.pending if self.calls[cid].call_time_min <= now]
        if due:
            self.pending = [cid for cid in self.pending if self.calls[cid].call_time_min > now]
            self.waiting.extend(sorted(due, key=lambda cid: (self.calls[cid].call_time_min, cid)))
        of = self.officers
        while self.waiting:
            free = np.flatnonzero(of.available())
            if free.size == 0:
                return
            call = self.calls[self.waiting.pop(0)]
            # one multi-source search from every free officer; the call's node reads off the nearest
            nodes = self.network.indices[of.position_edge[free]]
            label, _ = self.router.nearest_sources(nodes)
            chosen = int(free[label[int(self.network.edge_source[call.edge])]])
            call.officer = chosen
            call.dispatch_min = now
            of.state[chosen] = ofc.RESPOND
            of.call[chosen] = call.call_id
            of.needs_orders[chosen] = False
            self._start_trips(of, self.officer_routes, np.array([chosen]), np.array([call.edge]))
            self.event_log.add(time_min=now, step=self.clock.step, kind="dispatch", edge=call.edge,
                               segment=int(self.network.edge_segment[call.edge]), officer_id=chosen,
                               call_id=call.call_id)  # fmt: skip

    def _officer_orders(self, now: float) -> None:
        of = self.officers
        # dwell, on-scene and meeting times are kept to the nearest whole step
        timed = (of.state == ofc.DWELL) | (of.state == ofc.ATTEND) | (of.state == ofc.MEETING)
        done = timed & (now + 0.5 * self.clock.step_min >= of.busy_until_min)
        of.state[done] = ofc.PATROL
        of.call[done] = -1
        of.needs_orders |= done
        idle = np.flatnonzero(of.needs_orders & (of.state != ofc.OFF))
        for policy in self.policies:
            if idle.size == 0:
                break
            orders = policy.choose_patrol(self, idle)
            if orders is None or orders.officers.size == 0:
                continue
            self._give_orders(orders)
            idle = np.setdiff1d(idle, orders.officers)
        if idle.size:
            # no policy gave these officers orders: they patrol at random rather than stand still
            self._give_orders(self._fallback_patrol.choose_patrol(self, idle))

    def send_officers(
        self,
        officers: NDArray[np.int64],
        destination_edges: NDArray[np.int64],
        *,
        state: int,
        until_min: float,
    ) -> None:
        """Take officers off patrol: send them to ``destination_edges`` in ``state`` (e.g.
        ``officer.MEETING``) until ``until_min``, after which they ask for patrol orders again.
        Officers responding to or attending a call are not taken (the caller should pick from
        ``officers.available()``)."""
        of = self.officers
        officers = np.asarray(officers, dtype=np.int64)
        if np.any((of.state[officers] == ofc.RESPOND) | (of.state[officers] == ofc.ATTEND)):
            raise ValueError("send_officers: some officers are on a call")
        self._start_trips(of, self.officer_routes, officers, np.asarray(destination_edges, dtype=np.int64))
        of.state[officers] = state
        of.busy_until_min[officers] = until_min
        of.needs_orders[officers] = False

    def _give_orders(self, orders: PatrolOrders) -> None:
        of = self.officers
        w = orders.officers
        self._start_trips(of, self.officer_routes, w, orders.destination_edge)
        of.state[w] = ofc.PATROL
        of.dwell_target_min[w] = orders.dwell_min
        of.needs_orders[w] = False

    def _move(self, dt_s: float, t_end: float) -> None:
        net = self.network
        r, o, of = self.residents, self.offenders, self.officers
        arrived_r = self._advance(r, self.resident_routes, dt_s)
        arrived_o = self._advance(o, self.offender_routes, dt_s)
        arrived_p = self._advance(of, self.officer_routes, dt_s)
        # agents whose trip was empty (already there) arrive at once
        r_done = np.flatnonzero((r.state == res.TRAVEL) & (arrived_r | (r.route_pos >= r.route_end)))
        r.arrive(r_done, t_end)
        o_done = np.flatnonzero((o.state == off.TRAVEL) & (arrived_o | (o.route_pos >= o.route_end)))
        home = o_done[self.offender_heading_home[o_done]]
        o.state[home] = off.REST
        search = o_done[~self.offender_heading_home[o_done]]
        o.state[search] = off.SEARCH
        o.search_until_min[search] = t_end + off.SEARCH_DWELL_MEAN_MIN
        p_done = np.flatnonzero(arrived_p | (of.route_pos >= of.route_end))
        for i in p_done:
            self._officer_arrived(int(i), t_end)
        kinds = np.concatenate([r.occupancy_kind(), o.occupancy_kind(), of.occupancy_kind()])
        edges = np.concatenate([r.position_edge, o.position_edge, of.position_edge])
        count_occupancy(edges, kinds, N_KINDS, net.n_edges, out=self.occupancy)

    def _advance(self, pop: Any, book: RouteBook, dt_s: float) -> NDArray[np.bool_]:
        return advance_along_routes(
            book.buffer, pop.route_end, self.network.edge_length_m, pop.route_pos, pop.position_edge,
            pop.position_offset_m, pop.speed_mps, dt_s, route_length_m=book.length_buffer,
        )  # fmt: skip

    def _officer_arrived(self, i: int, t: float) -> None:
        of = self.officers
        edge = int(of.position_edge[i])
        seg = int(self.network.edge_segment[edge])
        if of.state[i] == ofc.PATROL and not of.needs_orders[i]:
            of.state[i] = ofc.DWELL
            of.busy_until_min[i] = t + of.dwell_target_min[i]
            self.event_log.add(time_min=t, step=self.clock.step, kind="patrol_visit", edge=edge, segment=seg,
                               officer_id=i, dwell_min=float(of.dwell_target_min[i]),
                               offset_m=float(of.position_offset_m[i]))  # fmt: skip
        elif of.state[i] == ofc.RESPOND:
            call = self.calls[int(of.call[i])]
            call.arrival_min = t
            of.state[i] = ofc.ATTEND
            of.busy_until_min[i] = t + self.config.police.on_scene_min
            self.event_log.add(time_min=t, step=self.clock.step, kind="arrival", edge=edge, segment=seg,
                               officer_id=i, call_id=call.call_id, dwell_min=self.config.police.on_scene_min,
                               offset_m=float(of.position_offset_m[i]))  # fmt: skip
            response = t - call.crime_time_min
            cfg = self.config.crime
            good = response <= self.config.police.response_target_min + (
                call.call_time_min - call.crime_time_min
            )
            self.residents.adjust_trust(
                call.victim, cfg.trust_gain_good_response if good else -cfg.trust_loss_slow_response
            )
        elif of.state[i] == ofc.RETURN:
            of.state[i] = ofc.PATROL
            of.needs_orders[i] = True

    # ------------------------------------------------------------------ offending
    def opportunity(self) -> Opportunity:
        """Per-segment targets and guardians now (from the occupancy counts)."""
        net = self.network
        public = np.bincount(net.edge_segment, weights=self.occupancy[0], minlength=net.n_segments).astype(
            np.int64
        )
        occupied = self.residents.homes_occupied_per_segment()
        return Opportunity(
            people_in_public=public,
            homes_empty=self.homes_per_segment - occupied,
            homes_occupied=occupied,
            vehicles=self.vehicles_per_segment,
        )

    def guardian_strength(self) -> NDArray[np.float64]:
        c = self.config.crime
        ce = self.collective_efficacy[self.area]
        return c.guardian_effect * self.env.surveillance * (1.0 + c.collective_efficacy_weight * ce)

    def _offend(self, t: float) -> None:
        o = self.offenders
        rng = self.rngs["offending"]
        u_offend, u_type, u_victim, u_spree, u_where, u_notice, u_give_up = rng.random((7, o.n))
        out = np.flatnonzero((o.state != off.REST) & ~self.offender_heading_home)
        if out.size == 0:
            return
        segs = self.network.edge_segment[o.position_edge[out]]
        allowed = ~self.env.gated[segs]  # gated segments are closed to offenders: no targets there
        out, segs = out[allowed], segs[allowed]
        if out.size == 0:
            return
        opp = self.opportunity()
        dark_rob, dark_other = self.env.darkness_multiplier(self.clock.is_dark)
        deterrence, watch = self.env.police_fields(t)
        haz = crime_hazards(segs, opp, base_rate_per_hour=self.config.crime.base_rate_per_hour,
                            attractiveness=self.env.attractiveness(), guardian_strength=self.guardian_strength(),
                            deterrence=deterrence, dark_robbery=dark_rob, dark_other=dark_other)  # fmt: skip
        searching = o.state[out] == off.SEARCH
        haz *= np.where(searching, 1.0, self.config.crime.enroute_factor)[:, None]
        total = haz.sum(axis=1)
        p = 1.0 - np.exp(-total * self.clock.step_min / 60.0)
        offend = u_offend[out] < p
        # a searcher who notices that police watch this place (standing here, or lately) leaves: gives
        # up the outing or moves on to search elsewhere (displacement), CrimeConfig.deterred_give_up_prob
        noticed = searching & ~offend & (u_notice[out] < watch[segs])
        if noticed.any():
            deterred, where = out[noticed], segs[noticed]
            give_up = u_give_up[deterred] < self.config.crime.deterred_give_up_prob
            for i, seg, gave_up in zip(deterred, where, give_up, strict=True):
                self.event_log.add(time_min=t, step=self.clock.step, kind="deterred_give_up" if gave_up
                                   else "deterred_move_on", edge=int(o.position_edge[i]), segment=int(seg),
                                   offender_id=int(i), offset_m=float(o.position_offset_m[i]))  # fmt: skip
            self._send_offenders_home(deterred[give_up])
            o.search_until_min[deterred[~give_up]] = t
        for k in np.flatnonzero(offend):
            i = int(out[k])
            cum = np.cumsum(haz[k]) / total[k]
            ctype = int(min(np.searchsorted(cum, u_type[i], side="right"), len(CRIME_TYPES) - 1))
            self._commit_crime(i, int(segs[k]), CRIME_TYPES[ctype], float(u_victim[i]), t, opp)
            if u_spree[i] < self.config.crime.spree_prob:
                self._continue_spree(i, int(segs[k]), float(u_where[i]), t)
            else:
                o.rest_until_min[i] = t + self.config.crime.cooldown_days * MINUTES_PER_DAY
                self._send_offenders_home(np.array([i]))

    def _commit_crime(
        self, i: int, seg: int, ctype: str, u_victim: float, t: float, opp: Opportunity
    ) -> None:
        net, r, o = self.network, self.residents, self.offenders
        edge = int(o.position_edge[i])
        if ctype == "robbery":
            pool = np.flatnonzero(r.in_public() & (net.edge_segment[r.position_edge] == seg))
        elif ctype == "burglary":
            pool = np.flatnonzero((r.home_segment == seg) & (r.state != res.HOME))
        else:
            pool = np.flatnonzero((r.home_segment == seg) & r.has_vehicle)
        victim = int(pool[min(int(u_victim * pool.size), pool.size - 1)]) if pool.size else -1
        home_dist = self.router.shortest_path_lengths(int(o.home_node[i]))[int(net.edge_source[edge])]
        offset = float(o.position_offset_m[i])
        reported, recorded, call_id = self._report(ctype, victim, seg, t)
        self.event_log.add(time_min=t, step=self.clock.step, kind="crime", edge=edge, segment=seg,
                           crime_type=ctype, offender_id=i, victim_id=victim, reported=reported,
                           recorded=recorded, call_id=call_id, offender_home_dist_m=float(home_dist) + offset,
                           offset_m=offset)  # fmt: skip
        self.env.add_crime(seg)
        self._hour_acc.crime(ctype, recorded)
        o.offences[i] += 1
        last = int(o.last_success_segment[i])
        same_patch = last >= 0 and bool(np.isin(seg, self.nearby_segments(last)))
        o.patch_streak[i] = o.patch_streak[i] + 1 if same_patch else 0
        o.last_success_segment[i] = seg
        o.last_success_min[i] = t
        if victim >= 0:
            r.victimisations[victim] += 1
            r.adjust_trust(victim, -self.config.crime.trust_loss_victim)

    def _continue_spree(self, i: int, seg: int, u_where: float, t: float) -> None:
        """Search on nearby: offenders often strike several targets close together in one outing."""
        o = self.offenders
        options = self.nearby_segments(seg)
        options = options[~self.env.gated[options] & (options != seg)]
        if options.size == 0:
            self._send_offenders_home(np.array([i]))
            return
        nxt = int(options[min(int(u_where * options.size), options.size - 1)])
        self._start_trips(o, self.offender_routes, np.array([i]), np.array([self.network.segment_edge[nxt]]))
        o.state[i] = off.TRAVEL
        self.offender_heading_home[i] = False

    def _report(self, ctype: str, victim: int, seg: int, t: float) -> tuple[bool, bool, int]:
        """Does the victim (or a witness) report, is it recorded, and when does the call come in."""
        rng = self.rngs["reporting"]
        cfg = self.config.crime
        r = self.residents
        u_report, u_witness, u_record, u_delay = rng.random(4)
        base = cfg.report_base[ctype]
        trust_victim = r.trust[victim] if victim >= 0 else self.mean_trust_start
        reported = u_report < min(1.0, base * trust_victim / self.mean_trust_start)
        if not reported and ctype == "robbery":
            witnesses = np.flatnonzero(r.in_public() & (self.network.edge_segment[r.position_edge] == seg))
            witnesses = witnesses[witnesses != victim]
            if witnesses.size:
                w = int(witnesses[int(u_witness * witnesses.size) % witnesses.size])
                reported = u_witness < 0.5 * min(1.0, base * r.trust[w] / self.mean_trust_start)
        if not reported:
            return False, False, -1
        recorded = bool(u_record < cfg.recording_rate)
        delay = -cfg.report_delay_mean_min * math.log(max(u_delay, 1e-12))
        if ctype == "burglary" and victim >= 0 and r.state[victim] != res.HOME:
            # a burglary is found when the resident comes home
            back = r.activity_end_min[victim]
            delay += max(0.0, (back if math.isfinite(back) else t + 60.0) - t)
        call_id = len(self.calls)
        edge = int(self.network.segment_edge[seg])
        self.calls.append(Call(call_id, t, t + delay, edge, victim))
        self.pending.append(call_id)
        if recorded:
            self.police_view.record(edge, t + delay, ctype)
        return True, recorded, call_id

    def _update_collective_efficacy(self) -> None:
        """Collective efficacy per area, proxied by the mean trust of its residents (0..1)."""
        r = self.residents
        area_of_home = self.area[r.home_segment]
        total = np.bincount(area_of_home, weights=r.trust, minlength=self.n_areas)
        count = np.bincount(area_of_home, minlength=self.n_areas)
        mean = np.divide(total, count, out=np.full(self.n_areas, self.mean_trust_start), where=count > 0)
        self.collective_efficacy = mean

    # ------------------------------------------------------------------ outputs
    def _record_hour(self, now: float) -> None:
        acc = self._hour_acc
        acc.officer_min += self.officers.minutes.sum(axis=0) - acc.last_officer_min
        acc.last_officer_min = self.officers.minutes.sum(axis=0).copy()
        if (now + self.clock.step_min) % 60.0 == 0.0:
            hour = int((now + self.clock.step_min) // 60) - 1
            self._hour_rows.append(acc.flush(hour, self.clock, self.residents.trust, len(self.waiting)))

    def run(self) -> SimulationResult:
        """Run to the configured end and return the results."""
        while self.running:
            self.step()
        from sim.outputs import build_result

        return build_result(self)

    def timeseries(self) -> pd.DataFrame:
        return pd.DataFrame(self._hour_rows)


class _HourAccumulator:
    def __init__(self) -> None:
        self.counts = dict.fromkeys(CRIME_TYPES, 0)
        self.recorded = 0
        self.officer_min = np.zeros(len(ofc.STATE_NAMES))
        self.last_officer_min = np.zeros(len(ofc.STATE_NAMES))

    def crime(self, ctype: str, recorded: bool) -> None:
        self.counts[ctype] += 1
        self.recorded += int(recorded)

    def flush(self, hour: int, clock: Clock, trust: NDArray[np.float64], waiting: int) -> dict[str, float]:
        start_h = clock.config.start_hour
        row: dict[str, float] = {
            "hour": hour, "day": int((hour + start_h) // 24), "hour_of_day": int((hour + start_h) % 24),
            "crimes": sum(self.counts.values()), "crimes_recorded": self.recorded, **self.counts,
            "mean_trust": float(trust.mean()), "calls_waiting": waiting,
        }  # fmt: skip
        for name, minutes in zip(ofc.STATE_NAMES, self.officer_min, strict=True):
            if name != "off":
                row[f"officer_min_{name}"] = float(minutes)
        self.counts = dict.fromkeys(CRIME_TYPES, 0)
        self.recorded = 0
        self.officer_min = np.zeros(len(ofc.STATE_NAMES))
        return row


def _grid_areas(net: StreetNetwork, cell_m: float) -> NDArray[np.int64]:
    """Neighbourhood id per segment: square cells of ``cell_m`` over segment midpoints, renumbered 0..k-1."""
    mid = (
        net.node_xy[net.edge_source[net.segment_edge]] * 0.5
        + net.node_xy[net.indices[net.segment_edge]] * 0.5
    )
    cell = np.floor((mid - mid.min(axis=0)) / cell_m).astype(np.int64)
    key = cell[:, 0] * (int(cell[:, 1].max()) + 1) + cell[:, 1]
    _, area = np.unique(key, return_inverse=True)
    return area.astype(np.int64).ravel()


@dataclass
class SimulationResult:
    """Everything one run produced (see docs/architecture.md for the columns)."""

    events: pd.DataFrame
    timeseries: pd.DataFrame
    segments: pd.DataFrame
    metrics: dict[str, float]
    network: StreetNetwork
    config: ModelConfig
    seed: int
    extra: dict[str, Any] = field(default_factory=dict)


def run_simulation(config: ModelConfig, *, network: StreetNetwork | None = None) -> SimulationResult:
    """Build a model from ``config``, run it to the end and return its results."""
    model = PrecinctModel(config, network=network, mesa_agents=False)
    return model.run()
