"""The perception survey: it changes nothing in the run, its intervals cover the truth, fear follows what happens."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from sim.config import ModelConfig, SurveyConfig
from sim.errors import ConfigError
from sim.model import PrecinctModel, run_simulation
from sim.network import StreetNetwork, load_network
from sim.survey import MEASURES, estimate_mean
from tests.conftest import DEFAULT_CITY


@pytest.fixture(scope="module")
def city() -> StreetNetwork:
    return load_network(DEFAULT_CITY, network_type="walk")


def _config(*, seed: int = 0, days: float = 1.0) -> ModelConfig:
    cfg = ModelConfig(seed=seed)
    cfg.sim.days = days
    cfg.population.n_residents = 800
    cfg.population.n_offenders = 30
    cfg.police.n_officers = 4
    return cfg


def _digest(cfg: ModelConfig, city: StreetNetwork) -> str:
    events = run_simulation(cfg, network=city).events
    return hashlib.sha256(events.to_csv(index=False).encode()).hexdigest()


def test_the_survey_draws_nothing_from_the_run(city) -> None:
    on, off = _config(), _config()
    off.survey.enabled = False
    on.survey.sample_size, on.survey.interval_weeks = 500, 1.0 / 28  # a wave every 6 hours
    assert _digest(on, city) == _digest(off, city)


def test_waves_hold_every_interval_beside_the_true_mean(city) -> None:
    cfg = _config(days=2.0)
    cfg.survey.interval_weeks = 1.0 / 7  # daily: days 0, 1 and 2 (the end)
    model = PrecinctModel(cfg, network=city, mesa_agents=False)
    result = model.run()
    waves = result.survey
    assert list(waves["wave"].unique()) == [0, 1, 2]
    assert list(waves["day"].unique()) == [0.0, 1.0, 2.0]
    assert set(waves["measure"]) == set(MEASURES) and len(waves) == 9
    assert (waves["n_approached"] == cfg.survey.sample_size).all()
    # about response_rate of them answer
    assert 0.25 < waves["n_responded"].mean() / cfg.survey.sample_size < 0.55
    last = waves[waves["wave"] == 2].set_index("measure")
    assert last.loc["trust", "true_mean"] == pytest.approx(model.residents.trust.mean())
    assert last.loc["fear", "true_mean"] == pytest.approx(model.survey.fear.mean())
    assert (waves["ci_low"] < waves["estimate"]).all() and (waves["estimate"] < waves["ci_high"]).all()
    assert result.metrics["survey_waves"] == 3
    assert result.metrics["survey_fear_estimate"] == last.loc["fear", "estimate"]
    assert result.metrics["mean_fear_end"] == pytest.approx(model.survey.fear.mean())


def test_the_95_percent_interval_covers_the_true_mean_at_its_nominal_rate(city) -> None:
    """With answering unrelated to the answers, 200 waves' intervals cover the truth about 95% of the time."""
    cfg = _config(days=1.0)
    cfg.survey.response_trust_power = 0.0
    model = PrecinctModel(cfg, network=city, mesa_agents=False)
    model.run()
    survey = model.survey
    covered = {m: 0 for m in MEASURES}
    for _ in range(200):
        for row in survey.conduct(model.clock.now_min):
            covered[str(row["measure"])] += int(row["ci_low"] <= row["true_mean"] <= row["ci_high"])
    rates = {m: k / 200 for m, k in covered.items()}
    print(rates)
    for measure, rate in rates.items():
        assert 0.90 <= rate <= 0.99, measure


def test_the_trusting_answer_more_so_the_survey_overstates_trust(city) -> None:
    """Non-response bias: with the default response, trust is overstated and the interval misses more often."""
    model = PrecinctModel(_config(days=1.0), network=city, mesa_agents=False)
    model.run()
    rows = [row for _ in range(100) for row in model.survey.conduct(model.clock.now_min)]
    trust = [r for r in rows if r["measure"] == "trust"]
    bias = np.array([float(r["estimate"]) - float(r["true_mean"]) for r in trust])
    assert bias.mean() > 3 * bias.std(ddof=1) / np.sqrt(bias.size)
    covered = np.mean([r["ci_low"] <= r["true_mean"] <= r["ci_high"] for r in trust])
    assert covered < 0.9


def test_fear_rises_with_victimisation_and_disorder_nearby_and_falls_after_a_good_contact(city) -> None:
    cfg = _config(days=1.0)
    model = PrecinctModel(cfg, network=city, mesa_agents=False)
    survey, r, c = model.survey, model.residents, cfg.survey
    survey.update_perceptions(0.0)  # nothing has happened yet: no change
    np.testing.assert_allclose(survey.fear, survey.fear_baseline, rtol=1e-12)
    victim = 0
    seg = int(r.home_segment[victim])
    near = model.offending.nearby_segments(seg)
    neighbours = np.flatnonzero(np.isin(r.home_segment, near) & (np.arange(r.n) != victim))
    far = np.flatnonzero(~np.isin(r.home_segment, near))
    assert neighbours.size and far.size
    fear0, sat0 = survey.fear.copy(), survey.satisfaction.copy()
    edge = int(city.segment_edge[seg])
    model.event_log.add(time_min=0.0, step=0, kind="crime", edge=edge, segment=seg, crime_type="burglary",
                        victim_id=victim)  # fmt: skip
    model.event_log.add(
        time_min=0.0, step=0, kind="crime", edge=edge, segment=seg, crime_type="criminal_damage"
    )
    survey.update_perceptions(0.0)
    expect_victim = 1 - (1 - fear0[victim]) * (1 - c.fear_victim) * (1 - c.fear_nearby_disorder)
    assert survey.fear[victim] == pytest.approx(expect_victim)
    both = 1 - (1 - fear0[neighbours]) * (1 - c.fear_nearby_victim) * (1 - c.fear_nearby_disorder)
    np.testing.assert_allclose(survey.fear[neighbours], both)
    np.testing.assert_allclose(survey.fear[far], fear0[far], rtol=1e-12)
    # a prompt response to the victim's call: fear down, satisfaction up; a slow one: satisfaction down
    fear1 = survey.fear.copy()
    prompt = model.policing.open_call(0.0, 5.0, edge, victim)
    model.policing.calls[prompt].arrival_min = 10.0
    slow = model.policing.open_call(0.0, 5.0, edge, 1)
    model.policing.calls[slow].arrival_min = 5.0 + model.config.police.response_target_min + 30.0
    survey.update_perceptions(0.0)
    assert survey.fear[victim] == pytest.approx(fear1[victim] * (1 - c.fear_good_contact))
    assert survey.satisfaction[victim] == pytest.approx(
        1 - (1 - sat0[victim]) * (1 - c.satisfaction_good_contact)
    )
    assert survey.satisfaction[1] == pytest.approx(sat0[1] * (1 - c.satisfaction_bad_contact))
    # and fear goes back to each baseline with time
    survey.update_perceptions(c.fear_memory_days * 1440.0)
    gap = (fear1 - survey.fear_baseline)[neighbours] * np.exp(-1.0)
    np.testing.assert_allclose(survey.fear[neighbours] - survey.fear_baseline[neighbours], gap, rtol=1e-9)


def test_estimate_mean_is_a_finite_population_t_interval() -> None:
    values = np.array([0.2, 0.4, 0.6, 0.8])
    mean, se, low, high = estimate_mean(values, 8, confidence=0.95)
    assert mean - low == pytest.approx(high - mean)
    assert mean == pytest.approx(0.5)
    assert se == pytest.approx(values.std(ddof=1) / 2.0 * np.sqrt(0.5))
    assert high - mean == pytest.approx(3.182446305 * se, rel=1e-6)  # t(3) at 97.5%
    assert np.isnan(estimate_mean(values[:1], 8, confidence=0.95)[1])


@pytest.mark.parametrize(
    ("key", "value"),
    [("sample_size", 1), ("sample_size", 10.5), ("response_rate", 0.0), ("response_rate", 1.5),
     ("interval_weeks", 0.0), ("confidence", 1.0), ("fear_victim", 2.0), ("response_trust_power", -1.0),
     ("fear_memory_days", 0.0), ("enabled", "yes")],
)  # fmt: skip
def test_bad_survey_settings_fail_at_start_naming_the_key(key: str, value: object) -> None:
    cfg = ModelConfig()
    setattr(cfg.survey, key, value)
    with pytest.raises(ConfigError) as info:
        cfg.validate()
    assert info.value.key == f"survey.{key}"
    SurveyConfig().validate()
