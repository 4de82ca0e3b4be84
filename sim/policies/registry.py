"""The strategy registry: each strategy's class, config schema, label, display order and report rows.

Nothing outside this registry names a strategy: Hydra stores the schemas from here, the results
store orders labels by it, and the report takes titles and extra rows from it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sim.errors import ConfigError
from sim.policies.base import Policy

__all__ = [
    "PolicySpec",
    "ReportRow",
    "build_policies",
    "policy_registry",
    "policy_spec",
    "policy_specs",
    "reference_policy",
    "register_policy",
]

P = TypeVar("P", bound=type[Policy])


@dataclass(frozen=True)
class ReportRow:
    """A measure a strategy adds to the comparison report: metric key, label, unit, better direction."""

    metric: str
    label: str
    unit: str
    better: int = 0  # +1 higher is better, -1 lower is better, 0 neither


@dataclass(frozen=True)
class PolicySpec:
    """Everything the rest of Precinct knows about one strategy."""

    name: str
    policy_cls: type[Policy]
    config_cls: type
    label: str
    order: int
    reference: bool = False
    report_rows: tuple[ReportRow, ...] = ()

    @property
    def short_label(self) -> str:
        """The label without its parenthesis, for combined arms ("CPTED (street design)" -> "CPTED")."""
        return self.label.split(" (")[0]


_REGISTRY: dict[str, PolicySpec] = {}


def register_policy(
    name: str,
    config_cls: type,
    *,
    label: str,
    order: int,
    reference: bool = False,
    report_rows: tuple[ReportRow, ...] = (),
) -> Callable[[P], P]:
    """Class decorator: register a :class:`Policy` subclass under ``name`` with its config dataclass.

    ``label`` names it in reports, ``order`` places it in tables and arm labels, ``reference``
    marks the arm every other is compared with (exactly one), ``report_rows`` are its own measures.
    """

    def wrap(cls: P) -> P:
        if name in _REGISTRY:
            raise ValueError(f"policy {name!r} is registered twice")
        if reference and any(s.reference for s in _REGISTRY.values()):
            raise ValueError(f"policy {name!r}: only one policy can be the reference arm")
        cls.name = name
        _REGISTRY[name] = PolicySpec(name, cls, config_cls, label, order, reference, tuple(report_rows))
        return cls

    return wrap


def policy_specs() -> list[PolicySpec]:
    """Return every registered strategy in display order."""
    return sorted(_REGISTRY.values(), key=lambda s: (s.order, s.name))


def policy_spec(name: str) -> PolicySpec:
    """Return the spec of a registered strategy; ConfigError listing the known names otherwise."""
    if name not in _REGISTRY:
        raise ConfigError("policy", name, f"one of {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def reference_policy() -> str:
    """Return the name of the reference strategy (the baseline every arm is paired with)."""
    return next(s.name for s in policy_specs() if s.reference)


def policy_registry() -> dict[str, type]:
    """Return registered names and their config dataclasses (the schemas Hydra stores)."""
    return {s.name: s.config_cls for s in sorted(_REGISTRY.values(), key=lambda s: s.name)}


def build_policies(spec: Mapping[str, Any]) -> list[Policy]:
    """Build strategies from ``{name: params}`` (params a dict, or the config dataclass already built).

    Each config is built and validated once here; a dataclass passed in is validated, not rebuilt.
    """
    out = []
    for name, params in spec.items():
        entry = policy_spec(name)
        cfg = (
            params if isinstance(params, entry.config_cls) else _build_config(name, entry.config_cls, params)
        )
        validate = getattr(cfg, "validate", None)
        if validate is not None:
            validate()
        out.append(entry.policy_cls(cfg))
    return sorted(out, key=lambda p: -p.patrol_priority)


def _build_config(name: str, config_cls: type, params: Any) -> Any:
    params = dict(params or {})
    known = {f.name for f in dataclasses.fields(config_cls)}
    for key in params:
        if key not in known:
            raise ConfigError(f"policy.{name}.{key}", params[key], f"one of the keys {sorted(known)}")
    return config_cls(**params)
