"""A training scenario's model config, composed with Hydra from conf/, and the scenario a decision log recorded."""

from __future__ import annotations

from sim.config import ModelConfig
from sim.errors import ConfigError, ScenarioError
from sim.training import DecisionLog, Scenario
from sim.training.scenario import scenario_from_dict

__all__ = ["scenario_config", "scenario_of_log"]


def scenario_config(scenario: Scenario) -> ModelConfig:
    """Compose the scenario's model config (baseline policy) with Hydra; ScenarioError naming the field at fault."""
    from hydra import compose

    from experiments.configuration import build_model_config, conf_context

    with conf_context():
        cfg = compose("config", overrides=scenario.overrides())
        try:
            model, _ = build_model_config(cfg)
        except ConfigError as exc:
            raise ScenarioError(scenario.path, exc.key, exc.value, exc.allowed) from None
    return model


def scenario_of_log(log: DecisionLog) -> Scenario:
    """Return the scenario a log was made on, as the log recorded it (the file may have changed since)."""
    data = dict(log.scenario)
    path = data.pop("path", "decision log")
    fields = {
        "name": data["name"], "title": data["title"], "briefing": data["briefing"], "city": data["city"],
        "calibration": data["calibration"], "population": data["population"], "days": data["days"],
        "shift_hours": data["shift_hours"], "start_hour": data["start_hour"], "start_weekday": data["start_weekday"],
        "officers": {"foot": data["foot_officers"], "cars": data["car_officers"]},
        "injects": data["injects"], "objectives": data["objectives"], "scoring": data["scoring"],
        "cpted": {"budget": data["cpted_budget"], "cost_per_segment": data["cpted_cost_per_segment"],
                  "lead_days": data["cpted_lead_days"]},
        "seed": data["seed"], "replications": data["replications"], "compare": data["compare"],
        "hotspot_list": data["hotspot_list"],
    }  # fmt: skip
    scenario = scenario_from_dict(fields, path)
    scenario.incidents = data.get("incidents", "")
    return scenario
