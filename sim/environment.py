"""The street environment offenders read: attractiveness, near-repeat boosts, police deterrence, lighting.

Everything is a per-segment array (undirected street segments, see ``StreetNetwork.edge_segment``):

- Attractiveness ``A = A0 (1 + k B / (1 + B))``, after ``A = A0 + B`` of Short et al. 2008 (M3AS 18:1249). ``A0`` is static: a lognormal
  "risky facility" term (a few places draw most crime, Eck, Clarke & Guerette 2007) scaled by street
  class and raised where crime attractors stand (``1 + place_attraction * log(1 + places)``, with
  places from :meth:`sim.landuse.LandUse.attractors`; Brantingham & Brantingham 1995, Bernasco &
  Block 2011); ``B`` is dynamic: each crime adds ``theta`` to its segment, ``B`` decays at ``omega`` per day and
  a share ``eta`` diffuses to adjacent segments, which produces near repeats (Johnson et al. 2007;
  Short et al. 2009: event dependence, a "boost", is needed to fit repeat timing).
- Police deterrence: while officers are on a segment offending is suppressed by ``police_deterrence``;
  after they leave it decays with a time scale that grows with how long they stayed, up to the
  Koper (1995) optimum of about 15 minutes (residual deterrence; stops under ~10 minutes barely deter).
  Officers are seen beyond their own segment: the deterrence of a place falls linearly with network
  distance from it, to zero at ``deterrence_reach_m`` (Clarke & Weisburd 1994 on diffusion of
  benefits; the median walk segment is only about 25 m long).
- Darkness multiplies street-robbery hazard by 2.6 (Tompson & Bowers 2013) and other types by a
  smaller factor; a lit segment (OSM ``lit=yes`` or CPTED lighting) removes the darkness effect
  (Welsh & Farrington 2008; Chalfin et al. 2022).
- Natural surveillance multiplies the guardianship each present person provides (CPTED).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from core_ext import Router, reach_maxima_at
from sim.calibration import read_segment_priors
from sim.config import CrimeConfig
from sim.landuse import segment_class_values
from sim.network import StreetNetwork, node_weights_to_segments

__all__ = [
    "KOPER_NO_RESIDUAL_MIN",
    "KOPER_OPTIMAL_DWELL_MIN",
    "Environment",
    "advance_boost",
    "boost_from_history",
    "koper_residual",
    "node_segment_incidence",
    "segment_adjacency",
]

# Relative static attractiveness by street class: busy commercial streets and their footways carry
# more targets and "risky facilities" than quiet residential ones (Weisburd, Groff & Yang 2012).
CLASS_WEIGHT = {
    "primary": 1.6, "secondary": 1.5, "tertiary": 1.3, "trunk": 1.2, "unclassified": 1.1,
    "pedestrian": 1.4, "living_street": 1.0, "residential": 1.0, "footway": 0.9, "service": 0.8,
    "steps": 0.5, "path": 0.6, "cycleway": 0.5, "track": 0.5,
}  # fmt: skip
KOPER_OPTIMAL_DWELL_MIN = 15.0
KOPER_NO_RESIDUAL_MIN = 5.0
# Residual deterrence below this level is treated as gone (it is exp-decaying, never exactly zero).
DETERRENCE_FLOOR = 1e-3
# How far back a starting boost looks (boost_from_history): at the default decay of 0.2 a day a
# crime of 28 days ago has 0.4% of its boost left.
BOOST_HISTORY_DAYS = 28.0


def koper_residual(stop_min: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the relative length of the residual deterrence a stop of ``stop_min`` minutes leaves.

    The relative length is in 0..1.

    Koper (1995, Justice Q 12:649): disorder resumed soonest after short stops; residual deterrence
    grew with stop length up to about 15 minutes and stops under about 10 minutes barely deterred.
    Rises linearly from 0 at 5 minutes to 1 at 15 minutes.
    """
    span = KOPER_OPTIMAL_DWELL_MIN - KOPER_NO_RESIDUAL_MIN
    return np.clip((np.asarray(stop_min, dtype=np.float64) - KOPER_NO_RESIDUAL_MIN) / span, 0.0, 1.0)


def node_segment_incidence(net: StreetNetwork) -> sp.csr_matrix:
    """Return the node x segment incidence (1 where the segment ends at the node), CSR by node."""
    seg = net.edge_segment
    tail_pairs = np.column_stack([net.edge_source, seg])
    head_pairs = np.column_stack([net.indices, seg])
    node_seg = np.unique(np.vstack([tail_pairs, head_pairs]), axis=0)
    return sp.csr_matrix(
        (np.ones(node_seg.shape[0]), (node_seg[:, 0], node_seg[:, 1])), shape=(net.n_nodes, net.n_segments)
    )


def segment_adjacency(net: StreetNetwork) -> sp.csr_matrix:
    """Return the row-normalised adjacency of segments that share an end node.

    It is the diffusion operator of the boost ``B``.
    """
    incidence = node_segment_incidence(net).T.tocsr()
    adj = (incidence @ incidence.T).tocsr()
    adj.setdiag(0)
    adj.eliminate_zeros()
    adj.data[:] = 1.0
    deg = np.asarray(adj.sum(axis=1)).ravel()
    inv = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
    return (sp.diags(inv) @ adj).tocsr()


def advance_boost(
    boost: NDArray[np.float64], adjacency: sp.csr_matrix, dt_day: float, config: CrimeConfig
) -> NDArray[np.float64]:
    """Return the boost ``B`` after ``dt_day`` days (Short et al. 2008).

    A share ``eta`` per day spreads to the neighbours (``adjacency``, :func:`segment_adjacency`) and
    all of it decays at ``omega`` per day.
    """
    spread = min(1.0, config.boost_spread_eta * dt_day)
    b = (1.0 - spread) * boost + spread * (adjacency @ boost)
    out: NDArray[np.float64] = b * np.exp(-config.boost_decay_per_day * dt_day)
    return out


def boost_from_history(
    net: StreetNetwork,
    config: CrimeConfig,
    segments: NDArray[np.int64],
    age_days: NDArray[np.float64],
    weights: NDArray[np.float64],
    *,
    window_days: float = BOOST_HISTORY_DAYS,
    step_day: float = 1.0 / 24.0,
) -> NDArray[np.float64]:
    """Return the boost ``B`` per unit ``boost_theta`` that crimes of the past leave now: a run's starting state.

    Each crime on ``segments[i]``, ``age_days[i]`` days ago, adds ``weights[i]`` (the crimes it
    stands for: a recorded crime is ``1 / P(reported and recorded)`` of them), and the boost decays
    and spreads as a run's does (:func:`advance_boost`), in steps of ``step_day``. Crimes older than
    ``window_days`` are left out: at the default decay of 0.2 a day, 28 days leave 0.4% of a boost.
    Multiply by ``crime.boost_theta`` to get the run's ``B``.
    """
    seg = np.asarray(segments, dtype=np.int64)
    age = np.asarray(age_days, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if not (seg.shape == age.shape == w.shape) or (
        seg.size and (seg.min() < 0 or seg.max() >= net.n_segments)
    ):
        raise ValueError("boost_from_history: segments, age_days and weights must be equal-length, "
                         f"segments in [0, {net.n_segments})")  # fmt: skip
    keep = (age >= 0) & (age < window_days)
    n_steps = math.ceil(window_days / step_day)
    # the step each crime falls in, counted from the window's start; it is added at that step's start
    step = np.minimum(((window_days - age[keep]) / step_day).astype(np.int64), n_steps - 1)
    order = np.argsort(step, kind="stable")
    step, seg, w = step[order], seg[keep][order], w[keep][order]
    bounds = np.searchsorted(step, np.arange(n_steps + 1))
    adjacency = segment_adjacency(net)
    boost = np.zeros(net.n_segments)
    for i in range(n_steps):
        lo, hi = bounds[i], bounds[i + 1]
        if hi > lo:
            boost += np.bincount(seg[lo:hi], weights=w[lo:hi], minlength=net.n_segments)
        boost = advance_boost(boost, adjacency, step_day, config)
    return boost


class Environment:
    """Per-segment state of the street environment; owned by the model, changed by policies."""

    def __init__(
        self,
        net: StreetNetwork,
        config: CrimeConfig,
        rng: np.random.Generator,
        router: Router,
        attractors: NDArray[np.float64] | None = None,
    ) -> None:
        self.net = net
        self.config = config
        self.router = router
        n = net.n_segments
        class_weight = segment_class_values(net, CLASS_WEIGHT, 1.0)
        # unobserved place features (bars, cash machines, blind corners): heavy-tailed across segments
        self.risky = rng.lognormal(mean=0.0, sigma=config.risky_facility_sigma, size=n)
        # places that draw offenders (bars, cash machines, transit, car parks, shops: sim.landuse)
        places = np.zeros(n) if attractors is None else np.asarray(attractors, dtype=np.float64)
        a0 = class_weight * self.risky * (1.0 + config.place_attraction * np.log1p(places))
        self.boost = np.zeros(n)
        if config.segment_prior:  # a calibrated city: shrink towards the fit period's counts
            priors = read_segment_priors(
                config.segment_prior, net.edge_osm_way_id[net.segment_edge], config.prior_strength
            )
            a0 = a0 * priors.multiplier
            if config.warm_start and priors.boost_start is not None:  # it starts from its recent crime
                self.boost = config.boost_theta * priors.boost_start
        self.static_attractiveness = a0 / np.mean(a0)
        self.maintenance_factor = np.ones(n)
        self.lit = (net.edge_lit[net.segment_edge] == 1).copy()
        self.surveillance = np.ones(n)
        self.gated = np.zeros(n, dtype=bool)
        self.adjacency = segment_adjacency(net)
        self.police_present = np.zeros(n, dtype=bool)
        self.police_standing = np.zeros(n, dtype=bool)
        self.presence_run_min = np.zeros(n)
        self.last_police_min = np.full(n, -np.inf)
        self.residual_scale_min = np.zeros(n)
        self.police_minutes = np.zeros(n)
        self._incidence = node_segment_incidence(net)
        self._reach: dict[int, tuple[NDArray[np.int64], NDArray[np.float64]]] = {}
        # the same reaches, flat (segments and weights of segment s at [_reach_start[s], _reach_end[s]);
        # -1: not yet computed), so a step gathers every source's reach without a loop over sources
        self._reach_start = np.full(n, -1, dtype=np.int64)
        self._reach_end = np.full(n, -1, dtype=np.int64)
        self._reach_segs = np.zeros(0, dtype=np.int64)
        self._reach_weights = np.zeros(0)
        self._reach_size = 0
        self._reach_scratch = np.full(n, -1, dtype=np.int64)  # core_ext.reach_maxima_at's, kept all -1

    @property
    def n_segments(self) -> int:
        """Number of street segments."""
        return int(self.net.n_segments)

    def attractiveness(self) -> NDArray[np.float64]:
        """Return the current attractiveness ``A0 * maintenance * (1 + k * B / (1 + B))`` per segment.

        Short et al. (2008) add the boost: ``A = A0 + B``. Unbounded, that makes the system flip
        between no near repeats and runaway hot spots as parameters move a little; saturating the
        boost at ``1 + k`` times the static level (``boost_max_multiplier``) keeps the event dependence
        the evidence shows (Johnson et al. 2007) in a stable regime.
        """
        k = self.config.boost_max_multiplier - 1.0
        return (
            self.static_attractiveness * self.maintenance_factor * (1.0 + k * self.boost / (1.0 + self.boost))
        )

    def gated_edges(self) -> NDArray[np.bool_]:
        """Return the edge mask of gated segments (closed to offenders, open to everyone else)."""
        return self.gated[self.net.edge_segment]

    def add_crime(self, segment: int) -> None:
        """Boost the attractiveness of a segment where a crime just happened (Short et al. 2008)."""
        self.boost[segment] += self.config.boost_theta

    def decay_and_spread(self, dt_day: float) -> None:
        """Advance ``B``: decay at ``omega`` per day and diffuse a share ``eta`` per day to neighbours."""
        self.boost = advance_boost(self.boost, self.adjacency, dt_day, self.config)

    def update_police(
        self,
        officer_segments: NDArray[np.int64],
        now_min: float,
        step_min: float,
        stationary: NDArray[np.bool_] | None = None,
    ) -> None:
        """Record where officers are this step (for deterrence and results).

        ``stationary`` marks the officers standing still (a patrol stop or on scene); default all.
        """
        present = np.zeros(self.n_segments, dtype=bool)
        present[officer_segments] = True
        standing = np.zeros(self.n_segments, dtype=bool)
        standing[officer_segments if stationary is None else officer_segments[stationary]] = True
        np.add.at(self.police_minutes, officer_segments, step_min)
        left = self.police_present & ~present
        # a stop's residual deterrence lasts longer the longer it was, up to Koper's optimum; passing
        # through or a stop of a few minutes leaves none (Koper 1995)
        self.residual_scale_min[left] = self.config.residual_deterrence_min * koper_residual(
            self.presence_run_min[left]
        )
        self.presence_run_min[present] += step_min
        self.presence_run_min[~present] = 0.0
        self.last_police_min[present] = now_min
        self.police_present = present
        self.police_standing = standing

    def police_fields(self, now_min: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return (deterrence, watch) per segment, each ``police_deterrence`` x a level in 0..1.

        *Deterrence* is the share of offending suppressed now: any officer in sight, or the residual
        of a stop. *Watch* counts only what tells an offender the place itself is policed: officers
        standing there (a patrol stop, a call) and the residual of stops; an officer passing by
        suppresses offending for the moment but is not a reason to give up the place (the Kansas
        City experiment: the level of cruising patrol made no difference, Kelling et al. 1974).
        A source's level reaches the segments around it scaled by ``1 - distance /
        deterrence_reach_m`` and each segment takes the strongest.
        """
        seen, watch = self._police_levels(now_min)
        k = self.config.police_deterrence
        if self.config.deterrence_reach_m <= 0:
            return k * seen, k * watch
        # seen >= watch everywhere, so the sources of `seen` cover those of `watch`: gather once
        sources = np.flatnonzero(seen > DETERRENCE_FLOOR)
        deterrence, watched = np.zeros(self.n_segments), np.zeros(self.n_segments)
        if sources.size:
            segs, weights, src = self._gather_reach(sources)
            np.maximum.at(deterrence, segs, weights * seen[src])
            w_src = watch[src]
            np.maximum.at(watched, segs, weights * np.where(w_src > DETERRENCE_FLOOR, w_src, 0.0))
        return k * deterrence, k * watched

    def police_fields_at(
        self, segments: NDArray[np.int64], now_min: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return :meth:`police_fields` at ``segments`` only (aligned with them), the same numbers.

        Offenders stand on a few segments a step: the sources' reaches are scanned for those
        (:func:`core_ext.reach_maxima_at`) instead of spread over every segment.
        """
        seen, watch = self._police_levels(now_min)
        k = self.config.police_deterrence
        if self.config.deterrence_reach_m <= 0:
            return k * seen[segments], k * watch[segments]
        sources = np.flatnonzero(seen > DETERRENCE_FLOOR)
        if sources.size == 0:
            return np.zeros(segments.size), np.zeros(segments.size)
        self._ensure_reach(sources)
        w_src = watch[sources]
        levels = (seen[sources], np.where(w_src > DETERRENCE_FLOOR, w_src, 0.0))
        deterrence, watched = reach_maxima_at(
            sources, self._reach_start, self._reach_end, self._reach_segs, self._reach_weights, levels, segments,
            scratch=self._reach_scratch,
        )  # fmt: skip
        return k * deterrence, k * watched

    def _police_levels(self, now_min: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return per segment the police levels in 0..1 before they spread: (seen, watch)."""
        since = now_min - self.last_police_min
        recent = np.flatnonzero(np.isfinite(since) & (self.residual_scale_min > 0))
        watch = np.zeros(self.n_segments)
        watch[recent] = np.exp(-since[recent] / self.residual_scale_min[recent])
        watch[self.police_standing] = 1.0
        seen = np.where(self.police_present, 1.0, watch)
        return seen, watch

    def _ensure_reach(self, sources: NDArray[np.int64]) -> None:
        """Search the reach of each segment in ``sources`` not searched yet (kept for later steps)."""
        for s in sources[self._reach_start[sources] < 0].tolist():
            self.reach(s)

    def _gather_reach(
        self, sources: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
        """Return the reach of every segment in ``sources``, concatenated: (segments, weights, source)."""
        self._ensure_reach(sources)
        start = self._reach_start[sources]
        count = self._reach_end[sources] - start
        at = np.repeat(start - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))
        return self._reach_segs[at], self._reach_weights[at], np.repeat(sources, count)

    def _keep_reach(self, segment: int, segs: NDArray[np.int64], weights: NDArray[np.float64]) -> None:
        """Append a computed reach to the flat arrays (grown by half again when full)."""
        a, b = self._reach_size, self._reach_size + segs.size
        if b > self._reach_segs.size:
            cap = max(b, self._reach_segs.size + self._reach_segs.size // 2 + 1024)
            self._reach_segs = np.concatenate([self._reach_segs[:a], np.zeros(cap - a, dtype=np.int64)])
            self._reach_weights = np.concatenate([self._reach_weights[:a], np.zeros(cap - a)])
        self._reach_segs[a:b] = segs
        self._reach_weights[a:b] = weights
        self._reach_start[segment], self._reach_end[segment] = a, b
        self._reach_size = b

    def reach(self, segment: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Return the segments within ``deterrence_reach_m`` of the middle of ``segment`` and their weights.

        The weight of a segment is ``1 - d / reach``, ``d`` the network distance from the middle of
        ``segment`` to the segment's nearer end (1 for ``segment`` itself). Computed on first use and
        kept, so the cost follows where police go, not the size of the city.
        """
        cached = self._reach.get(segment)
        if cached is not None:
            return cached
        net, reach_m = self.net, self.config.deterrence_reach_m
        e = int(net.segment_edge[segment])
        half = 0.5 * float(net.edge_length_m[e])
        ends = np.array([net.edge_source[e], net.indices[e]], dtype=np.int64)
        if half >= reach_m:
            segs, weights = np.array([segment], dtype=np.int64), np.ones(1)
        else:
            nodes, dist = self.router.find_nodes_within(ends, reach_m, source_cost=np.array([half, half]))
            inc = self._incidence
            segs, weights = node_weights_to_segments(inc.indptr, inc.indices, nodes, 1.0 - dist / reach_m)
            weights[segs == segment] = 1.0
        self._reach[segment] = (segs, weights)
        self._keep_reach(segment, segs, weights)
        return segs, weights

    def darkness_multiplier(self, is_dark: bool) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return the per-segment hazard multipliers (robbery, other types) for the current light."""
        ones = np.ones(self.n_segments)
        if not is_dark:
            return ones, ones
        rob = np.where(self.lit, 1.0, self.config.darkness_robbery_multiplier)
        other = np.where(self.lit, 1.0, self.config.darkness_other_multiplier)
        return rob, other
