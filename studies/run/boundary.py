"""The run's boundary: the composed Hydra config, read once into what the harness gets (`Run`) — typed settings,
the plans (one per setting of a `search`), and each arm's settings as the study's YAML declares them, which a
sweep's trials are told apart by (studies/run/sweeps.py). Below this, nothing reads the config's dict, plans a
study again or composes Hydra again. Beyond parts (studies/beyond/) build configs of their own (a grid, another
dataset) and enter through here too.
"""
from __future__ import annotations

from dataclasses import dataclass

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from studies.config.paths import CONF_DIR
from studies.config.run_settings import RunSettings
from studies.run.plan import Plan, plan_study
from studies.run.sweeps import arm_settings, search_configs, search_free


@dataclass(frozen=True)
class Run:
    settings: RunSettings
    plans: tuple[Plan, ...]  # one per setting of the config's `search`; one without
    searched: bool  # the config held a `search`: its settings' trial ids are reported apart (a sweeper's objective)
    declared: dict  # arm -> {dotted.key: value} as the study's YAML declares it; {} for mode=report (nothing trained)

    @property
    def plan(self) -> Plan:
        return self.plans[0]


def prepare_run(cfg: dict) -> Run:
    """Read the composed config once: every ConfigError surfaces here, before data, training or any write."""
    settings = RunSettings.from_config(cfg)
    plans = tuple(plan_study(setting) for setting in search_configs(cfg))
    declared = {} if settings.mode == "report" else declared_settings(cfg, plans[0].study)
    return Run(settings, plans, cfg.get("search") is not None, declared)


def declared_settings(cfg: dict, study: str) -> dict:
    """Arm -> {dotted.key: value}: each arm's settings as conf/study/<study>.yaml declares them, without
    command-line overrides, under the run's own variant, profile and seeds."""
    return arm_settings(plan_study({**search_free(cfg), "study": declared_study(study)}))


def declared_study(name: str) -> dict:
    """The study's config as conf/study/<name>.yaml declares it, without command-line overrides."""
    overrides = [f"study={name}"]
    if GlobalHydra.instance().is_initialized():  # inside a Hydra job: compose with the app's search path
        return OmegaConf.to_container(compose("config", overrides=overrides)["study"], resolve=True)
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        return OmegaConf.to_container(compose("config", overrides=overrides)["study"], resolve=True)
