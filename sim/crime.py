"""The crime rules: the hazard of each offence type on an offender's segment, and whether it is reported.

For offender ``i`` on segment ``s`` the hazard of offence type ``k`` per hour is::

    lambda_k = base_rate * w_k * A_s * (1 - deterrence_s)
               * n_k(s) / (1 + n_k(s))                       # suitable targets there now
               * (1 + c * p_k(s) / (1 + p_k(s)))             # crime generators of the type
               * exp(-g_s * G_k(s)) * dark_k(s)               # guardians; darkness unless lit

- ``A_s`` is the segment's attractiveness (static term with crime attractors, plus the Short et al.
  2008 boost); ``w_k`` the type's weight (``crime.type_weight``); ``deterrence_s`` police presence and
  its residual (Koper 1995); the hour-of-day profile of each type multiplies in :mod:`sim.offending`.
- Targets ``n_k`` saturate: one target is enough to offend, more make it only a little likelier.
- Generators ``p_k`` are places that bring the type's targets together (Brantingham & Brantingham
  1995): up to ``1 + c`` (``crime.generator_strength``) where many stand.
- Guardians ``G_k``: every other person present (and, for burglary, neighbours at home) multiplies
  the hazard by ``exp(-g)``; ``g = guardian_effect * surveillance_s * (1 + w * CE_area)``, so
  natural surveillance (CPTED) and neighbourhood collective efficacy (Sampson, Raudenbush & Earls
  1997) make each guardian more capable. Crowds shield pickpockets and the night-time economy's
  violence, and shop staff (not simulated people) are shoplifting's guardians, so those have none.

=================== ============================== ============================== ===============
type                targets ``n``                  generators ``p``               guardians ``G``
=================== ============================== ============================== ===============
robbery             people in public               transit, cash machines, bars   others present
burglary            homes whose residents are out, -                              at home + public
                    shops and bars while shut
theft_from_vehicle  parked vehicles                car parks                      people present
theft_from_person   people in public               transit, shops, food, bars     none (crowds)
shoplifting         shops                          -                              none (staff)
violence            people in public               bars and clubs                 none
criminal_damage     homes, vehicles, shopfronts    -                              people present
vehicle_theft       parked vehicles                car parks                      people present
bicycle_theft       cycle and car parks, stations, -                              people present
                    schools, homes
other_theft         people, shops, food, bars,     -                              none
                    schools, community venues
=================== ============================== ============================== ===============

The probability of offending in a step of ``dt`` hours is ``1 - exp(-sum_k lambda_k dt)`` (Short et
al. 2008 use the same form); the type is drawn in proportion to ``lambda_k``. Sources per type:
docs/model.md ("Offences").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.agents.resident import HOME, Residents
from sim.config import CrimeConfig
from sim.landuse import LandUse
from sim.network import StreetNetwork
from sim.offences import CRIME_TYPES, OFFENCES

__all__ = ["CRIME_TYPES", "Opportunity", "PlaceTargets", "Report", "crime_hazards", "decide_report"]

# A car park is a row of parked vehicles, a cycle rack a row of bicycles (counted as targets).
VEHICLES_PER_CAR_PARK = 10.0
# Share of homes with a bicycle left outside or in a shared store (a target for bicycle theft).
BICYCLES_PER_HOME = 0.2


@dataclass
class Opportunity:
    """Per-segment counts of targets and guardians at this step."""

    people_in_public: NDArray[np.int64]
    homes_empty: NDArray[np.int64]
    homes_occupied: NDArray[np.int64]
    vehicles: NDArray[np.int64]


@dataclass(frozen=True)
class PlaceTargets:
    """What the places on each segment offer each type: static targets and generator terms (per segment)."""

    vehicles: NDArray[np.float64]  # parked away from home (car parks), added to residents' vehicles
    shops: NDArray[np.float64]
    bicycles: NDArray[np.float64]
    unattended: NDArray[np.float64]  # places where property is left unattended (other theft)
    premises: NDArray[
        np.float64
    ]  # shops, restaurants, bars: shopfronts to damage, burglary targets while shut
    generators: dict[str, NDArray[np.float64]]  # type -> p / (1 + p)

    @classmethod
    def from_land_use(cls, land: LandUse, homes: NDArray[np.int64]) -> PlaceTargets:
        """Build the static terms from the city's land use and the residents' homes per segment."""

        def sat(x: NDArray[np.float64]) -> NDArray[np.float64]:
            out: NDArray[np.float64] = x / (1.0 + x)
            return out

        hospitality = land.food + land.nightlife
        return cls(
            vehicles=VEHICLES_PER_CAR_PARK * land.parking,
            shops=land.retail,
            bicycles=land.parking + land.transit + land.school + BICYCLES_PER_HOME * homes,
            unattended=land.retail + hospitality + land.school + land.community,
            premises=land.retail + hospitality,
            generators={
                "robbery": sat(land.transit + land.atm + land.nightlife),
                "theft_from_vehicle": sat(land.parking),
                "theft_from_person": sat(land.transit + land.retail + hospitality),
                "violence": sat(land.nightlife),
                "vehicle_theft": sat(land.parking),
            },
        )


def crime_hazards(
    segments: NDArray[np.int64],
    opp: Opportunity,
    places: PlaceTargets,
    *,
    base_rate_per_hour: float,
    type_weight: NDArray[np.float64],
    generator_strength: float,
    attractiveness: NDArray[np.float64],
    guardian_strength: NDArray[np.float64],
    deterrence: NDArray[np.float64],
    dark_street: NDArray[np.float64],
    dark_other: NDArray[np.float64],
    premises_shut: float = 0.0,
    extra_guardians: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Return the hazard per hour of each offence type for offenders on ``segments``.

    Per-segment arrays are indexed by ``segments``, except ``deterrence``: the police deterrence
    where each offender stands, aligned with ``segments`` (:meth:`Environment.police_fields_at`).

    Columns are in ``CRIME_TYPES`` order; ``type_weight`` is in that order too. ``premises_shut`` is
    the share of shops, restaurants and bars shut now (:data:`sim.offences.PREMISES_SHUT`).
    ``extra_guardians`` (per segment) adds guardians to every type that has any, e.g. watch members
    at home looking out on the street (:meth:`sim.offending.Offending.add_home_watchers`).
    """
    s = segments
    public = opp.people_in_public[s].astype(np.float64)
    empty = opp.homes_empty[s].astype(np.float64)
    occupied = opp.homes_occupied[s].astype(np.float64)
    vehicles = opp.vehicles[s].astype(np.float64) + places.vehicles[s]
    homes = empty + occupied
    g = guardian_strength[s]
    common = base_rate_per_hour * attractiveness[s] * (1.0 - deterrence)
    dark = {"street": dark_street[s], "other": dark_other[s]}
    none = np.zeros_like(public)
    others = np.maximum(public - 1.0, 0.0)
    premises = places.premises[s]
    # (targets, guardians) per type
    terms = {
        "robbery": (public, others),
        "burglary": (empty + premises_shut * premises, occupied + public),
        "theft_from_vehicle": (vehicles, public),
        "theft_from_person": (public, none),
        "shoplifting": (places.shops[s], none),
        "violence": (public, none),
        "criminal_damage": (homes + vehicles + premises, public),
        "vehicle_theft": (vehicles, public),
        "bicycle_theft": (places.bicycles[s], public),
        "other_theft": (public + places.unattended[s], none),
    }
    # every type at once, as (offender, type) arrays: a handful of array operations for all ten types
    # instead of a handful per type (the step's offenders are few: the calls, not the sizes, cost)
    extra = extra_guardians[s] if extra_guardians is not None else None
    guarded: dict[int, NDArray[np.float64]] = {}  # the guardians plus watchers, once per distinct array
    ones = np.ones_like(public)
    boosts: dict[str, NDArray[np.float64]] = {}
    targets, guardians, boost, dark_of = [], [], [], []
    for ctype in CRIME_TYPES:
        n, guard = terms[ctype]
        if extra is not None and guard is not none:
            if id(guard) not in guarded:
                guarded[id(guard)] = guard + extra
            guard = guarded[id(guard)]
        targets.append(n)
        guardians.append(guard)
        gen = places.generators.get(ctype)
        if gen is not None:
            boosts[ctype] = 1.0 + generator_strength * gen[s]
        boost.append(boosts.get(ctype, ones))
        dark_of.append(dark[OFFENCES[ctype].dark] if OFFENCES[ctype].dark != "none" else ones)
    n_k = np.stack(targets, axis=1)
    # the same operations in the same order per element as one type at a time: identical numbers
    out: NDArray[np.float64] = type_weight[None, :] * common[:, None] * n_k
    out /= 1.0 + n_k
    out *= np.stack(boost, axis=1)
    out *= np.exp(-g[:, None] * np.stack(guardians, axis=1))
    out *= np.stack(dark_of, axis=1)
    return out


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
    report_factor: float = 1.0,
) -> Report:
    """Decide whether the victim (or, for a street crime, a witness) reports, if it is recorded, and when.

    ``u`` holds four uniform draws (report, witness, record, delay), drawn whether or not they are
    used so the reporting stream stays aligned across policy arms.

    - The chance of reporting is the type's base rate (``report_base``: the CSEW shares reported)
      scaled by the victim's trust relative to the mean trust at the start: people who trust the
      police report more (Skogan 2006; Tankebe 2013). A business victim (shoplifting) or a victim
      not among the residents reports at the base rate. A street crime nobody reports (robbery,
      violence) may be reported by a witness in the street, at half the chance. ``report_factor``
      scales both chances on the crime's street (a neighbourhood watch raises it; 1 elsewhere).
    - Reported crime is recorded at ``recording_rate`` (HMIC 2014: about 81% of reported crime).
    - The call comes after an exponential delay of mean ``report_delay_mean_min``; a burglary is
      found only when the resident comes home.
    """
    u_report, u_witness, u_record, u_delay = (float(v) for v in u)
    r = residents
    base = config.report_base.get(ctype, OFFENCES[ctype].report_base)
    trust_victim = r.trust[victim] if victim >= 0 else mean_trust_start
    reported = bool(u_report < min(1.0, base * trust_victim / mean_trust_start * report_factor))
    if not reported and OFFENCES[ctype].witness:
        witnesses = r.public_on_segment(segment)
        witnesses = witnesses[witnesses != victim]
        if witnesses.size:
            w = int(witnesses[int(u_witness * witnesses.size) % witnesses.size])
            reported = bool(u_witness < 0.5 * min(1.0, base * r.trust[w] / mean_trust_start * report_factor))
    if not reported:
        return Report(False, False, math.nan)
    recorded = bool(u_record < config.recording_rate)
    delay = -config.report_delay_mean_min * math.log(max(u_delay, 1e-12))
    if ctype == "burglary" and victim >= 0 and r.state[victim] != HOME:
        back = r.activity_end_min[victim]
        delay += max(0.0, (back if math.isfinite(back) else t + 60.0) - t)
    return Report(True, recorded, delay)
