"""The expected search exposure (experiments/exposure.py) against the model's own draws and by hand."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.exposure import Population, blend_exposure, build_population, search_shares
from sim.config import ModelConfig
from sim.model import PrecinctModel


@pytest.fixture(scope="module")
def built() -> tuple[PrecinctModel, Population]:
    config = ModelConfig(seed=3)
    model = PrecinctModel(config, mesa_agents=False)
    return model, build_population(ModelConfig(seed=0), 3, model.network)


def test_the_population_is_the_one_a_run_of_that_seed_builds(built: tuple[PrecinctModel, Population]) -> None:
    model, pop = built
    o = model.offenders
    assert np.array_equal(pop.home_segment, o.home_segment)
    assert np.array_equal(pop.aware_segment, o.aware_segment)
    assert np.array_equal(pop.aware_weight, o.aware_weight)
    assert np.array_equal(np.bincount(pop.aware_offender, minlength=o.n), np.diff(o.aware_indptr))
    assert np.allclose(pop.static_attractiveness, model.env.static_attractiveness)


def test_a_fixed_population_seed_gives_the_same_population_whatever_the_run_seed() -> None:
    config = ModelConfig()
    config.population.seed = 5
    net = PrecinctModel(config, mesa_agents=False).network
    a, b = build_population(config, 0, net), build_population(config, 1, net)
    assert np.array_equal(a.aware_segment, b.aware_segment)
    assert np.array_equal(a.static_attractiveness, b.static_attractiveness)


def test_search_shares_are_the_choice_probabilities_that_choose_search_segments_draws(
    built: tuple[PrecinctModel, Population],
) -> None:
    model, pop = built
    o, n = model.offenders, model.network.n_segments
    mult = np.random.default_rng(0).lognormal(0.0, 1.0, n)
    power = 1.7
    got = search_shares(pop, mult, power)
    # the obvious reference: one offender at a time, their probabilities over their own streets
    want = np.zeros(n)
    a = pop.static_attractiveness * mult
    for i in range(o.n):
        segs = o.aware_segment[o.aware_indptr[i] : o.aware_indptr[i + 1]]
        w = o.aware_weight[o.aware_indptr[i] : o.aware_indptr[i + 1]] * a[segs] ** power
        np.add.at(want, segs, w / w.sum())
    assert got == pytest.approx(want, rel=1e-9, abs=1e-12)
    assert got.sum() == pytest.approx(o.n)
    # and what the model draws with those weights follows them (one offender, many draws)
    who = np.zeros(20_000, dtype=np.int64)
    u = np.random.default_rng(1).random(who.size)
    drawn = o.choose_search_segments(who, a, np.zeros(n, dtype=bool), u, power)
    freq = np.bincount(drawn, minlength=n) / who.size
    one = Population(pop.aware_offender[: o.aware_indptr[1]], pop.aware_segment[: o.aware_indptr[1]],
                     pop.aware_weight[: o.aware_indptr[1]], pop.home_segment[:1], pop.static_attractiveness)  # fmt: skip
    p = search_shares(one, mult, power)
    assert np.abs(freq - p).max() < 0.02
    assert 0.5 * np.abs(freq - p).sum() < 0.05


def test_an_offender_with_nowhere_to_search_searches_at_home() -> None:
    pop = Population(np.array([0, 0, 1]), np.array([0, 1, 2]), np.array([1.0, 3.0, 0.0]), np.array([0, 3]),
                     np.ones(4))  # fmt: skip
    assert search_shares(pop, np.ones(4), 1.0) == pytest.approx([0.25, 0.75, 0.0, 1.0])


def test_the_blend_leans_on_the_runs_where_searched_often_and_on_the_prior_where_not() -> None:
    sampled = np.array([0.0, 2.0, 100.0, 0.5])
    visits = np.array([0.5, 0.5, 50.0, 0.0])
    prior = np.array([1.0, 1.0, 1.0, 1.0])  # exposure per search
    got = blend_exposure(sampled, visits, prior, 1.0)
    # a street expected to be searched half a time that no run searched keeps a third of its prior
    assert got[0] == pytest.approx(0.5 * (0.0 + 1.0) / 1.5)
    assert got[1] == pytest.approx(0.5 * (2.0 + 1.0) / 1.5)
    assert got[2] == pytest.approx(50.0 * 101.0 / 51.0)  # close to the runs' 100
    assert got[3] == 0.5  # no expected search (a spree's street): the runs' own
    # no pseudo-visits: the runs' exposure unchanged
    assert blend_exposure(sampled, visits, prior, 0.0)[:3] == pytest.approx(sampled[:3])
    # sums over two rounds, wanted for a round of one: the yield per search of the sums, times its searches
    assert blend_exposure(2 * sampled, 2 * visits, prior, 1.0, searches=visits)[1] == pytest.approx(
        0.5 * (4.0 + 1.0) / 2.0
    )
