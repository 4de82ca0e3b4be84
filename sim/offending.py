"""Offending: offenders' outings, where they search, the offences they commit, and who reports them.

An offender in an active spell and in active hours is motivated to go out at random; they search
an attractive place of their awareness space or return to where they last succeeded, offend with
the hazard of :func:`sim.crime.crime_hazards`, carry on nearby (a spree) or go home and rest.
Searchers who notice police watching give up or move on. Every crime is logged with its truth
(reported, recorded); only reported crime opens a call and only recorded crime reaches the police
view. Mechanisms and sources: docs/model.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from core_ext import Router
from sim.agents import offender as off
from sim.agents import resident as res
from sim.agents._routes import RouteBook, start_trips
from sim.agents.offender import Offenders
from sim.agents.resident import Residents
from sim.clock import MINUTES_PER_DAY, Clock
from sim.config import CrimeConfig
from sim.crime import CRIME_TYPES, Opportunity, PlaceTargets, crime_hazards, decide_report
from sim.environment import Environment
from sim.events import EventLog
from sim.landuse import LandUse
from sim.network import StreetNetwork
from sim.offences import OFFENCES, PREMISES_SHUT
from sim.policing import Policing

__all__ = ["Offending", "activity_schedule", "type_hour_weights", "type_weekday_weights", "type_weights"]


def activity_schedule(config: CrimeConfig) -> NDArray[np.float64]:
    """Return the weekday x hour multipliers of the outing rate (7 x 24, mean 1 over the week)."""
    week = np.outer(np.asarray(config.activity_by_weekday, float), np.asarray(config.activity_by_hour, float))
    out: NDArray[np.float64] = week / week.mean()
    return out


def type_weights(config: CrimeConfig) -> NDArray[np.float64]:
    """Return each offence type's relative hazard (``crime.type_weight``, defaults for types not named)."""
    return np.array([float(config.type_weight.get(k, OFFENCES[k].weight)) for k in CRIME_TYPES])


def type_hour_weights(config: CrimeConfig) -> NDArray[np.float64]:
    """Return the hour-of-day multipliers of each crime type's hazard (types x 24, each mean 1)."""
    return _type_profiles(config.type_by_hour, 24)


def type_weekday_weights(config: CrimeConfig) -> NDArray[np.float64]:
    """Return the day-of-week multipliers of each crime type's hazard (types x 7, Monday first, each mean 1)."""
    return _type_profiles(config.type_by_weekday, 7)


def _type_profiles(profiles: dict[str, list[float]], n: int) -> NDArray[np.float64]:
    out = np.ones((len(CRIME_TYPES), n))
    for k, ctype in enumerate(CRIME_TYPES):
        if ctype in profiles:
            w = np.asarray(profiles[ctype], dtype=np.float64)
            out[k] = w / w.mean()
    return out


class Offending:
    """The offenders' side of a step: routines, offences, sprees, and the report of each crime."""

    def __init__(
        self,
        *,
        network: StreetNetwork,
        router: Router,
        clock: Clock,
        config: CrimeConfig,
        rngs: dict[str, np.random.Generator],
        offenders: Offenders,
        residents: Residents,
        env: Environment,
        routes: RouteBook,
        event_log: EventLog,
        policing: Policing,
        area: NDArray[np.int64],
        land: LandUse,
        on_crime: Callable[[str, bool], None],
        on_expected: Callable[[NDArray[np.float64]], None] | None = None,
    ) -> None:
        self.network = network
        self.router = router
        self.clock = clock
        self.config = config
        self.rngs = rngs
        self.offenders = offenders
        self.residents = residents
        self.env = env
        self.routes = routes
        self.event_log = event_log
        self.policing = policing
        self.area = area
        self.n_areas = int(area.max()) + 1
        self.on_crime = on_crime
        self.on_expected = on_expected
        self.heading_home = np.zeros(offenders.n, dtype=bool)
        self.homes_per_segment = np.bincount(residents.home_segment, minlength=network.n_segments)
        self.vehicles_per_segment = np.bincount(
            residents.home_segment[residents.has_vehicle], minlength=network.n_segments
        )
        self.mean_trust_start = float(residents.trust.mean())
        self.collective_efficacy = np.zeros(self.n_areas)
        self._nearby: dict[int, NDArray[np.int64]] = {}
        self.activity = activity_schedule(config)
        self.type_by_hour = type_hour_weights(config)
        self.type_by_weekday = type_weekday_weights(config)
        self.type_weight = type_weights(config)
        self.places = PlaceTargets.from_land_use(land, self.homes_per_segment)
        # multiplier of the chance a crime on each segment is reported (strategies raise it)
        self.report_factor = np.ones(network.n_segments)
        # the recorded crime each segment should see, given where offenders were: the sum over steps
        # of each offender's chance to offend there, times the chance that offence is recorded at its
        # type's base reporting rate (trust and witnesses left out). It draws no random number, so the
        # event stream is unchanged; it is the model's expected intensity per segment, far less noisy
        # than the crimes a run happens to draw (the calibrated model's hot-spot forecast, sim.forecast.model)
        self.expected_recorded = np.zeros(network.n_segments)
        self._record_chance = np.array(
            [min(1.0, config.report_base.get(k, OFFENCES[k].report_base)) for k in CRIME_TYPES]
        )
        # residents who watch the streets around home while at home: (who, home segment x watched segment)
        self.home_watchers: list[tuple[NDArray[np.bool_], sp.csr_matrix]] = []
        # crimes whose offender's journey (home to crime, along the network) is still to be measured:
        # (event row, home node, node, offset); measured in a batch, one search per home, not per crime
        self._home_dist_todo: list[tuple[int, int, int, float]] = []
        event_log.before_freeze(self.measure_home_distances)

    def measure_home_distances(self) -> None:
        """Fill ``offender_home_dist_m`` of the crimes logged so far: one shortest-path search per offender home."""
        todo, self._home_dist_todo = self._home_dist_todo, []
        by_home: dict[int, list[tuple[int, int, float]]] = {}
        for row, home, node, offset in todo:
            by_home.setdefault(home, []).append((row, node, offset))
        for home, crimes in by_home.items():
            dist = self.router.shortest_path_lengths(home)
            for row, node, offset in crimes:
                self.event_log.fill(row, "offender_home_dist_m", float(dist[node]) + offset)

    # ------------------------------------------------------------------ places
    def nearby_segments(self, segment: int) -> NDArray[np.int64]:
        """Return segments with an end node within ``crime.near_repeat_m`` of the segment's ends (cached)."""
        cached = self._nearby.get(segment)
        if cached is None:
            net = self.network
            e = int(net.segment_edge[segment])
            nodes, _ = self.router.find_nodes_within(np.array([net.edge_source[e], net.indices[e]]),
                                                     self.config.near_repeat_m)  # fmt: skip
            # the out-edges of every node reached, gathered in one pass (a node's edges are a CSR run)
            first, count = net.indptr[nodes], net.indptr[nodes + 1] - net.indptr[nodes]
            edges = np.repeat(first - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))
            cached = np.unique(net.edge_segment[edges])
            self._nearby[segment] = cached
        return cached

    def opportunity(self, occupancy: NDArray[np.int32]) -> Opportunity:
        """Return per-segment targets and guardians now (from the occupancy counts)."""
        net = self.network
        public = np.bincount(net.edge_segment, weights=occupancy[0], minlength=net.n_segments).astype(
            np.int64
        )
        occupied = self.residents.homes_occupied_per_segment()
        return Opportunity(people_in_public=public, homes_empty=self.homes_per_segment - occupied,
                           homes_occupied=occupied, vehicles=self.vehicles_per_segment)  # fmt: skip

    def add_home_watchers(self, who: NDArray[np.bool_], watch: sp.csr_matrix) -> None:
        """Let residents ``who`` (a mask) guard, while at home, the streets of their home segment's row of ``watch``.

        ``watch`` is segments x segments: row ``h`` holds the weight with which someone at home on
        segment ``h`` watches each segment (a guardian there counts that much).
        """
        self.home_watchers.append((np.asarray(who, dtype=bool).copy(), sp.csr_matrix(watch)))

    def watching_guardians(self) -> NDArray[np.float64] | None:
        """Return the extra guardians per segment from home watchers at home now, or None without any."""
        if not self.home_watchers:
            return None
        r, n = self.residents, self.network.n_segments
        out = np.zeros(n)
        for who, watch in self.home_watchers:
            home = np.bincount(r.home_segment[who & (r.state == res.HOME)], minlength=n).astype(np.float64)
            out += watch.T @ home
        return out

    def guardian_strength(self) -> NDArray[np.float64]:
        """Return the guardianship each present person gives, per segment (surveillance x efficacy)."""
        c = self.config
        ce = self.collective_efficacy[self.area]
        return c.guardian_effect * self.env.surveillance * (1.0 + c.collective_efficacy_weight * ce)

    def update_collective_efficacy(self) -> None:
        """Set collective efficacy per area to the mean trust of its residents (0..1)."""
        r = self.residents
        area_of_home = self.area[r.home_segment]
        total = np.bincount(area_of_home, weights=r.trust, minlength=self.n_areas)
        count = np.bincount(area_of_home, minlength=self.n_areas)
        mean = np.divide(total, count, out=np.full(self.n_areas, self.mean_trust_start), where=count > 0)
        self.collective_efficacy = mean

    # ------------------------------------------------------------------ outings
    def routine(self, now: float, hour: float, weekday: int) -> None:
        """Start, continue and end outings: spells, motivation by hour and weekday, where to search."""
        o = self.offenders
        cfg = self.config
        # fixed-size draws per offender per step, so the stream stays aligned across policy arms
        u, u_return, u_pick, u_motive, u_phase = self.rngs["offenders"].random((5, o.n))
        # offending careers are intermittent: spells of activity between dormant spells
        step_days = self.clock.step_min / MINUTES_PER_DAY
        p_stop = 1.0 - math.exp(-step_days / cfg.active_spell_days)
        p_start = 1.0 - math.exp(-step_days / cfg.dormant_spell_days)
        flip = np.where(o.in_spell, u_phase < p_stop, u_phase < p_start)
        o.in_spell ^= flip
        # motivation to go out arrives at random: a Poisson process whose rate follows the hour of
        # day and the day of the week (Felson & Poulsen 2003), with no idle window
        rate = cfg.outings_per_day * float(self.activity[weekday, int(hour) % 24])
        p_out = 1.0 - math.exp(-rate * step_days)
        rested = (o.state == off.REST) & (now >= o.rest_until_min) & (u_motive < p_out) & o.in_spell
        done_search = (o.state == off.SEARCH) & (now >= o.search_until_min)
        self.send_home(np.flatnonzero(done_search & (now >= o.outing_until_min)))
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
        self._travel(go, self.network.segment_edge[segs])

    def _travel(self, who: NDArray[np.int64], dest_edges: NDArray[np.int64]) -> None:
        start_trips(self.offenders, self.routes, who, dest_edges)
        self.offenders.state[who] = off.TRAVEL
        self.heading_home[who] = False

    def send_home(self, who: NDArray[np.int64]) -> None:
        """End the outings of offenders ``who``: they travel home."""
        if who.size:
            o = self.offenders
            start_trips(o, self.routes, who, o.home_edge[who])
            o.state[who] = off.TRAVEL
            self.heading_home[who] = True

    def arrive(self, done: NDArray[np.int64], t_end: float) -> None:
        """Offenders ``done`` reached their destination: rest at home, or start searching."""
        o = self.offenders
        home = done[self.heading_home[done]]
        o.state[home] = off.REST
        search = done[~self.heading_home[done]]
        o.state[search] = off.SEARCH
        o.search_until_min[search] = t_end + off.SEARCH_DWELL_MEAN_MIN

    # ------------------------------------------------------------------ offences
    def offend(
        self, t: float, occupancy: NDArray[np.int32], is_dark: bool, hour: float, weekday: int
    ) -> None:
        """Every offender out may offend where they stand, or notice police and leave."""
        o = self.offenders
        cfg = self.config
        u_offend, u_type, u_victim, u_spree, u_where, u_notice, u_give_up = self.rngs["offending"].random(
            (7, o.n)
        )
        out = np.flatnonzero((o.state != off.REST) & ~self.heading_home)
        if out.size == 0:
            return
        segs = self.network.edge_segment[o.position_edge[out]]
        allowed = ~self.env.gated[segs]  # gated segments are closed to offenders: no targets there
        out, segs = out[allowed], segs[allowed]
        if out.size == 0:
            return
        opp = self.opportunity(occupancy)
        dark_street, dark_other = self.env.darkness_multiplier(is_dark)
        deterrence, watch = self.env.police_fields_at(segs, t)
        haz = crime_hazards(segs, opp, self.places, base_rate_per_hour=cfg.base_rate_per_hour,
                            type_weight=self.type_weight, generator_strength=cfg.generator_strength,
                            attractiveness=self.env.attractiveness(), guardian_strength=self.guardian_strength(),
                            deterrence=deterrence, dark_street=dark_street, dark_other=dark_other,
                            premises_shut=PREMISES_SHUT[int(hour) % 24],
                            extra_guardians=self.watching_guardians())  # fmt: skip
        haz *= self.type_by_hour[:, int(hour) % 24] * self.type_by_weekday[:, weekday % 7]
        searching = o.state[out] == off.SEARCH
        haz *= np.where(searching, 1.0, cfg.enroute_factor)[:, None]
        total = haz.sum(axis=1)
        p = 1.0 - np.exp(-total * self.clock.step_min / 60.0)
        self._add_expected(segs, haz, total, p)
        offend = u_offend[out] < p
        # a searcher who notices that police watch this place (standing here, or lately) leaves: gives
        # up the outing or moves on to search elsewhere (displacement), CrimeConfig.deterred_give_up_prob
        noticed = searching & ~offend & (u_notice[out] < watch)
        if noticed.any():
            deterred, where = out[noticed], segs[noticed]
            give_up = u_give_up[deterred] < cfg.deterred_give_up_prob
            for i, seg, gave_up in zip(deterred, where, give_up, strict=True):
                self.event_log.add(time_min=t, step=self.clock.step, kind="deterred_give_up" if gave_up
                                   else "deterred_move_on", edge=int(o.position_edge[i]), segment=int(seg),
                                   offender_id=int(i), offset_m=float(o.position_offset_m[i]))  # fmt: skip
            self.send_home(deterred[give_up])
            o.search_until_min[deterred[~give_up]] = t
        # the trips that follow the crimes are routed in two batches after the loop: a trip changes
        # only its own offender's position, which no later crime of the step reads
        onward: list[tuple[int, int]] = []  # (offender, destination edge) of sprees
        home: list[int] = []
        crimes = np.flatnonzero(offend)
        if crimes.size == 0:
            return
        # each crime's type: the first whose cumulative share of the hazard passes its draw
        who = out[crimes]
        share = np.cumsum(haz[crimes], axis=1) / total[crimes, None]
        ctypes = np.minimum((share <= u_type[who, None]).sum(axis=1), len(CRIME_TYPES) - 1).tolist()
        # four reporting draws a crime, in the order of the crimes (one call, the same stream)
        u_report = self.rngs["reporting"].random((crimes.size, 4))
        self.residents.prepare_public_on(segs[crimes])  # victims and witnesses in the street
        spree = (u_spree[who] < cfg.spree_prob).tolist()
        for n, (i, seg) in enumerate(zip(who.tolist(), segs[crimes].tolist(), strict=True)):
            self._commit(i, seg, CRIME_TYPES[ctypes[n]], float(u_victim[i]), t, u_report[n])
            nxt = self._next_spree_edge(seg, float(u_where[i])) if spree[n] else None
            if nxt is None or nxt < 0:
                if nxt is None:
                    o.rest_until_min[i] = t + cfg.cooldown_days * MINUTES_PER_DAY
                home.append(i)
            else:
                onward.append((i, nxt))
        if onward:
            on, dest = np.array(onward, dtype=np.int64).T
            self._travel(on, dest)
        self.send_home(np.array(home, dtype=np.int64))

    def _add_expected(
        self,
        segs: NDArray[np.int64],
        haz: NDArray[np.float64],
        total: NDArray[np.float64],
        p: NDArray[np.float64],
    ) -> None:
        """Add this step's expected recorded crimes: chance to offend x chance it is recorded, per segment.

        ``on_expected`` gets the step's total per offence type: each offender's chance to offend
        split over the types by their hazards, ``p * haz[:, k] / total``, times type ``k``'s chance
        of being recorded (the type shares of the per-segment sum above, one matrix-vector product).
        """
        recorded = haz * np.minimum(1.0, self._record_chance[None, :] * self.report_factor[segs][:, None])
        share = np.divide(recorded.sum(axis=1), total, out=np.zeros_like(total), where=total > 0)
        expected = p * share * self.config.recording_rate
        np.add.at(self.expected_recorded, segs, expected)
        if self.on_expected is not None:
            scale = (
                np.divide(p, total, out=np.zeros_like(total), where=total > 0) * self.config.recording_rate
            )
            self.on_expected(scale @ recorded)

    def _commit(
        self, i: int, seg: int, ctype: str, u_victim: float, t: float, u_report: NDArray[np.float64]
    ) -> None:
        net, r, o = self.network, self.residents, self.offenders
        edge = int(o.position_edge[i])
        victim = self._victim(ctype, seg, u_victim)
        offset = float(o.position_offset_m[i])
        report = decide_report(ctype, victim, seg, t, u_report, config=self.config,
                               residents=r, network=net, mean_trust_start=self.mean_trust_start,
                               report_factor=float(self.report_factor[seg]))  # fmt: skip
        call_id = -1
        if report.reported:
            call_edge = int(net.segment_edge[seg])
            call_id = self.policing.open_call(t, t + report.delay_min, call_edge, victim)
            if report.recorded:
                self.policing.view.record(call_edge, t + report.delay_min, ctype)
        row = self.event_log.add(time_min=t, step=self.clock.step, kind="crime", edge=edge, segment=seg,
                                 crime_type=ctype, offender_id=i, victim_id=victim, reported=report.reported,
                                 recorded=report.recorded, call_id=call_id, offset_m=offset)  # fmt: skip
        self._home_dist_todo.append((row, int(o.home_node[i]), int(net.edge_source[edge]), offset))
        self.env.add_crime(seg)
        self.on_crime(ctype, report.recorded)
        o.offences[i] += 1
        last = int(o.last_success_segment[i])
        same_patch = last >= 0 and bool((self.nearby_segments(last) == seg).any())
        o.patch_streak[i] = o.patch_streak[i] + 1 if same_patch else 0
        o.last_success_segment[i] = seg
        o.last_success_min[i] = t
        if victim >= 0:
            r.victimisations[victim] += 1
            r.adjust_trust(victim, -self.config.trust_loss_victim)

    def _victim(self, ctype: str, seg: int, u_victim: float) -> int:
        """Return the resident who suffers a crime of type ``ctype`` on ``seg``, or -1 for none of them.

        A person in the street for street crime, the absent householder for burglary, the owner
        living there for vehicle crime, a resident of the street for damage and bicycle theft, and
        nobody for a business's or visitor's loss (shoplifting, other theft) or where no resident fits
        (a car park's visitor, shut premises).
        """
        r = self.residents
        kind = OFFENCES[ctype].victim
        if kind == "person":
            pool = r.public_on_segment(seg)
        elif kind == "home_out":
            pool = r.homes_on_segment(seg)
            pool = pool[r.state[pool] != res.HOME]
        elif kind == "vehicle":
            pool = r.homes_on_segment(seg)
            pool = pool[r.has_vehicle[pool]]
        elif kind == "home":
            pool = r.homes_on_segment(seg)
        else:
            return -1
        return int(pool[min(int(u_victim * pool.size), pool.size - 1)]) if pool.size else -1

    def _next_spree_edge(self, seg: int, u_where: float) -> int:
        """Return the edge where a spree goes on, or -1 for none (the offender goes home).

        Offenders often strike several targets close together in one outing: they search on nearby.
        """
        options = self.nearby_segments(seg)
        options = options[~self.env.gated[options] & (options != seg)]
        if options.size == 0:
            return -1
        nxt = int(options[min(int(u_where * options.size), options.size - 1)])
        return int(self.network.segment_edge[nxt])
