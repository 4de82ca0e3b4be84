"""Baseline: random preventive patrol plus response to calls, the reference every policy is compared to.

Random preventive patrol is what the Kansas City experiment tested (Kelling et al. 1974): officers
cruise their beat without a target. Here idle officers walk or drive to a random point of their
beat (or the whole city), chosen with probability proportional to street length, pause briefly and
move on; dispatch to calls is done by the model for every policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from sim.errors import ConfigError
from sim.policies.base import PatrolOrders, Policy
from sim.policies.registry import register_policy

if TYPE_CHECKING:
    from sim.model import PrecinctModel

__all__ = ["BaselineConfig", "BaselinePolicy"]


@dataclass
class BaselineConfig:
    """Random preventive patrol."""

    dwell_min: float = 2.0
    use_beats: bool = False

    def validate(self) -> None:
        if not self.dwell_min >= 0:
            raise ConfigError("policy.baseline.dwell_min", self.dwell_min, "a non-negative number of minutes")


@register_policy("baseline", BaselineConfig)
class BaselinePolicy(Policy):
    """Random preventive patrol; always present as the fallback patrol of composed policies."""

    patrol_priority = 0
    config: BaselineConfig

    def choose_patrol(self, model: PrecinctModel, officers: NDArray[np.int64]) -> PatrolOrders:
        net = model.network
        rng = model.rngs["patrol"]
        weights = net.segment_length_m / net.segment_length_m.sum()
        segments = rng.choice(net.n_segments, size=officers.size, p=weights)
        if self.config.use_beats:
            beat_of_seg = model.segment_beat()
            for k, i in enumerate(officers):
                in_beat = np.flatnonzero(beat_of_seg == model.officers.beat[i])
                if in_beat.size:
                    w = weights[in_beat] / weights[in_beat].sum()
                    segments[k] = rng.choice(in_beat, p=w)
        edges = net.segment_edge[segments]
        return PatrolOrders(officers, edges, np.full(officers.size, self.config.dwell_min))
