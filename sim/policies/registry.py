"""The policy registry: name -> (policy class, config dataclass); Hydra reads the schemas from here."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sim.errors import ConfigError
from sim.policies.base import Policy

__all__ = ["build_policies", "policy_registry", "register_policy"]

_REGISTRY: dict[str, tuple[type[Policy], type]] = {}
P = TypeVar("P", bound=type[Policy])


def register_policy(name: str, config_cls: type) -> Callable[[P], P]:
    """Class decorator: register a Policy subclass under ``name`` with its config dataclass."""

    def wrap(cls: P) -> P:
        if name in _REGISTRY:
            raise ValueError(f"policy {name!r} is registered twice")
        cls.name = name
        _REGISTRY[name] = (cls, config_cls)
        return cls

    return wrap


def policy_registry() -> dict[str, type]:
    """Registered policy names and their config dataclasses (the schemas Hydra stores)."""
    return {name: cfg for name, (_, cfg) in sorted(_REGISTRY.items())}


def build_policies(spec: Mapping[str, Any]) -> list[Policy]:
    """Build policies from ``{name: params}`` (params a dict or the config dataclass itself)."""
    out = []
    for name, params in spec.items():
        if name not in _REGISTRY:
            raise ConfigError("policy", name, f"one of {', '.join(sorted(_REGISTRY))}")
        cls, cfg_cls = _REGISTRY[name]
        if isinstance(params, cfg_cls):
            cfg = params
        else:
            params = dict(params or {})
            known = {f.name for f in dataclasses.fields(cfg_cls)}
            for key in params:
                if key not in known:
                    raise ConfigError(f"policy.{name}.{key}", params[key], f"one of the keys {sorted(known)}")
            cfg = cfg_cls(**params)
        validate = getattr(cfg, "validate", None)
        if validate is not None:
            validate()
        out.append(cls(cfg))
    return sorted(out, key=lambda p: -p.patrol_priority)
