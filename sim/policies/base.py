"""The strategy contract: the :class:`PolicyContext` a strategy sees and the :class:`Policy` it implements.

A strategy never sees the model. It is handed a :class:`PolicyContext`, which names everything it
may read (the street network, the clock, the police view of recorded crime and calls, officers and
their availability, segment attributes, residents' trust and homes, meeting venues) and every
command it may issue. Each command changes the model through the model's own code, books what it
costs to the strategy that issued it and logs an action (the run's ``actions`` table), so a
strategy that needs a new capability asks for a new command; it never writes another module's
arrays.

A strategy implements at most five methods (all optional): :meth:`Policy.setup`,
:meth:`Policy.on_step`, :meth:`Policy.choose_patrol`, :meth:`Policy.treated_from_min` and
:meth:`Policy.costs`. ``docs/policies.md`` ("Write your own strategy") walks through one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import scipy.sparse as sp

    from core_ext import Router
    from sim.clock import Clock
    from sim.config import PoliceConfig, SimConfig
    from sim.network import StreetNetwork

__all__ = [
    "Beats",
    "Installation",
    "OfficerView",
    "PatrolOrders",
    "Policy",
    "PolicyContext",
    "RecordedCrime",
    "ResidentView",
    "SegmentView",
]


@dataclass
class PatrolOrders:
    """Where each idle officer should go next and how long to stay there (minutes)."""

    officers: NDArray[np.int64]
    destination_edge: NDArray[np.int64]
    dwell_min: NDArray[np.float64]


@dataclass(frozen=True)
class Beats:
    """A partition of the city into beats: centre node per beat, beat per node, segment and officer."""

    centre_node: NDArray[np.int64]
    node_beat: NDArray[np.int64]
    segment_beat: NDArray[np.int64]
    officer_beat: NDArray[np.int64]

    @property
    def n(self) -> int:
        """Number of beats."""
        return int(self.centre_node.size)


@dataclass(frozen=True)
class Installation:
    """What one :meth:`PolicyContext.install` changed: a segment mask per intervention."""

    lighting: NDArray[np.bool_]
    gating: NDArray[np.bool_]
    maintenance: NDArray[np.bool_]
    surveillance: NDArray[np.bool_]

    def masks(self) -> dict[str, NDArray[np.bool_]]:
        """Return the masks by intervention name, in a fixed order."""
        return {
            "lighting": self.lighting,
            "gating": self.gating,
            "maintenance": self.maintenance,
            "surveillance": self.surveillance,
        }


class RecordedCrime(Protocol):
    """The police view: crime as recorded (Lum & Isaac 2016 on why strategies must see only this)."""

    def recorded_crimes(self, crime_type: str | None = None) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Return (edge, minute recorded) of every recorded crime so far (of ``crime_type`` if given)."""
        ...

    def intelligence(self, start: int = 0) -> list[tuple[int, float]]:
        """Return (segment, minute) of problems raised outside the recording system, from ``start``."""
        ...

    @property
    def calls_waiting(self) -> int:
        """Calls for service waiting for a free officer."""
        ...


class OfficerView(Protocol):
    """Read-only officer rows (state codes are those of :mod:`sim.agents.officer`)."""

    @property
    def n(self) -> int:
        """Number of officers."""
        ...

    @property
    def state(self) -> NDArray[np.int8]:
        """State code per officer (``PATROL``, ``DWELL``, ``RESPOND``, ...)."""
        ...

    @property
    def position_edge(self) -> NDArray[np.int64]:
        """Edge each officer stands on."""
        ...

    @property
    def speed_mps(self) -> NDArray[np.float64]:
        """Travel speed per officer (metres per second)."""
        ...

    @property
    def needs_orders(self) -> NDArray[np.bool_]:
        """Officers waiting for patrol orders."""
        ...

    def available(self) -> NDArray[np.bool_]:
        """Return the officers free to take a call or an assignment (patrolling, dwelling, returning)."""
        ...

    def on_duty(self) -> NDArray[np.bool_]:
        """Return the officers on duty."""
        ...

    def hours_in(self, activity: str) -> float:
        """Return officer-hours booked so far to ``activity`` (a name in ``officer.STATE_NAMES``)."""
        ...


class ResidentView(Protocol):
    """Read-only resident rows a strategy may use: where people live and how much they trust police."""

    @property
    def n(self) -> int:
        """Number of residents."""
        ...

    @property
    def trust(self) -> NDArray[np.float64]:
        """Trust in the police per resident (0..1), as a survey would measure it."""
        ...

    @property
    def home_edge(self) -> NDArray[np.int64]:
        """Edge of each resident's home."""
        ...

    @property
    def home_segment(self) -> NDArray[np.int64]:
        """Street segment of each resident's home."""
        ...


class SegmentView(Protocol):
    """Read-only street-environment attributes per segment."""

    @property
    def static_attractiveness(self) -> NDArray[np.float64]:
        """Long-run place risk (the planner's prior knowledge of risky places)."""
        ...

    @property
    def maintenance_factor(self) -> NDArray[np.float64]:
        """Multiplier of attractiveness from upkeep (1 = as found)."""
        ...

    @property
    def lit(self) -> NDArray[np.bool_]:
        """Segments with street lighting."""
        ...

    @property
    def gated(self) -> NDArray[np.bool_]:
        """Segments closed to offenders."""
        ...

    @property
    def highway_class(self) -> NDArray[np.str_]:
        """OSM ``highway`` class per segment."""
        ...

    @property
    def area(self) -> NDArray[np.int64]:
        """Neighbourhood id per segment (``city.area_cell_m`` grid cells; the results' ``segments.area``)."""
        ...

    @property
    def collective_efficacy(self) -> NDArray[np.float64]:
        """Collective efficacy (0..1) of each segment's neighbourhood: its residents' mean trust, daily."""
        ...


class PolicyContext(Protocol):
    """Everything a strategy may read, and the only commands it may issue.

    Reads never change the model. Commands act through the model's own rules, book their cost to
    the calling strategy (``cost_capital``, ``cost_running`` in the run's metrics) and append a row
    to the run's actions table.
    """

    @property
    def network(self) -> StreetNetwork:
        """The street network (frozen arrays)."""
        ...

    @property
    def router(self) -> Router:
        """Shortest paths and distances on the network (no side effects)."""
        ...

    @property
    def clock(self) -> Clock:
        """The simulated clock (read only)."""
        ...

    @property
    def sim_config(self) -> SimConfig:
        """The run's clock settings (start hour, days)."""
        ...

    @property
    def police_config(self) -> PoliceConfig:
        """The force's settings (officers, modes, random-patrol dwell)."""
        ...

    @property
    def police_view(self) -> RecordedCrime:
        """Recorded crime, intelligence and the call queue: what the police know."""
        ...

    @property
    def officers(self) -> OfficerView:
        """Officers and their availability."""
        ...

    @property
    def residents(self) -> ResidentView:
        """Residents' homes and trust."""
        ...

    @property
    def segments(self) -> SegmentView:
        """Street-environment attributes per segment."""
        ...

    @property
    def meeting_venues(self) -> NDArray[np.int64]:
        """Community venues from OSM (community centres, schools, places of worship): node indices."""
        ...

    @property
    def mean_trust_start(self) -> float:
        """Mean trust at the start of the run (the reference of attendance and reporting)."""
        ...

    def rng(self, stream: str) -> np.random.Generator:
        """Return the run's random stream ``"patrol"`` or ``"policy"`` (seeded, shared across arms)."""
        ...

    def beats(self, n_beats: int | None = None) -> Beats:
        """Return the city cut into ``n_beats`` beats (default: one per on-duty officer); cached."""
        ...

    def crimes_known_to(
        self, residents: NDArray[np.int64], *, since_min: float, include_street: bool
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """Return unreported crimes that ``residents`` know of: (crime number, segment, minute).

        A resident knows the crimes they suffered and, with ``include_street``, those on their own
        street, since ``since_min``. This is what residents could tell police at a meeting.
        """
        ...

    def recorded_history(self) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Return (edge, minute) of the crime the force recorded before the run (``incidents.path``).

        Place-based offences of every class in the incident file; minutes count from the file's
        origin (the first incident's local midnight). Empty when no incident file is given.
        """
        ...

    def true_crimes(self, start: int = 0) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Return (edge, minute) of every crime from the ``start``-th on, recorded or not.

        For studying the feedback loop of recorded-crime maps only (Lum & Isaac 2016); a strategy
        that uses it must say so in its config (e.g. ``source: true``).
        """
        ...

    def suspicious_activity(self, segments: NDArray[np.bool_]) -> NDArray[np.int64]:
        """Return the segments among ``segments`` (a mask) where someone is searching for a target now.

        What people on those streets could notice, not what the police know: a strategy passes it
        on only through residents (watch members report what they see).
        """
        ...

    def send_officers(
        self,
        officers: NDArray[np.int64],
        destination_edges: NDArray[np.int64],
        *,
        activity: str,
        until_min: float,
    ) -> None:
        """Take available officers off patrol to ``destination_edges`` for ``activity`` until ``until_min``."""
        ...

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
        """Change the street environment of ``segments`` (a mask) and return what changed.

        Lighting removes the darkness effect where a segment is not lit already; gating closes
        segments of ``gating_classes`` to offenders (their routes are recomputed); maintenance and
        surveillance multiply attractiveness and guardianship by the given factors.
        """
        ...

    def raise_reporting(self, segments: NDArray[np.bool_], factor: float | NDArray[np.float64]) -> None:
        """Multiply the chance that a crime on ``segments`` (a mask) is reported by ``factor`` (>= 0).

        One factor, or one per segment. It scales the victim's (or a witness's) chance, capped at 1.
        """
        ...

    def add_home_watchers(self, residents: NDArray[np.int64], watch: sp.csr_matrix) -> None:
        """Make ``residents`` guardians, while at home, of the streets in their home segment's row of ``watch``.

        ``watch`` (segments x segments, e.g. :func:`sim.policies.areas.segments_in_sight`) holds how
        many guardians someone at home on a segment counts as on each segment they watch; offenders
        there face them like people present (:func:`sim.crime.crime_hazards`).
        """
        ...

    def hold_meeting(
        self,
        attendees: NDArray[np.int64],
        neighbours: NDArray[np.int64],
        *,
        trust_gain: float,
        neighbour_trust_gain: float,
    ) -> None:
        """Hold a community meeting: attendees and (less) neighbours gain a share of their trust headroom."""
        ...

    def share_intelligence(self, segments: NDArray[np.int64], times_min: NDArray[np.float64]) -> None:
        """Tell the police of problems at ``segments`` (when they happened): the hot-spot map reads them."""
        ...

    def open_calls(self, edges: NDArray[np.int64], times_min: NDArray[np.float64]) -> None:
        """Open calls for service that are no resident's crime (e.g. a spike of calls at an event).

        Each reaches the police at its time and takes the nearest free officer like any call; it is
        not recorded crime and moves no one's trust.
        """
        ...

    def book_cost(
        self, item: str, *, capital: float = 0.0, running: float = 0.0, per_day: float = 0.0
    ) -> None:
        """Book a cost to this strategy: one-off ``capital``, a one-off ``running`` expense, or a ``per_day`` rate."""
        ...

    def log_decision(self, action: str, detail: str, *, n_segments: int = 0) -> None:
        """Log a decision that changes nothing by itself (e.g. a step of problem solving) in the actions table."""
        ...


class Policy:
    """Base class of every strategy plug-in.

    A strategy is built once from its validated config dataclass, then called by the model at
    fixed points of each step (docs/model.md, process order) with its :class:`PolicyContext`.

    Attributes
    ----------
    name
        Registered name (``policy=NAME`` in Hydra), set by :func:`~sim.policies.registry.register_policy`.
    patrol_priority
        When several strategies are active, idle officers take orders from the highest priority one
        that gives any; officers no strategy orders patrol at random.
    """

    name: ClassVar[str] = ""
    patrol_priority: ClassVar[int] = 0

    def __init__(self, config: Any) -> None:
        self.config = config

    def setup(self, ctx: PolicyContext) -> None:
        """Prepare, once, after the populations exist and before the first step."""

    def on_step(self, ctx: PolicyContext) -> None:
        """Act at the start of every step, before calls are dispatched and officers move."""

    def choose_patrol(self, ctx: PolicyContext, officers: NDArray[np.int64]) -> PatrolOrders | None:
        """Return orders for idle ``officers`` (row indices), or None to leave them to others."""
        return None

    def treated_from_min(self, ctx: PolicyContext) -> NDArray[np.float64] | None:
        """Return the minute each segment was first acted on (NaN where never), or None if none was.

        Effects on treated places are counted from this time on: a strategy that picks its places
        from crime during the run (hot spots) would otherwise be charged with the crime that
        selected them.
        """
        return None

    def costs(self, ctx: PolicyContext) -> dict[str, float]:
        """Return the strategy's own counters for the run's metrics (money is booked by commands)."""
        return {}
