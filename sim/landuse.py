"""Land use per street segment, from the places in the OSM extract, with a street-class fallback.

The places an extract maps (``StreetNetwork.segment_place_counts``: shops, bars, stations, homes,
...) decide where residents live, work and go out, which segments draw offenders (crime
attractors) and what each offence type finds there (crime generators: Brantingham & Brantingham
1995, Eur J Crim Policy Res 3:5; Bernasco & Block 2011, JRCD 48:33, street robbery concentrates on
blocks with bars, cash machines, transit stops and shops). A street-only extract (no shops, bars,
restaurants or homes: the network loader says so in one line) falls back on street class: busy
classes get the expected number of shops, restaurants and bars per kilometre that a mixed
commercial street has, quiet ones less (:data:`COMMERCIAL_CLASS_WEIGHT`).

Every array is per segment, float, and in "places" (expected counts), so a fallback and a mapped
city are on one scale. docs/model.md ("Places") gives the rules and their sources.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.network import StreetNetwork
from sim.network._places import LAND_USE_KINDS

__all__ = [
    "COMMERCIAL_CLASS_WEIGHT",
    "HOME_CLASS_WEIGHT",
    "WORK_CLASS_WEIGHT",
    "LandUse",
    "class_weights",
    "segment_class_values",
]

# Where people live and work when the extract maps no homes: homes sit on residential-type streets,
# workplaces on the bigger streets, in proportion to length (a land-use proxy from OSM classes).
HOME_CLASS_WEIGHT = {"residential": 3.0, "living_street": 3.0, "tertiary": 1.5, "unclassified": 1.5,
                     "service": 0.8, "secondary": 1.0, "primary": 0.7, "footway": 0.5, "pedestrian": 0.5}  # fmt: skip
WORK_CLASS_WEIGHT = {"primary": 3.0, "secondary": 3.0, "tertiary": 2.0, "pedestrian": 2.0, "trunk": 2.0,
                     "unclassified": 1.0, "residential": 0.5, "footway": 0.7, "service": 0.7}  # fmt: skip
# Relative density of shops, restaurants and bars by street class (commercial frontage is on main
# and pedestrian streets; Weisburd, Groff & Yang 2012 on where street-segment crime concentrates).
COMMERCIAL_CLASS_WEIGHT = {"primary": 1.5, "secondary": 2.0, "tertiary": 1.5, "pedestrian": 2.5, "trunk": 0.5,
                           "unclassified": 1.0, "residential": 0.4, "living_street": 0.4, "footway": 0.6,
                           "service": 0.5}  # fmt: skip
# Places per km of a street of weight 1 in the fallback: about half the bundled City of London's
# mapped densities (shops 4-5, restaurants 4-6, bars 1-2 per km on most classes), a dense centre.
FALLBACK_PER_KM = {"retail": 2.0, "food": 2.0, "nightlife": 0.7}
# Share of residents placed by mapped residential buildings where the extract has any; the rest by
# street class, because OSM maps buildings unevenly (Hecht, Kunze & Hahmann 2013, ISPRS IJGI 2:1066).
HOMES_FROM_BUILDINGS = 0.7
# ... and of workplaces placed by mapped shops, restaurants, bars, schools, stations and community
# venues (offices are rarely tagged as places; the rest follow street class).
WORK_FROM_PLACES = 0.5


def segment_class_values(net: StreetNetwork, table: dict[str, float], default: float) -> NDArray[np.float64]:
    """Return ``table[class]`` for every segment's street class (``default`` for classes not named)."""
    per_class = np.array([table.get(c, default) for c in net.highway_classes], dtype=np.float64)
    out: NDArray[np.float64] = per_class[net.edge_highway[net.segment_edge]]
    return out


def class_weights(net: StreetNetwork, table: dict[str, float], default: float) -> NDArray[np.float64]:
    """Return per-segment weights ``table[class] x length``, summing to 1."""
    w = segment_class_values(net, table, default) * net.segment_length_m
    out: NDArray[np.float64] = w / w.sum()
    return out


def _mix(places: NDArray[np.float64], fallback: NDArray[np.float64], share: float) -> NDArray[np.float64]:
    """Blend normalised place counts with a normalised fallback; the fallback alone without places."""
    total = places.sum()
    if total <= 0:
        return fallback
    out: NDArray[np.float64] = share * places / total + (1.0 - share) * fallback
    return out


@dataclass(frozen=True)
class LandUse:
    """Expected places per segment by use, and where they come from (``mapped`` or ``street class``).

    Attributes
    ----------
    retail, food, nightlife
        Shops; restaurants, cafes and fast food; bars and pubs plus three per nightclub (a club
        holds several bars' crowd).
    transit
        Stops plus three per station.
    parking, school, atm, community, residential
        Car and cycle parks; schools and colleges; cash machines and banks; community venues;
        residential buildings.
    source
        ``mapped`` when the extract has shops, bars, restaurants or homes, else ``street class``.
    """

    retail: NDArray[np.float64]
    food: NDArray[np.float64]
    nightlife: NDArray[np.float64]
    transit: NDArray[np.float64]
    parking: NDArray[np.float64]
    school: NDArray[np.float64]
    atm: NDArray[np.float64]
    community: NDArray[np.float64]
    residential: NDArray[np.float64]
    source: str

    @classmethod
    def from_network(cls, net: StreetNetwork) -> LandUse:
        """Read the places of ``net`` (or, for a street-only extract, derive retail, food and nightlife)."""
        counts = net.segment_places

        def col(kind: str) -> NDArray[np.float64]:
            return np.asarray(counts[kind], dtype=np.float64)

        mapped = any(net.places_found.get(kind, 0) for kind in LAND_USE_KINDS)
        if mapped:
            retail, food = col("shop"), col("restaurant")
            nightlife = col("bar") + 3.0 * col("nightclub")
        else:
            km = segment_class_values(net, COMMERCIAL_CLASS_WEIGHT, 0.3) * net.segment_length_m / 1000.0
            retail, food, nightlife = (FALLBACK_PER_KM[k] * km for k in ("retail", "food", "nightlife"))
        return cls(
            retail=retail, food=food, nightlife=nightlife, transit=col("stop") + 3.0 * col("station"),
            parking=col("parking"), school=col("school"), atm=col("atm"), community=col("community"),
            residential=col("residential"), source="mapped" if mapped else "street class",
        )  # fmt: skip

    # ------------------------------------------------------------------ people
    def home_weights(self, net: StreetNetwork) -> NDArray[np.float64]:
        """Where residents live (sums to 1): mapped residential buildings blended with street class."""
        return _mix(self.residential, class_weights(net, HOME_CLASS_WEIGHT, 0.3), HOMES_FROM_BUILDINGS)

    def work_weights(self, net: StreetNetwork) -> NDArray[np.float64]:
        """Where residents work or study (sums to 1): workplaces among the places, blended with street class."""
        places = self.retail + self.food + self.nightlife + self.school + self.transit + self.community
        return _mix(places, class_weights(net, WORK_CLASS_WEIGHT, 0.3), WORK_FROM_PLACES)

    def leisure_weights(self) -> NDArray[np.float64]:
        """Where residents go out (sums to 1): shops, restaurants, bars and clubs, community venues.

        Crime generators are places many people go for reasons of their own (Brantingham &
        Brantingham 1995); residents' outings bring the targets and guardians there.
        """
        w = self.retail + self.food + 2.0 * self.nightlife + self.community
        if w.sum() <= 0:  # no place of any kind and no street length: everywhere alike
            w = np.ones_like(w)
        out: NDArray[np.float64] = w / w.sum()
        return out

    # ------------------------------------------------------------------ crime
    def attractors(self) -> NDArray[np.float64]:
        """Places that draw offenders looking for targets (Brantingham & Brantingham 1995; Bernasco & Block 2011).

        Bars and clubs, cash machines, transit, car parks, and shops at half weight.
        """
        out: NDArray[np.float64] = self.nightlife + self.atm + self.transit + self.parking + 0.5 * self.retail
        return out
