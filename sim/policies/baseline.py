"""Baseline: random preventive patrol plus response to calls, the reference every strategy is compared to.

Dispatch to calls is done by the model for every strategy; what the baseline adds is the choice of
where idle officers patrol (:func:`sim.policies.patrol.random_patrol`), optionally within beats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.errors import ConfigError
from sim.policies.base import PatrolOrders, Policy, PolicyContext
from sim.policies.patrol import random_patrol
from sim.policies.registry import register_policy

__all__ = ["BaselineConfig", "BaselinePolicy"]


@dataclass
class BaselineConfig:
    """Random preventive patrol; the pause at each point is ``police.patrol_dwell_min``."""

    use_beats: bool = False

    def validate(self) -> None:
        """Raise ConfigError unless ``use_beats`` is a boolean."""
        if not isinstance(self.use_beats, bool):
            raise ConfigError("policy.baseline.use_beats", self.use_beats, "true or false")


@register_policy("baseline", BaselineConfig, label="Baseline (random patrol)", order=0, reference=True)
class BaselinePolicy(Policy):
    """Random preventive patrol of the whole city or of each officer's beat."""

    patrol_priority = 0
    config: BaselineConfig

    def choose_patrol(self, ctx: PolicyContext, officers: NDArray[np.int64]) -> PatrolOrders:
        """Send each idle officer to a random point (of their beat with ``use_beats``)."""
        return random_patrol(ctx, officers, use_beats=self.config.use_beats)
