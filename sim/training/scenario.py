"""A training scenario: a YAML file under conf/scenario/ read into a checked :class:`Scenario`.

A scenario names the city (a ``conf/city`` option, or a calibration folder), the period, the
officers per shift, what the police know at the start (an incident file of the previous weeks'
recorded crime), the injects, the learning objectives and the scoring weights. Every field is
checked here; a bad one raises :class:`sim.errors.ScenarioError` naming the file, the field, the
value and what is allowed. The entry point (experiments/training.py) turns a scenario into a
:class:`sim.config.ModelConfig` with Hydra, from :meth:`Scenario.overrides`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim.config import repo_root
from sim.errors import ConfigError, ScenarioError
from sim.policies.scenario_injects import check_inject
from sim.policies.trainee import CPTED_MEASURES

__all__ = ["SCENARIO_DIR", "Scenario", "find_scenario", "load_scenario", "scenario_names"]

SCENARIO_DIR = repo_root() / "conf" / "scenario"
# the measures a scenario may weigh in its score, and which way is better
SCORE_MEASURES = {"crimes_total": -1, "crimes_recorded": -1, "crimes_robbery": -1, "crimes_burglary": -1,
                  "crimes_violence": -1, "response_time_mean_min": -1, "calls_unanswered": -1,
                  "mean_trust_end": 1, "survey_trust_estimate": 1, "cost_total": -1}  # fmt: skip
BUILT_IN_ARMS = ("baseline", "targeted_patrol", "community_meetings", "cpted", "neighbourhood_watch",
                 "problem_solving", "night_foot_patrol")  # fmt: skip
_KEYS = {"name", "title", "briefing", "city", "calibration", "population", "days", "shift_hours", "start_hour",
         "start_weekday", "officers", "known_at_start", "injects", "objectives", "scoring", "cpted", "seed",
         "replications", "compare", "hotspot_list"}  # fmt: skip


@dataclass
class Scenario:
    """One exercise, checked. ``path`` is the file it came from."""

    path: str
    name: str
    title: str
    briefing: str
    city: str = "city_of_london"
    calibration: str = ""
    population: str = "default"
    days: float = 3.0
    shift_hours: float = 8.0
    start_hour: float = 6.0
    start_weekday: int = 0
    foot_officers: int = 8
    car_officers: int = 2
    incidents: str = ""
    injects: list[dict[str, Any]] = field(default_factory=list)
    objectives: list[str] = field(default_factory=list)
    scoring: dict[str, float] = field(default_factory=dict)
    cpted_budget: float = 50000.0
    cpted_cost_per_segment: dict[str, float] = field(default_factory=dict)
    cpted_lead_days: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    replications: int = 5
    compare: list[str] = field(
        default_factory=lambda: ["baseline", "targeted_patrol", "community_meetings", "cpted"]
    )
    hotspot_list: int = 15

    @property
    def n_shifts(self) -> int:
        """Number of shifts in the exercise."""
        return math.ceil(self.days * 24.0 / self.shift_hours - 1e-9)

    @property
    def officers_per_shift(self) -> int:
        """Officers on duty in each shift (foot and cars)."""
        return self.foot_officers + self.car_officers

    def overrides(self) -> list[str]:
        """Return the Hydra overrides that build this scenario's model config (policy chosen by the caller)."""
        out = [f"city={self.city}", f"population={self.population}", f"sim.days={self.days}",
               f"sim.start_hour={self.start_hour}", f"sim.start_weekday={self.start_weekday}",
               f"police.foot_per_shift={self.foot_officers}", f"police.cars_per_shift={self.car_officers}",
               f"seed={self.seed}", "survey.interval_weeks=0.142857142857"]  # fmt: skip
        if self.calibration:
            out.append(f"city.calibration={self.calibration}")
        if self.incidents:
            out.append(f"incidents.path={self.incidents}")
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return the scenario as written in a decision log (enough to rebuild it without the file)."""
        from dataclasses import asdict

        return asdict(self)


def scenario_names() -> list[str]:
    """Return the scenarios shipped under conf/scenario/."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def find_scenario(name_or_path: str) -> Path:
    """Return the file of a scenario given by name (conf/scenario/NAME.yaml) or path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ScenarioError(path, "file", str(path), "an existing scenario YAML file")
        return path
    shipped = SCENARIO_DIR / f"{name_or_path}.yaml"
    if not shipped.is_file():
        raise ScenarioError(
            shipped, "name", name_or_path, f"one of {', '.join(scenario_names())} or a file path"
        )
    return shipped


def load_scenario(name_or_path: str) -> Scenario:
    """Read and check a scenario file; ScenarioError naming the file, field and what is allowed."""
    path = find_scenario(name_or_path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ScenarioError(path, "file", "not YAML", f"valid YAML ({str(exc).splitlines()[0]})") from None
    return scenario_from_dict(data, path)


def _num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def scenario_from_dict(data: Any, path: str | Path) -> Scenario:
    """Check a scenario's fields (as read from YAML) and return it; ScenarioError on the first bad one."""

    def bad(key: str, value: Any, expected: str) -> ScenarioError:
        return ScenarioError(path, key, value, expected)

    if not isinstance(data, dict):
        raise bad("file", type(data).__name__, "a mapping of scenario fields")
    for key in data:
        if key not in _KEYS and key != "path":
            raise bad(str(key), data[key], f"one of the scenario fields {', '.join(sorted(_KEYS))}")
    for key in ("name", "title", "briefing"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise bad(key, data.get(key), "a non-empty text")
    s = Scenario(path=str(path), name=data["name"], title=data["title"], briefing=data["briefing"].strip())
    for key in ("city", "population", "calibration"):
        if key in data:
            if not isinstance(data[key], str) or (key != "calibration" and not data[key]):
                raise bad(key, data[key], "a name (a conf/" + key + " option)" if key != "calibration"
                          else "a calibration folder (outputs/calibration/NAME) or empty")  # fmt: skip
            setattr(s, key, data[key])
    if s.city not in _options("city"):
        raise bad("city", s.city, f"one of the conf/city options {', '.join(_options('city'))}")
    if s.population not in _options("population"):
        raise bad("population", s.population, f"one of {', '.join(_options('population'))}")
    ranges = {"days": (0.1, 60.0), "shift_hours": (1.0, 24.0), "start_hour": (0.0, 23.0)}
    for key, (lo, hi) in ranges.items():
        if key in data:
            if not _num(data[key]) or not lo <= data[key] <= hi:
                raise bad(key, data[key], f"a number in [{lo:g}, {hi:g}]")
            setattr(s, key, float(data[key]))
    if (s.shift_hours * 60) % 5:
        raise bad("shift_hours", s.shift_hours, "a whole number of 5-minute steps, e.g. 8 or 12")
    ints = {"start_weekday": (0, 6), "seed": (0, 2**31), "replications": (2, 100), "hotspot_list": (1, 100)}
    for key, (lo, hi) in ints.items():
        if key in data:
            if not _int(data[key]) or not lo <= data[key] <= hi:
                raise bad(key, data[key], f"a whole number in [{lo}, {hi}]")
            setattr(s, key, data[key])
    _officers(s, data.get("officers", {}), bad)
    known = data.get("known_at_start", {}) or {}
    if not isinstance(known, dict) or set(known) - {"incidents"}:
        raise bad(
            "known_at_start", known, "a mapping with 'incidents': an incident file of the previous weeks"
        )
    if known.get("incidents"):
        inc = Path(str(known["incidents"]))
        inc = inc if inc.is_absolute() else repo_root() / inc
        if not inc.is_file():
            raise bad(
                "known_at_start.incidents",
                known["incidents"],
                "an existing incident file (path from the repository)",
            )
        s.incidents = str(inc)
    injects = data.get("injects", []) or []
    if not isinstance(injects, list):
        raise bad("injects", injects, "a list of injects")
    for k, inject in enumerate(injects):
        try:
            x = check_inject(inject, f"injects[{k}]")
        except ConfigError as exc:
            raise bad(exc.key, exc.value, exc.allowed) from None
        if x["day"] >= s.days:
            raise bad(f"injects[{k}].day", x["day"], f"a day within the exercise (below days={s.days:g})")
        s.injects.append(x)
    objectives = data.get("objectives", [])
    if not isinstance(objectives, list) or not objectives or not all(isinstance(o, str) for o in objectives):
        raise bad("objectives", objectives, "a non-empty list of learning objectives (texts)")
    s.objectives = objectives
    scoring = data.get("scoring", {}) or {}
    if not isinstance(scoring, dict) or not scoring:
        raise bad(
            "scoring", scoring, f"a mapping of weights by measure, measures among {', '.join(SCORE_MEASURES)}"
        )
    for key, weight in scoring.items():
        if key not in SCORE_MEASURES:
            raise bad(f"scoring.{key}", weight, f"a measure among {', '.join(SCORE_MEASURES)}")
        if not _num(weight) or weight < 0:
            raise bad(f"scoring.{key}", weight, "a non-negative weight (the sign comes from the measure)")
    s.scoring = {str(k): float(v) for k, v in scoring.items()}
    _cpted(s, data.get("cpted", {}) or {}, bad)
    compare = data.get("compare", s.compare)
    if not isinstance(compare, list) or not all(c in BUILT_IN_ARMS for c in compare):
        raise bad("compare", compare, f"a list of built-in strategies among {', '.join(BUILT_IN_ARMS)}")
    s.compare = list(compare)
    return s


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (repo_root() / "conf" / group).glob("*.yaml"))


def _officers(s: Scenario, officers: Any, bad: Any) -> None:
    if not isinstance(officers, dict) or set(officers) - {"foot", "cars"}:
        raise bad("officers", officers, "a mapping {foot: N, cars: N}: officers on duty per shift")
    for key, attr in (("foot", "foot_officers"), ("cars", "car_officers")):
        if key in officers:
            if not _int(officers[key]) or not 0 <= officers[key] <= 200:
                raise bad(f"officers.{key}", officers[key], "a whole number of officers in [0, 200]")
            setattr(s, attr, officers[key])
    if s.officers_per_shift == 0:
        raise bad("officers", officers, "at least one officer on duty per shift")


def _cpted(s: Scenario, cpted: Any, bad: Any) -> None:
    if not isinstance(cpted, dict) or set(cpted) - {"budget", "cost_per_segment", "lead_days"}:
        raise bad("cpted", cpted, "a mapping with budget, cost_per_segment and lead_days")
    if "budget" in cpted:
        if not _num(cpted["budget"]) or cpted["budget"] < 0:
            raise bad("cpted.budget", cpted["budget"], "a non-negative amount")
        s.cpted_budget = float(cpted["budget"])
    for key in ("cost_per_segment", "lead_days"):
        values = cpted.get(key, {}) or {}
        if not isinstance(values, dict):
            raise bad(f"cpted.{key}", values, f"a mapping by measure ({', '.join(CPTED_MEASURES)})")
        for measure, value in values.items():
            if measure not in CPTED_MEASURES or not _num(value) or value < 0:
                raise bad(
                    f"cpted.{key}.{measure}",
                    value,
                    f"a non-negative number for a measure among {', '.join(CPTED_MEASURES)}",
                )
        setattr(s, f"cpted_{key}", {str(k): float(v) for k, v in values.items()})
