"""Community meetings: scheduled beat meetings that move trust, reporting and what the police know.

Mechanism and sources (docs/policies.md has the full table):

- **Schedule and venues**: one meeting per site every ``interval_days`` (weekly), in the evening,
  staggered over the week. Sites are one per beat (the beat's community venue from OSM - community
  centre, school, place of worship - nearest its centre, else the centre itself), or the OSM venue
  nodes given in config. Beat meetings of this kind were the core of Chicago's CAPS (Skogan 2006).
- **Officers** (``officers_per_meeting``, the nearest available ones) leave patrol
  ``travel_lead_min`` before the start and are back on patrol after it: their hours come out of the
  same officer-hours budget as patrol and response, so more meetings mean fewer free officers for
  calls. A meeting no officer can attend is cancelled.
- **Residents** attend with probability ``attend_prob x trust / mean trust x exp(-d / attend_decay_m)``
  for home distance d to their nearest site: attenders are the more trusting, and the near
  (Skogan 2006).
- **Effects**: attending raises trust by ``trust_gain_attendee`` of the headroom ``1 - trust``;
  residents of the catchment who did not attend gain ``trust_gain_neighbours`` of theirs (the
  meeting is visible, word travels). Trust sets the chance of reporting, and the model recomputes
  collective efficacy (informal guardianship) from trust daily. Community-oriented policing raises
  satisfaction and legitimacy but has little effect on crime or fear (Gill et al. 2014, J Exp
  Criminol 10:399; procedural justice: Mazerolle et al. 2013).
- **Intelligence**: attendees tell the police about problems they know and never reported: crimes
  they suffered and crimes on their own street within ``intelligence_window_days``
  (``PolicyContext.crimes_known_to``). They reach the police view as intelligence (segment, time),
  which the hot-spot map reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from sim.agents import officer as ofc
from sim.checks import (
    HOUR_OF_DAY,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    PROBABILITY,
)
from sim.clock import MINUTES_PER_DAY
from sim.errors import ConfigError
from sim.policies.base import Policy, PolicyContext
from sim.policies.registry import ReportRow, register_policy

__all__ = ["CommunityMeetingsConfig", "CommunityMeetingsPolicy"]

KEY = "policy.community_meetings."
VENUES = ("auto", "community", "centroid", "config")


@dataclass
class CommunityMeetingsConfig:
    """Beat meetings: schedule, venues, officers, attendance and effects (defaults: docs/policies.md)."""

    interval_days: float = 7.0
    first_day: int = 0
    hour: float = 18.5
    duration_min: float = 90.0
    travel_lead_min: float = 20.0
    officers_per_meeting: int = 1
    n_beats: int = 0  # 0: one beat per on-duty officer
    venues: str = "auto"
    venue_node_ids: list[int] = field(default_factory=list)
    attend_prob: float = 0.1
    attend_decay_m: float = 500.0
    trust_gain_attendee: float = 0.1
    trust_gain_neighbours: float = 0.01
    share_street_problems: bool = True
    intelligence_window_days: float = 28.0
    cost_per_meeting: float = 150.0

    def validate(self) -> None:
        """Raise ConfigError naming the first bad key."""
        POSITIVE.check(
            self, KEY, "interval_days", "duration_min", "attend_decay_m", "intelligence_window_days"
        )
        NON_NEGATIVE.check(self, KEY, "travel_lead_min", "cost_per_meeting")
        PROBABILITY.check(self, KEY, "attend_prob", "trust_gain_attendee", "trust_gain_neighbours")
        HOUR_OF_DAY.check(self, KEY, "hour")
        NON_NEGATIVE_INT.check(self, KEY, "first_day", "n_beats")
        POSITIVE_INT.check(self, KEY, "officers_per_meeting")
        if self.venues not in VENUES:
            raise ConfigError(KEY + "venues", self.venues, f"one of {', '.join(VENUES)}")
        if self.venues == "config" and not self.venue_node_ids:
            raise ConfigError(KEY + "venue_node_ids", self.venue_node_ids,
                              "a non-empty list of OSM node ids with venues=config")  # fmt: skip


@register_policy(
    "community_meetings",
    CommunityMeetingsConfig,
    label="Community meetings",
    order=30,
    report_rows=(
        ReportRow("meetings_held", "Meetings held", "meetings per run"),
        ReportRow("meeting_attendees", "Residents who attended a meeting", "residents per run", 1),
        ReportRow("meeting_intelligence_items", "Unreported problems raised at meetings", "items per run"),
    ),
)
class CommunityMeetingsPolicy(Policy):
    """Holds the meetings, takes officers off patrol for them, and applies their effects."""

    patrol_priority = -1
    config: CommunityMeetingsConfig

    def setup(self, ctx: PolicyContext) -> None:
        """Prepare once, before the first step (see :meth:`Policy.setup`)."""
        c = self.config
        net = ctx.network
        on_duty = int(ctx.officers.on_duty().sum())
        if c.officers_per_meeting > on_duty:
            raise ConfigError(KEY + "officers_per_meeting", c.officers_per_meeting,
                              f"at most the {on_duty} officers on duty (police.foot_per_shift + police.cars_per_shift / budget)")  # fmt: skip
        self.venue_node = self._venues(ctx)
        self.venue_edge = np.array(
            [_edge_into(net.indices, net.indptr, v) for v in self.venue_node], np.int64
        )
        # each resident's nearest site and how far it is along the streets
        label, dist = ctx.router.nearest_sources(self.venue_node)
        home_node = net.indices[ctx.residents.home_edge]
        self.site_of_resident = label[home_node].astype(np.int64)
        self.distance_m = dist[home_node]
        self.schedule = self._schedule(ctx)
        self._next_send = 0
        self._next_hold = 0
        self._officers: dict[int, NDArray[np.int64]] = {}
        self._surfaced: set[int] = set()
        self.attended = np.zeros(ctx.residents.n, dtype=bool)
        self.n_held = 0
        self.n_cancelled = 0
        self.n_attendances = 0
        self.n_intelligence = 0
        self.officer_shortfall = 0

    def _venues(self, ctx: PolicyContext) -> NDArray[np.int64]:
        c = self.config
        net = ctx.network
        if c.venues == "config":
            lookup = {int(o): i for i, o in enumerate(net.node_osm_id)}
            missing = [v for v in c.venue_node_ids if int(v) not in lookup]
            if missing:
                raise ConfigError(
                    KEY + "venue_node_ids", missing, "OSM node ids of nodes in the street network"
                )
            return np.array([lookup[int(v)] for v in c.venue_node_ids], dtype=np.int64)
        pois = ctx.meeting_venues
        if c.venues == "community" and pois.size == 0:
            raise ConfigError(KEY + "venues", c.venues,
                              "'auto' or 'centroid': the OSM file has no community centres, schools or places of worship")  # fmt: skip
        beats = ctx.beats(c.n_beats or None)
        centres, node_beat = beats.centre_node, beats.node_beat
        out = []
        for b, centre in enumerate(centres):
            own = pois[node_beat[pois] == b] if c.venues != "centroid" else pois[:0]
            if c.venues == "community" and own.size == 0:
                own = pois  # a beat without a venue meets at the nearest one elsewhere
            if own.size:
                d = np.hypot(*(net.node_xy[own] - net.node_xy[centre]).T)
                out.append(int(own[np.argmin(d)]))
            else:
                out.append(int(centre))
        return np.asarray(out, dtype=np.int64)

    def _schedule(self, ctx: PolicyContext) -> list[tuple[float, int]]:
        """(start minute, site) of every meeting in the run, in order; sites staggered over the interval."""
        c = self.config
        start_h = ctx.sim_config.start_hour
        end = ctx.sim_config.days * MINUTES_PER_DAY
        stagger = max(1, int(c.interval_days))
        out = []
        for site in range(self.venue_node.size):
            k = 0
            while True:
                day = c.first_day + site % stagger + k * c.interval_days
                t = day * MINUTES_PER_DAY + (c.hour - start_h) * 60.0
                if t >= end:
                    break
                if t - c.travel_lead_min >= 0:
                    out.append((t, site))
                k += 1
        return sorted(out)

    def on_step(self, ctx: PolicyContext) -> None:
        """Act at the start of a step (see :meth:`Policy.on_step`)."""
        now = ctx.clock.now_min
        lead = self.config.travel_lead_min
        while self._next_send < len(self.schedule) and now >= self.schedule[self._next_send][0] - lead:
            self._send(ctx, self._next_send)
            self._next_send += 1
        while self._next_hold < len(self.schedule) and now >= self.schedule[self._next_hold][0]:
            self._hold(ctx, self._next_hold)
            self._next_hold += 1

    def _send(self, ctx: PolicyContext, index: int) -> None:
        start, site = self.schedule[index]
        of = ctx.officers
        free = np.flatnonzero(of.available())
        n = min(self.config.officers_per_meeting, free.size)
        self.officer_shortfall += self.config.officers_per_meeting - n
        if n == 0:
            self._officers[index] = free[:0]
            return
        node = int(self.venue_node[site])
        dist = ctx.router.shortest_path_lengths(node)[ctx.network.indices[of.position_edge[free]]]
        chosen = free[np.argsort(dist, kind="stable")[:n]]
        self._officers[index] = chosen
        ctx.send_officers(chosen, np.full(n, self.venue_edge[site]), activity="meeting",
                          until_min=start + self.config.duration_min)  # fmt: skip

    def _hold(self, ctx: PolicyContext, index: int) -> None:
        c = self.config
        _, site = self.schedule[index]
        r = ctx.residents
        u = ctx.rng("policy").random(r.n)  # fixed size: the same draws whoever attends
        officers = self._officers.pop(index, np.zeros(0, np.int64))
        if officers.size == 0 or not np.any(ctx.officers.state[officers] == ofc.MEETING):
            self.n_cancelled += 1
            return
        self.n_held += 1
        here = self.site_of_resident == site
        p = c.attend_prob * r.trust / ctx.mean_trust_start * np.exp(-self.distance_m / c.attend_decay_m)
        attend = here & (u < np.clip(p, 0.0, 1.0))
        who = np.flatnonzero(attend)
        neighbours = np.flatnonzero(here & ~attend)
        ctx.hold_meeting(who, neighbours, trust_gain=c.trust_gain_attendee,
                         neighbour_trust_gain=c.trust_gain_neighbours)  # fmt: skip
        ctx.book_cost("meeting", running=c.cost_per_meeting)
        self.attended[who] = True
        self.n_attendances += int(who.size)
        self._surface_problems(ctx, who)

    def _surface_problems(self, ctx: PolicyContext, attendees: NDArray[np.int64]) -> None:
        """Unreported crimes attendees know about (theirs, or on their street) reach the police."""
        if attendees.size == 0:
            return
        c = self.config
        since = ctx.clock.now_min - c.intelligence_window_days * MINUTES_PER_DAY
        crime, segment, time_min = ctx.crimes_known_to(attendees, since_min=since,
                                                       include_street=c.share_street_problems)  # fmt: skip
        new = np.array([k not in self._surfaced for k in crime.tolist()], dtype=bool)
        self._surfaced.update(crime[new].tolist())
        if new.any():
            ctx.share_intelligence(segment[new], time_min[new])
        self.n_intelligence += int(new.sum())

    def costs(self, ctx: PolicyContext) -> dict[str, float]:
        """Meetings held and cancelled, attendance, officer time and intelligence raised."""
        return {
            "meetings_held": float(self.n_held),
            "meetings_cancelled": float(self.n_cancelled),
            "meeting_attendances": float(self.n_attendances),
            "meeting_attendees": float(self.attended.sum()),
            "meeting_officer_hours": ctx.officers.hours_in("meeting"),
            "meeting_officer_shortfall": float(self.officer_shortfall),
            "meeting_intelligence_items": float(self.n_intelligence),
            "meeting_sites": float(self.venue_node.size),
        }


def _edge_into(indices: NDArray[np.int64], indptr: NDArray[np.int64], node: int) -> int:
    """Return an edge ending at ``node`` (trips end at the far end of their destination edge)."""
    into = np.flatnonzero(indices == node)
    return int(into[0]) if into.size else int(indptr[node])
