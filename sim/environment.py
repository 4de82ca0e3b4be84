"""The street environment offenders read: attractiveness, near-repeat boosts, police deterrence, lighting.

Everything is a per-segment array (undirected street segments, see ``StreetNetwork.edge_segment``):

- Attractiveness ``A = A0 (1 + k B / (1 + B))``, after ``A = A0 + B`` of Short et al. 2008 (M3AS 18:1249). ``A0`` is static: a lognormal
  "risky facility" term (a few places draw most crime, Eck, Clarke & Guerette 2007) scaled by street
  class; ``B`` is dynamic: each crime adds ``theta`` to its segment, ``B`` decays at ``omega`` per day and
  a share ``eta`` diffuses to adjacent segments, which produces near repeats (Johnson et al. 2007;
  Short et al. 2009: event dependence, a "boost", is needed to fit repeat timing).
- Police deterrence: while officers are on a segment offending is suppressed by ``police_deterrence``;
  after they leave it decays with a time scale that grows with how long they stayed, up to the
  Koper (1995) optimum of about 15 minutes (residual deterrence; stops under ~10 minutes barely deter).
- Darkness multiplies street-robbery hazard by 2.6 (Tompson & Bowers 2013) and other types by a
  smaller factor; a lit segment (OSM ``lit=yes`` or CPTED lighting) removes the darkness effect
  (Welsh & Farrington 2008; Chalfin et al. 2022).
- Natural surveillance multiplies the guardianship each present person provides (CPTED).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from sim.config import CrimeConfig
from sim.network import StreetNetwork

__all__ = ["Environment", "segment_adjacency"]

# Relative static attractiveness by street class: busy commercial streets and their footways carry
# more targets and "risky facilities" than quiet residential ones (Weisburd, Groff & Yang 2012).
CLASS_WEIGHT = {
    "primary": 1.6, "secondary": 1.5, "tertiary": 1.3, "trunk": 1.2, "unclassified": 1.1,
    "pedestrian": 1.4, "living_street": 1.0, "residential": 1.0, "footway": 0.9, "service": 0.8,
    "steps": 0.5, "path": 0.6, "cycleway": 0.5, "track": 0.5,
}  # fmt: skip
KOPER_OPTIMAL_DWELL_MIN = 15.0


def segment_adjacency(net: StreetNetwork) -> sp.csr_matrix:
    """Row-normalised adjacency of segments that share an end node (the diffusion operator of B)."""
    seg = net.edge_segment
    tail_pairs = np.column_stack([net.edge_source, seg])
    head_pairs = np.column_stack([net.indices, seg])
    node_seg = np.unique(np.vstack([tail_pairs, head_pairs]), axis=0)
    incidence = sp.csr_matrix(
        (np.ones(node_seg.shape[0]), (node_seg[:, 1], node_seg[:, 0])), shape=(net.n_segments, net.n_nodes)
    )
    adj = (incidence @ incidence.T).tocsr()
    adj.setdiag(0)
    adj.eliminate_zeros()
    adj.data[:] = 1.0
    deg = np.asarray(adj.sum(axis=1)).ravel()
    inv = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
    return (sp.diags(inv) @ adj).tocsr()


class Environment:
    """Per-segment state of the street environment; owned by the model, changed by policies."""

    def __init__(self, net: StreetNetwork, config: CrimeConfig, rng: np.random.Generator) -> None:
        self.net = net
        self.config = config
        n = net.n_segments
        classes = np.array([CLASS_WEIGHT.get(net.highway_classes[c], 1.0) for c in net.edge_highway])
        class_weight = classes[net.segment_edge]
        # unobserved place features (bars, cash machines, blind corners): heavy-tailed across segments
        self.risky = rng.lognormal(mean=0.0, sigma=config.risky_facility_sigma, size=n)
        self.static_attractiveness = class_weight * self.risky / np.mean(class_weight * self.risky)
        self.maintenance_factor = np.ones(n)
        self.boost = np.zeros(n)
        self.lit = (net.edge_lit[net.segment_edge] == 1).copy()
        self.surveillance = np.ones(n)
        self.gated = np.zeros(n, dtype=bool)
        self.adjacency = segment_adjacency(net)
        self.police_present = np.zeros(n, dtype=bool)
        self.presence_run_min = np.zeros(n)
        self.last_police_min = np.full(n, -np.inf)
        self.residual_scale_min = np.zeros(n)
        self.police_minutes = np.zeros(n)

    @property
    def n_segments(self) -> int:
        return int(self.net.n_segments)

    def attractiveness(self) -> NDArray[np.float64]:
        """Current attractiveness ``A0 * maintenance * (1 + k * B / (1 + B))`` per segment.

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
        """Edge mask of gated segments (closed to offenders, open to everyone else)."""
        return self.gated[self.net.edge_segment]

    def add_crime(self, segment: int) -> None:
        """Boost the attractiveness of a segment where a crime just happened (Short et al. 2008)."""
        self.boost[segment] += self.config.boost_theta

    def decay_and_spread(self, dt_day: float) -> None:
        """Advance ``B``: decay at ``omega`` per day and diffuse a share ``eta`` per day to neighbours."""
        c = self.config
        spread = min(1.0, c.boost_spread_eta * dt_day)
        b = self.boost
        b = (1.0 - spread) * b + spread * (self.adjacency @ b)
        self.boost = b * np.exp(-c.boost_decay_per_day * dt_day)

    def update_police(self, officer_segments: NDArray[np.int64], now_min: float, step_min: float) -> None:
        """Record which segments have an officer present this step (for deterrence and results)."""
        present = np.zeros(self.n_segments, dtype=bool)
        present[officer_segments] = True
        np.add.at(self.police_minutes, officer_segments, step_min)
        left = self.police_present & ~present
        # a stop's residual deterrence lasts longer the longer it was, up to Koper's optimum
        self.residual_scale_min[left] = self.config.residual_deterrence_min * np.minimum(
            1.0, self.presence_run_min[left] / KOPER_OPTIMAL_DWELL_MIN
        )
        self.presence_run_min[present] += step_min
        self.presence_run_min[~present] = 0.0
        self.last_police_min[present] = now_min
        self.police_present = present

    def deterrence(self, now_min: float) -> NDArray[np.float64]:
        """Share of offending suppressed by police now present or recently present (0..1)."""
        d = np.zeros(self.n_segments)
        since = now_min - self.last_police_min
        recent = np.isfinite(since) & (self.residual_scale_min > 0)
        d[recent] = np.exp(-since[recent] / self.residual_scale_min[recent])
        d[self.police_present] = 1.0
        return self.config.police_deterrence * d

    def darkness_multiplier(self, is_dark: bool) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Per-segment hazard multipliers (robbery, other types) for the current light."""
        ones = np.ones(self.n_segments)
        if not is_dark:
            return ones, ones
        rob = np.where(self.lit, 1.0, self.config.darkness_robbery_multiplier)
        other = np.where(self.lit, 1.0, self.config.darkness_other_multiplier)
        return rob, other
