"""Offending: the hazard of each crime type on an offender's segment, and who the victim is.

For offender ``i`` on segment ``s`` the hazard of crime type ``k`` per hour is::

    lambda_k = base_rate * A_s * opportunity_k(s) * exp(-g_s * guardians_k(s)) * (1 - deterrence_s) * dark_k(s)

- ``A_s`` is the segment's attractiveness (static risky-facility term plus the Short et al. 2008 boost).
- ``opportunity_k = n / (1 + n)`` saturates in the number ``n`` of suitable targets there now:
  people in public for street robbery, homes whose residents are out for burglary (Cohen & Felson
  1979: burglary follows empty homes, so it peaks in the working day), parked vehicles for theft
  from vehicles.
- Guardianship: every other person present (and, for burglary, neighbours at home) multiplies the
  hazard by ``exp(-g)``; ``g = guardian_effect * surveillance_s * (1 + w * CE_area)``, so natural
  surveillance (CPTED) and neighbourhood collective efficacy (Sampson, Raudenbush & Earls 1997)
  make each guardian more capable. CE is proxied by the mean trust of the area's residents.
- ``deterrence_s`` is police presence and its residual (Koper 1995), ``dark_k`` darkness unless lit.

The probability of offending in a step of ``dt`` hours is ``1 - exp(-sum_k lambda_k dt)`` (Short
et al. 2008 use the same form); the type is drawn in proportion to ``lambda_k``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["CRIME_TYPES", "Opportunity", "crime_hazards"]

CRIME_TYPES = ("robbery", "burglary", "theft_from_vehicle")


@dataclass
class Opportunity:
    """Per-segment counts of targets and guardians at this step."""

    people_in_public: NDArray[np.int64]
    homes_empty: NDArray[np.int64]
    homes_occupied: NDArray[np.int64]
    vehicles: NDArray[np.int64]


def crime_hazards(
    segments: NDArray[np.int64],
    opp: Opportunity,
    *,
    base_rate_per_hour: float,
    attractiveness: NDArray[np.float64],
    guardian_strength: NDArray[np.float64],
    deterrence: NDArray[np.float64],
    dark_robbery: NDArray[np.float64],
    dark_other: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Hazard per hour of each crime type (columns in CRIME_TYPES order) for offenders on ``segments``."""
    s = segments
    public = opp.people_in_public[s].astype(np.float64)
    empty = opp.homes_empty[s].astype(np.float64)
    occupied = opp.homes_occupied[s].astype(np.float64)
    cars = opp.vehicles[s].astype(np.float64)
    g = guardian_strength[s]
    common = base_rate_per_hour * attractiveness[s] * (1.0 - deterrence[s])
    robbery = common * public / (1.0 + public) * np.exp(-g * np.maximum(public - 1.0, 0.0)) * dark_robbery[s]
    burglary = common * empty / (1.0 + empty) * np.exp(-g * (occupied + public)) * dark_other[s]
    vehicle = common * cars / (1.0 + cars) * np.exp(-g * public) * dark_other[s]
    return np.column_stack([robbery, burglary, vehicle])
