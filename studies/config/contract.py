"""What a study module declares, as data: figures, summary columns and the article's claims.

A study module (e.g. `studies/catalog/optimizers.py`) names the article section it reproduces in its docstring
and defines FIGURES, SUMMARY and CLAIMS with the classes below. Its arms live in `conf/study/<name>.yaml`
so that Hydra can override and sweep them. `load_contract` finds the module (`study_module`) and checks the
declarations against those arms; a study without one gets `default_contract`: no claims, a figure per metric.
"""
from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType

import numpy as np

from studies.config.features import CURVE_FEATURES, FEATURES, is_feature
from studies.config.settings import ConfigError
from studies.config.studypath import study_yaml

POINTS = ("final", "best", "best_epoch", "stop", "evaluate", "size")  # or "epoch:N", or a curve feature (FEATURES)
RESULT_POINTS = ("stop", "evaluate", "size")  # read from a trial's result, not its curves (so are RUN_FEATURES)
CURVE = "curve"  # the point of an identity claim: every epoch of the curve
GAP_SPLIT = "train-test"  # a derived split: train minus test, per epoch
# Each relation is one kind of claim, and each kind its own test (studies/stats/verdicts.py).
KINDS = {"<": "ordering", ">": "ordering", "lowest": "ordering", "highest": "ordering",
         "approx": "near",  # the arm's mean lies near `value`
         "identical": "identity",  # every seed's curves are the same, within `tolerance`
         "runs_near": "per-run",  # each run ends near `value`, in at least `at_least` of the runs
         "runs_above": "per-run",  # each run's value exceeds `value` + `tolerance`, in at least `at_least` of them
         "runs_below": "per-run",  # each run's value lies below `value` - `tolerance`, in at least `at_least` of them
         "typical": "single-run",  # the source's one run (`value`, read to +- `tolerance`) looks like one of ours
         "every_run": "every-run"}  # an API's behaviour: every run lies within `value` +- `tolerance`; one refutes
RELATIONS = tuple(KINDS)
SINGLE_ARM = ("near", "per-run", "single-run", "every-run")  # kinds about one arm's own values
SAYS = {"article": "the article says", "book": "the book behind it says",
        "ours": "our reading (the source does not say it)"}  # whose claim it is; only "article" is the article's
VARIANTS = ("original", "modern")  # the default of every declaration's `variants`
CATALOG = "studies.catalog"  # the article studies' modules
DECLARATIONS = ("FIGURES", "SUMMARY", "CLAIMS")
DEFAULT_SPLITS = ("train", "val", "test")  # a default figure draws whichever of them the runs stored


@dataclass(frozen=True)
class Figure:
    name: str  # file stem under reports/<study>/
    metric: str  # loss | accuracy | ...
    splits: tuple[str, ...]  # train | test | val | train_eval; several are told apart by line style
    ylabel: str  # axis label with units
    title: str = ""  # what the figure shows, in the article's words
    panel_per_arm: bool = False  # one panel per arm (the article's one figure per arm) instead of one plot
    panel_by: str | None = None  # with a grid: one panel per value of this grid key, a line per other arm
    mark_stop: bool = False  # a vertical line at each early-stopped arm's mean stop epoch
    twin_metric: str | None = None  # a second metric on a right-hand axis (article 002's accuracy)
    smooth: int = 1  # moving-average window over epochs (the book smooths its per-iteration losses)
    xlabel: str = "epoch"  # "iteration" where train.steps_per_epoch is 1
    variants: tuple[str, ...] = VARIANTS  # the variants it is drawn for


@dataclass(frozen=True)
class Column:
    label: str  # column header in the summary table
    metric: str
    split: str  # a split, or train-test (the generalisation gap)
    point: str  # final | best | best_epoch | stop | evaluate | size | epoch:N (best: min of losses, else max)
    variants: tuple[str, ...] = VARIANTS  # the variants it is shown for


@dataclass(frozen=True)
class Source:
    """Where a claim comes from, as the reader must be able to check it."""
    work: str  # "article 001", "article 002", "article 000", or the book behind one
    place: str  # section, figure or listing
    quote: str  # the sentence, in the source's own language
    translation: str  # the sentence in English
    measured: str  # how the source measured it: which run, metric, split, curve feature, read off what
    says: str = "article"  # a key of SAYS: whose claim it is
    verbatim: bool = True  # False: the source's text is not among ../shared/seeds; quoted from its record


@dataclass(frozen=True)
class Claim:
    id: str  # short identifier
    text: str  # what the article says, in English
    metric: str
    split: str  # a split, or train-test (the generalisation gap)
    point: str  # final | best | best_epoch | stop | evaluate | epoch:N
    relation: str  # arms <, > versus; arms lowest/highest of arms+versus; identical; approx, runs_near value
    arms: tuple[str, ...]
    versus: tuple[str, ...] = ()
    value: float | None = None  # approx, runs_near: the expected value
    # Allowed absolute deviation: around `value` (approx, runs_near), between curves (identical; 0: bit for bit),
    # or the smallest difference that matters (orderings; 0: no FAIL by equivalence).
    tolerance: float = 0.0
    at_least: float = 0.9  # runs_near: the share of runs in which it must hold
    article_value: str = ""  # the article's own single-run number, where it gave one
    article_marks: tuple[tuple[str, float], ...] = ()  # (arm, number) of article_value, marked on the figures
    variants: tuple[str, ...] = VARIANTS  # the variants whose arms and settings it is about
    source: Source | None = None  # the sentence it encodes; required of every claim in studies/catalog
    why_tolerance: str = ""  # why the tolerance is what it is (the source's own precision, a figure's axis)
    family: str = ""  # the id of the Family it is a member of, or ""

    @property
    def kind(self) -> str:
        return KINDS[self.relation]

    def holds_in(self, values):
        """Per run, whether a per-run or every-run claim holds (NaN values: no)."""
        values = np.asarray(values, dtype=float)
        if self.relation == "runs_above":
            return values > self.value + self.tolerance
        if self.relation == "runs_below":
            return values < self.value - self.tolerance
        return np.abs(values - self.value) <= self.tolerance


@dataclass(frozen=True)
class Family:
    """One sentence over a family of settings ("in almost every case" over 16 scales): a member claim per
    setting, judged like any claim, and the family's own rule: PASS when at most `exceptions` members fail to
    PASS, FAIL when more than `exceptions` FAIL."""
    id: str
    text: str
    members: tuple[Claim, ...]
    exceptions: int  # how many members the source allows not to hold
    why_exceptions: str  # how the source's words give that number
    source: Source | None = None
    variants: tuple[str, ...] = VARIANTS

    @property
    def kind(self) -> str:
        return "family"


@dataclass(frozen=True)
class NotJudged:
    """A statement of the source that no claim judges, and why (an API fact with nothing to measure, advice,
    a figure without a statement): listed in reports/README.md so that nothing the source says is silently
    left out."""
    source: Source
    why: str


def judged_claims(claims) -> tuple[Claim, ...]:
    """The claims a look judges: every Claim, each Family as its members (which name it in `family`)."""
    flat = []
    for claim in claims:
        flat += [replace(member, family=claim.id) for member in claim.members] if claim.kind == "family" else [claim]
    return tuple(flat)


def reads_curves(point: str) -> bool:
    """Whether a point is computed from the stored curves (which a figure or summary must then show)."""
    return point not in RESULT_POINTS and not (is_feature(point) and point not in CURVE_FEATURES)


def check_point(point: str, where: str) -> None:
    if point not in POINTS and not re.fullmatch(r"epoch:[1-9][0-9]*", point) and not is_feature(point):
        raise ConfigError(f"{where}: unknown point {point!r}; valid: {', '.join(POINTS)}, epoch:N, "
                          f"{', '.join(FEATURES)}")


def _check_claim_point(claim: Claim, where: str) -> None:
    if claim.kind == "identity" and claim.point != CURVE:
        raise ConfigError(f"{where}: relation 'identical' compares whole curves: point {claim.point!r}; valid: {CURVE}")
    if claim.kind != "identity":
        check_point(claim.point, where)


def _check_claim_numbers(claim: Claim, where: str) -> None:
    if claim.kind in SINGLE_ARM and claim.value is None:
        raise ConfigError(f"{where}: relation {claim.relation!r} needs a `value`")
    if not claim.tolerance >= 0:
        raise ConfigError(f"{where}: tolerance {claim.tolerance!r}; valid: a number >= 0")
    if not 0 < claim.at_least <= 1:
        raise ConfigError(f"{where}: at_least {claim.at_least!r}; valid: a share in (0, 1]")


def _check_claim(claim: Claim, arms: set[str], where: str) -> None:
    if claim.relation not in RELATIONS:
        raise ConfigError(f"{where}: unknown relation {claim.relation!r}; valid: {', '.join(RELATIONS)}")
    _check_claim_point(claim, where)
    unknown = sorted(set(claim.arms + claim.versus) - arms)
    if unknown or not claim.arms:
        raise ConfigError(f"{where}: unknown arm(s) {unknown or '(none given)'}; valid: {', '.join(sorted(arms))}")
    if claim.kind in SINGLE_ARM and (len(claim.arms) != 1 or claim.versus):
        raise ConfigError(f"{where}: relation {claim.relation!r} is about one arm: arms {claim.arms!r}, versus "
                          f"{claim.versus!r}; valid: one arm, no versus")
    if claim.kind not in SINGLE_ARM and not claim.versus:
        raise ConfigError(f"{where}: relation {claim.relation!r} needs `versus` arms")
    _check_claim_numbers(claim, where)
    marked = sorted({arm for arm, _ in claim.article_marks} - set(claim.arms + claim.versus))
    if marked:
        raise ConfigError(f"{where}: article_marks name arm(s) {marked} outside the claim's arms")


def for_variant(declarations, variant: str) -> tuple:
    """The figures, summary columns or claims that apply to `variant`."""
    return tuple(item for item in declarations if variant in item.variants)


def _why(error: Exception) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def _import_module(path: str, study: str) -> ModuleType:
    try:
        return importlib.import_module(path)
    except Exception as error:  # not found, or it failed on import: either way one line naming the path
        raise ConfigError(f"study {study}: contract module {path!r} cannot be imported "
                          f"({_why(error)}); "
                          f"give an importable module such as {CATALOG}.optimizers") from None


def _load_file(path: Path, study: str) -> ModuleType:
    """The module at `path`, registered as studybench_study_<study> (dataclasses look their module up)."""
    spec = importlib.util.spec_from_file_location(f"studybench_study_{study}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[spec.name]
        raise ConfigError(f"study module {path} failed on import: {_why(error)}") from None
    return module


def study_module(name: str, contract: str | None = None) -> ModuleType | None:
    """The module declaring study `name`: the import path in its `contract:` key, else `<name>.py` beside the
    study's YAML, else studies.catalog.<name>; None where there is none."""
    if contract:
        return _import_module(contract, name)
    found = study_yaml(name)
    beside = found.with_suffix(".py") if found else None
    if beside and beside.is_file():
        return _load_file(beside, name)
    if importlib.util.find_spec(f"{CATALOG}.{name}"):
        return importlib.import_module(f"{CATALOG}.{name}")
    return None


def default_contract(name: str, metrics: tuple[str, ...], variant: str) -> ModuleType:
    """For a study without a module: a figure of each metric's curves and its final train value, no claims."""
    module = ModuleType(f"{name} (default contract)", "No study module: a figure per metric, no claims.")
    module.FIGURES = tuple(Figure(metric, metric=metric, splits=DEFAULT_SPLITS, ylabel=metric,
                                  title=f"{metric} by arm", variants=(variant,)) for metric in metrics)
    module.SUMMARY = tuple(Column(f"final train {metric}", metric=metric, split="train", point="final",
                                  variants=(variant,)) for metric in metrics)
    module.CLAIMS = ()
    return module


def load_contract(name: str, arms: set[str], variant: str = "original", contract: str | None = None,
                  metrics: tuple[str, ...] = ("loss",)) -> ModuleType:
    """Study `name`'s module (`study_module`), its FIGURES, SUMMARY and the variant's CLAIMS checked against its
    arms; without a module, `default_contract` over `metrics`."""
    module = study_module(name, contract)
    if module is None:
        return default_contract(name, metrics, variant)
    for attribute in DECLARATIONS:
        if not hasattr(module, attribute):
            raise ConfigError(f"study module {module.__file__} lacks {attribute}; a study module defines "
                              f"{', '.join(DECLARATIONS)} (studies/config/contract.py)")
    for column in for_variant(module.SUMMARY, variant):
        check_point(column.point, f"{name} summary column {column.label!r}")
    claims = judged_claims(for_variant(module.CLAIMS, variant))
    for claim in claims:
        _check_claim(claim, arms, f"{name} claim {claim.id!r}")
    shown = ({(metric, s) for f in for_variant(module.FIGURES, variant) for metric in (f.metric, f.twin_metric)
              for s in f.splits}
             | {(c.metric, c.split) for c in for_variant(module.SUMMARY, variant)})
    for claim in claims:
        needed = {(claim.metric, s) for s in claim.split.split("-")} if claim.split == GAP_SPLIT else {
            (claim.metric, claim.split)}
        if reads_curves(claim.point) and not needed <= shown:
            raise ConfigError(f"{name} claim {claim.id!r}: {sorted(needed - shown)} appear in no figure or summary")
    return module
