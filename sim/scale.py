"""City scale: the head-counts of a run, given in config or derived from the size of the street network.

A planner should give their area's numbers (``population.n_residents``, ``population.n_offenders``,
``police.foot_per_shift``, ``police.cars_per_shift``). Where they are not given, Precinct counts
residents by the extract's residential buildings when it maps them well (at least
``population.min_residential_per_street_km`` per km of street, at ``residents_per_building``), and
otherwise scales them with the length of the walkable streets, so a city ten times the size of the default gets ten
times the people and officers, never the default city's head-counts. The densities are the bundled
City of London's: 3,000 residents and 8 foot officers on its 98 km of streets (the model's
calibrated default), one offender per 30 residents, and one response car per 50 km of street.
Every run's log says which head-counts it used and where each came from.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sim.config import ModelConfig, city_name
from sim.network import StreetNetwork

__all__ = ["Headcounts", "resolve_headcounts"]


@dataclass(frozen=True)
class Headcounts:
    """The numbers a run used, each with where it came from."""

    n_residents: int
    n_offenders: int
    foot_per_shift: int
    cars_per_shift: int
    street_km: float
    sources: dict[str, str]

    @property
    def n_officers(self) -> int:
        """Officers on duty per shift, on foot and in cars."""
        return self.foot_per_shift + self.cars_per_shift

    def describe(self) -> str:
        """Return one line for the run's log, e.g. ``3,000 residents (given), ...``."""
        parts = [
            f"{self.n_residents:,} residents ({self.sources['n_residents']})",
            f"{self.n_offenders:,} offenders ({self.sources['n_offenders']})",
            f"{self.foot_per_shift} foot officers and {self.cars_per_shift} response cars per shift"
            f" ({self.sources['officers']})",
        ]
        return ", ".join(parts) + f"; {self.street_km:,.1f} km of streets"


def resolve_headcounts(config: ModelConfig, network: StreetNetwork) -> Headcounts:
    """Return the head-counts of a run: those given in ``config``, the rest derived from street length."""
    pop, police = config.population, config.police
    km = float(network.segment_length_m.sum()) / 1000.0
    sources: dict[str, str] = {}
    buildings = int(network.places_found.get("residential", 0))
    if pop.n_residents is not None:
        n_res, sources["n_residents"] = int(pop.n_residents), "given"
    elif km > 0 and buildings / km >= pop.min_residential_per_street_km:
        # homes mapped well enough to count people by them
        n_res = max(1, round(buildings * pop.residents_per_building))
        sources["n_residents"] = (
            f"{pop.residents_per_building:g} per residential building ({buildings:,} mapped)"
        )
    else:
        n_res = max(1, round(km * pop.residents_per_street_km))
        sources["n_residents"] = f"{pop.residents_per_street_km:g} per km of street"
    if pop.n_offenders is not None:
        n_off, sources["n_offenders"] = int(pop.n_offenders), "given"
    else:
        n_off = round(n_res * pop.offenders_per_resident)
        sources["n_offenders"] = f"{pop.offenders_per_resident:g} per resident"
    if police.n_officers is not None:
        n = int(police.n_officers)
        foot, cars = (n, 0) if police.mode == "foot" else (0, n)
        sources["officers"] = f"police.n_officers given, all {police.mode}"
    elif police.foot_per_shift is not None or police.cars_per_shift is not None:
        foot, cars = int(police.foot_per_shift or 0), int(police.cars_per_shift or 0)
        sources["officers"] = "given per shift"
    else:
        foot = max(1, round(km / police.street_km_per_foot_officer))
        cars = round(km / police.street_km_per_car)
        sources["officers"] = (
            f"one on foot per {police.street_km_per_foot_officer:g} km and one car per "
            f"{police.street_km_per_car:g} km of street"
        )
        if police.mode == "car":  # a car force (police=car): the same posts, all in cars
            foot, cars = 0, foot + cars
            sources["officers"] += ", all in cars (police.mode=car)"
    return Headcounts(n_res, n_off, foot, cars, km, sources)


def with_headcounts(config: ModelConfig, counts: Headcounts) -> ModelConfig:
    """Return a copy of ``config`` with the head-counts and the city's name filled in (what the results record)."""
    population = dataclasses.replace(
        config.population, n_residents=counts.n_residents, n_offenders=counts.n_offenders
    )
    police = dataclasses.replace(
        config.police,
        n_officers=None,
        foot_per_shift=counts.foot_per_shift,
        cars_per_shift=counts.cars_per_shift,
    )
    city = dataclasses.replace(config.city, name=city_name(config.city))
    return dataclasses.replace(config, city=city, population=population, police=police)
