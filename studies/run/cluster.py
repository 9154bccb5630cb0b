"""A multirun's command line, made fit to dispatch: its jobs may start on other machines (Ray, Slurm), in another
working directory and environment. Before Hydra launches them, `studybench -m` rewrites its arguments:

- results_dir and reports_dir (given or by default) and data.dir, when plain paths, become absolute against the
  submitting folder (so every job writes one store, `results_dir`, which must be a filesystem all nodes see);
- under a cluster launcher (hydra/launcher=ray, slurm or submitit_slurm) data.strict=true, so that a node
  without full MNIST fails instead of training on the 5,000-digit subset; data.strict=false there is an error;
- under hydra/launcher=ray, every worker gets the submitting shell's KERAS_BACKEND (tensorflow when unset) and,
  where set, KERAS_HOME and STUDYBENCH_PATH (made absolute) and TF_CPP_MIN_LOG_LEVEL, through the Ray job's
  runtime_env.env_vars; and object_store_memory is left to the cluster (one that exists refuses the launcher's
  default). Slurm hands its jobs the submitting environment by default (sbatch --export=ALL).

A cluster launcher that a config file picks is not on the command line, so none of this happens: its jobs refuse
to run (`refuse_unprepared_job`) rather than train on the subset or the wrong backend.
"""
from __future__ import annotations

import os
import re

from omegaconf import OmegaConf

from studies.config.paths import CONF_DIR
from studies.config.settings import ConfigError

PATH_SETTINGS = ("results_dir", "reports_dir", "data.dir")
DEFAULT_PATHS = ("results_dir", "reports_dir")  # path settings with a default, added where not given
CLUSTER_LAUNCHERS = ("ray", "slurm", "submitit_slurm")
PATH_VARIABLES = ("KERAS_HOME", "STUDYBENCH_PATH")  # environment variables forwarded to Ray workers, as paths
VARIABLES = ("TF_CPP_MIN_LOG_LEVEL",)  # and as they are
RAY_INIT = "hydra.launcher.ray.init"
PLAIN_PATH = re.compile(r"[\w./~+-]+")  # not a sweep (a,b), an interpolation (${...}), a quoted string


def override(argument: str) -> tuple[str, str] | None:
    """(key, value) of a `key=value` override (also +key, ++key); None for a flag such as -m."""
    if argument.startswith("-") or "=" not in argument:
        return None
    key, value = argument.split("=", 1)
    return key.lstrip("+~"), value


def launcher(arguments: list[str]) -> str | None:
    """The launcher the command line picks (hydra/launcher=NAME), None for Hydra's basic one."""
    picked = [value for key, value in filter(None, map(override, arguments)) if key == "hydra/launcher"]
    return picked[-1] if picked else None


def quoted(value: str) -> str:
    """`value` as a quoted string in Hydra's override grammar, where a backslash escapes only before a quote or
    the closing quote: there backslashes are doubled and a quote gets one."""
    def escaped(match) -> str:
        backslashes, quote = match.groups()
        return backslashes * 2 + (f"\\{quote}" if quote else "")

    return "'" + re.sub(r"(\\*)('|$)", escaped, value) + "'"


def absolute(value: str, cwd: str) -> str:
    """A path setting's value, absolute against `cwd`; an absolute one, null, a sweep or an interpolation as it is."""
    if value == "null" or os.path.isabs(value) or not PLAIN_PATH.fullmatch(value):
        return value
    return quoted(os.path.abspath(os.path.join(cwd, os.path.expanduser(value))))


def absolute_path(argument: str, cwd: str) -> str:
    """The argument, a path setting's made absolute."""
    pair = override(argument)
    if not pair or pair[0] not in PATH_SETTINGS:
        return argument
    return f"{argument.split('=', 1)[0]}={absolute(pair[1], cwd)}"


def default_paths(arguments: list[str], cwd: str) -> list[str]:
    """The path settings with a default that the arguments do not give, absolute."""
    given = {pair[0] for pair in filter(None, map(override, arguments))}
    defaults = OmegaConf.load(CONF_DIR / "config.yaml")
    return [f"{key}={absolute(defaults[key], cwd)}" for key in DEFAULT_PATHS if key not in given]


def strict_data(arguments: list[str], name: str) -> list[str]:
    """data.strict=true for a cluster launcher `name`, unless given so; a ConfigError where given otherwise."""
    values = [value for key, value in filter(None, map(override, arguments)) if key == "data.strict"]
    wrong = [value for value in values if value.lower() != "true"]
    if wrong:
        raise ConfigError(f"data.strict={wrong[0]} with hydra/launcher={name}: on a cluster a node without full MNIST "
                          "would train on the 5,000-digit mnist5k subset; drop it (a cluster launcher sets "
                          "data.strict=true), or run on this machine (hydra/launcher=joblib or ray_local)")
    return [] if values else ["data.strict=true"]


def ray_environment(environ, cwd: str) -> dict:
    """The variables Ray workers get from the submitting shell (in `cwd`)."""
    forwarded = {"KERAS_BACKEND": environ.get("KERAS_BACKEND", "tensorflow")}
    for name in PATH_VARIABLES:
        if environ.get(name):
            forwarded[name] = os.pathsep.join(os.path.abspath(os.path.join(cwd, os.path.expanduser(entry)))
                                              for entry in environ[name].split(os.pathsep) if entry)
    return {**forwarded, **{name: environ[name] for name in VARIABLES if name in environ}}


def ray_arguments(environ, cwd: str) -> list[str]:
    return [f"++{RAY_INIT}.object_store_memory=null"] + [
        f"++{RAY_INIT}.runtime_env.env_vars.{name}={quoted(value)}"
        for name, value in ray_environment(environ, cwd).items()]


def dispatch_arguments(arguments: list[str], cwd: str, environ) -> list[str]:
    """A multirun's arguments as its jobs get them (see the module's doc), the added overrides right after the
    given ones (Hydra takes overrides as one run of arguments); ConfigError on data.strict=false under a
    cluster launcher."""
    name = launcher(arguments)
    added = (default_paths(arguments, cwd) + (strict_data(arguments, name) if name in CLUSTER_LAUNCHERS else [])
             + (ray_arguments(environ, cwd) if name == "ray" else []))
    end = max((index + 1 for index, argument in enumerate(arguments) if override(argument)), default=len(arguments))
    rewritten = [absolute_path(argument, cwd) for argument in arguments]
    return rewritten[:end] + added + rewritten[end:]


def refuse_unprepared_job(launcher_choice: str | None, data_strict: bool) -> None:
    """ConfigError in a job of a cluster launcher the command line did not name (a config file's choice): its
    arguments were never prepared for other machines, and data.strict=true is the sign they were."""
    if launcher_choice in CLUSTER_LAUNCHERS and not data_strict:
        raise ConfigError(f"hydra/launcher={launcher_choice} was chosen by a config file: name it on the command line "
                          f"(studybench -m ... hydra/launcher={launcher_choice}) so that its jobs get data.strict=true "
                          "and the submitting shell's KERAS_BACKEND (studies/run/cluster.py)")
