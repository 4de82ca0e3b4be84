"""Policy plug-ins: each module registers one policy by name with its config dataclass."""

from sim.policies import baseline, community_meetings, cpted, targeted_patrol
from sim.policies.base import PatrolOrders, Policy
from sim.policies.baseline import BaselineConfig, BaselinePolicy
from sim.policies.community_meetings import CommunityMeetingsConfig, CommunityMeetingsPolicy
from sim.policies.cpted import CptedConfig, CptedPolicy
from sim.policies.registry import build_policies, policy_registry, register_policy
from sim.policies.targeted_patrol import HotspotMap, TargetedPatrolConfig, TargetedPatrolPolicy

__all__ = [
    "BaselineConfig",
    "BaselinePolicy",
    "CommunityMeetingsConfig",
    "CommunityMeetingsPolicy",
    "CptedConfig",
    "CptedPolicy",
    "HotspotMap",
    "PatrolOrders",
    "Policy",
    "TargetedPatrolConfig",
    "TargetedPatrolPolicy",
    "baseline",
    "build_policies",
    "community_meetings",
    "cpted",
    "policy_registry",
    "register_policy",
    "targeted_patrol",
]
