"""Time to a target (issue #29, part 4), as AlgoPerf measures speed: the epochs each run takes to first reach a
stated accuracy or loss, read from the stored curves, and per arm the median with its 95% interval.

A run that does not reach the target within the study's epochs (or stops early, or diverges, before it does)
counts as never reaching it: right-censored at the epoch budget, after every epoch a run can reach it in, so it
is neither dropped nor given a time. The median is the Kaplan-Meier one (scipy.stats.ecdf of CensoredData): the
first epoch where the estimated share of runs still short of the target is at most one half, "never" when that
share stays above one half (more than half the runs never reach it). Its interval (Brookmeyer & Crowley, 1982,
as R's survfit reports it) runs from the first epoch where the lower curve of the share's pointwise log-log band
is at most one half to the first where the upper curve is, "never" where it stays above.

Each study's target is declared as data in TARGETS (a study module may declare its own, TIME_TO_TARGET).
`python -m studies.beyond.time_to_target study=X [target=METRIC:SPLIT:VALUE] [KEY=VALUE ...]` prints the table of
a study's stored trials.
"""
from __future__ import annotations

import json
import logging
import math
import sys
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from studies.stats.across_seeds import curve_of, lower_is_better

log = logging.getLogger(__name__)

CONFIDENCE = 0.95
HALF = 0.5
NEVER = math.inf  # the time of a run, or a median, that never reaches the target


@dataclass(frozen=True)
class Target:
    """Reached at the first epoch where `metric` on `split` is at least `value` (at most, for a loss)."""

    metric: str
    split: str
    value: float

    def reached(self, values: pd.Series) -> pd.Series:
        return values <= self.value if lower_is_better(self.metric) else values >= self.value


# Per study, a value most arms reach within the full profile's epochs and some do not (reports/<study>/summary.csv).
TARGETS = {
    "optimizers": Target("accuracy", "test", 0.85),
    "initializers": Target("accuracy", "test", 0.84),
    "batchnorm": Target("accuracy", "train", 0.90),
    "weight_decay": Target("accuracy", "test", 0.80),
    "dropout": Target("accuracy", "test", 0.80),
}


def study_target(study: str, contract) -> Target:
    """The study module's TIME_TO_TARGET, else TARGETS' entry; a ConfigError naming the studies that have one."""
    from studies.config.settings import ConfigError

    target = getattr(contract, "TIME_TO_TARGET", None) or TARGETS.get(study)
    if target is None:
        raise ConfigError(f"study {study} declares no time-to-target target; valid: {', '.join(TARGETS)}, or a study "
                          "module with TIME_TO_TARGET = Target(metric, split, value)")
    return target


def epochs_to_target(epochs: pd.DataFrame, trials: pd.DataFrame, target: Target) -> pd.DataFrame:
    """Per trial (columns trial_id, arm, seed): `epoch`, the first (1-based) that reaches the target, NEVER if
    none does, and `budget`, the epochs its configuration allows (where a run that never reaches it is censored)."""
    curve = curve_of(epochs, target.metric, target.split)
    first = curve[target.reached(curve["value"])].groupby("trial_id")["epoch"].min()
    budget = [json.loads(config)["train"]["epochs"] for config in trials["config_json"]]
    return trials[["trial_id", "arm", "seed"]].assign(
        epoch=trials["trial_id"].map(first).astype(float).fillna(NEVER).to_numpy(), budget=budget)


def _first_at_most_half(times: np.ndarray, survival: np.ndarray) -> float:
    below = np.flatnonzero(survival <= HALF)
    return float(times[below[0]]) if len(below) else NEVER


def median_time(times, budget: float, confidence: float = CONFIDENCE) -> dict:
    """The Kaplan-Meier median of `times` (NEVER: censored at `budget`) and its interval (see the module's doc)."""
    times = np.asarray(times, dtype=float)
    reached = times[np.isfinite(times)]
    if not len(reached):
        return {"median": NEVER, "low": NEVER, "high": NEVER}
    survival = stats.ecdf(stats.CensoredData(uncensored=reached, right=np.full(len(times) - len(reached), budget))).sf
    with warnings.catch_warnings():  # undefined where every run has reached it (NaN): the share there is 0
        warnings.filterwarnings("ignore", "The confidence interval is undefined", RuntimeWarning)
        band = survival.confidence_interval(confidence, method="log-log")
    low, high = (np.nan_to_num(curve.probabilities, nan=0.0) for curve in (band.low, band.high))
    return {"median": _first_at_most_half(survival.quantiles, survival.probabilities),
            "low": _first_at_most_half(survival.quantiles, low), "high": _first_at_most_half(survival.quantiles, high)}


def time_to_target_table(epochs: pd.DataFrame, trials: pd.DataFrame, target: Target, labels: dict) -> pd.DataFrame:
    """Per arm (in `labels`' order, arm -> label): runs, how many reached the target, and the median epochs to
    reach it with its interval (inf: never)."""
    runs = epochs_to_target(epochs, trials, target)
    rows = []
    for arm, label in labels.items():
        mine = runs[runs["arm"] == arm]
        if mine.empty:
            continue
        rows.append({"arm": arm, "label": label, "target": f"{target.split} {target.metric} "
                     f"{'<=' if lower_is_better(target.metric) else '>='} {target.value:g}", "runs": len(mine),
                     "reached": int(np.isfinite(mine["epoch"]).sum()), "budget": int(mine["budget"].max()),
                     **median_time(mine["epoch"], mine["budget"].max())})
    return pd.DataFrame(rows)


def time_to_target(cfg: dict, target: Target | None = None) -> pd.DataFrame:
    """The table for the study `cfg` configures, from its stored trials (`studybench report`'s), at the study's
    declared target unless `target` is given; a ConfigError when none is stored."""
    from studies.config.settings import ConfigError
    from studies.run.boundary import prepare_run
    from studies.run.harness import route, stored_trial_ids
    from studies.store.trial_store import TrialStore

    run = prepare_run({**cfg, "mode": "report"})  # read from the store: nothing trained, no declared settings
    plan = route(run.plan, run.settings)
    store = TrialStore(run.settings.results_dir)
    ids = stored_trial_ids(plan, store)
    if not ids:
        raise ConfigError(f"no stored trials of study {plan.study} variant {plan.variant} profile {plan.profile} "
                          f"engine={plan.engine} in {run.settings.results_dir}: run `studybench study={plan.study}` "
                          "first")
    return stored_table(plan, store, ids, target)


def stored_table(plan, store, ids: list, target: Target | None = None) -> pd.DataFrame:
    """The table of the plan's trials `ids` in `store`, at the study's declared target unless `target` is given."""
    return time_to_target_table(store.epochs(plan.study, ids), store.trials(plan.study, ids),
                                target or study_target(plan.study, plan.contract), plan.arms)


def run_time_to_target(cfg: dict):
    """`studybench study=X beyond=time_to_target [beyond.target=METRIC:SPLIT:VALUE]`: the study's trials trained
    where the store lacks them (no study report), the table written as reports/beyond/<study>/.../time_to_target.md
    and CSV."""
    from studies.beyond.runs import write_tables_page
    from studies.config.settings import check_keys
    from studies.run.boundary import prepare_run
    from studies.run.harness import run_study
    from studies.store.trial_store import TrialStore

    check_keys(cfg["beyond"], ("name", "target"), "beyond=time_to_target")
    target = parsed_target(cfg["beyond"]["target"]) if cfg["beyond"]["target"] else None
    outcome = run_study(prepare_run({**cfg, "report": False}))
    table = stored_table(outcome.plan, TrialStore(cfg["results_dir"]), outcome.trial_ids, target)  # planned once
    text = ("Per arm, the epochs its runs take to first reach the target, from the stored curves: a run that never "
            "reaches it is censored at the epoch budget, not dropped; the median is Kaplan-Meier's (inf: fewer than "
            "half reach it), with its 95% log-log interval (studies/beyond/time_to_target.py).")
    path = write_tables_page(cfg, outcome.plan, "time_to_target", "time to a target", text, {"time to target": table})
    log.info(f"beyond=time_to_target: {path}")
    return outcome


def parsed_target(text: str) -> Target:
    """`METRIC:SPLIT:VALUE` (accuracy:test:0.85) as a Target; a ConfigError saying so otherwise."""
    from studies.config.settings import ConfigError

    try:
        metric, split, value = text.split(":")
        return Target(metric, split, float(value))
    except ValueError:  # not three parts, or not a number
        raise ConfigError(f"target={text} is not METRIC:SPLIT:VALUE; valid: e.g. target=accuracy:test:0.85") from None


def main(arguments: list[str]) -> None:
    """`target=METRIC:SPLIT:VALUE` is this command's (default: the study's); every other argument is a studybench
    setting."""
    from studies.beyond.variance import composed, printed_or_failed

    mine = [a.split("=", 1)[1] for a in arguments if a.startswith("target=")]
    settings = [a for a in arguments if not a.startswith("target=")]
    printed_or_failed(lambda: {"time to target": time_to_target(composed(settings),
                                                                parsed_target(mine[-1]) if mine else None)})


if __name__ == "__main__":
    main(sys.argv[1:])
