"""Typed configuration of one simulation run: plain dataclasses, validated, no Hydra needed.

Hydra (in ``experiments/``) builds these from YAML; a notebook builds them directly::

    from sim.config import ModelConfig
    cfg = ModelConfig(seed=3)
    cfg.sim.days = 7

Every default cites where it comes from in ``docs/model.md``; the most important ones are noted
inline. ``validate()`` raises :class:`sim.errors.ConfigError` naming the key, the value and what
is allowed, so a bad value fails at start, not three hours into a sweep.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from sim.checks import NON_NEGATIVE, NON_NEGATIVE_INT, POSITIVE, is_number
from sim.errors import ConfigError
from sim.offences import CRIME_TYPES, OFFENCES

__all__ = [
    "CityConfig",
    "CrimeConfig",
    "IncidentsConfig",
    "ModelConfig",
    "PoliceConfig",
    "PopulationConfig",
    "SimConfig",
    "SurveyConfig",
    "city_name",
    "default_city_path",
    "repo_root",
]


def repo_root() -> Path:
    """Return the directory that holds ``data/`` and ``conf/`` (the source checkout)."""
    return Path(__file__).resolve().parent.parent


def city_name(city: CityConfig) -> str:
    """Return the city's display name: as given, else the bundled default's, else the file's stem."""
    if city.name:
        return city.name
    if Path(city.path).resolve() == Path(default_city_path()).resolve():
        return "City of London"
    return Path(city.path).name.split(".")[0]


def default_city_path() -> str:
    """Return the bundled default city: the City of London extract (ODbL, see data/ATTRIBUTION.md)."""
    return str(repo_root() / "data" / "osm" / "city_of_london.osm.pbf")


@dataclass
class CityConfig:
    """Which street network to simulate on."""

    path: str = field(default_factory=default_city_path)
    # empty: "City of London" for the bundled default, else the file's name (my_town.osm.pbf -> my_town)
    name: str = ""
    # Residents, offenders and most City officers move on foot, and street robbery happens on
    # footways and alleys as well as roads, so the walkable network is the default.
    network_type: str = "walk"
    cache_dir: str | None = None
    # Cell size of the grid that defines neighbourhoods ("areas") for collective efficacy and
    # per-area results; 400 m is about a London LSOA in the centre.
    area_cell_m: float = 400.0
    # A folder written by `precinct calibrate` (outputs/calibration/NAME): the run uses its map and
    # its fitted crime.* values (a value given on the command line wins); see sim/calibration.py.
    calibration: str = ""


@dataclass
class SimConfig:
    """Clock and run length."""

    days: float = 14.0
    step_min: float = 5.0
    start_weekday: int = 0  # 0 = Monday
    start_hour: float = 0.0
    sunrise_hour: float = 7.0
    sunset_hour: float = 18.0
    timeseries_every_min: float = 60.0  # one time-series row per interval; a multiple of step_min


@dataclass
class PopulationConfig:
    """Residents and offenders."""

    # Head-counts: give your area's numbers; left out (null), they scale with the length of the
    # streets (sim/scale.py), at the bundled City of London's densities (3,000 residents on 98 km).
    n_residents: int | None = None
    n_offenders: int | None = None
    residents_per_street_km: float = 30.6
    # Where the extract maps homes well (at least this many residential buildings per km of street;
    # a fully mapped residential area has tens), residents are counted by building instead, at the
    # mean household size (ONS 2021: 2.36 in England and Wales; US Census 2020: 2.5). Blocks of flats
    # count as one building, so a city of flats is undercounted: give n_residents there.
    min_residential_per_street_km: float = 10.0
    residents_per_building: float = 2.4
    offenders_per_resident: float = 1.0 / 30.0
    vehicle_ownership: float = 0.35
    # Trust in police ~ Beta(a, b): mean 0.6, in the range of "confidence in the local police" in the
    # Crime Survey for England and Wales (about 60-70%).
    trust_alpha: float = 6.0
    trust_beta: float = 4.0
    work_share: float = 0.7  # residents with a weekday work/study trip
    leisure_prob: float = 0.35  # chance of an evening leisure trip on a given day
    walk_speed_mps: float = 1.3
    offender_speed_mps: float = 1.4
    # Offenders' activity anchors are drawn with distance decay from home (Bernasco & Nieuwbeerta
    # 2005; Wiles & Costello 2000): weight exp(-d / anchor_decay_m).
    anchor_decay_m: float = 800.0
    awareness_radius_m: float = 250.0
    # Seed of the synthetic city: who lives, works and goes out where, offenders' homes and anchors,
    # and the streets' unobserved risky-facility term (crime.risky_facility_sigma). null: each run's
    # own ``seed`` draws them, so replications differ in their populations too; set, every run of
    # any ``seed`` has the same city and only what happens in it varies (a calibration fixes it:
    # docs/calibration.md).
    seed: int | None = None


# Offenders' motivation to go out by hour of day (relative weights, 00:00 first). The shape follows
# Felson & Poulsen 2003 (Int J Forecasting 19:595): crime's daily low is around 05:00, it climbs
# through the morning and most of it falls between noon and midnight; no hour is crime-free. The
# night floor (about half the day's level) is set so that, with the types' own hours, the small
# hours hold a share like the 19% of Boston's Q1 2023 records between 02:00 and 10:00 (raised
# from a floor of 0.25 when Portland's held-out hours showed too little night crime: docs/model.md).
DEFAULT_ACTIVITY_BY_HOUR = (
    1.1, 1.0, 0.85, 0.7, 0.6, 0.55, 0.6, 0.7, 0.85, 0.9, 0.95, 1.0,
    1.1, 1.1, 1.1, 1.15, 1.2, 1.2, 1.2, 1.2, 1.15, 1.1, 1.1, 1.1,
)  # fmt: skip


@dataclass
class CrimeConfig:
    """Offending: opportunity, attractiveness, guardianship, deterrence, near repeats."""

    # Base hazard per offender-step on an edge with one suitable target, before modifiers (per hour).
    base_rate_per_hour: float = 0.15
    # Spread (log-sd) of static "risky facility" attractiveness across segments (Eck, Clarke &
    # Guerette 2007: a few facilities account for most crime among facilities of a kind).
    risky_facility_sigma: float = 0.25
    # Crime attractors (bars, cash machines, transit, car parks, shops) raise a segment's static
    # attractiveness by 1 + place_attraction * log(1 + places) (Brantingham & Brantingham 1995;
    # Bernasco & Block 2011: robbery concentrates on blocks with such places).
    place_attraction: float = 0.5
    # Crime generators raise an offence type's hazard by up to 1 + generator_strength where its
    # generating places stand (e.g. transit and shops for theft from the person; sim.crime).
    generator_strength: float = 2.0
    # Relative hazard of each offence type (sim.offences: set so that the bundled city's recorded mix
    # is near its police.uk mix); types not named keep their default.
    type_weight: dict[str, float] = field(default_factory=lambda: {k: o.weight for k, o in OFFENCES.items()})
    # Short et al. 2008: each crime adds theta to the dynamic attractiveness B of its segment; B decays
    # at omega per day and a share eta of each boost spreads to neighbouring segments.
    boost_theta: float = 1.0
    boost_decay_per_day: float = 0.2
    boost_spread_eta: float = 0.5
    # The boost saturates: right after repeated crime a segment is at most this many times as
    # attractive as its static level (see Environment.attractiveness).
    boost_max_multiplier: float = 3.0
    # A calibrated city's runs start from the boost its fit period's last weeks of recorded crime
    # left (its segments.parquet's boost_start, each recorded crime standing for 1 / P(reported and
    # recorded) crimes), not from none: risk after a crime stays raised nearby for weeks (Johnson et
    # al. 2007; Bowers, Johnson & Pease 2004), so a run that starts where the data end starts where
    # those near repeats are. false: every run starts with no boost, as an uncalibrated one does.
    warm_start: bool = True
    # Guardianship: each present person other than the target cuts the hazard by this factor
    # (capable guardians, Cohen & Felson 1979); collective efficacy scales it (Sampson et al. 1997).
    guardian_effect: float = 0.15
    collective_efficacy_weight: float = 1.0
    # Police presence deters nearly completely while present and decays after they leave (residual
    # deterrence, Koper 1995): deterrence = police_deterrence * exp(-minutes_since / residual_min).
    police_deterrence: float = 0.9
    residual_deterrence_min: float = 30.0
    # Police are seen beyond the spot they stand on: deterrence falls linearly from the officer's
    # segment to zero at this network distance (Clarke & Weisburd 1994: offenders overestimate an
    # intervention's reach, which is why diffusion of benefits is common; Braga et al. 2019).
    deterrence_reach_m: float = 100.0
    # An offender searching where police are (or were lately) and who notices them gives up the
    # outing with this chance, and otherwise moves on to search elsewhere. Displacement is less common
    # than no change or diffusion and smaller than the effect when it happens (Guerette & Bowers
    # 2009); offenders find it hard to move to places they do not know (Weisburd et al. 2006).
    deterred_give_up_prob: float = 0.5
    # Darkness multiplies street robbery hazard by 2.6 on unlit streets (Tompson & Bowers 2013), and
    # other outdoor crime's by 1.5: lighting cut outdoor night-time index crime (assault, robbery,
    # burglary, theft) by at least 36% in New York's randomised trial (Chalfin et al. 2022), i.e.
    # darkness multiplied it by about 1 / (1 - 0.36) = 1.56.
    darkness_robbery_multiplier: float = 2.6
    darkness_other_multiplier: float = 1.5
    # Where offenders choose to search: awareness weight x attractiveness ** attraction_power.
    attraction_power: float = 1.0
    # Offending comes in outings: motivation to go out and search arrives at this mean rate per day
    # (a Poisson process whose rate follows activity_by_hour x activity_by_weekday, each scaled to
    # mean 1); an outing lasts until an offence or outing_max_hours.
    outings_per_day: float = 4.0
    activity_by_hour: list[float] = field(default_factory=lambda: list(DEFAULT_ACTIVITY_BY_HOUR))
    activity_by_weekday: list[float] = field(default_factory=lambda: [1.0] * 7)  # Monday first
    # Day-of-week multipliers of a crime type's hazard (7 values, Monday first, scaled to mean 1):
    # defaults from sim.offences, Friday and Saturday nights for violence, short Sundays for
    # shoplifting; types not named keep their hazard every day.
    type_by_weekday: dict[str, list[float]] = field(
        default_factory=lambda: {k: list(o.weekdays) for k, o in OFFENCES.items() if o.weekdays is not None}
    )
    # Hour-of-day multipliers of a crime type's hazard (24 values, scaled to mean 1; set one from an
    # incident file's profile of that type). Defaults from sim.offences: shop hours for shoplifting,
    # the night-time economy for violence, crowds for theft from the person, nights for vehicle
    # theft; types not named keep their hazard at every hour.
    type_by_hour: dict[str, list[float]] = field(
        default_factory=lambda: {k: list(o.hours) for k, o in OFFENCES.items() if o.hours is not None}
    )
    # Offending careers are intermittent (Blumstein et al. 1986; Piquero, Farrington & Blumstein
    # 2003): offenders alternate active spells (mean days) and dormant spells; prolific offenders
    # commit crimes in bursts in one area (Johnson & Bowers 2004), the heart of near repeats.
    active_spell_days: float = 7.0
    dormant_spell_days: float = 14.0
    outing_max_hours: float = 3.0
    # After an offence, the chance an offender carries on searching nearby in the same outing
    # (sprees: Johnson & Bowers 2004; Bernasco 2008 on same-offender near repeats).
    spree_prob: float = 0.7
    # Offenders rest after an offence (days) before motivation can return.
    cooldown_days: float = 0.5
    # Offenders mostly offend where they go to look for targets; opportunities met in passing on the
    # way count at this fraction of the hazard (crime pattern theory: search is concentrated at
    # activity nodes and chosen places, Brantingham & Brantingham 1993).
    enroute_factor: float = 0.0
    # Offenders return to where they last succeeded (optimal foraging: Johnson & Bowers 2004;
    # Bernasco, Johnson & Ruiter 2015): chance of searching there (the segment or its neighbours)
    # instead of a fresh pick, decaying with the time since that success.
    return_prob: float = 0.8
    return_decay_days: float = 10.0
    # "Near" for a return: within this network distance of the last success; 200 m is the
    # distance band of raised risk in Johnson et al. (2007).
    near_repeat_m: float = 200.0
    # ...and each crime in the same patch (the segment or a neighbour) multiplies that chance by this.
    patch_stay: float = 0.5
    # Reporting: P(report) = type base rate scaled by the victim's trust relative to the mean trust.
    # Base rates follow the CSEW shares of incidents reported to the police (robbery ~50%, domestic
    # burglary ~60-70%, theft from vehicles ~35-40%, theft of vehicles ~90%; sim.offences).
    report_base: dict[str, float] = field(
        default_factory=lambda: {k: o.report_base for k, o in OFFENCES.items()}
    )
    # HMIC (2014) "Crime-recording: making the victim count": ~81% of reported crime recorded.
    recording_rate: float = 0.85
    report_delay_mean_min: float = 15.0
    # Trust dynamics (Skogan 2006: negative contacts weigh far more than positive ones).
    trust_loss_victim: float = 0.08
    trust_gain_good_response: float = 0.02
    trust_loss_slow_response: float = 0.04
    # Calibrated place terms (set by city.calibration; sim/calibration.py): a Parquet file of
    # per-segment recorded counts and model expectations, and the strength k (pseudo-crimes) of the
    # Poisson-gamma shrinkage (count + k) / (expected + k) that multiplies each segment's
    # attractiveness (Clayton & Kaldor 1987). Empty: the place-based attractiveness alone.
    segment_prior: str = ""
    prior_strength: float = 5.0


@dataclass
class PoliceConfig:
    """Officers, stations, response."""

    # Officers on duty per shift (posts staffed around the clock): foot patrol and response cars.
    # Left out (null), they scale with the streets: one on foot per street_km_per_foot_officer (the
    # bundled City: 8 on 98 km) and one car per street_km_per_car. n_officers (all of `mode`) is the
    # older single-mode form and wins when given.
    foot_per_shift: int | None = None
    cars_per_shift: int | None = None
    street_km_per_foot_officer: float = 12.25
    street_km_per_car: float = 50.0
    n_officers: int | None = None
    mode: str = "foot"  # "foot" or "car": the mode of n_officers, or "car" puts scaled posts in cars
    speed_foot_mps: float = 1.4
    speed_car_mps: float = 7.0
    # OSM node ids of stations; empty: amenity=police in the OSM file, else the most central node.
    stations: list[int] = field(default_factory=list)
    on_scene_min: float = 30.0
    response_target_min: float = 15.0
    patrol_dwell_min: float = 2.0  # baseline random patrol: brief pause at each chosen node
    # Officer-hours available per day across the force (patrol + response + meetings); default
    # (None) is n_officers x 24 h, i.e. every officer post staffed around the clock.
    budget_hours_per_day: float | None = None


@dataclass
class IncidentsConfig:
    """A city's recorded crime: an incident file and how to read it (sim/incidents, docs/incidents.md).

    ``path`` empty: no incident file. The fields are those of :class:`sim.incidents.IncidentSource`;
    ``None`` settings come from the file's detected format.
    """

    path: str = ""
    format: str = "auto"
    columns: dict[str, str] = field(default_factory=dict)
    crs: str | None = None
    datetime_format: str | None = None
    date_format: str | None = None
    time_format: str | None = None
    month_format: str | None = None
    reported_format: str | None = None
    timezone: str | None = None
    ignore_utc_offset: bool | None = None
    mapping: str | None = None
    type_mapping: dict[str, str] = field(default_factory=dict)
    id_includes_type: bool | None = None
    snap_m: float = 60.0
    origin: str | None = None
    start: str | None = None
    end: str | None = None


@dataclass
class SurveyConfig:
    """A perception survey of residents every few weeks, and the perceptions it measures (sim/survey.py).

    A measure, not a strategy: it draws from its own random stream, so a run's events are the same
    with or without it. Defaults and sources: docs/policies.md ("Perception survey").
    """

    enabled: bool = True
    interval_weeks: float = 1.0
    first_day: float = 0.0  # the first wave; 0: before anything happened
    # approached per wave (a simple random sample of residents), and the mean chance of answering
    sample_size: int = 300
    response_rate: float = 0.4
    # the chance of answering is response_rate x (trust / mean trust) ** response_trust_power:
    # the trusting answer more; 0: answering has nothing to do with trust
    response_trust_power: float = 1.0
    confidence: float = 0.95
    # fear of crime (0..1): a baseline ~ Beta(fear_alpha, fear_beta) per resident, raised by a share
    # of the headroom for each victimisation of the resident, of a neighbour (within
    # crime.near_repeat_m of home) and each criminal damage near home (visible disorder); lowered by
    # a share for each police contact that went well; back to the baseline over fear_memory_days
    fear_alpha: float = 3.0
    fear_beta: float = 7.0
    fear_victim: float = 0.2
    fear_nearby_victim: float = 0.005
    fear_nearby_disorder: float = 0.02
    fear_good_contact: float = 0.1
    fear_memory_days: float = 14.0
    # satisfaction with the police (0..1): at the start satisfaction_trust_share x trust plus the rest
    # of an independent draw from the trust distribution; a contact that went well (a prompt
    # response, a meeting attended) moves it up by a share of the headroom, a slow response down
    satisfaction_trust_share: float = 0.5
    satisfaction_good_contact: float = 0.1
    satisfaction_bad_contact: float = 0.4

    def validate(self) -> None:
        """Raise ConfigError naming the first bad key."""
        if not isinstance(self.enabled, bool):
            raise ConfigError("survey.enabled", self.enabled, "true or false")
        n = self.sample_size
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise ConfigError("survey.sample_size", n, "an integer >= 2 (residents approached per wave)")
        POSITIVE.check(self, "survey.", "interval_weeks", "fear_alpha", "fear_beta", "fear_memory_days")
        NON_NEGATIVE.check(self, "survey.", "first_day", "response_trust_power")
        _check_range(self, "survey", {"fear_victim": (0, 1), "fear_nearby_victim": (0, 1),
                                      "fear_nearby_disorder": (0, 1), "fear_good_contact": (0, 1),
                                      "satisfaction_trust_share": (0, 1), "satisfaction_good_contact": (0, 1),
                                      "satisfaction_bad_contact": (0, 1)})  # fmt: skip
        for name in ("response_rate", "confidence"):
            value = getattr(self, name)
            if not is_number(value) or not 0 < value <= 1 or (name == "confidence" and value == 1):
                raise ConfigError(f"survey.{name}", value, "a number in (0, 1]" if name == "response_rate"
                                  else "a number in (0, 1), e.g. 0.95")  # fmt: skip


@dataclass
class ModelConfig:
    """Everything one run needs. ``policies`` maps a registered policy name to its parameters."""

    city: CityConfig = field(default_factory=CityConfig)
    sim: SimConfig = field(default_factory=SimConfig)
    population: PopulationConfig = field(default_factory=PopulationConfig)
    crime: CrimeConfig = field(default_factory=CrimeConfig)
    police: PoliceConfig = field(default_factory=PoliceConfig)
    incidents: IncidentsConfig = field(default_factory=IncidentsConfig)
    survey: SurveyConfig = field(default_factory=SurveyConfig)
    policies: dict[str, Any] = field(default_factory=lambda: {"baseline": {}})
    seed: int = 0

    def validate(self) -> ModelConfig:
        """Check every value; raise ConfigError naming the first bad key, else return self."""
        POSITIVE.check(self.sim, "sim.", "days", "step_min", "timeseries_every_min")
        _check_range(self.sim, "sim", {"start_weekday": (0, 6), "sunrise_hour": (0, 24), "sunset_hour": (0, 24),
                                       "start_hour": (0, 24)})  # fmt: skip
        if self.sim.sunrise_hour >= self.sim.sunset_hour:
            raise ConfigError(
                "sim.sunrise_hour", self.sim.sunrise_hour, f"< sim.sunset_hour ({self.sim.sunset_hour})"
            )
        if 24 * 60 % self.sim.step_min:
            raise ConfigError(
                "sim.step_min", self.sim.step_min, "a divisor of 1440 minutes (e.g. 1, 5, 10, 15)"
            )
        if self.sim.timeseries_every_min % self.sim.step_min:
            raise ConfigError("sim.timeseries_every_min", self.sim.timeseries_every_min,
                              f"a multiple of sim.step_min ({self.sim.step_min:g} minutes)")  # fmt: skip
        POSITIVE.check(self.city, "city.", "area_cell_m")
        _check_count(self.population.n_residents, "population.n_residents", minimum=1)
        _check_count(self.population.n_offenders, "population.n_offenders", minimum=0)
        _check_count(self.police.n_officers, "police.n_officers", minimum=1)
        _check_count(self.police.foot_per_shift, "police.foot_per_shift", minimum=0)
        _check_count(self.police.cars_per_shift, "police.cars_per_shift", minimum=0)
        POSITIVE.check(self.population, "population.", "residents_per_street_km", "residents_per_building", "min_residential_per_street_km", "walk_speed_mps", "offender_speed_mps",
                       "anchor_decay_m", "awareness_radius_m", "trust_alpha",
                       "trust_beta")  # fmt: skip
        NON_NEGATIVE.check(self.population, "population.", "offenders_per_resident")
        _check_range(self.population, "population", {"vehicle_ownership": (0, 1), "work_share": (0, 1),
                                                      "leisure_prob": (0, 1)})  # fmt: skip
        NON_NEGATIVE.check(self.crime, "crime.", "base_rate_per_hour", "boost_theta", "boost_decay_per_day",
                           "guardian_effect", "collective_efficacy_weight", "risky_facility_sigma", "place_attraction", "generator_strength", "return_decay_days",
                           "boost_max_multiplier", "residual_deterrence_min", "deterrence_reach_m",
                           "darkness_robbery_multiplier", "darkness_other_multiplier",
                           "cooldown_days", "report_delay_mean_min", "outings_per_day", "outing_max_hours",
                           "active_spell_days", "dormant_spell_days", "attraction_power", "near_repeat_m", "trust_loss_victim",
                           "trust_gain_good_response", "trust_loss_slow_response")  # fmt: skip
        _check_range(self.crime, "crime", {"boost_spread_eta": (0, 1), "police_deterrence": (0, 1), "deterred_give_up_prob": (0, 1), "return_prob": (0, 1), "patch_stay": (0, 1), "spree_prob": (0, 1),
                                           "enroute_factor": (0, 1),
                                           "recording_rate": (0, 1)})  # fmt: skip
        _check_profile(self.crime.activity_by_hour, "crime.activity_by_hour", 24)
        _check_profile(self.crime.activity_by_weekday, "crime.activity_by_weekday", 7)
        types = ", ".join(CRIME_TYPES)
        for ctype, weights in self.crime.type_by_hour.items():
            if ctype not in CRIME_TYPES:
                raise ConfigError(f"crime.type_by_hour.{ctype}", weights, f"keys among {types}")
            _check_profile(weights, f"crime.type_by_hour.{ctype}", 24)
        for ctype, weights in self.crime.type_by_weekday.items():
            if ctype not in CRIME_TYPES:
                raise ConfigError(f"crime.type_by_weekday.{ctype}", weights, f"keys among {types}")
            _check_profile(weights, f"crime.type_by_weekday.{ctype}", 7)
        for ctype, rate in self.crime.report_base.items():
            if ctype not in CRIME_TYPES:
                raise ConfigError(f"crime.report_base.{ctype}", rate, f"keys among {types}")
            if not is_number(rate) or not 0 <= rate <= 1:
                raise ConfigError(f"crime.report_base.{ctype}", rate, "a probability in [0, 1]")
        for ctype, weight in self.crime.type_weight.items():
            if ctype not in CRIME_TYPES:
                raise ConfigError(f"crime.type_weight.{ctype}", weight, f"keys among {types}")
            if not is_number(weight) or weight < 0:
                raise ConfigError(f"crime.type_weight.{ctype}", weight, "a non-negative finite number")
        if (self.police.foot_per_shift, self.police.cars_per_shift) == (0, 0):
            raise ConfigError(
                "police.foot_per_shift", 0, "at least one officer on foot or in a car per shift"
            )
        POSITIVE.check(self.police, "police.", "street_km_per_foot_officer", "street_km_per_car", "speed_foot_mps", "speed_car_mps", "on_scene_min",
                       "response_target_min")  # fmt: skip
        NON_NEGATIVE.check(self.police, "police.", "patrol_dwell_min")
        if self.police.mode not in ("foot", "car"):
            raise ConfigError("police.mode", self.police.mode, "'foot' or 'car'")
        budget = self.police.budget_hours_per_day
        if budget is not None and not (budget >= 0 and math.isfinite(budget)):
            raise ConfigError(
                "police.budget_hours_per_day", budget, "a non-negative number of hours, or null"
            )
        if self.incidents.path and not Path(self.incidents.path).is_file():
            raise ConfigError("incidents.path", self.incidents.path, "the path of an existing incident file")
        if self.crime.segment_prior and not Path(self.crime.segment_prior).is_file():
            raise ConfigError("crime.segment_prior", self.crime.segment_prior,
                              "the path of a calibration's segments.parquet (or empty)")  # fmt: skip
        if not (is_number(self.crime.prior_strength) and self.crime.prior_strength > 0):
            raise ConfigError(
                "crime.prior_strength", self.crime.prior_strength, "a positive number of pseudo-crimes"
            )
        if not (is_number(self.incidents.snap_m) and self.incidents.snap_m > 0):
            raise ConfigError("incidents.snap_m", self.incidents.snap_m, "a positive distance in metres")
        self.survey.validate()
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError("seed", self.seed, "a non-negative integer")
        city_seed = self.population.seed
        if city_seed is not None and not NON_NEGATIVE_INT.ok(city_seed):
            raise ConfigError(
                "population.seed", city_seed, "a non-negative integer, or null for each run's own"
            )
        if not self.policies:
            raise ConfigError("policy", self.policies, "at least one policy, e.g. policy=baseline")
        return self


def _check_range(obj: Any, prefix: str, bounds: dict[str, tuple[float, float]]) -> None:
    for name, (lo, hi) in bounds.items():
        value = getattr(obj, name)
        if not is_number(value) or not lo <= value <= hi:
            raise ConfigError(f"{prefix}.{name}", value, f"a number in [{lo}, {hi}]")


def _check_count(value: Any, key: str, *, minimum: int) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
        raise ConfigError(key, value, f"an integer >= {minimum}, or null to scale with the streets")


def _check_profile(values: Any, key: str, n: int) -> None:
    ok = (
        isinstance(values, list | tuple) and len(values) == n and all(is_number(v) and v >= 0 for v in values)
    )
    if not ok or sum(values) <= 0:
        raise ConfigError(key, values, f"{n} non-negative weights, not all zero")


def config_to_dict(obj: Any) -> Any:
    """Return a dataclass tree as plain dicts/lists (for JSON/YAML output)."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: config_to_dict(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, dict):
        return {k: config_to_dict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [config_to_dict(v) for v in obj]
    return obj
