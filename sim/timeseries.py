"""Accumulation of the run's time series: crime by type, recorded and expected crime, trust, calls, officer time.

One row per ``sim.timeseries_every_min`` (hourly by default), written when the interval ends.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.agents.officer import STATE_NAMES
from sim.clock import Clock
from sim.crime import CRIME_TYPES

__all__ = ["EXPECTED_PREFIX", "TimeSeries"]

# The columns of the model's expected recorded crimes per offence type: ``crimes_recorded_expected_<type>``.
EXPECTED_PREFIX = "crimes_recorded_expected_"


class TimeSeries:
    """Counts crime as it happens and books officer time per step; one row per interval."""

    def __init__(self, clock: Clock, every_min: float) -> None:
        self.clock = clock
        self.every_min = float(every_min)
        self.rows: list[dict[str, float]] = []
        self._reset()
        self._last_officer_min = np.zeros(len(STATE_NAMES))

    def _reset(self) -> None:
        self.counts = dict.fromkeys(CRIME_TYPES, 0)
        self.recorded = 0
        self.recorded_expected = np.zeros(len(CRIME_TYPES))
        self.officer_min = np.zeros(len(STATE_NAMES))

    def crime(self, ctype: str, recorded: bool) -> None:
        """Count one crime of type ``ctype`` in the current interval."""
        self.counts[ctype] += 1
        self.recorded += int(recorded)

    def expected(self, by_type: NDArray[np.float64]) -> None:
        """Add the model's expected recorded crimes of a step, per offence type (:meth:`sim.offending.Offending._add_expected`)."""
        self.recorded_expected += by_type

    def end_step(
        self, now: float, officer_minutes: NDArray[np.float64], trust: NDArray[np.float64], waiting: int
    ) -> None:
        """Book the step that started at ``now``; close the interval when it ends with this step."""
        total = officer_minutes.sum(axis=0)
        self.officer_min += total - self._last_officer_min
        self._last_officer_min = total.copy()
        end = now + self.clock.step_min
        if end % self.every_min == 0.0:
            self.rows.append(self._row(int(end // self.every_min) - 1, trust, waiting))
            self._reset()

    def _row(self, period: int, trust: NDArray[np.float64], waiting: int) -> dict[str, float]:
        start_h = self.clock.config.start_hour
        hour: float = period * self.every_min / 60.0
        if hour.is_integer():
            hour = int(hour)
        row: dict[str, float] = {
            "hour": hour, "day": int((hour + start_h) // 24), "hour_of_day": int((hour + start_h) % 24),
            "crimes": sum(self.counts.values()), "crimes_recorded": self.recorded,
            "crimes_recorded_expected": float(self.recorded_expected.sum()), **self.counts,
            "mean_trust": float(trust.mean()), "calls_waiting": waiting,
        }  # fmt: skip
        for ctype, amount in zip(CRIME_TYPES, self.recorded_expected, strict=True):
            row[f"{EXPECTED_PREFIX}{ctype}"] = float(amount)
        for name, minutes in zip(STATE_NAMES, self.officer_min, strict=True):
            if name != "off":
                row[f"officer_min_{name}"] = float(minutes)
        return row

    def frame(self) -> pd.DataFrame:
        """Return the rows so far as a table."""
        return pd.DataFrame(self.rows)
