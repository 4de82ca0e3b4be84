"""The time series' expected recorded crime per offence type: it adds up, and it is what the runs draw."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.config import ModelConfig
from sim.crime import CRIME_TYPES
from sim.model import SimulationResult, run_simulation
from sim.network import StreetNetwork, load_network
from sim.timeseries import EXPECTED_PREFIX
from tests.conftest import DEFAULT_CITY

COLUMNS = [f"{EXPECTED_PREFIX}{k}" for k in CRIME_TYPES]


@pytest.fixture(scope="module")
def run() -> SimulationResult:
    """Ten days of the bundled city with four times the outings: about 160 recorded crimes."""
    city: StreetNetwork = load_network(DEFAULT_CITY, network_type="walk")
    cfg = ModelConfig(seed=1)
    cfg.sim.days = 10
    cfg.crime.outings_per_day *= 4
    return run_simulation(cfg, network=city)


def test_expected_per_type_adds_up_to_the_total(run: SimulationResult) -> None:
    ts = run.timeseries
    assert set(COLUMNS) <= set(ts.columns)
    assert (ts[COLUMNS] >= 0).all().all()
    np.testing.assert_allclose(
        ts[COLUMNS].sum(axis=1), ts["crimes_recorded_expected"], rtol=1e-12, atol=1e-12
    )
    # the per-segment sum is kept by another path (np.add.at over offenders): the same total
    assert ts["crimes_recorded_expected"].sum() == pytest.approx(
        run.segments["crimes_recorded_expected"].sum()
    )


def test_expected_per_type_is_what_the_run_draws(run: SimulationResult) -> None:
    """Drawn recorded crimes per type are Poisson-like around the expectation (trust and witnesses aside)."""
    ev = run.events
    drawn = ev[(ev["kind"] == "crime") & ev["recorded"]]["crime_type"].value_counts()
    expected = run.timeseries[COLUMNS].sum().to_numpy()
    counts = np.array([drawn.get(k, 0) for k in CRIME_TYPES], dtype=float)
    assert counts.sum() > 100
    assert counts.sum() / expected.sum() == pytest.approx(1.0, abs=0.15)
    big = expected >= 5
    assert big.sum() >= 5
    chi2 = float((((counts - expected) ** 2) / expected)[big].sum())
    assert chi2 < stats.chi2.ppf(0.999, int(big.sum())), dict(
        zip(CRIME_TYPES, zip(expected, counts, strict=True), strict=True)
    )
    # a type the run never drew has a small expectation, and the reverse
    assert not ((counts > 0) & (expected == 0)).any()
