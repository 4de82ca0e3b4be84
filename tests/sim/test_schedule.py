"""Offenders' activity by hour and weekday, and per-type hour profiles, move crime the way they say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.config import DEFAULT_ACTIVITY_BY_HOUR, ModelConfig
from sim.errors import ConfigError
from sim.model import run_simulation
from sim.network import load_network
from sim.offending import activity_schedule
from tests.conftest import DEFAULT_CITY


@pytest.fixture(scope="module")
def city():  # type: ignore[no-untyped-def]
    return load_network(DEFAULT_CITY, network_type="walk")


def _crimes(city, seeds: range, days: float = 7.0, **crime: object) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    out = []
    for seed in seeds:
        cfg = ModelConfig(seed=seed)
        cfg.sim.days = days
        for key, value in crime.items():
            setattr(cfg.crime, key, value)
        events = run_simulation(cfg, network=city).events
        out.append(events[events["kind"] == "crime"])
    return pd.concat(out)


def _hours(crimes: pd.DataFrame) -> np.ndarray:
    return np.asarray((crimes["time_min"] // 60 % 24).astype(int))


def test_the_schedule_has_mean_one_and_no_idle_hour() -> None:
    week = activity_schedule(ModelConfig().crime)
    assert week.shape == (7, 24) and week.mean() == pytest.approx(1.0)
    assert week.min() > 0.2  # Felson & Poulsen 2003: a daily low near 05:00, never zero
    assert int(np.argmin(DEFAULT_ACTIVITY_BY_HOUR)) == 5


def test_night_owls_move_crime_into_the_night(city) -> None:
    night = [3.0 if (h >= 22 or h < 6) else 0.5 for h in range(24)]
    base = _hours(_crimes(city, range(3)))
    owls = _hours(_crimes(city, range(3), activity_by_hour=night))
    share = lambda h: float(np.mean((h >= 22) | (h < 6)))  # noqa: E731
    assert share(owls) > share(base) + 0.1, (share(owls), share(base))


def test_a_type_profile_switches_that_type_off_in_its_zero_hours(city) -> None:
    profile = [0.0 if 6 <= h < 18 else 1.0 for h in range(24)]  # robbery only at night
    crimes = _crimes(city, range(2), type_by_hour={"robbery": profile})
    hours = _hours(crimes[crimes["crime_type"] == "robbery"])
    assert hours.size > 0 and not np.any((hours >= 6) & (hours < 18))
    other = _hours(crimes[crimes["crime_type"] == "burglary"])
    assert np.any((other >= 6) & (other < 18))  # other types are untouched


def test_weekday_weights_move_crime_to_the_weekend(city) -> None:
    weekend = _crimes(city, range(2), days=14.0, activity_by_weekday=[0.2] * 5 + [3.0, 3.0])
    day = (weekend["time_min"] // 1440 % 7).astype(int)  # the run starts on a Monday
    assert float(np.mean(day >= 5)) > 2 / 7 + 0.15


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("activity_by_hour", [1.0] * 23),
        ("activity_by_hour", [0.0] * 24),
        ("activity_by_weekday", [1.0, -1.0] + [1.0] * 5),
    ],
)
def test_bad_profiles_are_named(key: str, value: list[float]) -> None:
    cfg = ModelConfig()
    setattr(cfg.crime, key, value)
    with pytest.raises(ConfigError, match=rf"crime\.{key}"):
        cfg.validate()


def test_a_profile_for_an_unknown_type_is_named() -> None:
    cfg = ModelConfig()
    cfg.crime.type_by_hour = {"arson": [1.0] * 24}
    with pytest.raises(ConfigError, match=r"crime\.type_by_hour\.arson"):
        cfg.validate()
