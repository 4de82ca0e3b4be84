"""Officer training: scenarios, sessions run shift by shift, decision logs, replays and debriefs (docs/training.md)."""

from sim.training.debrief import MEASURES, ArmOutcome, ArmRun, Debrief, run_debrief
from sim.training.scenario import SCENARIO_DIR, Scenario, find_scenario, load_scenario, scenario_names
from sim.training.session import Briefing, DecisionLog, ShiftReport, TrainingSession, arm_config, replay

__all__ = [
    "MEASURES",
    "SCENARIO_DIR",
    "ArmOutcome",
    "ArmRun",
    "Briefing",
    "Debrief",
    "DecisionLog",
    "Scenario",
    "ShiftReport",
    "TrainingSession",
    "arm_config",
    "find_scenario",
    "load_scenario",
    "replay",
    "run_debrief",
    "scenario_names",
]
