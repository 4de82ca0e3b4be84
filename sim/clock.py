"""Simulated time: steps of a fixed number of minutes, hours of the day, weekdays, darkness."""

from __future__ import annotations

from dataclasses import dataclass

from sim.config import SimConfig

__all__ = ["Clock"]

MINUTES_PER_DAY = 24 * 60


@dataclass
class Clock:
    """The model's clock; ``step`` counts completed steps, ``now_min`` is minutes since the start.

    The run starts at ``start_hour`` on weekday ``start_weekday`` (0 = Monday). Darkness is the
    time outside [sunrise, sunset); it matters because darkness raises street robbery
    (Tompson & Bowers 2013) and lighting removes that advantage (Welsh & Farrington 2008).
    """

    config: SimConfig
    step: int = 0

    @property
    def step_min(self) -> float:
        """Length of one step in minutes."""
        return float(self.config.step_min)

    @property
    def n_steps(self) -> int:
        """Number of steps in the run: ``days`` in steps of ``step_min`` minutes."""
        return round(self.config.days * MINUTES_PER_DAY / self.config.step_min)

    @property
    def now_min(self) -> float:
        """Minutes since the start of the run."""
        return self.step * self.config.step_min

    @property
    def clock_min(self) -> float:
        """Minutes since the midnight before the start (the calendar clock)."""
        return self.config.start_hour * 60 + self.now_min

    @property
    def day(self) -> int:
        """Calendar day index since the start (day 0 is the first)."""
        return int(self.clock_min // MINUTES_PER_DAY)

    @property
    def hour_of_day(self) -> float:
        """Hour of the calendar day, 0 <= h < 24, with fractions of an hour."""
        return (self.clock_min % MINUTES_PER_DAY) / 60.0

    @property
    def weekday(self) -> int:
        """Day of the week of the current calendar day (0 = Monday)."""
        return (self.config.start_weekday + self.day) % 7

    @property
    def is_weekend(self) -> bool:
        """True on Saturday and Sunday."""
        return self.weekday >= 5

    @property
    def is_dark(self) -> bool:
        """True outside [sunrise, sunset) of the calendar day."""
        h = self.hour_of_day
        return not (self.config.sunrise_hour <= h < self.config.sunset_hour)

    @property
    def is_midnight(self) -> bool:
        """True at the first step of each calendar day (and at the very first step)."""
        return self.step == 0 or (self.clock_min % MINUTES_PER_DAY) < self.config.step_min

    def day_start_min(self) -> float:
        """Return ``now_min`` of the midnight that began the current calendar day (may be negative)."""
        return self.day * MINUTES_PER_DAY - self.config.start_hour * 60
