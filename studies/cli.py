"""`studybench`: the Hydra app over conf/ and the folders on STUDYBENCH_PATH (studies/studypath.py).
`studybench --help` lists the studies;
`studybench report study=NAME [variant=...]` rebuilds a study's report from the trial store alone;
`studybench check [study=NAME]` prints the store's health (studies/check.py).

Bad input stops before any training with one line on stderr and exit status 2. A single run is checked
up front by composing the config the way Hydra will (so Hydra's multi-line composition errors become one
line too); each job of a multirun sweep checks its own config when it starts.
"""
from __future__ import annotations

import logging
import os
import re
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ start-up chatter; set 0 to debug
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # hydra/launcher=ray*: no usage reports over the network

import hydra
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from studies.cluster import dispatch_arguments, launcher, refuse_unprepared_job
from studies.config import ConfigError
from studies.data import DataError
from studies.paths import CONF_DIR
from studies.runtime import import_backend_quietly
from studies.studypath import available, check_extra_conf_dirs

COMMANDS = ("report", "check")
MULTIRUN = {"-m", "--multirun"}  # `studybench report ...` stands for `studybench mode=report ...`
log = logging.getLogger(__name__)


def fail(message: str) -> None:
    log.error(f"studybench: error: {message}")
    sys.exit(2)


def explain_hydra_error(error: Exception) -> str:
    """Hydra's composition errors, reduced to one line naming the bad value and the valid ones."""
    text = str(error)
    missing = re.search(r"Could not find '([\w/]+)/([^']+)'", text)
    if missing:
        group, option = missing.groups()
        return f"unknown {group} {option!r}; valid: {', '.join(available(group))}"
    key = re.search(r"Could not override '([^']+)'", text)
    if key:
        return f"unknown key {key.group(1)!r}; valid top-level keys: {', '.join(top_level_keys())}"
    return text.strip().splitlines()[0]


def top_level_keys() -> list[str]:
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        return sorted(compose("config").keys())


def preflight(overrides: list[str]) -> None:
    """Compose and validate a single run's config; exits with one line on any bad input."""
    kept = [o for o in overrides if not o.lstrip("+~").startswith(("hydra.", "hydra/"))]
    try:
        with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
            cfg = compose("config", overrides=kept)
        if cfg.mode == "check":  # reads the store only: nothing to plan
            return
        import_backend_quietly()  # only once the config composes: --help and typos stay fast
        from studies.plan import plan_study

        plan_study(OmegaConf.to_container(cfg, resolve=True))
    except HydraException as error:
        fail(explain_hydra_error(error))
    except ConfigError as error:
        fail(str(error))


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def run(cfg: DictConfig) -> float | None:
    """One study run (one job of a sweep); returns the study's OBJECTIVE for an optimising sweeper."""
    if cfg.mode == "check":  # before the backend's import: the store alone, fast
        from studies.check import check_store

        named = any(override.split("=", 1)[0] == "study" for override in HydraConfig.get().overrides.task)
        sys.exit(check_store(cfg.results_dir, cfg.study.name if named else None))  # every study unless named
    import_backend_quietly()
    from studies.harness import run_study
    from studies.store import TrialStore
    from studies.sweeps import objective

    try:
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            refuse_unprepared_job(HydraConfig.get().runtime.choices.get("hydra/launcher"), cfg.data.strict)
        outcome = run_study(OmegaConf.to_container(cfg, resolve=True))
    except (ConfigError, DataError) as error:
        fail(str(error))
    return objective(outcome.plan, TrialStore(cfg.results_dir), outcome.trial_ids)


def main() -> None:
    logging.basicConfig(format="%(message)s")  # errors before Hydra's job logging: one plain line on stderr
    # A `_target_` may name a module in the working directory; a console script's sys.path starts at its own
    # folder instead, so put the working directory first, as `python -m` does.
    sys.path.insert(0, os.getcwd())
    try:
        check_extra_conf_dirs()
        if MULTIRUN & set(sys.argv[1:]):  # jobs may run elsewhere: absolute paths, and more (studies/cluster.py)
            sys.argv[1:] = dispatch_arguments(sys.argv[1:], os.getcwd(), os.environ)
    except ConfigError as error:
        fail(str(error))
    if launcher(sys.argv[1:]) == "ray_local":  # read when Ray is imported: without it, Ray's local cluster
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # listens on the machine's address
    if sys.argv[1:2] and sys.argv[1] in COMMANDS:  # no training, the store only
        sys.argv[1] = f"mode={sys.argv[1]}"
    if not any(argument.startswith("-") for argument in sys.argv[1:]):  # --help, --cfg, -m: Hydra's own
        preflight(sys.argv[1:])
    run()


if __name__ == "__main__":
    main()
