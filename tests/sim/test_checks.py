"""The shared field checks: each rule's boundary, and the tagged-mapping check the trainee and injects use."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from sim.checks import (
    HOUR_OF_DAY,
    MULTIPLIER,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    PROBABILITY,
    Rule,
    check_tagged,
)
from sim.errors import ConfigError


@dataclass
class Holder:
    value: object


@pytest.mark.parametrize(
    ("rule", "accepted", "refused"),
    [
        (POSITIVE, [1e-9, 3, 2.5], [0, -1, math.inf, math.nan, True, "1"]),
        (NON_NEGATIVE, [0, 0.0, 7], [-1e-9, math.nan, False, None]),
        (PROBABILITY, [0, 0.5, 1], [-0.1, 1.01, math.nan, True]),
        (MULTIPLIER, [1e-6, 1], [0, 1.5, -1]),
        (HOUR_OF_DAY, [0, 23.99], [24, -1, math.inf]),
        (POSITIVE_INT, [1, 40], [0, 1.0, True, -3]),
        (NON_NEGATIVE_INT, [0, 5], [-1, 0.0, False]),
    ],
)
def test_each_rule_accepts_and_refuses_at_its_boundaries(
    rule: Rule, accepted: list[object], refused: list[object]
) -> None:
    for value in accepted:
        rule.check(Holder(value), "policy.x.", "value")
    for value in refused:
        with pytest.raises(ConfigError) as err:
            rule.check(Holder(value), "policy.x.", "value")
        assert err.value.key == "policy.x.value"
        assert err.value.allowed == rule.expected


def test_a_rule_names_the_first_bad_field_of_several() -> None:
    @dataclass
    class Two:
        a: float = 1.0
        b: float = -2.0

    with pytest.raises(
        ConfigError, match=r"policy\.p\.b=-2\.0 is not allowed: expected a positive finite number"
    ):
        POSITIVE.check(Two(), "policy.p.", "a", "b")


KINDS = {"patrol": {"shift": None, "dwell_min": 15.0}, "meeting": {"shift": None, "hour": 18}}


def test_check_tagged_fills_defaults_and_keeps_given_values() -> None:
    assert check_tagged({"kind": "patrol", "shift": 2}, "d[0]", KINDS, "decision") == {
        "kind": "patrol", "shift": 2, "dwell_min": 15.0}  # fmt: skip
    assert check_tagged({"kind": "meeting", "shift": 0, "hour": 9}, "d", KINDS, "decision")["hour"] == 9


@pytest.mark.parametrize(
    ("item", "key", "words"),
    [
        ([1, 2], "d[3]", "a mapping with a 'kind' (one of patrol, meeting)"),
        ({"kind": "arrest"}, "d[3].kind", "one of patrol, meeting"),
        (
            {"kind": "patrol", "shift": 1, "hour": 3},
            "d[3].hour",
            "a key of a patrol decision: shift, dwell_min",
        ),
        ({"kind": "meeting", "hour": 3}, "d[3].shift", "a value (a meeting decision needs shift)"),
    ],
)
def test_check_tagged_names_the_bad_field(item: object, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        check_tagged(item, "d[3]", KINDS, "decision")
    assert err.value.key == key
    assert err.value.allowed == words
