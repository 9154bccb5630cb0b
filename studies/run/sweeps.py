"""Sweeps: which settings set a trial apart from its arm as the study declares it, and how reports show them.

A sweep (`studybench -m study=dropout study.arms.dropout.model.dropout_rate=0.05,0.3`) runs an arm with
settings its config does not declare, so the arm's name alone no longer tells its trials apart. Each trial
is therefore stored with `sweep_json`: the settings (dotted keys, e.g. `model.dropout_rate`) in which its
TrialSpec differs from the same arm planned from the study's YAML without command-line overrides. A report
rebuilt from the store alone finds every job of a sweep by it and shows each swept value as an arm of its own
(`dropout [dropout_rate=0.3]`); the declared settings keep the arm's name, so the article's claims are judged
on them only. Trials stored before sweeps existed have no such column and count as not swept. The figures and
tables of swept values are studies/run/sweep_report.py's.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import math
from dataclasses import replace

import pandas as pd

from studies.config.settings import ConfigError, check_keys
from studies.run.plan import Plan
from studies.stats.across_seeds import point_values

IGNORED = ("label",)  # settings that do not change what a trial computes


def flat_settings(spec: dict) -> dict:
    """A trial's settings (as in `config_json`) as {dotted.key: value}; optimizer params sit beside its name,
    as in the config (`optimizer.learning_rate`)."""
    spec = {**spec, "optimizer": {"name": spec["optimizer"]["name"], **spec["optimizer"]["params"]}}
    flat = {}

    def walk(node: dict, prefix: str) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            else:
                flat[f"{prefix}{key}"] = value

    walk({part: spec[part] for part in ("dataset", "model", "optimizer", "train")}, "")
    return flat


def _trial_settings(trial) -> dict:
    return flat_settings(json.loads(json.dumps(dataclasses.asdict(trial), default=str)))


def arm_settings(plan: Plan) -> dict:
    """Arm -> {dotted.key: value}: each arm's settings in `plan` (studies/run/boundary.py plans the study as its
    YAML declares it, once per run, to tell a sweep's trials apart)."""
    return {trial.arm: _trial_settings(trial) for trial in plan.trials}


def swept_settings(trial, declared: dict) -> dict:
    """{dotted.key: value} of the settings in which `trial` differs from its arm as declared (`arm_settings`);
    empty for an arm the study does not declare: its name already sets it apart."""
    mine, theirs = _trial_settings(trial), declared.get(trial.arm, {})
    return {key: value for key, value in mine.items() if theirs and key not in IGNORED and theirs.get(key) != value}


def search_free(cfg: dict) -> dict:
    return {**cfg, "search": None}


def search_configs(cfg: dict) -> list[dict]:
    """One config per setting of cfg's `search` ({keys: [dotted.key, ...], values: [[value, ...], ...]}), each
    key set as a command-line override of it would; [cfg] without a search."""
    search = cfg.get("search")
    if search is None:
        return [cfg]
    check_keys(search, ("keys", "values"), "search")
    keys, rows = search.get("keys"), search.get("values")
    if not (isinstance(keys, list) and keys and isinstance(rows, list) and rows
            and all(isinstance(row, list) and len(row) == len(keys) for row in rows)):
        raise ConfigError(f"search: {search!r} must give keys, a list of dotted keys, and values, a non-empty list of "
                          f"lists of one value per key")
    return [_with_values(search_free(cfg), dict(zip(keys, row))) for row in rows]


def _with_values(cfg: dict, values: dict) -> dict:
    cfg = copy.deepcopy(cfg)
    for key, value in values.items():
        *parents, leaf = key.split(".")
        node = cfg
        for parent in parents:
            if not isinstance(node.get(parent), dict):
                raise ConfigError(f"search: key {key!r} names no setting of the config (no mapping {parent!r})")
            node = node[parent]
        if leaf not in node or isinstance(node[leaf], dict):
            raise ConfigError(f"search: key {key!r} names no setting of the config (a value, not a mapping or group)")
        node[leaf] = value
    return cfg


def swept_trial_ids(plan: Plan, stored: pd.DataFrame) -> list[str]:
    """Stored trials of the plan's arms and seeds (same variant, profile, engine, backend) run with swept
    settings."""
    seeds = {trial.seed for trial in plan.trials}
    engines = {(trial.arm, trial.engine) for trial in plan.trials}  # an arm engine=fast cannot run ran on keras
    backend = stored["versions_json"].map(lambda text: json.loads(text).get("keras_backend"))
    same = ((stored["variant"] == plan.variant) & (stored["profile"] == plan.profile)
            & pd.Series([pair in engines for pair in zip(stored["arm"], stored["engine"])], index=stored.index)
            & (backend == plan.trials[0].backend) & stored["seed"].isin(seeds))
    return stored.loc[same & (_swept(stored).map(len) > 0), "trial_id"].tolist()


def _swept(trials: pd.DataFrame) -> pd.Series:
    """Each trial's swept settings; {} where not swept or stored before sweeps."""
    return trials["sweep_json"].map(lambda text: json.loads(text) if isinstance(text, str) else {})


def _short(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def _value_text(values: dict) -> str:
    return ", ".join(f"{_short(key)}={value:.3g}" if isinstance(value, float) else f"{_short(key)}={value}"
                     for key, value in values.items())


def swept_values(trials: pd.DataFrame) -> pd.DataFrame:
    """One row per trial of a swept arm: trial_id, arm (declared), swept (False at the declared settings),
    then a column per swept key with the trial's value, read from its settings (so that the declared trials
    get their declared value too)."""
    swept = _swept(trials)
    keys_by_arm = {arm: sorted(set().union(*swept[trials["arm"] == arm])) for arm in trials["arm"].unique()}
    rows = []
    for (_, trial), own in zip(trials.iterrows(), swept):
        settings = flat_settings(json.loads(trial["config_json"]))
        rows += [{"trial_id": trial["trial_id"], "arm": trial["arm"], "swept": bool(own),
                  **{key: settings.get(key) for key in keys_by_arm[trial["arm"]]}}] if keys_by_arm[trial["arm"]] else []
    return pd.DataFrame(rows, columns=list(dict.fromkeys(["trial_id", "arm", "swept"] + sum(keys_by_arm.values(), []))))


def expand(plan: Plan, trials: pd.DataFrame, epochs: pd.DataFrame) -> tuple[Plan, pd.DataFrame, pd.DataFrame]:
    """Give each swept value its own arm, `arm[key=value]` labelled `label [key=value]`, ordered by value.
    Trials at the declared settings keep their arm (the claims are about them), labelled with its value, and
    so does an arm run at one value only (a plain override, as before sweeps)."""
    values = swept_values(trials) if "sweep_json" in trials else pd.DataFrame()
    if values.empty:
        return plan, trials, epochs
    keys = list(values.columns[3:])
    text = [_value_text({key: row[key] for key in keys if row[key] is not None}) for _, row in values.iterrows()]
    values = values.assign(label=[f"{plan.arms.get(arm, arm)} [{t}]" for arm, t in zip(values["arm"], text)],
                           order=[_sortable(row) for row in values[keys].itertuples(index=False)])
    several = values.groupby("arm")["order"].transform("nunique") > 1  # one value: an override, not a sweep
    values = values.assign(name=[f"{arm}[{t}]" if swept and apart else arm
                                 for arm, swept, apart, t in zip(values["arm"], values["swept"], several, text)])
    arms = {}
    for arm, label in plan.arms.items():
        rows = values[values["arm"] == arm].sort_values("order")
        arms.update(dict(zip(rows["name"], rows["label"])) if len(rows) else {arm: label})
    renamed = dict(zip(values["trial_id"], values["name"]))

    def rename(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(arm=frame["trial_id"].map(renamed).fillna(frame["arm"]))

    return replace(plan, arms=arms), rename(trials), rename(epochs)


def one_data_per_arm(study: str, trials: pd.DataFrame) -> None:
    """A ConfigError where an arm (after `expand`: a swept value's own) holds trials run on different data (dataset or
    checksum; e.g. a node without full MNIST on mnist5k): a report never pools them."""
    data = trials["dataset"] + " sha256 " + trials["data_checksum"].str[:12]
    for arm, found in data.groupby(trials["arm"]):
        counts = found.value_counts()
        if len(counts) > 1:
            raise ConfigError(f"study {study} arm {arm}: its trials ran on different data ("
                              + ", ".join(f"{count} on {name}" for name, count in sorted(counts.items()))
                              + f"), which a report never pools; move the unwanted ones' files out of results_dir's "
                              f"trials/{study}/ and epochs/{study}/ (pick them by their data_checksum column), then "
                              "report again, and run clusters with data.strict=true")


def _sortable(values) -> tuple:
    """Sorts swept values numerically, with missing values (a key another trial added) first."""
    return tuple((value is not None, value if value is not None else 0) for value in values)


def objective(plan: Plan, store, trial_ids: list) -> float | None:
    """A job's value for an optimising sweeper (Optuna): the mean of the study's OBJECTIVE over the job's
    finished trials; NaN where none finished; None for a study without an OBJECTIVE."""
    declared = getattr(plan.contract, "OBJECTIVE", None)
    if declared is None:
        return None
    trials, epochs = store.trials(plan.study, trial_ids), store.epochs(plan.study, trial_ids)
    finished = trials[trials["status"] == "ok"]
    values = point_values(epochs, finished, declared.metric, declared.split, declared.point)["value"]
    return float(values.mean()) if len(values) else math.nan
