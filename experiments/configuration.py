"""Hydra <-> ModelConfig: schemas, resolvers, run-folder names, sweep expansion and start-up validation.

The typed dataclasses of :mod:`sim.config` and each policy's config dataclass are stored in Hydra's
ConfigStore as schemas (group ``schema``), and the YAML files under ``conf/`` extend them, so the
defaults live in one place (the dataclasses) and a misspelt key or a wrongly typed value fails at
composition. :func:`build_model_config` then turns the composed config into a validated
:class:`sim.config.ModelConfig`, whose ``policies`` hold each strategy's config dataclass, built and
checked here once; :func:`preflight` does that for every job of a sweep before any of them runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, ListConfig, OmegaConf

from sim.config import (
    CityConfig,
    CrimeConfig,
    IncidentsConfig,
    ModelConfig,
    PoliceConfig,
    PopulationConfig,
    SimConfig,
    SurveyConfig,
    repo_root,
)
from sim.errors import ConfigError, NetworkFileError

__all__ = [
    "CONF_DIR",
    "Plan",
    "RunSettings",
    "build_model_config",
    "conf_context",
    "expand_sweep",
    "job_dirname",
    "open_mapping_overrides",
    "preflight",
    "quiet_schema_matching",
    "register_resolvers",
    "register_schemas",
]

CONF_DIR = repo_root() / "conf"
SECTIONS: dict[str, type] = {
    "city": CityConfig,
    "sim": SimConfig,
    "population": PopulationConfig,
    "crime": CrimeConfig,
    "police": PoliceConfig,
    "incidents": IncidentsConfig,
    "survey": SurveyConfig,
}
# Top-level keys that are about running, not about the model.
APP_KEYS = ("name", "resume", "calibrate")
# Overrides that do not change what a run computes, so they do not name its folder.
_DIRNAME_EXCLUDED = {"name", "resume", "experiment", "calibrate"}
_MAX_DIRNAME = 120


@dataclass(frozen=True)
class RunSettings:
    """Bookkeeping settings of a run (the non-model top-level keys)."""

    name: str = "adhoc"
    resume: bool = True


# --------------------------------------------------------------------------- Hydra registration
def register_resolvers() -> None:
    """Register the ``precinct_*`` OmegaConf resolvers used in conf/ (idempotent)."""
    resolvers: dict[str, Any] = {
        "precinct_repo": lambda rel="": os.path.normpath(repo_root() / str(rel)),
        "precinct_stem": lambda path: Path(str(path)).name.split(".")[0],
        "precinct_dirname": lambda overrides: job_dirname(list(overrides)),
    }
    for name, fn in resolvers.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn)


def register_schemas() -> None:
    """Store the ModelConfig sections and every registered policy's config as ``schema/...`` nodes."""
    from sim.policies import policy_registry

    store = ConfigStore.instance()
    for name, cls in SECTIONS.items():
        store.store(group="schema", name=name, node=cls, provider="precinct")
    for name, cls in policy_registry().items():
        store.store(group="schema/policy", name=name, node=cls, provider="precinct")


_SCHEMA_MATCHING = r"(?s).*validated against ConfigStore schema"
# Launcher workers (joblib, Ray) compose their job's config themselves after importing this module.
warnings.filterwarnings("ignore", message=_SCHEMA_MATCHING, category=UserWarning)


@contextlib.contextmanager
def quiet_schema_matching() -> Iterator[None]:
    """Silence Hydra's notice that conf/hydra/launcher/*.yaml are checked against the plugins' schemas.

    The presets deliberately keep the plugins' names (``hydra/launcher=ray``), so Hydra 1.3 merges
    each with the plugin's schema of the same name, which is the validation we want, and warns that
    this automatic matching is deprecated.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"(?s).*validated against ConfigStore schema", category=UserWarning
        )
        yield


# --------------------------------------------------------------------------- run folders and sweeps
def _clean(value: str) -> str:
    value = value.strip().strip("'\"")
    if value.startswith("[") and value.endswith("]"):
        value = "+".join(v.strip().strip("'\"") for v in value[1:-1].split(","))
    value = re.sub(r"[/\\\s]+", "_", value)
    return re.sub(r"[^A-Za-z0-9_.+=()@%-]", "-", value).strip("_") or "_"


def job_dirname(overrides: Sequence[str]) -> str:
    """Return the folder name of a job from its overrides: sorted ``key=value`` pairs joined by commas.

    Deterministic (a rerun of the same command finds the same folders, whatever the job order),
    safe as one path component, ``default`` when nothing is overridden. Hydra's own settings and the
    bookkeeping keys (``name``, ``resume``, ``experiment``) do not take part; an overly long name is
    shortened with a hash of the full one.
    """
    items = []
    for override in overrides:
        key, _, value = str(override).partition("=")
        bare = key.lstrip("+~")
        if bare.startswith("hydra") or bare in _DIRNAME_EXCLUDED:
            continue
        items.append(f"{_clean(key)}={_clean(value)}")
    if not items:
        return "default"
    name = ",".join(sorted(items))
    if len(name) > _MAX_DIRNAME:
        digest = hashlib.sha1(name.encode()).hexdigest()[:10]
        name = f"{name[: _MAX_DIRNAME - 12]}~{digest}"
    return name


# Mappings whose keys are the user's (column roles, offence categories): a new key needs no "+".
_OPEN_MAPPINGS = ("incidents.columns.", "incidents.type_mapping.")


def open_mapping_overrides(overrides: Sequence[str]) -> list[str]:
    """Return ``overrides`` with ``incidents.columns.ROLE=COL``-style keys made ``++`` (add or set).

    Hydra needs ``+`` to add a key to a mapping and refuses it when the key exists; for mappings
    keyed by the user's own names that distinction only gets in the way.
    """
    return [f"++{o}" if o.startswith(_OPEN_MAPPINGS) else o for o in overrides]


def expand_sweep(overrides: Sequence[str], params: Mapping[str, Any] | None = None) -> list[list[str]]:
    """Return the overrides of every job of a sweep, exactly as Hydra's basic sweeper makes them.

    ``params`` is ``hydra.sweeper.params`` (set by experiments); command-line overrides win over it.
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    args = [f"{k}={v}" for k, v in (params or {}).items()] + list(overrides)
    parsed = OverridesParser.create().parse_overrides(args)
    return [list(job) for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


# --------------------------------------------------------------------------- ModelConfig
def _section(name: str, cls: type, values: Any) -> Any:
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ConfigError(name, values, "a group of settings (a mapping)")
    allowed = sorted(f.name for f in fields(cls))
    for key, value in values.items():
        if key not in allowed:
            raise ConfigError(f"{name}.{key}", value, f"one of the keys of {name}: {', '.join(allowed)}")
    return cls(**values)


def _absolute(path: str | None, cwd: str) -> str | None:
    if path is None:
        return None
    return os.path.normpath(os.path.join(cwd, os.path.expanduser(str(path))))


def build_model_config(
    cfg: DictConfig | Mapping[str, Any], *, cwd: str | None = None, overrides: Sequence[str] = ()
) -> tuple[ModelConfig, RunSettings]:
    """Return the validated ModelConfig and run settings described by a composed config.

    Raises :class:`sim.errors.ConfigError` naming the first bad key: unknown keys, unknown policy
    names (listing the known ones), values outside what :meth:`ModelConfig.validate` or the
    policy's own ``validate`` allows. Relative ``city.path`` / ``city.cache_dir`` are taken from
    ``cwd`` (default: the current directory), so jobs on other hosts or in other folders agree.
    With ``city.calibration`` set, the calibration's map and fitted values are applied; a key given
    in ``overrides`` (the command line's) keeps the value given there.
    """
    if isinstance(cfg, DictConfig):
        # leave Hydra's own node alone: it holds values that only exist inside a running job
        cfg = OmegaConf.masked_copy(cfg, [str(k) for k in cfg if k != "hydra"])
        data = OmegaConf.to_container(cfg, resolve=True)
    else:
        data = dict(cfg)
    assert isinstance(data, dict)
    data.pop("hydra", None)
    known = [*SECTIONS, "policy", "seed", *APP_KEYS]
    for key, value in data.items():
        if key not in known:
            raise ConfigError(str(key), value, f"one of the top-level keys {', '.join(known)}")
    sections = {name: _section(name, cls, data.get(name)) for name, cls in SECTIONS.items()}
    if not sections["city"].path:
        raise ConfigError(
            "city.path", "", "the path of an OSM file, e.g. city=custom city.path=/data/my_city.osm.pbf"
        )
    base = cwd or os.getcwd()
    sections["city"].path = _absolute(sections["city"].path, base)
    sections["city"].cache_dir = _absolute(sections["city"].cache_dir, base)
    if sections["incidents"].path:
        sections["incidents"].path = _absolute(sections["incidents"].path, base)
    if sections["city"].calibration:
        sections["city"].calibration = _absolute(sections["city"].calibration, base)
        _apply_calibration(sections, {o.partition("=")[0].lstrip("+~") for o in overrides})

    model = ModelConfig(**sections, policies=_policy_configs(data.get("policy")), seed=data.get("seed", 0))
    model.validate()
    for config in model.policies.values():
        validate = getattr(config, "validate", None)
        if validate is not None:  # each strategy checks its own parameters
            validate()

    resume = data.get("resume", True)
    if not isinstance(resume, bool):
        raise ConfigError("resume", resume, "true or false")
    return model, RunSettings(name=str(data.get("name", "adhoc")), resume=resume)


def _apply_calibration(sections: dict[str, Any], explicit: set[str]) -> None:
    """Set the calibration's map (unless a map was chosen), fitted ``crime.*`` values and population seed (unless given)."""
    from sim.calibration import load_calibration

    city = sections["city"]
    cal = load_calibration(city.calibration)
    if not explicit & {"city", "city.path"}:
        city.path = str(cal.city.get("path", city.path))
        if "city.network_type" not in explicit:
            city.network_type = str(cal.city.get("network_type", city.network_type))
        if "city.name" not in explicit and cal.city.get("name"):
            city.name = str(cal.city["name"])
    if not Path(city.path).is_file():
        raise ConfigError("city.path", city.path, f"the map {cal.folder} was calibrated on (no such file)")
    cal.check_map(city.path)
    if city.network_type != cal.city.get("network_type", city.network_type):
        raise ConfigError("city.network_type", city.network_type,
                          f"{cal.city.get('network_type')!r}, the network type {cal.folder} was calibrated on")  # fmt: skip
    for key, value in cal.overrides(explicit).items():
        section, _, name = key.partition(".")
        if not hasattr(sections[section], name):
            raise ConfigError(f"{cal.folder}: {key}", value, f"a {section}.* key of this version")
        setattr(sections[section], name, value)


def _policy_configs(policies: Any) -> dict[str, Any]:
    """Build each chosen strategy's config dataclass from its composed settings (not yet validated).

    The dataclasses, not the dicts, go into ``ModelConfig.policies``: the model's
    :func:`sim.policies.build_policies` then takes them as they are, and
    :func:`sim.config.config_to_dict` turns them back into the same dict for fingerprints and
    ``config.json``.
    """
    from sim.policies import policy_registry

    policies = policies or {}
    if not isinstance(policies, dict):
        raise ConfigError("policy", policies, "policy=NAME or policy=[NAME,NAME] (a mapping of policies)")
    registry = policy_registry()
    for name in policies:
        if name not in registry:
            raise ConfigError("policy", name, f"a known policy: {', '.join(registry)}")
    return {name: _section(f"policy.{name}", registry[name], params) for name, params in policies.items()}


def _check_city_file(model: ModelConfig) -> None:
    path = Path(model.city.path)
    if not path.is_file():
        problem = "is a directory, not an OSM file" if path.is_dir() else "no such file"
        raise NetworkFileError(
            path, problem, "set city.path to a .osm/.osm.bz2/.osm.pbf file (or pick city=NAME)"
        )


def _parse_value(override: str) -> Any:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create().parse_override(override).value()


@dataclass
class Plan:
    """What a ``precinct run [-m]`` command will do: every job's overrides and ModelConfig, and where."""

    jobs: list[tuple[list[str], ModelConfig]]
    output_dir: str | None
    """The run folder (single run) or sweep folder (multirun), relative to the current directory."""


@contextlib.contextmanager
def conf_context() -> Iterator[None]:
    """Initialise Hydra on conf/ (resolvers and schemas registered), for composing configs outside a run."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_resolvers()
    register_schemas()
    GlobalHydra.instance().clear()
    with (
        quiet_schema_matching(),
        initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="precinct"),
    ):
        yield


def preflight(overrides: Sequence[str], *, multirun: bool) -> Plan:
    """Compose and validate the config of every job a ``precinct run [-m]`` command would start.

    Raises ConfigError / NetworkFileError / Hydra's composition errors before anything runs, so a
    bad value in one corner of a sweep does not surface hours in.
    """
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode

    with conf_context():
        hydra = GlobalHydra.instance().hydra
        assert hydra is not None
        mode = RunMode.MULTIRUN if multirun else RunMode.RUN
        master = hydra.compose_config("config", list(overrides), run_mode=mode)
        if multirun:
            params = OmegaConf.select(master, "hydra.sweeper.params", default=None)
            params = OmegaConf.to_container(params) if isinstance(params, DictConfig | ListConfig) else None
            jobs = expand_sweep(overrides, params if isinstance(params, dict) else None)
        else:
            jobs = [list(overrides)]
        # Jobs that differ only in their seed share one composition (composing costs ~0.1 s each).
        composed: dict[tuple[str, ...], ModelConfig] = {}
        out = []
        for job in jobs:
            seed = [o for o in job if o.partition("=")[0].lstrip("+") == "seed"]
            rest = tuple(o for o in job if o not in seed)
            if rest not in composed:
                cfg = (
                    master
                    if not multirun
                    else hydra.compose_config("config", list(rest), run_mode=RunMode.RUN)
                )
                composed[rest], _ = build_model_config(cfg, overrides=rest)
                _check_city_file(composed[rest])
            model = composed[rest]
            if seed:
                seed_value = OmegaConf.create({"seed": _parse_value(seed[-1])})["seed"]
                model = dataclasses.replace(model, seed=seed_value).validate()
            out.append((job, model))
        key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
        try:
            output_dir = str(OmegaConf.select(master, key, throw_on_resolution_failure=True))
        except Exception:  # only used to tell the user where to look
            output_dir = None
    return Plan(out, output_dir)
