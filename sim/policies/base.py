"""The policy protocol: what officers do next, what changes in the environment, and what it costs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from sim.model import PrecinctModel

__all__ = ["PatrolOrders", "Policy"]


@dataclass
class PatrolOrders:
    """Where each idle officer should go next and how long to stay there (minutes)."""

    officers: NDArray[np.int64]
    destination_edge: NDArray[np.int64]
    dwell_min: NDArray[np.float64]


class Policy:
    """Base class of every policy plug-in.

    A policy is built from its config dataclass and then called by the model at fixed points of
    each step (see docs/model.md, process order). Policies read the police side of the model only:
    ``model.police_view`` (recorded crime), never the true event log, unless a policy option says
    otherwise explicitly (to study the feedback loop, Lum & Isaac 2016).

    Attributes
    ----------
    name
        Registered name (``policy=NAME`` in Hydra).
    patrol_priority
        When several policies are active, idle officers take orders from the highest priority policy
        that gives any (targeted patrol over baseline random patrol).
    """

    name: ClassVar[str] = ""
    patrol_priority: ClassVar[int] = 0

    def __init__(self, config: Any) -> None:
        self.config = config

    def setup(self, model: PrecinctModel) -> None:
        """Called once after the populations exist and before the first step."""

    def on_step(self, model: PrecinctModel) -> None:
        """Called at the start of every step, before calls are dispatched and officers move."""

    def choose_patrol(self, model: PrecinctModel, officers: NDArray[np.int64]) -> PatrolOrders | None:
        """Orders for idle officers (``officers`` are row indices), or None to leave them to others."""
        return None

    def treated_segments(self, model: PrecinctModel) -> NDArray[np.bool_] | None:
        """Segments this policy acted on (for treated/buffer/control comparisons), or None."""
        return None

    def treated_from_min(self, model: PrecinctModel) -> NDArray[np.float64] | None:
        """Minute each treated segment was first acted on (NaN where never), or None.

        Effects on treated places are counted from this time on: a policy that picks its places from
        crime during the run (hot spots) would otherwise be charged with the crime that selected them.
        The default is "from the start" for every segment of :meth:`treated_segments`.
        """
        treated = self.treated_segments(model)
        if treated is None:
            return None
        return np.where(treated, 0.0, np.nan)

    def costs(self, model: PrecinctModel) -> dict[str, float]:
        """Costs in the config's currency units and officer-hours, e.g. {"cost_capital": ...}."""
        return {}
