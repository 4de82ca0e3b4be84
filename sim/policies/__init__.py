"""Policy plug-ins: each module registers one policy by name with its config dataclass."""

from sim.policies import baseline
from sim.policies.base import PatrolOrders, Policy
from sim.policies.baseline import BaselineConfig, BaselinePolicy
from sim.policies.registry import build_policies, policy_registry, register_policy

__all__ = [
    "BaselineConfig",
    "BaselinePolicy",
    "PatrolOrders",
    "Policy",
    "baseline",
    "build_policies",
    "policy_registry",
    "register_policy",
]
