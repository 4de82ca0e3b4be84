"""The field checks config ``validate`` methods are made of: one rule, one wording, one error.

A config is a dataclass; its ``validate`` names the first bad field with a
:class:`~sim.errors.ConfigError` (key, value, what is allowed). The rules below are shared by the
model's config (:mod:`sim.config`) and every shipped strategy's, so the same kind of field is
checked and worded the same way in each::

    POSITIVE.check(self, KEY, "interval_days", "duration_min")
    PROBABILITY.check(self, KEY, "attend_prob")

:func:`check_tagged` checks a mapping tagged by a ``kind`` (a trainee's decision, a scenario's
inject): a known kind, only that kind's keys, and its required keys present.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sim.errors import ConfigError

__all__ = [
    "HOUR_OF_DAY",
    "MULTIPLIER",
    "NON_NEGATIVE",
    "NON_NEGATIVE_INT",
    "POSITIVE",
    "POSITIVE_INT",
    "PROBABILITY",
    "Rule",
    "check_tagged",
    "is_count",
    "is_number",
]


def is_number(value: object) -> bool:
    """Tell whether `value` is a finite int or float (a bool is not a number here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def is_count(value: object) -> bool:
    """Tell whether `value` is an int that is not a bool (the sign is the rule's business)."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Rule:
    """What one kind of field must be: a test, and the words the error uses for what is allowed."""

    ok: Callable[[Any], bool]
    expected: str

    def check(self, owner: object, prefix: str, *names: str) -> None:
        """Raise ConfigError(prefix + name, ...) for the first attribute of ``owner`` the rule refuses."""
        for name in names:
            value = getattr(owner, name)
            if not self.ok(value):
                raise ConfigError(prefix + name, value, self.expected)


POSITIVE = Rule(lambda v: is_number(v) and v > 0, "a positive finite number")
NON_NEGATIVE = Rule(lambda v: is_number(v) and v >= 0, "a non-negative finite number")
PROBABILITY = Rule(lambda v: is_number(v) and 0 <= v <= 1, "a number in [0, 1]")
MULTIPLIER = Rule(lambda v: is_number(v) and 0 < v <= 1, "a multiplier of attractiveness in (0, 1]")
HOUR_OF_DAY = Rule(lambda v: is_number(v) and 0 <= v < 24, "an hour of day in [0, 24)")
POSITIVE_INT = Rule(lambda v: is_count(v) and v >= 1, "a positive integer")
NON_NEGATIVE_INT = Rule(lambda v: is_count(v) and v >= 0, "a non-negative integer")


def check_tagged(item: Any, where: str, kinds: Mapping[str, Mapping[str, Any]], noun: str) -> dict[str, Any]:
    """Return ``item`` (a mapping with a ``kind``) with its kind's defaults filled in.

    ``kinds`` maps each kind to its keys and their defaults; a default of ``None`` marks a key the
    kind requires. Raises ConfigError naming ``where.kind`` for an unknown kind, ``where.KEY`` for a
    key that kind does not have or a required key left out. ``noun`` words the errors ("decision").
    """
    if not isinstance(item, dict):
        raise ConfigError(where, item, f"a mapping with a 'kind' (one of {', '.join(kinds)})")
    kind = item.get("kind")
    if kind not in kinds:
        raise ConfigError(where + ".kind", kind, f"one of {', '.join(kinds)}")
    fields = kinds[str(kind)]
    for key in item:
        if key != "kind" and key not in fields:
            raise ConfigError(f"{where}.{key}", item[key], f"a key of a {kind} {noun}: {', '.join(fields)}")
    out: dict[str, Any] = {"kind": kind}
    for key, default in fields.items():
        if key not in item and default is None:
            raise ConfigError(f"{where}.{key}", None, f"a value (a {kind} {noun} needs {key})")
        out[key] = item.get(key, default)
    return out
