"""The offence types the model simulates: who or what each one targets, and its defaults.

The ten types are the offence classes police records are sorted into (``sim.incidents``), so a
simulated and a real city are compared class by class. Each type's mechanism (targets, crime
generators, guardians, darkness) is in :func:`sim.crime.crime_hazards`; this module holds what the
rest of the model needs to know of a type without importing the model: its victim, its report rate
and its hours. Sources are in docs/model.md (the ODD, "Offences").

Nothing here imports from ``sim``: configuration, the incident reader and the model all read it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CRIME_TYPES", "OFFENCES", "PREMISES_SHUT", "VICTIM_KINDS", "Offence"]

#: Who a type's victim is: a resident in the street, a resident whose home (or vehicle, bicycle,
#: property) is on the segment, or a business (no resident victim).
VICTIM_KINDS = ("person", "home_out", "vehicle", "home", "business")


@dataclass(frozen=True)
class Offence:
    """One simulated offence type and its defaults.

    Attributes
    ----------
    name
        The type's key (also the offence class it is compared with in police data).
    label
        The report's name for it.
    victim
        One of :data:`VICTIM_KINDS`.
    report_base
        Share of these crimes victims report to the police at mean trust (approximate shares from
        the Crime Survey for England and Wales; shoplifting from the Home Office Commercial
        Victimisation Survey). The default of ``crime.report_base``.
    witness
        Whether a witness in the street may report it when the victim does not (street crime).
    dark
        Which darkness multiplier applies: ``street`` (``crime.darkness_robbery_multiplier``, Tompson
        & Bowers 2013), ``other`` (``crime.darkness_other_multiplier``: street violence and theft
        too, which lighting cut in New York's trial, Chalfin et al. 2022) or ``none`` (offences
        indoors: shoplifting, other theft).
    hours
        Default hour-of-day multipliers (24 values, 00:00 first; the default of
        ``crime.type_by_hour``) or None for none beyond the offenders' activity schedule.
    weekdays
        Default day-of-week multipliers (7 values, Monday first; the default of
        ``crime.type_by_weekday``) or None.
    weight
        Relative hazard of the type (the default of ``crime.type_weight``), set by
        ``python -m experiments.tune_offence_mix`` so that the bundled City of London's simulated
        recorded mix is near the police.uk mix recorded on its streets from May 2023 to April 2024
        (total variation 0.03-0.07 over 4 seeds x 7 days; docs/model.md). The weights sum to 10,
        one per type: they set the mix, not the volume.
    """

    name: str
    label: str
    victim: str
    report_base: float
    witness: bool
    dark: str
    hours: tuple[float, ...] | None
    weight: float
    weekdays: tuple[float, ...] | None = None


# Shops open from about 08:00 to 20:00, later on the high street; a few stay open all night.
_SHOP_HOURS = (
    0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.7, 1.0, 1.2, 1.3,
    1.4, 1.4, 1.4, 1.4, 1.4, 1.3, 1.1, 0.9, 0.6, 0.4, 0.2, 0.1,
)  # fmt: skip
# Violence in public follows the night-time economy: it climbs through the evening, peaks around
# closing time and falls away before dawn (Hough & Hunter 2008; Newton & Hirschfield 2009).
_NIGHT_ECONOMY_HOURS = (
    2.0, 1.9, 1.6, 1.2, 0.8, 0.6, 0.5, 0.5, 0.6, 0.6, 0.7, 0.8,
    0.8, 0.8, 0.8, 0.9, 1.0, 1.0, 1.1, 1.2, 1.3, 1.5, 1.7, 1.9,
)  # fmt: skip
# Pickpocketing and snatch theft follow crowds: commuting, lunch and the evening.
_CROWD_HOURS = (
    0.4, 0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 0.9, 1.3, 1.1, 1.0, 1.2,
    1.5, 1.5, 1.3, 1.3, 1.5, 1.8, 1.8, 1.6, 1.4, 1.2, 1.0, 0.7,
)  # fmt: skip
# Vehicles are stolen mostly at night, when they are parked and unwatched (Clarke & Harris 1992).
_NIGHT_HOURS = (
    1.6, 1.6, 1.6, 1.5, 1.3, 1.0, 0.7, 0.6, 0.6, 0.6, 0.6, 0.7,
    0.7, 0.7, 0.7, 0.8, 0.8, 0.9, 1.0, 1.1, 1.3, 1.4, 1.5, 1.6,
)  # fmt: skip

# Night-time economy violence is a Friday- and Saturday-night problem (Hough & Hunter 2008); a
# calendar day's early hours belong to the night before, so Saturday and Sunday carry them too.
_NIGHT_ECONOMY_DAYS = (0.8, 0.75, 0.8, 0.9, 1.2, 1.5, 1.05)
# Large shops in England open six hours on a Sunday (Sunday Trading Act 1994).
_SHOP_DAYS = (1.05, 1.05, 1.05, 1.05, 1.05, 1.05, 0.7)

_TYPES = (
    Offence("robbery", "Street robbery", "person", 0.5, True, "street", None, 0.292),
    Offence("burglary", "Burglary", "home_out", 0.65, False, "other", None, 0.221),
    Offence("theft_from_vehicle", "Theft from vehicles", "vehicle", 0.4, False, "other", None, 0.063),
    Offence("theft_from_person", "Theft from the person", "person", 0.3, False, "other", _CROWD_HOURS, 2.687),
    Offence("shoplifting", "Shoplifting", "business", 0.4, False, "none", _SHOP_HOURS, 1.17, _SHOP_DAYS),
    Offence("violence", "Violence in public", "person", 0.45, True, "other", _NIGHT_ECONOMY_HOURS, 3.804, _NIGHT_ECONOMY_DAYS),
    Offence("criminal_damage", "Criminal damage", "home", 0.35, False, "other", None, 0.147),
    Offence("vehicle_theft", "Theft of vehicles", "vehicle", 0.9, False, "other", _NIGHT_HOURS, 0.012),
    Offence("bicycle_theft", "Bicycle theft", "home", 0.4, False, "other", None, 0.191),
    Offence("other_theft", "Other theft", "business", 0.35, False, "none", None, 1.412),
)  # fmt: skip

#: Share of shops, restaurants and bars shut at each hour (1 - shop hours / their peak): shut
#: premises are burglary targets (commercial burglary is a night-time offence).
PREMISES_SHUT: tuple[float, ...] = tuple(1.0 - h / max(_SHOP_HOURS) for h in _SHOP_HOURS)

#: Every simulated offence type, by name, in the model's order.
OFFENCES: dict[str, Offence] = {o.name: o for o in _TYPES}
#: The simulated offence types in the model's order (columns of the hazards, keys of counts).
CRIME_TYPES: tuple[str, ...] = tuple(OFFENCES)
