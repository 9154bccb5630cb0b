"""From the composed Hydra config to the list of trials of one study run, fully validated.

A study config has base settings (dataset, model, optimizer, train), `arms` that patch them (or a `grid`
of dotted keys and values whose product makes the arms), and `variants` that patch the whole study; a
variant drops an arm by setting it to `drop` (or all of them, `arms: drop`, when it brings a grid).
Patches merge key by key, except that a mapping with a `name` or `_target_` key (an optimizer, initializer,
regularizer, model builder or dataset loader) replaces what it patches as a whole.
The profile then caps data and epochs (profile=smoke shrinks everything for tests).

`plan_study(cfg, components=False)` checks the settings alone, without importing Keras (a component's name or
import path, a loss, a study module are not looked up): the CLI runs it before the backend's slow import, so
that a bad value stops the run in seconds.
"""
from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, replace
from types import ModuleType

from studies.config.components import TARGET, check_call, is_target, split_target
from studies.config.contract import for_variant, judged_claims, load_contract
from studies.config.settings import (
    ConfigError,
    DatasetSpec,
    EarlyStoppingSpec,
    ModelSpec,
    OptimizerSpec,
    TrainSpec,
    TrialSpec,
    build_spec,
    check_keys,
    is_import_path,
    optimizer_arguments,
    require_bool,
    require_choice,
    require_int,
    require_optional_int,
    require_positive,
    validate_dataset,
    validate_model,
    validate_train,
    with_convolutions,
)
from studies.runtime.phases import timed
from studies.stats.sequential import look_seeds

STUDY_KEYS = ("name", "default_variant", "contract", "dataset", "model", "optimizer", "train", "arms", "grid",
              "variants")
ARM_KEYS = ("label", "dataset", "model", "optimizer", "train")
PROFILE_KEYS = ("name", "train_first", "test_first", "max_epochs")
# Beside a loader's _target_, DatasetSpec's own keys say how its arrays are split; the other keys are its arguments.
DATASET_SETTINGS = tuple(f.name for f in dataclasses.fields(DatasetSpec) if f.name not in ("name", "arguments"))
AUTO = "auto"  # n_seeds=auto: rounds of seeds until every claim is decided (studies/stats/sequential.py)


@dataclass(frozen=True)
class Plan:
    study: str
    variant: str
    default_variant: str
    profile: str
    engine: str
    arms: dict  # arm name -> label, in config order
    trials: tuple[TrialSpec, ...]
    contract: ModuleType  # the study module: FIGURES, SUMMARY, CLAIMS
    looks: tuple[int, ...] = ()  # seeds per arm at each look at the claims: (n_seeds,), or n_seeds=auto's rounds
    first_seed: int = 0  # trials has seeds first_seed .. first_seed + looks[-1] - 1 of each arm

    @property
    def claims(self) -> tuple:
        """The claims its looks judge: the variant's, a family's members standing for it (studies/report/register.py
        rebuilds the family's row)."""
        return judged_claims(for_variant(self.contract.CLAIMS, self.variant))


def merge(base, patch):
    if not isinstance(base, dict) or not isinstance(patch, dict) or "name" in patch or TARGET in patch:
        return patch
    merged = dict(base)
    for key, value in patch.items():
        merged[key] = merge(base.get(key), value)
    return merged


def grid_arms(grid: dict) -> dict:
    """{dotted.key: [values]} -> one arm per combination, named and labelled "key=value,key=value"."""
    keys = list(grid)
    arms = {}
    for values in itertools.product(*(grid[key] for key in keys)):
        name = ",".join(f"{key.rsplit('.', 1)[-1]}={value}" for key, value in zip(keys, values))
        patch = {"label": name}
        for key, value in zip(keys, values):
            *parents, leaf = key.split(".")
            node = patch
            for parent in parents:
                node = node.setdefault(parent, {})
            node[leaf] = value
        arms[name] = patch
    return arms


def _cap(value, limit):
    return limit if value is None else value if limit is None else min(value, limit)


def _dataset(values: dict, profile: dict, where: str, components: bool) -> DatasetSpec:
    if is_target(values):
        path, arguments = split_target(values)
        settings = {key: arguments.pop(key) for key in list(arguments) if key in DATASET_SETTINGS}
        if components:
            check_call(path, arguments, f"{where}")
        values = {**settings, "name": path, "arguments": arguments}
    spec = build_spec(DatasetSpec, values, where)
    spec = replace(spec, train_first=_cap(spec.train_first, profile["train_first"]),
                   test_first=_cap(spec.test_first, profile["test_first"]),
                   classes=tuple(spec.classes) if spec.classes is not None else None)
    validate_dataset(spec, where)
    return spec


def _model(values: dict, where: str, components: bool) -> ModelSpec:
    if is_target(values):
        path, arguments = split_target(values)
        values = {"builder": path, "arguments": arguments}
    spec = build_spec(ModelSpec, values, where)
    spec = with_convolutions(replace(spec, hidden_units=tuple(spec.hidden_units or ())), where)
    validate_model(spec, where)
    if components:
        from studies.engines.model import check_model

        check_model(spec)
    return spec


def _optimizer(values, where: str, components: bool) -> OptimizerSpec:
    params = dict(values) if isinstance(values, dict) else {"name": values}
    if TARGET in params and params.get("name") is not None:
        raise ConfigError(f"{where}: give name or {TARGET}, not both (got {params['name']!r}, {params[TARGET]!r}); "
                          "a study that inherits a name clears it with name: null (Hydra merges key by key)")
    if TARGET in params:
        params.pop("name", None)
    name = params.pop(TARGET if TARGET in params else "name", None)
    spec = OptimizerSpec(name=name, params=optimizer_arguments(params, where))
    if components:
        from studies.engines.model import build_optimizer

        build_optimizer(spec)  # raises ConfigError on an unknown name, path or argument
    return spec


def _train(values: dict, profile: dict, dataset: DatasetSpec, where: str, components: bool) -> TrainSpec:
    values = dict(values or {})
    stopping = values.get("early_stopping")
    if stopping is not None:
        values["early_stopping"] = build_spec(EarlyStoppingSpec, stopping, f"{where}.early_stopping")
    spec = build_spec(TrainSpec, values, where)
    validate_train(spec, where)
    spec = replace(spec, epochs=_cap(spec.epochs, profile["max_epochs"]), metrics=tuple(spec.metrics),
                   callbacks=tuple(spec.callbacks or ()))
    if not all(is_target(callback) for callback in spec.callbacks):
        raise ConfigError(f"{where}.callbacks={list(spec.callbacks)!r}: each must be {{{TARGET}: import.path, ...}}, "
                          "e.g. {_target_: keras.callbacks.CSVLogger, filename: log.csv}")
    if components:
        from studies.engines.model import check_loss, make_callbacks

        check_loss(spec.loss)
        make_callbacks(spec.callbacks)  # raises ConfigError on a bad path or argument
    if spec.early_stopping and spec.early_stopping.monitor.startswith("val_") and dataset.validation == "none":
        raise ConfigError(f"{where}.early_stopping monitors {spec.early_stopping.monitor} "
                          "but dataset.validation is none; monitor a training metric or validate on test")
    return spec


def _profile(cfg: dict) -> dict:
    profile = cfg["profile"]
    check_keys(profile, PROFILE_KEYS, "profile")
    for key in PROFILE_KEYS[1:]:
        require_optional_int(profile.get(key), f"profile.{key}", 1)
    return {key: profile.get(key) for key in PROFILE_KEYS}


def resolve_variant(study: dict, variant: str) -> dict:
    check_keys(study, STUDY_KEYS, f"study {study.get('name')}")
    variants = study.get("variants") or {}
    if not variants:
        raise ConfigError(f"study {study['name']} has no variants; its YAML lists them under `variants:`, each a "
                          "patch of the study's settings, e.g. variants: {original: {}}")
    require_choice(variant, f"variant of study {study['name']}", tuple(variants))
    base = {key: value for key, value in study.items() if key != "variants"}
    return merge(base, variants[variant] or {})


def seed_looks(cfg: dict) -> tuple[int, ...]:
    """Seeds per arm at each look at the claims: n_seeds once, or with n_seeds=auto first_round, then
    round_size more per round, up to max_seeds."""
    require_int(cfg["max_seeds"], "max_seeds", 1)
    require_int(cfg["first_round"], "first_round", 2)  # a paired t-test needs two seeds
    require_int(cfg["round_size"], "round_size", 1)
    if cfg["n_seeds"] != AUTO:
        try:
            require_int(cfg["n_seeds"], "n_seeds", 1)
        except ConfigError as error:
            raise ConfigError(f"{error}, or {AUTO}") from None
        return (cfg["n_seeds"],)
    if cfg["max_seeds"] < cfg["first_round"]:
        raise ConfigError(f"max_seeds={cfg['max_seeds']} is below first_round={cfg['first_round']}: "
                          f"with n_seeds={AUTO} it must be >= first_round")
    return look_seeds(cfg["first_round"], cfg["round_size"], cfg["max_seeds"])


def _backend(components: bool) -> str:
    """Keras's backend, a part of each trial's identity; without components (no Keras imported yet) left empty."""
    if not components:
        return ""
    import keras

    return keras.backend.backend()


def check_output(model: ModelSpec, loss: str, classes: int | None, where: str) -> None:
    """A model builder's output suits the loss: its model is built on the stand-in input and the loss computed on
    it, so that a wrong output shape stops the run before training instead of failing every trial. `classes`:
    None where unknown before the data loads (a loader's data without `classes`); the harness checks again on
    the loaded data."""
    if model.builder is None or classes is None:
        return
    from studies.engines.model import check_builder_output

    check_builder_output(model, loss, classes, where)


def planned_classes(dataset: DatasetSpec) -> int | None:
    """The number of classes, where known before the data loads: `classes` given, or a built-in dataset's 10."""
    if dataset.classes:
        return len(dataset.classes)
    return None if is_import_path(dataset.name) else 10


@timed("planning")
def plan_study(cfg: dict, components: bool = True) -> Plan:
    """Every trial of the configured study run (with n_seeds=auto, up to max_seeds per arm), or a ConfigError
    before anything is trained; components=False: the settings alone, without Keras (see the module's doc)."""
    study = resolve_variant(cfg["study"], cfg["variant"])
    looks = seed_looks(cfg)
    require_int(cfg["first_seed"], "first_seed", 0)
    # A harness setting, checked with the plan: before any write.
    require_bool(cfg.get("tensorboard", False), "tensorboard")
    require_positive(cfg["store"]["lease_timeout_s"], "store.lease_timeout_s")  # the same
    profile = _profile(cfg)
    if study.get("arms") == "drop":  # a variant that brings a grid drops the base arms
        study["arms"] = None
    if study.get("arms") and study.get("grid"):
        raise ConfigError(f"study {study['name']} variant {cfg['variant']}: give `arms` or `grid`, not both")
    arms = grid_arms(study["grid"]) if study.get("grid") else study.get("arms") or {}
    named = set(arms)  # claims may name dropped arms: they are then not judged (NOT RUN), not wrong
    arms = {name: patch for name, patch in arms.items() if patch != "drop"}  # a variant may drop an arm
    if not isinstance(arms, dict) or not arms:
        raise ConfigError(f"study {study['name']}: `arms` must be a non-empty mapping of arm name to settings")
    labels, trials = {}, []
    for arm, patch in arms.items():
        where = f"study {study['name']} arm {arm}"
        check_keys(patch or {}, ARM_KEYS, where)
        settings = merge({key: study.get(key) for key in ARM_KEYS[1:]}, patch or {})
        dataset = _dataset(settings["dataset"], profile, f"{where} dataset", components)
        model = _model(settings["model"], f"{where} model", components)
        optimizer = _optimizer(settings["optimizer"], f"{where} optimizer", components)
        train = _train(settings["train"], profile, dataset, f"{where} train", components)
        if components:
            check_output(model, train.loss, planned_classes(dataset), where)
        labels[arm] = (patch or {}).get("label", arm)
        trials += [TrialSpec(study["name"], cfg["variant"], arm, labels[arm], seed, cfg["engine"]["name"],
                             profile["name"], dataset, model, optimizer, train, backend=_backend(components))
                   for seed in range(cfg["first_seed"], cfg["first_seed"] + looks[-1])]
    metrics = tuple(dict.fromkeys(metric for trial in trials for metric in ("loss", *trial.train.metrics)))
    contract = (load_contract(study["name"], named, cfg["variant"], study.get("contract"), metrics)
                if components else None)
    return Plan(study["name"], cfg["variant"], study.get("default_variant", "original"), profile["name"],
                cfg["engine"]["name"], labels, tuple(trials), contract, looks, cfg["first_seed"])
