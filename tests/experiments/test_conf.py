"""conf/: every group composes into a valid ModelConfig; sweeps expand like Hydra's; launcher presets validate."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from experiments.configuration import (
    CONF_DIR,
    build_model_config,
    expand_sweep,
    job_dirname,
    preflight,
    quiet_schema_matching,
    register_resolvers,
    register_schemas,
)
from sim.config import ModelConfig, config_to_dict
from sim.errors import ConfigError, NetworkFileError
from sim.policies import build_policies, policy_registry
from sim.results import config_fingerprint
from tests.experiments.fakes import EXPERIMENT_POLICIES, skip_unless_policies_registered

FIXTURE = ["city=west_oakland"]


@pytest.fixture
def hydra_conf() -> Iterator[None]:
    register_resolvers()
    register_schemas()
    GlobalHydra.instance().clear()
    with quiet_schema_matching(), initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        yield
    GlobalHydra.instance().clear()


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def test_default_config_is_the_dataclass_defaults(hydra_conf: None) -> None:
    model, settings = build_model_config(compose("config"))
    expected = ModelConfig()
    assert model.city == expected.city
    assert (model.sim, model.population, model.crime, model.police) == (
        expected.sim,
        expected.population,
        expected.crime,
        expected.police,
    )
    assert list(model.policies) == ["baseline"]
    assert settings.name == "adhoc" and settings.resume is True


@pytest.mark.parametrize("group", ["city", "population", "crime", "police", "sim"])
def test_every_group_option_composes_and_validates(hydra_conf: None, group: str) -> None:
    for option in _options(group):
        overrides = [f"{group}={option}"]
        if option == "custom":
            overrides.append(f"city.path={CONF_DIR.parent / 'data/osm/west_oakland.osm.bz2'}")
        model, _ = build_model_config(compose("config", overrides=overrides))
        assert isinstance(model, ModelConfig)
        if group == "city":
            assert Path(model.city.path).is_absolute()


def test_every_registered_policy_has_a_conf_file_and_back(hydra_conf: None) -> None:
    registered = set(policy_registry())
    files = set(_options("policy"))
    assert registered <= files, f"policies without conf/policy/*.yaml: {registered - files}"
    for name in sorted(files & registered):
        cfg = compose("config", overrides=[f"policy={name}"])
        model, _ = build_model_config(cfg)
        assert model.policies == {name: policy_registry()[name]()}
        assert config_to_dict(model.policies) == OmegaConf.to_container(cfg.policy, resolve=True)


def test_policy_configs_are_dataclasses_with_the_fingerprint_of_their_dicts(hydra_conf: None) -> None:
    """Runs made when ModelConfig.policies held dicts still count as complete (resume)."""
    names = sorted(policy_registry())
    cfg = compose("config", overrides=[f"policy=[{','.join(names)}]", "seed=4"])
    model, _ = build_model_config(cfg)
    for name, config in model.policies.items():
        assert isinstance(config, policy_registry()[name])
    composed = OmegaConf.to_container(cfg.policy, resolve=True)
    assert isinstance(composed, dict)
    as_dicts = dataclasses.replace(model, policies={str(k): v for k, v in composed.items()})
    assert config_to_dict(model) == config_to_dict(as_dicts)
    assert config_fingerprint(model) == config_fingerprint(as_dicts)
    built = build_policies(model.policies)
    assert {id(p.config) for p in built} == {id(c) for c in model.policies.values()}  # taken as built


def test_policies_compose_as_a_list(hydra_conf: None) -> None:
    names = [n for n in ("targeted_patrol", "cpted") if n in policy_registry()] or ["baseline"]
    cfg = compose("config", overrides=[f"policy=[{','.join(names)}]"])
    assert list(cfg.policy) == names
    model, _ = build_model_config(cfg)
    assert list(model.policies) == names


def test_custom_city_names_itself_after_the_file(hydra_conf: None, tmp_path: Path) -> None:
    cfg = compose("config", overrides=["city=custom", "city.path=maps/my_town.osm.pbf"])
    model, _ = build_model_config(cfg, cwd=str(tmp_path))
    assert model.city.name == "my_town"
    assert model.city.path == str(tmp_path / "maps" / "my_town.osm.pbf")


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (["sim.days=-1"], "sim.days"),
        (["police.mode=bike"], "police.mode"),
        (["seed=-3"], "seed"),
        (["police.patrol_dwell_min=-1"], "police.patrol_dwell_min"),
        (
            ["policy=targeted_patrol", "policy.targeted_patrol.dwell_min=-1"],
            "policy.targeted_patrol.dwell_min",
        ),
        (["city=custom"], "city.path"),
        (["+extra=1"], "extra"),
        (["resume=maybe"], "resume"),
    ],
)
def test_bad_values_name_their_key(hydra_conf: None, overrides: list[str], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_model_config(compose("config", overrides=overrides))
    assert info.value.key == key


def test_unknown_policy_key_names_itself(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        build_model_config(
            {"city": {"path": "x.osm"}, "policy": {"baseline": {"nope": 1}}}, cwd=str(tmp_path)
        )
    assert info.value.key == "policy.baseline.nope"


def test_unknown_policy_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="a known policy: baseline") as info:
        build_model_config({"policy": {"nope": {}}})
    assert info.value.key == "policy"


def test_job_dirname_is_deterministic_and_safe() -> None:
    a = job_dirname(["seed=3", "policy=[targeted_patrol,cpted]", "sim.days=2"])
    b = job_dirname(["sim.days=2", "policy=[targeted_patrol,cpted]", "seed=3"])
    assert a == b == "policy=targeted_patrol+cpted,seed=3,sim.days=2"
    assert job_dirname([]) == "default"
    assert (
        job_dirname(["experiment=compare_strategies", "name=x", "resume=false", "hydra.verbose=true"])
        == "default"
    )
    path_name = job_dirname(["city.path=/data/my city/x.osm.pbf"])
    assert "/" not in path_name and " " not in path_name
    long = job_dirname([f"city.path=/{'x' * 300}.osm"])
    assert len(long) <= 120 and long != job_dirname([f"city.path=/{'y' * 300}.osm"])


def test_expand_sweep_matches_hydra_and_cli_wins() -> None:
    jobs = expand_sweep(["seed=range(0,2)"], {"policy": "baseline,[baseline,cpted]", "seed": "range(0,5)"})
    assert jobs == [
        ["policy=baseline", "seed=0"],
        ["policy=baseline", "seed=1"],
        ["policy=[baseline,cpted]", "seed=0"],
        ["policy=[baseline,cpted]", "seed=1"],
    ]


def test_experiments_compose_and_expand() -> None:
    skip_unless_policies_registered(*EXPERIMENT_POLICIES)
    for name in _options("experiment"):
        plan = preflight([f"experiment={name}", *FIXTURE], multirun=True)
        jobs = plan.jobs
        assert plan.output_dir == f"outputs/sweeps/{name}"
        assert len(jobs) >= 2
        seeds = {model.seed for _, model in jobs}
        assert len(seeds) >= 2, "an experiment compares arms over paired seeds"
        assert len({job_dirname(j) for j, _ in jobs}) == len(jobs), "every job gets its own folder"


def test_preflight_rejects_a_missing_city_file() -> None:
    with pytest.raises(NetworkFileError, match="no such file"):
        preflight(["city.path=/no/such/file.osm.pbf"], multirun=False)


def test_preflight_checks_every_job_of_a_sweep() -> None:
    with pytest.raises(ConfigError) as info:
        preflight(
            ["sim.days=1,-2", *FIXTURE, "experiment=compare_strategies", "policy=baseline"], multirun=True
        )
    assert info.value.key == "sim.days"


def test_joblib_is_the_default_launcher(hydra_conf: None) -> None:
    cfg = compose("config", return_hydra_config=True)
    assert cfg.hydra.launcher._target_.endswith("JoblibLauncher")
    assert cfg.hydra.launcher.n_jobs == -1


def test_submitit_slurm_preset_composes_and_validates(hydra_conf: None) -> None:
    from hydra_plugins.hydra_submitit_launcher.config import SlurmQueueConf

    cfg = compose(
        "config",
        overrides=[
            "hydra/launcher=submitit_slurm",
            "hydra.launcher.partition=cpu",
            "experiment=compare_strategies",
        ],
        return_hydra_config=True,
    )
    launcher = cfg.hydra.launcher
    # the preset is a valid SlurmQueueConf: merging into the plugin's schema checks every key and type
    merged = OmegaConf.merge(
        OmegaConf.structured(SlurmQueueConf), OmegaConf.to_container(launcher, resolve=True)
    )
    assert merged._target_.endswith("submitit_launcher.SlurmLauncher")
    assert merged.partition == "cpu"
    assert merged.timeout_min == 120 and merged.cpus_per_task == 1 and merged.mem_gb == 4
    assert merged.name == "precinct-compare_strategies"
    assert merged.submitit_folder == "outputs/sweeps/compare_strategies/.submitit/%j"


def test_ray_preset_composes(hydra_conf: None) -> None:
    pytest.importorskip("hydra_plugins.hydra_ray_launcher", reason="the ray extra is not installed")
    from hydra_plugins.hydra_ray_launcher._config import RayLauncherConf

    cfg = compose("config", overrides=["hydra/launcher=ray"], return_hydra_config=True)
    merged = OmegaConf.merge(OmegaConf.structured(RayLauncherConf), cfg.hydra.launcher)
    assert merged._target_.endswith("RayLauncher")
    assert merged.ray.init.address is None
