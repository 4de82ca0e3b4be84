"""Strategy plug-ins: the contract, the registry, and one module per registered strategy.

Importing this package registers every strategy shipped with Precinct. A new strategy is one
module that subclasses :class:`Policy`, decorates it with :func:`register_policy` and, for Hydra,
has a ``conf/policy/NAME.yaml`` (docs/policies.md, "Write your own strategy").
"""

import importlib
import pkgutil

from sim.policies import (
    baseline,
    community_meetings,
    cpted,
    neighbourhood_watch,
    problem_solving,
    targeted_patrol,
)
from sim.policies.base import Beats, Installation, PatrolOrders, Policy, PolicyContext
from sim.policies.baseline import BaselineConfig, BaselinePolicy
from sim.policies.community_meetings import CommunityMeetingsConfig, CommunityMeetingsPolicy
from sim.policies.cpted import CptedConfig, CptedPolicy
from sim.policies.hotspot_map import HotspotMap
from sim.policies.neighbourhood_watch import NeighbourhoodWatchConfig, NeighbourhoodWatchPolicy
from sim.policies.patrol import random_patrol
from sim.policies.problem_solving import ProblemSolvingConfig, ProblemSolvingPolicy
from sim.policies.registry import (
    PolicySpec,
    ReportRow,
    build_policies,
    policy_registry,
    policy_spec,
    policy_specs,
    reference_policy,
    register_policy,
)
from sim.policies.targeted_patrol import TargetedPatrolConfig, TargetedPatrolPolicy

__all__ = [
    "BaselineConfig",
    "BaselinePolicy",
    "Beats",
    "CommunityMeetingsConfig",
    "CommunityMeetingsPolicy",
    "CptedConfig",
    "CptedPolicy",
    "HotspotMap",
    "Installation",
    "NeighbourhoodWatchConfig",
    "NeighbourhoodWatchPolicy",
    "PatrolOrders",
    "Policy",
    "PolicyContext",
    "PolicySpec",
    "ProblemSolvingConfig",
    "ProblemSolvingPolicy",
    "ReportRow",
    "TargetedPatrolConfig",
    "TargetedPatrolPolicy",
    "baseline",
    "build_policies",
    "community_meetings",
    "cpted",
    "neighbourhood_watch",
    "policy_registry",
    "policy_spec",
    "policy_specs",
    "problem_solving",
    "random_patrol",
    "reference_policy",
    "register_policy",
    "targeted_patrol",
]


def _import_plugins() -> None:
    """Import every module of this package, so a new strategy registers by being here."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


_import_plugins()
