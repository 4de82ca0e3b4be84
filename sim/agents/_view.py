"""The shared shape of the Mesa agent views: one row of a population's arrays, never a copy."""

from __future__ import annotations

from typing import Any, ClassVar

import mesa


class RowView(mesa.Agent):  # type: ignore[misc]
    """A Mesa ``Agent`` that reads one row of the population ``model.<population>``.

    Subclasses set ``population`` (the model attribute holding the arrays) and ``state_names``.
    The model steps whole populations through the kernels, so ``step`` does nothing per agent.
    """

    population: ClassVar[str] = ""
    state_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, model: Any, row: int) -> None:
        super().__init__(model)
        self.row = row

    @property
    def _pop(self) -> Any:
        return getattr(self.model, self.population)

    @property
    def state(self) -> str:
        """Name of the agent's current state, one of ``state_names``."""
        return self.state_names[int(self._pop.state[self.row])]

    @property
    def position(self) -> tuple[int, float]:
        """(edge index, metres along the edge)."""
        return int(self._pop.position_edge[self.row]), float(self._pop.position_offset_m[self.row])

    def step(self) -> None:
        """Do nothing: populations are stepped as a whole by the model, not per agent."""
