"""The crime rules: the hazard of each crime type on an offender's segment, and whether it is reported.

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

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.agents.resident import HOME, Residents
from sim.config import CrimeConfig
from sim.network import StreetNetwork

__all__ = ["CRIME_TYPES", "Opportunity", "Report", "crime_hazards", "decide_report"]

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
    """Return the hazard per hour of each crime type for offenders on ``segments``.

    Columns are in ``CRIME_TYPES`` order.
    """
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


@dataclass(frozen=True)
class Report:
    """Whether a crime reached the police, whether they recorded it, and after how long (minutes)."""

    reported: bool
    recorded: bool
    delay_min: float


def decide_report(
    ctype: str,
    victim: int,
    segment: int,
    t: float,
    u: NDArray[np.float64],
    *,
    config: CrimeConfig,
    residents: Residents,
    network: StreetNetwork,
    mean_trust_start: float,
) -> Report:
    """Decide whether the victim (or, for a street robbery, a witness) reports, if it is recorded, and when.

    ``u`` holds four uniform draws (report, witness, record, delay), drawn whether or not they are
    used so the reporting stream stays aligned across policy arms.

    - The chance of reporting is the type's base rate (``report_base``: the CSEW shares reported)
      scaled by the victim's trust relative to the mean trust at the start: people who trust the
      police report more (Skogan 2006; Tankebe 2013). A street robbery nobody reports may be
      reported by a witness in the street, at half the chance.
    - Reported crime is recorded at ``recording_rate`` (HMIC 2014: about 81% of reported crime).
    - The call comes after an exponential delay of mean ``report_delay_mean_min``; a burglary is
      found only when the resident comes home.
    """
    u_report, u_witness, u_record, u_delay = (float(v) for v in u)
    r = residents
    base = config.report_base[ctype]
    trust_victim = r.trust[victim] if victim >= 0 else mean_trust_start
    reported = bool(u_report < min(1.0, base * trust_victim / mean_trust_start))
    if not reported and ctype == "robbery":
        witnesses = np.flatnonzero(r.in_public() & (network.edge_segment[r.position_edge] == segment))
        witnesses = witnesses[witnesses != victim]
        if witnesses.size:
            w = int(witnesses[int(u_witness * witnesses.size) % witnesses.size])
            reported = bool(u_witness < 0.5 * min(1.0, base * r.trust[w] / mean_trust_start))
    if not reported:
        return Report(False, False, math.nan)
    recorded = bool(u_record < config.recording_rate)
    delay = -config.report_delay_mean_min * math.log(max(u_delay, 1e-12))
    if ctype == "burglary" and victim >= 0 and r.state[victim] != HOME:
        back = r.activity_end_min[victim]
        delay += max(0.0, (back if math.isfinite(back) else t + 60.0) - t)
    return Report(True, recorded, delay)
