"""Offenders: a home anchor, activity anchors, an awareness space, and search within it.

Crime pattern theory (Brantingham & Brantingham 1993): offenders search for targets inside their
awareness space, the places around their activity nodes (home, work or school, leisure) and the
routes between them. Anchors are drawn with distance decay from home, so journeys to crime are
short and decay with distance (Wiles & Costello 2000; Bernasco & Nieuwbeerta 2005).

While active, an offender picks a place to search with probability proportional to how familiar
it is and how attractive it is now (``A = A0 + B`` of Short et al. 2008, so recent crime draws
them back: near repeats), walks there, searches a while, and may offend on any segment it passes
(the model evaluates opportunity every step). After an offence it goes home and rests.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from core_ext import Router
from sim.agents._view import RowView
from sim.config import PopulationConfig
from sim.network import StreetNetwork, node_weights_to_segments

__all__ = ["Offender", "Offenders"]

REST, TRAVEL, SEARCH = 0, 1, 2
STATE_NAMES = ("rest", "travel", "search")
# Offenders' active hours: street crime and burglary both occur mostly between late morning and the
# small hours (Felson & Poulsen 2003); outside them offenders are at home.
SEARCH_DWELL_MEAN_MIN = 30.0


class Offenders:
    """All offenders as arrays; awareness spaces as a CSR of segments with familiarity weights.

    ``rng`` draws homes, anchors and awareness spaces; ``spell_rng`` (default ``rng``) who starts in
    an active spell, a run's state rather than the city's (``population.seed``, sim.model).
    """

    kind = "offender"

    def __init__(
        self,
        net: StreetNetwork,
        config: PopulationConfig,
        rng: np.random.Generator,
        router: Router,
        home_segment_weights: NDArray[np.float64],
        *,
        spell_rng: np.random.Generator | None = None,
    ) -> None:
        self.net = net
        self.config = config
        if config.n_offenders is None:
            raise ValueError("n_offenders must be resolved first (sim.scale.resolve_headcounts)")
        n = int(config.n_offenders)
        self.n = n
        self.home_segment = rng.choice(net.n_segments, size=n, p=home_segment_weights).astype(np.int64)
        self.home_edge = net.segment_edge[self.home_segment]
        self.home_node = net.indices[self.home_edge]
        anchors = np.empty((n, 3), dtype=np.int64)
        aw_indptr = [0]
        aw_seg: list[NDArray[np.int64]] = []
        aw_w: list[NDArray[np.float64]] = []
        seg_of_node = _segments_at_nodes(net)
        for i in range(n):
            nodes, dist = router.find_nodes_within(self.home_node[i], 6.0 * config.anchor_decay_m)
            w = np.exp(-dist / config.anchor_decay_m)
            w[0] = 0.0  # not home itself
            picks = rng.choice(nodes, size=2, p=w / w.sum()) if w.sum() > 0 else np.array([nodes[0]] * 2)
            anchor_nodes = np.concatenate([[self.home_node[i]], picks])
            anchors[i] = [self.home_segment[i], *(_segment_at(seg_of_node, a, rng) for a in picks)]
            near, near_dist = router.find_nodes_within(anchor_nodes, config.awareness_radius_m)
            # familiarity falls off with distance from the nearest anchor
            fam_nodes = np.exp(-near_dist / config.awareness_radius_m)
            segs, fam = node_weights_to_segments(*seg_of_node, near, fam_nodes)
            route_segs = []
            for a, b in ((0, 1), (1, 2), (2, 0)):
                route, _ = router.route(int(anchor_nodes[a]), int(anchor_nodes[b]))
                route_segs.append(net.edge_segment[route])
            rs = np.unique(np.concatenate(route_segs)) if route_segs else np.zeros(0, np.int64)
            all_segs = np.union1d(segs, rs)
            weight = np.full(all_segs.size, 0.3)  # passing knowledge of streets on routine routes
            idx = np.searchsorted(all_segs, segs)
            weight[idx] = np.maximum(weight[idx], fam)
            aw_seg.append(all_segs.astype(np.int64))
            aw_w.append(weight)
            aw_indptr.append(aw_indptr[-1] + all_segs.size)
        self.anchor_segment = anchors
        self.aware_indptr = np.asarray(aw_indptr, dtype=np.int64)
        self.aware_segment = np.concatenate(aw_seg) if aw_seg else np.zeros(0, np.int64)
        self.aware_weight = np.concatenate(aw_w) if aw_w else np.zeros(0)
        self.state = np.full(n, REST, dtype=np.int8)
        self.position_edge = self.home_edge.copy()
        self.position_offset_m = net.edge_length_m[self.home_edge].copy()
        self.route_pos = np.zeros(n, dtype=np.int64)
        self.route_end = np.zeros(n, dtype=np.int64)
        self.speed_mps = np.full(n, config.offender_speed_mps)
        self.search_until_min = np.zeros(n)
        self.rest_until_min = np.zeros(n)
        self.outing_until_min = np.zeros(n)
        # spell_rng None: the same stream as the anchors (one seed draws the city and the run)
        self.in_spell = (rng if spell_rng is None else spell_rng).random(n) < 1.0 / 3.0
        self.offences = np.zeros(n, dtype=np.int64)
        self.last_success_segment = np.full(n, -1, dtype=np.int64)
        self.last_success_min = np.full(n, -np.inf)
        self.patch_streak = np.zeros(n, dtype=np.int64)

    def choose_search_segments(
        self,
        who: NDArray[np.int64],
        attractiveness: NDArray[np.float64],
        gated: NDArray[np.bool_],
        u: NDArray[np.float64],
        attraction_power: float = 1.0,
    ) -> NDArray[np.int64]:
        """Pick a segment in each offender's awareness space, weight familiarity x attractiveness^power.

        ``u`` holds one pre-drawn uniform number per offender in ``who``.
        """
        # one row per offender, padded with weight 0 to the largest awareness space among them
        start = self.aware_indptr[who]
        size = self.aware_indptr[who + 1] - start
        width = int(size.max()) if who.size else 0
        if width == 0:
            return self.home_segment[who].copy()
        col = np.arange(width)
        valid = col[None, :] < size[:, None]
        idx = np.where(valid, start[:, None] + col[None, :], 0)
        segs = self.aware_segment[idx]
        w = self.aware_weight[idx] * attractiveness[segs] ** attraction_power
        w[gated[segs] | ~valid] = 0.0
        cum = np.cumsum(w, axis=1)  # row by row, as each offender's own cumsum
        # each row's total summed as its own array is (pairwise), so the draws split the same way
        total = np.array([row[:n].sum() for row, n in zip(w, size.tolist(), strict=True)])
        pick = np.minimum((cum <= (u * total)[:, None]).sum(axis=1), size - 1)
        out: NDArray[np.int64] = np.where(total > 0, segs[np.arange(who.size), np.maximum(pick, 0)],
                                          self.home_segment[who])  # fmt: skip
        return out

    def choose_return_segments(
        self,
        who: NDArray[np.int64],
        now_min: float,
        nearby: Callable[[int], NDArray[np.int64]],
        gated: NDArray[np.bool_],
        return_prob: float,
        return_decay_days: float,
        patch_stay: float,
        u_return: NDArray[np.float64],
        u_pick: NDArray[np.float64],
    ) -> NDArray[np.int64]:
        """Return the segment each offender returns to (one near its last success), or -1 for none.

        ``nearby(s)`` lists the segments within the near-repeat distance of segment ``s`` (itself
        included); ``u_return`` and ``u_pick`` are pre-drawn uniforms, one per offender in ``who``.
        """
        out = np.full(who.size, -1, dtype=np.int64)
        last = self.last_success_segment[who]
        age_days = (now_min - self.last_success_min[who]) / 1440.0
        # the pull of the last success fades with time and with each further crime in the same patch
        # (an optimal forager leaves a patch as its returns fall: Johnson & Bowers 2004)
        p = return_prob * np.exp(-age_days / return_decay_days) * patch_stay ** self.patch_streak[who]
        back = (last >= 0) & (u_return < p)
        for k in np.flatnonzero(back):
            s = int(last[k])
            options = nearby(s)
            options = options[~gated[options]]
            if options.size:
                out[k] = int(options[min(int(u_pick[k] * options.size), options.size - 1)])
        return out

    def occupancy_kind(self) -> NDArray[np.int8]:
        """Return the kind code for occupancy counting: 1 while out, -1 at rest (not counted)."""
        return np.where(self.state == REST, -1, 1).astype(np.int8)


def _segments_at_nodes(net: StreetNetwork) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Return the CSR from node to the segments of its out-edges."""
    return net.indptr, net.edge_segment


def _segment_at(
    seg_of_node: tuple[NDArray[np.int64], NDArray[np.int64]], node: int, rng: np.random.Generator
) -> int:
    indptr, seg = seg_of_node
    a, b = indptr[node], indptr[node + 1]
    return int(seg[a + rng.integers(0, b - a)])


class Offender(RowView):
    """A Mesa view onto one offender's row."""

    population = "offenders"
    state_names = STATE_NAMES

    @property
    def offences(self) -> int:
        """Number of offences this offender has committed so far."""
        return int(self._pop.offences[self.row])

    @property
    def awareness_segments(self) -> NDArray[np.int64]:
        """Segments of this offender's awareness space."""
        p = self._pop
        return np.asarray(
            p.aware_segment[p.aware_indptr[self.row] : p.aware_indptr[self.row + 1]], dtype=np.int64
        )
