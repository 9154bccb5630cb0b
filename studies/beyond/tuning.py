"""Equal tuning budget (`beyond=tuning`, issue #29 part 1): does an article's claim survive when every arm gets
the same tuning budget over its main hyperparameter?

The study's module declares the hyperparameter as `TUNING` (studies/config/tuning.py). Every tuned arm is
trained at the same grid around the article's value (beyond.points values from 1/span to span times it) on
beyond.grid_seeds seeds, all in one `search` run, so engine=fast trains every value and seed of an arm as
replicas of one stack. The grid validates on the last beyond.validation_split of the training data, never on
the test set, and each arm's value with the best mean validation value of the declared metric is chosen. Then
fresh seeds (from beyond.fresh_first_seed: none chose a value) of each arm at its chosen value run as the study
does, their claims judged by the same rounds and tests (studies/stats/sequential.py, studies/stats/verdicts.py),
beside the article's settings' verdicts. The page (reports/beyond/<study>/tuning.md) gives both verdicts per claim, each
arm's chosen value and its sensitivity curve (validation metric by value, mean and 95% band over the seeds).
"""
from __future__ import annotations

import copy
import json
import logging
import time

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the file-only backend)
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from studies.beyond.runs import Judged, combined, judged_run, page_folder, study_at_variant, verdict_cell, wall_times  # noqa: E402
from studies.config.settings import ConfigError, check_keys, require_fraction, require_int  # noqa: E402
from studies.config.tuning import NotTuned, Tuning  # noqa: E402
from studies.report.document import Heading, Image, Paragraph, Table, markdown  # noqa: E402
from studies.run.boundary import prepare_run  # noqa: E402
from studies.run.harness import RunOutcome, run_study  # noqa: E402
from studies.run.plan import plan_study  # noqa: E402
from studies.run.sweeps import flat_settings  # noqa: E402
from studies.stats.across_seeds import lower_is_better, point_values, t_interval  # noqa: E402
from studies.store.atomic import save_figure_atomic, write_text_atomic  # noqa: E402
from studies.store.trial_store import TrialStore  # noqa: E402

VALIDATION = "val"  # the split a validation carved from the training data is stored under
KEYS = ("name", "points", "span", "grid_seeds", "grid_first_seed", "fresh_first_seed", "validation_split")
log = logging.getLogger(__name__)


def check_settings(beyond: dict) -> None:
    check_keys(beyond, KEYS, "beyond=tuning")
    require_int(beyond["points"], "beyond.points", 1)
    require_int(beyond["grid_seeds"], "beyond.grid_seeds", 1)
    require_int(beyond["grid_first_seed"], "beyond.grid_first_seed", 0)
    require_int(beyond["fresh_first_seed"], "beyond.fresh_first_seed", 0)
    require_fraction(beyond["validation_split"], "beyond.validation_split")
    if not isinstance(beyond["span"], (int, float)) or isinstance(beyond["span"], bool) or beyond["span"] <= 1:
        raise ConfigError(f"beyond.span={beyond['span']!r} is out of range: must be a number > 1")


def declared_tuning(cfg: dict) -> Tuning | NotTuned:
    """The study's TUNING, checked against the run's variant and arms; NotTuned where its module declares none."""
    plan = plan_study(cfg)
    tuning = getattr(plan.contract, "TUNING", None) or NotTuned("its module declares no TUNING")
    if isinstance(tuning, NotTuned):
        return tuning
    if cfg["variant"] not in tuning.variants:
        raise ConfigError(f"beyond=tuning: study {plan.study} declares the article's values for variant "
                          f"{', '.join(tuning.variants)}, not {cfg['variant']}; valid: "
                          + ", ".join(f"variant={variant}" for variant in tuning.variants))
    missing = sorted(set(tuning.article) - set(plan.arms))
    if missing:
        raise ConfigError(f"beyond=tuning: study {plan.study} tunes arms {', '.join(missing)} that variant "
                          f"{cfg['variant']} does not run; valid arms: {', '.join(plan.arms)}")
    return tuning


def _with_setting(patch: dict, dotted: str, value: float) -> dict:
    """An arm's patch with its setting at `dotted` set to `value` (made where the arm leaves it to a default)."""
    patch = copy.deepcopy(patch or {})
    *parents, leaf = dotted.split(".")
    node = patch
    for parent in parents:
        if node.get(parent) is None:
            node[parent] = {}
        node = node[parent]
        if not isinstance(node, dict):
            raise ConfigError(f"beyond=tuning: {dotted} names no setting of the arm ({parent} is not a mapping)")
    node[leaf] = value
    return patch


def with_values(cfg: dict, tuning: Tuning, values: dict) -> dict:
    """The config with each tuned arm's hyperparameter at `values[arm]`, its variant applied first."""
    study = study_at_variant(cfg)
    arms = {arm: _with_setting(patch, tuning.setting, values[arm]) if arm in values else patch
            for arm, patch in study["arms"].items()}
    return {**cfg, "study": {**study, "arms": arms}}


def grid_config(cfg: dict, tuning: Tuning) -> dict:
    """The grid as one search run: row k sets every tuned arm to its k-th value; validated on the last
    beyond.validation_split of the training data."""
    beyond = cfg["beyond"]
    grids = tuning.values(beyond["points"], beyond["span"])
    carved = with_values(cfg, tuning, tuning.article)
    study = carved["study"]
    study["dataset"] = {**study["dataset"], "validation": "split", "validation_split": beyond["validation_split"]}
    search = {"keys": [f"study.arms.{arm}.{tuning.setting}" for arm in grids],
              "values": [list(row) for row in zip(*grids.values())]}
    return {**carved, "search": search, "n_seeds": beyond["grid_seeds"], "first_seed": beyond["grid_first_seed"],
            "report": False}


def grid_values(trials: pd.DataFrame, epochs: pd.DataFrame, tuning: Tuning) -> pd.DataFrame:
    """One row per finished trial of a tuned arm: arm, seed, setting (its hyperparameter's value) and value (the
    declared metric at its point on the validation split)."""
    finished = trials[(trials["status"] == "ok") & trials["arm"].isin(tuning.article)]
    measured = point_values(epochs, finished, tuning.metric, VALIDATION, tuning.point)
    setting = {row.trial_id: flat_settings(json.loads(row.config_json)).get(tuning.setting)
               for row in finished.itertuples()}
    return measured.assign(setting=measured["trial_id"].map(setting)).dropna(subset=["value", "setting"])


def choose(values: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per arm, the value whose seeds' mean validation value is best (lowest for a loss): arm, setting, mean, sd,
    seeds. A value with a seed that did not finish (diverged, failed) is never chosen: its mean would leave out
    its worst run."""
    seeds = values.groupby("arm")["seed"].nunique()
    means = values.groupby(["arm", "setting"])["value"].agg(mean="mean", sd="std", seeds="count").reset_index()
    complete = means[means["seeds"] == means["arm"].map(seeds)]
    by_arm = complete.groupby("arm")["mean"]
    best = by_arm.idxmin() if lower_is_better(metric) else by_arm.idxmax()
    return complete.loc[best.values].reset_index(drop=True)


def sensitivity_figure(values: pd.DataFrame, chosen: pd.DataFrame, tuning: Tuning, plan, folder) -> list:
    """The validation metric by hyperparameter value, a panel per tuned arm (each its own scale: a diverging
    value would flatten the others), mean and 95% t band over the grid's seeds, the article's value ringed and
    the chosen one starred; PNG and SVG."""
    arms = list(tuning.article)
    columns = min(3, len(arms))
    rows = -(-len(arms) // columns)
    fig, grid = plt.subplots(rows, columns, figsize=(0.6 + 4.2 * columns, 0.8 + 3.4 * rows), squeeze=False)
    for unused in grid.flat[len(arms):]:
        unused.set_visible(False)
    picked = chosen.set_index("arm")
    better = "lower" if lower_is_better(tuning.metric) else "higher"
    for arm, axis in zip(arms, grid.flat):
        mine = values[values["arm"] == arm]
        sns.lineplot(data=mine, x="setting", y="value", marker="o", errorbar=t_interval, ax=axis)
        means = mine.groupby("setting")["value"].mean()
        axis.scatter([tuning.article[arm]], [means.get(tuning.article[arm])], s=160, facecolors="none",
                     edgecolors="black", label="article's value")
        if arm in picked.index:
            axis.scatter([picked.loc[arm, "setting"]], [picked.loc[arm, "mean"]], marker="*", s=220, color="black",
                         label="chosen", zorder=3)
        axis.set(xscale="log", xlabel=tuning.setting, ylabel=f"validation {tuning.metric} ({tuning.point})",
                 title=plan.arms[arm])
        axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # 2x10^-3 labels overlap on a short axis
        axis.legend(fontsize=8)
    fig.suptitle(f"{plan.study}: sensitivity to {tuning.setting} ({better} is better; mean, 95% CI band over "
                 f"{values['seed'].nunique()} seeds)", fontsize=10)
    fig.tight_layout()
    paths = [folder / f"sensitivity.{kind}" for kind in ("png", "svg")]
    for path in paths:
        save_figure_atomic(fig, path, dpi=120)
    plt.close(fig)
    return paths


def claims_table(article: Judged, tuned: Judged) -> pd.DataFrame:
    by_claim = tuned.verdicts.set_index("claim")
    return pd.DataFrame([{"claim": row["claim"], "says": row["says"], "article_settings": verdict_cell(row),
                          "equal_tuning": verdict_cell(by_claim.loc[row["claim"]]),
                          "changed": row["verdict"] != by_claim.loc[row["claim"], "verdict"]}
                         for _, row in article.verdicts.iterrows()])


def arms_table(tuning: Tuning, chosen: pd.DataFrame, plan) -> pd.DataFrame:
    picked = chosen.set_index("arm")
    return pd.DataFrame([{"arm": plan.arms[arm], "article": value, "chosen": picked.loc[arm, "setting"],
                          "validation_mean": picked.loc[arm, "mean"], "validation_sd": picked.loc[arm, "sd"],
                          "seeds": int(picked.loc[arm, "seeds"])}
                         for arm, value in tuning.article.items()])


def page(cfg: dict, tuning: Tuning, claims: pd.DataFrame, arms: pd.DataFrame, runs: dict, plan) -> str:
    beyond = cfg["beyond"]
    untuned = [plan.arms[arm] for arm in plan.arms if arm not in tuning.article]
    spacing = "spaced on the odds p/(1-p): a rate" if tuning.rate else "log-spaced"
    grid = (f"{beyond['points']} values of {tuning.setting} per tuned arm, from 1/{beyond['span']:g} to "
            f"{beyond['span']:g} times the article's ({spacing}), "
            f"{beyond['grid_seeds']} seeds each (seeds {beyond['grid_first_seed']}...), validated on the last "
            f"{beyond['validation_split']:g} of the training data (never the test set); each arm's value with the best "
            f"mean validation {tuning.metric} ({tuning.point}) chosen, then fresh seeds from "
            f"{beyond['fresh_first_seed']} at the chosen values judged as the study judges its own"
            + (f"; not tuned (nothing to tune), run as declared: {', '.join(untuned)}" if untuned else "") + ".")
    times = wall_times(runs)
    blocks = [Heading(f"{plan.study} ({plan.variant}, {plan.profile}): equal tuning budget", 1),
              Paragraph((grid,)), Paragraph((times,)),
              Heading("Claims: the article's settings and equal tuning", 2),
              Table(("claim", "says", "article's settings", "equal tuning", "changed"),
                    tuple((r.claim, r.says, r.article_settings, r.equal_tuning, "yes" if r.changed else "no")
                          for r in claims.itertuples())),
              Heading("Chosen values", 2),
              Table(("arm", f"article's {tuning.setting}", "chosen", f"validation {tuning.metric} (mean ± sd)",
                     "seeds"),
                    tuple((r.arm, f"{r.article:g}", f"{r.chosen:g}", f"{r.validation_mean:.4g} ± {r.validation_sd:.2g}",
                           str(r.seeds)) for r in arms.itertuples())),
              Image("sensitivity.png", f"validation {tuning.metric} by {tuning.setting}, per tuned arm")]
    return markdown(blocks)


def write_page(cfg: dict, tuning: Tuning, values: pd.DataFrame, chosen: pd.DataFrame, article: Judged,
               tuned: Judged, runs: dict) -> list:
    plan = article.plan
    folder = page_folder(cfg, plan)
    folder.mkdir(parents=True, exist_ok=True)
    claims, arms = claims_table(article, tuned), arms_table(tuning, chosen, plan)
    written = sensitivity_figure(values, chosen, tuning, plan, folder)
    for name, table in (("tuning_claims", claims), ("tuning_arms", arms), ("tuning_grid", values)):
        write_text_atomic(folder / f"{name}.csv", table.to_csv(index=False))
    write_text_atomic(folder / "tuning.md", page(cfg, tuning, claims, arms, runs, plan))
    return [*written, *(folder / f"{name}" for name in
                        ("tuning_claims.csv", "tuning_arms.csv", "tuning_grid.csv", "tuning.md"))]


def run_tuning(cfg: dict) -> RunOutcome | None:
    """`studybench study=X beyond=tuning`: None (with a line) for a study with nothing to tune."""
    check_settings(cfg["beyond"])
    tuning = declared_tuning(cfg)
    if isinstance(tuning, NotTuned):
        log.info(f"{cfg['study']['name']}: beyond=tuning skipped: {tuning.reason}")
        return None
    article = judged_run(cfg)
    started = time.monotonic()
    grid = run_study(prepare_run(grid_config(cfg, tuning)))
    grid_seconds = time.monotonic() - started
    store = TrialStore(cfg["results_dir"])
    study = article.plan.study
    values = grid_values(store.trials(study, grid.trial_ids), store.epochs(study, grid.trial_ids), tuning)
    chosen = choose(values, tuning.metric)
    unchosen = sorted(set(tuning.article) - set(chosen["arm"]))
    if unchosen:
        raise ConfigError(f"beyond=tuning: no grid value of arm(s) {', '.join(unchosen)} finished on every seed "
                          "(each diverged or failed somewhere); nothing to choose: widen or move the grid")
    tuned_cfg = {**with_values(cfg, tuning, dict(zip(chosen["arm"], chosen["setting"]))),
                 "first_seed": cfg["beyond"]["fresh_first_seed"]}
    tuned = judged_run(tuned_cfg, claims=article.plan.claims)
    runs = {"article's settings": (article.outcome.trained, article.seconds), "grid": (grid.trained, grid_seconds),
            "chosen values": (tuned.outcome.trained, tuned.seconds)}
    files = write_page(cfg, tuning, values, chosen, article, tuned, runs)
    log.info(f"beyond=tuning: {files[-1]}")
    return combined(article.plan, [article.outcome, grid, tuned.outcome])
