"""`studybench`: the Hydra app over conf/ and the folders on STUDYBENCH_PATH (studies/config/studypath.py).
`studybench --help` lists the studies;
`studybench report study=NAME [variant=...]` rebuilds a study's report from the trial store alone;
`studybench check [study=NAME]` prints the store's health (studies/store/check.py);
`studybench agreement [study=NAME]` compares engine=fast's and engine=keras's stored trials and verdicts
(studies/report/engine_agreement.py) into <reports_dir>/bench/engine_agreement.md.

Bad input stops before any training with one line on stderr and exit status 2. A single run is checked
up front by composing the config the way Hydra will (so Hydra's multi-line composition errors become one
line too), its settings before the backend's import and its components after; each job of a multirun sweep
checks its own config when it starts. A run that trains no trial to its end (every one failed or diverged) or
cannot write (a full disk) exits 1, an interrupted one (Ctrl-C) 130, each with one line saying what was kept.
"""
from __future__ import annotations

import difflib
import json
import logging
import os
import re
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ start-up chatter; set 0 to debug
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # hydra/launcher=ray*: no usage reports over the network

import hydra
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.core.plugins import Plugins
from hydra.errors import HydraException
from hydra.types import RunMode
from hydra.utils import get_method
from omegaconf import DictConfig, OmegaConf, open_dict

from hydra_plugins.studybench_search.studybench_search import StackedOptunaSweeper
from studies.config.paths import CONF_DIR
from studies.config.settings import ConfigError, require_choice
from studies.config.studypath import available, check_extra_conf_dirs
from studies.data.datasets import DataError
from studies.run.cluster import dispatch_arguments, launcher, refuse_unprepared_job
from studies.run.logs import BelowWarning, prefix_job_lines
from studies.runtime.backend import import_backend_quietly
from studies.runtime.phases import timed

# Hydra finds plugins by scanning hydra_plugins/, which an editable install (as make does) hides from it.
Plugins.instance().register(StackedOptunaSweeper)

COMMANDS = ("report", "check", "agreement")
MODES = ("run", *COMMANDS)
GROUPS = ("study", "engine", "profile", "beyond")  # conf/'s config groups: a choice decides which keys exist
BACKENDS = ("tensorflow", "jax")  # Keras's backends engine=fast stacks on
# beyond=NAME: what a run does, as the function (import path) that does it; None for a study with nothing to do
BEYOND = {"none": "studies.run.cli.run_plain", "tuning": "studies.beyond.tuning.run_tuning",
          "heldout": "studies.beyond.heldout.run_heldout", "variance": "studies.beyond.variance.run_variance",
          "time_to_target": "studies.beyond.time_to_target.run_time_to_target"}
PREPARED = {}  # config_key(config) -> the Run preflight read for it (studies/run/boundary.py)
MULTIRUN = {"-m", "--multirun"}  # `studybench report ...` stands for `studybench mode=report ...`
log = logging.getLogger(__name__)


def console_logging() -> None:
    """As Hydra's job logging will have it (conf/hydra/job_logging/studybench.yaml), without the file: info on
    stdout (shown once a step sets the INFO level), warnings and errors on stderr."""
    stdout, stderr = logging.StreamHandler(sys.stdout), logging.StreamHandler(sys.stderr)
    stdout.addFilter(BelowWarning())
    stderr.setLevel(logging.WARNING)
    logging.basicConfig(format="%(message)s", handlers=[stdout, stderr])


def fail(message: str, status: int = 2) -> None:
    log.error(f"studybench: error: {message}")
    sys.exit(status)


def explain_hydra_error(error: Exception, overrides: list[str]) -> str:
    """Hydra's composition errors, reduced to one line naming the bad value and the valid ones."""
    text = str(error)
    missing = re.search(r"Could not find '([\w/]+)/([^']+)'", text)
    if missing:
        group, option = missing.groups()
        return f"unknown {group} {option!r}; valid: {', '.join(available(group))}"
    key = re.search(r"Could not override '([^']+)'", text)
    if key:
        return unknown_key(key.group(1), [o for o in overrides if o.split("=", 1)[0] in GROUPS])
    ambiguous = re.search(r"Ambiguous value for argument '([^']+)'", text)
    if ambiguous:
        return (f"{ambiguous.group(1)} gives several values: add -m to sweep over them "
                f"(studybench -m {ambiguous.group(1)}), or write a list as key=[value1,value2]")
    return text.strip().splitlines()[0]


def unknown_key(dotted: str, overrides: list[str]) -> str:
    """The line for an unknown key: the keys at its level (top level, or the mapping it would go in) in the
    config that `overrides` (the config group choices alone, which compose) make, the closest named first."""
    *parents, leaf = dotted.split(".")
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        node = compose("config", overrides=overrides)
    for depth, parent in enumerate(parents):
        if not isinstance(node, DictConfig) or parent not in node:
            return unknown_key(".".join(parents[:depth + 1]), overrides)
        node = node[parent]
    keys = sorted(node.keys()) if isinstance(node, DictConfig) else []
    level = f"keys under {'.'.join(parents)}" if parents else "top-level keys"
    closest = difflib.get_close_matches(leaf, keys, n=1)
    guess = f"did you mean {'.'.join([*parents, closest[0]])!r}? " if closest else ""
    return f"unknown key {dotted!r}; {guess}valid {level}: {', '.join(keys) or '(none: not a mapping)'}"


def check_words(arguments: list[str]) -> None:
    """Every argument is KEY=VALUE (or Hydra's ~KEY): a bare word is a misspelled command or a setting without
    its value."""
    for argument in arguments:
        if "=" not in argument and not argument.startswith("~"):
            closest = difflib.get_close_matches(argument, COMMANDS, n=1)
            guess = f"did you mean {closest[0]!r}? " if closest else ""
            fail(f"unknown command {argument!r}; {guess}valid: {', '.join(COMMANDS)} (first), then KEY=VALUE "
                 "settings (studybench --help)")


def check_profile_name(name: str, chosen: str) -> None:
    """A profile's settings cannot pass for another profile's: `profile=smoke profile.name=full` would store and
    report 2 epochs on 512 images as the full experiment."""
    if name != chosen and name in available("profile"):
        fail(f"profile.name={name} renames profile {chosen}'s settings as profile {name}, whose reports are another "
             f"experiment's; valid: profile={name}, or a new name for changed settings (profile.name={chosen}_custom)")


def check_folders(cfg: DictConfig) -> None:
    """results_dir (and reports_dir, when a report is written) are folders this process can write, or can be
    made: found now, not after training."""
    folders = {"results_dir": cfg.results_dir, **({"reports_dir": cfg.reports_dir} if cfg.report else {})}
    for key, folder in folders.items():
        path = Path(folder).absolute()
        existing = next(p for p in (path, *path.parents) if p.exists())
        if not existing.is_dir():
            fail(f"{key}={folder} cannot be a folder: {existing} is a file; valid: a folder, made if missing")
        if not os.access(existing, os.W_OK | os.X_OK):
            fail(f"{key}={folder} cannot be written: {existing} is read-only to this user; valid: a writable folder")


def check_sweep_folders(overrides: list[str]) -> None:
    """A sweep's store and report folders, found unusable before Hydra launches a job (each job would fail alone,
    with a traceback); only the overrides that name them are composed, which no sweep varies."""
    named = [o for o in overrides if o.split("=", 1)[0] in ("results_dir", "reports_dir", "report") and "," not in o]
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        check_folders(compose("config", overrides=named))


def check_backend() -> None:
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend not in BACKENDS:
        fail(f"KERAS_BACKEND={backend} is not supported; valid: {', '.join(BACKENDS)}")


def check_only(cfg: DictConfig, overrides) -> None:
    """`studybench check`: the store's health; as a single run, outside Hydra's job (which would make
    results_dir/hydra)."""
    trials = Path(cfg.results_dir) / "trials"
    if not trials.is_dir():
        fail(f"no trial store at results_dir={cfg.results_dir} (no folder {trials}); give the results_dir a run "
             "wrote to")
    from studies.store.check import check_store

    logging.getLogger().setLevel(logging.INFO)
    named = any(override.split("=", 1)[0] == "study" for override in overrides)
    sys.exit(check_store(cfg.results_dir, cfg.study.name if named else None))  # every study unless named


def agreement_only(cfg: DictConfig, overrides) -> None:
    """`studybench agreement`: both engines' stored trials compared, every study unless study= is given, judged
    with the seeds settings the runs had (n_seeds, first_seed and auto's rounds as given here); as a single run,
    outside Hydra's job."""
    from studies.report.engine_agreement import agreement_report
    from studies.run.plan import seed_looks
    from studies.store.atomic import write_text_atomic

    named = any(override.split("=", 1)[0] == "study" for override in overrides)
    try:
        looks = seed_looks(OmegaConf.to_container(cfg, resolve=False))
        text = agreement_report(cfg.results_dir, looks, cfg.first_seed, cfg.study.name if named else None)
    except ConfigError as error:
        fail(str(error))
    out = Path(cfg.reports_dir) / "bench" / "engine_agreement.md"
    try:
        write_text_atomic(out, text + "\n")
    except OSError as error:
        fail(f"cannot write {out} ({error}); give a reports_dir this process can write")
    print(text)
    print(f"written: {out}")
    sys.exit(0)


def store_only(cfg: DictConfig, overrides) -> None:
    """The commands that read the store alone, nothing planned or trained (`report` plans: it is a run)."""
    if cfg.mode == "check":
        check_only(cfg, overrides)
    if cfg.mode == "agreement":
        agreement_only(cfg, overrides)


@timed("config")  # Hydra's composition and the settings' checks (their planning is "planning")
def preflight(overrides: list[str]) -> None:
    """Compose and validate a single run's config; exits with one line on any bad input. The settings are
    checked before the backend's import (seconds), the components it needs after it."""
    check_words(overrides)
    kept = [o for o in overrides if not o.lstrip("+~").startswith(("hydra.", "hydra/"))]
    try:
        with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
            cfg = compose("config", overrides=kept, return_hydra_config=True)
        require_choice(cfg.mode, "mode", MODES)
        require_choice(cfg.beyond.name, "beyond.name", tuple(BEYOND))
        store_only(cfg, kept)  # check and agreement read the store only: nothing to plan
        if cfg.beyond.name != "none" and cfg.mode == "report":
            fail(f"mode=report with beyond={cfg.beyond.name}: a beyond part reports as it runs; valid: "
                 f"studybench study={cfg.study.name} beyond={cfg.beyond.name} (trains only what the store lacks)")
        check_profile_name(cfg.profile.name, cfg.hydra.runtime.choices.get("profile"))
        check_folders(cfg)
        from studies.run.plan import plan_study
        from studies.run.sweeps import search_configs

        with open_dict(cfg):
            del cfg["hydra"]
        config = OmegaConf.to_container(cfg, resolve=True)
        for setting in search_configs(config):
            plan_study(setting, components=False)
        import_backend_quietly()  # only once the settings are valid: --help and typos stay fast
        prepare(config)
    except HydraException as error:
        fail(explain_hydra_error(error, kept))
    except ConfigError as error:
        fail(str(error))


def stop_line(cfg: DictConfig, what: str) -> str:
    """What an interrupted run leaves: the study's stored trials stay, a running stack's last checkpoint too."""
    from studies.store.trial_store import TrialStore

    stored = len(TrialStore(cfg.results_dir).trials(cfg.study.name))
    return (f"{what}; kept: {stored} stored trial{'s' * (stored != 1)} of study {cfg.study.name} in {cfg.results_dir} "
            "and engine=fast's checkpoints of running stacks; rerun the same command to resume")


def prepare(config: dict) -> None:
    """The run's config read at its boundary (studies/run/boundary.py), its components checked with the backend
    imported; kept for the Hydra job of the same config, so a single run plans its study once."""
    from studies.run.boundary import prepare_run
    from studies.run.plan import plan_study
    from studies.run.sweeps import search_configs

    if config["beyond"]["name"] == "none":
        PREPARED[config_key(config)] = prepare_run(config)
    else:  # a beyond part builds runs of its own from the config: its settings checked here
        for setting in search_configs(config):
            plan_study(setting)


def config_key(config: dict) -> str:
    return json.dumps(config, sort_keys=True, default=str)


def run_plain(cfg: dict):
    """beyond=none: the study itself, from the run preflight prepared for this config, else read here (a multirun's
    job, which no preflight saw)."""
    from studies.run.boundary import prepare_run
    from studies.run.harness import run_study

    prepared = PREPARED.pop(config_key(cfg), None)
    return run_study(prepared or prepare_run(cfg))


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def run(cfg: DictConfig) -> float | list | None:
    """One study run (one job of a sweep); returns the study's OBJECTIVE for an optimising sweeper (with a
    `search`, one per setting)."""
    if HydraConfig.get().mode == RunMode.MULTIRUN:  # jobs may share a terminal (joblib): each line says whose
        prefix_job_lines(HydraConfig.get().job.num)
    store_only(cfg, HydraConfig.get().overrides.task)  # with Hydra's flags (else through preflight)
    import_backend_quietly()
    from studies.run.harness import unfinished
    from studies.run.sweeps import objective
    from studies.store.trial_store import TrialStore

    check_profile_name(cfg.profile.name, HydraConfig.get().runtime.choices.get("profile"))
    multirun = HydraConfig.get().mode == RunMode.MULTIRUN
    try:
        if multirun:
            refuse_unprepared_job(HydraConfig.get().runtime.choices.get("hydra/launcher"), cfg.data.strict)
        outcome = get_method(BEYOND[cfg.beyond.name])(OmegaConf.to_container(cfg, resolve=True))
    except (ConfigError, DataError) as error:
        fail(str(error))
    except KeyboardInterrupt:
        fail(stop_line(cfg, "interrupted"), 130)
    except OSError as error:  # a full disk, a folder made read-only during the run
        fail(stop_line(cfg, f"cannot write ({error})"), 1)
    if outcome is None:  # a beyond part the study has nothing for: skipped, with its line
        return None
    store = TrialStore(cfg.results_dir)
    failure = unfinished(outcome.plan, store, outcome.trial_ids)
    if failure and not multirun:
        fail(failure, 1)
    if failure:  # a sweep goes on: another value may train (a sweeper reads this job's objective as NaN)
        log.warning(f"studybench: {failure}")
    if outcome.setting_trial_ids is not None:
        return [objective(outcome.plan, store, ids) for ids in outcome.setting_trial_ids]
    return objective(outcome.plan, store, outcome.trial_ids)


def main() -> None:
    console_logging()  # before Hydra's job logging: plain lines, info on stdout, warnings and errors on stderr
    # A `_target_` may name a module in the working directory; a console script's sys.path starts at its own
    # folder instead, so put the working directory first, as `python -m` does.
    sys.path.insert(0, os.getcwd())
    check_backend()
    try:
        check_extra_conf_dirs()
        if MULTIRUN & set(sys.argv[1:]):  # jobs may run elsewhere: absolute paths, and more (studies/run/cluster.py)
            sys.argv[1:] = dispatch_arguments(sys.argv[1:], os.getcwd(), os.environ)
            check_sweep_folders(sys.argv[1:])
    except ConfigError as error:
        fail(str(error))
    if launcher(sys.argv[1:]) == "ray_local":  # read when Ray is imported: without it, Ray's local cluster
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # listens on the machine's address
    if sys.argv[1:2] and sys.argv[1] in COMMANDS:  # no training, the store only
        sys.argv[1] = f"mode={sys.argv[1]}"
    try:
        if not any(argument.startswith("-") for argument in sys.argv[1:]):  # --help, --cfg, -m: Hydra's own
            preflight(sys.argv[1:])
    except KeyboardInterrupt:  # during the backend's import or planning (training's own: run)
        fail("interrupted before training; nothing was stored", 130)
    run()


if __name__ == "__main__":
    main()
