"""Where a claim's variance comes from (issue #29, part 3): a factorial design over a trial's randomness sources,
a variance-components table per claim metric, and each claim judged with one source varying at a time.

Design. Every arm trains one trial per cell of the full factorial over the sources that can move its numbers
(studies.seeding.SOURCES: initial weights and batch order always, dropout masks where a model drops out, the data
draw where a study draws its splits), each source at `levels` seeds first_seed, first_seed + 1, .... Cell c is
trial seed first_seed + c, with the sources' seeds given apart (TrialSpec.seeds) where they differ from it: cell 0
is the study's own first_seed trial (reused when stored), and cells pair across arms as seeds do. The trials
train as ordinary ones (engine=fast stacks them), stored and resumed like any. engine=keras draws dropout masks
from the weights' seed (studies/seeding.py): a design that varies dropout there is refused.

Components. Fixing every source fixes a run (same seed, same bits), so there is no noise beyond the sources: a
claim metric's value (its point value, studies/stats.py) is a balanced crossed random-effects design with one run
per cell, each source and each interaction of sources a random effect, the highest interaction the residual.
Their variances are estimated by expected mean squares (Searle, Casella & McCulloch, "Variance Components", 1992,
ch. 4; Montgomery, "Design and Analysis of Experiments", ch. 13), a negative estimate set to 0, shares of their
sum. Intervals come from a parametric bootstrap (as lme4's bootMer): BOOTSTRAP designs drawn from normal
effects with the estimated variances, each estimated the same way. A variance's interval is the basic bootstrap
interval on the log scale, its lower end 0 where a parametric bootstrap test keeps a zero variance; a share's, the
simulated shares' percentiles. Measured on 200 synthetic 3x3x3 designs (variances 4, 1, 0 and residual 0.25,
tests/test_variance.py): the variances' 95% intervals held the truth 92-98% of the time, the shares' 83-100%
(the largest share's least). Per claim, each of its arms is decomposed, and for an ordering each (arm, versus)
pair's per-cell difference, what the claim's test reads. With 3 levels a source's variance rests on 2 degrees of
freedom: the intervals are wide, and say so.

Verdicts. Each claim is judged (studies/verdicts.py, as the study judges it, at 5%) on every cell, and on the
cells where all sources but one are held at level 0: does the verdict depend on which randomness varies?

`python -m studies.beyond.variance study=X levels=N [KEY=VALUE ...]` trains what is missing and prints the tables.
"""
from __future__ import annotations

import itertools
import logging
import math
import sys
from dataclasses import replace

import numpy as np
import pandas as pd

from studies.config import ConfigError, require_int
from studies.plan import Plan
from studies.seeding import SOURCES, source_seed
from studies.stats import point_values

BOOTSTRAP = 2000  # parametric bootstrap designs per decomposition
BOOTSTRAP_SEED = 29  # the same tables from the same store: the bootstrap's draws are fixed (issue #29)
CONFIDENCE = 0.95
ALL = "all"  # the verdict's row judged on every cell
log = logging.getLogger(__name__)


def design_sources(plan: Plan) -> tuple[str, ...]:
    """The sources that can move some arm's numbers: weights and order always, dropout where a model drops out,
    data where a dataset draws its splits."""
    varied = {"weights": True, "order": True,
              "dropout": any(t.model.dropout_rate > 0 for t in plan.trials),
              "data": any(t.dataset.validation == "drawn" for t in plan.trials)}
    return tuple(source for source in SOURCES if varied[source])


def cell_levels(levels: int, sources: tuple[str, ...]) -> list[dict]:
    """Cell c's level of each source, in cell order (the last source varying fastest)."""
    return [dict(zip(sources, cell)) for cell in itertools.product(range(levels), repeat=len(sources))]


def factorial_plan(plan: Plan, levels: int, sources: tuple[str, ...]) -> Plan:
    """The plan with each arm's first trial repeated over the cells (see the module's doc): looks at every cell."""
    require_int(levels, "levels", 2)  # one level would vary nothing
    cells = cell_levels(levels, sources)
    template = {trial.arm: trial for trial in reversed(plan.trials)}  # each arm's first trial
    trials = []
    for arm in plan.arms:
        for number, cell in enumerate(cells):
            seed = plan.first_seed + number
            apart = {source: plan.first_seed + cell.get(source, 0) for source in SOURCES}
            apart = {source: value for source, value in apart.items() if value != seed}
            trials.append(replace(template[arm], seed=seed, seeds=apart or None))
    return replace(plan, trials=tuple(trials), looks=(len(cells),))


def refuse_keras_dropout(plan: Plan, sources: tuple[str, ...]) -> None:
    """engine=keras cannot vary dropout masks apart from initial weights (one global seed draws both)."""
    if "dropout" not in sources:
        return
    on_keras = sorted({t.arm for t in plan.trials if t.engine == "keras" and t.model.dropout_rate > 0})
    if on_keras:
        raise ConfigError(f"a variance design varies dropout masks apart from initial weights, which engine=keras "
                          f"cannot (one Keras seed draws both), for arms {', '.join(on_keras)}; valid: engine=fast, "
                          "with settings it can stack")


def design_table(trials: list, sources: tuple[str, ...], first_seed: int) -> pd.DataFrame:
    """Per trial: trial_id, arm, seed and each source's level."""
    return pd.DataFrame([{"trial_id": t.trial_id, "arm": t.arm, "seed": t.seed,
                          **{source: source_seed(t, source) - first_seed for source in sources}} for t in trials])


def _subsets(items: tuple) -> list[tuple]:
    """Every subset of `items`, the empty one first, each in `items`' order."""
    return [subset for size in range(len(items) + 1) for subset in itertools.combinations(items, size)]


def mean_squares(cubes: np.ndarray) -> dict:
    """Per effect (a tuple of factor axes, 0-based, not the empty one): its mean square in each design of `cubes`
    (designs, *levels), one run per cell. An effect's deviations are the inclusion-exclusion of its margins' means."""
    axes = tuple(range(cubes.ndim - 1))
    margins = {subset: cubes.mean(axis=tuple(1 + a for a in axes if a not in subset), keepdims=True)
               for subset in _subsets(axes)}
    squares = {}
    for effect in _subsets(axes)[1:]:
        deviation = sum((-1) ** (len(effect) - len(part)) * margins[part] for part in _subsets(effect))
        freedom = math.prod(cubes.shape[1 + a] - 1 for a in effect)
        summed = np.broadcast_to(deviation, cubes.shape).reshape(len(cubes), -1)
        squares[effect] = (summed ** 2).sum(axis=1) / freedom
    return squares


def components(cubes: np.ndarray) -> dict:
    """Per effect, its variance estimated from the mean squares by expected mean squares, at least 0: with one run
    per cell E[MS_S] = sum over T containing S of (levels outside T) var_T, inverted by inclusion-exclusion."""
    squares = mean_squares(cubes)
    levels = cubes.shape[1:]
    estimates = {}
    for effect in squares:
        above = [other for other in squares if set(effect) <= set(other)]
        combined = sum((-1) ** (len(other) - len(effect)) * squares[other] for other in above)
        estimates[effect] = np.maximum(combined / math.prod(n for a, n in enumerate(levels) if a not in effect), 0.0)
    return estimates


def simulated_cubes(variances: dict, levels: tuple, designs: int, rng: np.random.Generator) -> np.ndarray:
    """`designs` designs of normal effects with the given variances (per effect), summed over the effects."""
    cubes = np.zeros((designs, *levels))
    for effect, variance in variances.items():
        shape = [designs] + [n if a in effect else 1 for a, n in enumerate(levels)]
        cubes = cubes + rng.normal(0.0, math.sqrt(variance), shape)
    return cubes


def _shares(estimates: dict) -> dict:
    total = sum(estimates.values())
    with np.errstate(invalid="ignore", divide="ignore"):
        return {effect: np.where(total > 0, value / total, np.nan) for effect, value in estimates.items()}


def basic_log_interval(estimate: float, simulated: np.ndarray, zero_kept: bool, confidence: float) -> tuple:
    """The basic bootstrap interval on the log scale (Davison & Hinkley, "Bootstrap Methods", 1997, §5.2):
    estimate^2 / the simulated estimates' upper and lower percentiles (exact where the estimate is a scaled
    chi-square), a lower end of 0 where `zero_kept`, an upper end of inf where the simulated estimates reach 0 at
    their lower percentile: the design cannot bound the variance from above."""
    simulated = simulated[np.isfinite(simulated)]
    if estimate <= 0 or not len(simulated):
        return 0.0, float(np.percentile(simulated, 100 * (1 + confidence) / 2)) if len(simulated) else math.nan
    low_quantile, high_quantile = np.percentile(simulated, [100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2])
    low = 0.0 if zero_kept else estimate ** 2 / high_quantile
    return low, estimate ** 2 / low_quantile if low_quantile > 0 else math.inf


def zero_kept(cube: np.ndarray, estimates: dict, effect: tuple, rng, confidence: float) -> tuple:
    """Whether a zero variance of `effect` is kept: its estimate at most the (1 + confidence) / 2 percentile of its
    estimates in designs drawn with it at 0 (a parametric bootstrap test), and those simulated estimates."""
    null = components(simulated_cubes({**estimates, effect: 0.0}, cube.shape, BOOTSTRAP, rng))[effect]
    return estimates[effect] <= np.percentile(null, 100 * (1 + confidence) / 2), null


def decompose(cube: np.ndarray, names: tuple[str, ...], confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Variance components of one design (a value per cell, an axis per source named in `names`): per effect its
    variance and share of the total, each with an interval from designs drawn with the estimated variances: a
    variance's `basic_log_interval` (a lower end of 0 where `zero_kept`), a share's percentiles."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    estimates = {effect: float(value[0]) for effect, value in components(cube[None]).items()}
    simulated = components(simulated_cubes(estimates, cube.shape, BOOTSTRAP, rng))
    shares, simulated_shares = _shares(estimates), _shares(simulated)
    tails = [100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2]
    everything = tuple(range(cube.ndim))
    rows = []
    for effect, variance in estimates.items():
        kept, null = zero_kept(cube, estimates, effect, rng, confidence)
        low, high = basic_log_interval(variance, simulated[effect] if variance > 0 else null, kept, confidence)
        share_low, share_high = (np.nanpercentile(simulated_shares[effect], tails) if np.isfinite(shares[effect])
                                 else (math.nan, math.nan))
        rows.append({"component": " x ".join(names[a] for a in effect) + " (residual)" * (effect == everything),
                     "variance": variance, "low": low, "high": high, "share": float(shares[effect]),
                     "share_low": share_low, "share_high": share_high})
    return pd.DataFrame(rows)


def value_cube(values: pd.DataFrame, sources: tuple[str, ...], levels: int) -> np.ndarray | None:
    """`values` (a `value` and each source's level per run) as a cube indexed by the levels; None when a cell
    has no value (a run that diverged or failed): the design is no longer balanced."""
    cube = np.full((levels,) * len(sources), np.nan)
    cube[tuple(values[source].to_numpy() for source in sources)] = values["value"].to_numpy()
    return None if np.isnan(cube).any() else cube


def claim_quantities(claim, values: pd.DataFrame) -> dict:
    """What is decomposed for a claim: each of its arms' values, and for an ordering each (arm, versus) pair's
    per-cell difference; name -> rows with the design's columns and `value`."""
    quantities = {arm: values[values["arm"] == arm] for arm in dict.fromkeys(claim.arms + claim.versus)}
    for arm, other in itertools.product(claim.arms, claim.versus):
        first, second = (quantities[a].set_index("seed") for a in (arm, other))
        difference = first.assign(value=first["value"] - second["value"].reindex(first.index)).dropna(subset="value")
        quantities[f"{arm} - {other}"] = difference.reset_index()
    return quantities


def components_table(claims, epochs: pd.DataFrame, trials: pd.DataFrame, design: pd.DataFrame,
                     sources: tuple[str, ...], levels: int) -> pd.DataFrame:
    """Per claim (not identity claims: no value per run), quantity and component: the decomposition's rows."""
    finished = trials[trials["status"] == "ok"]
    tables = []
    for claim in claims:
        if claim.kind == "identity":
            continue
        values = point_values(epochs, finished, claim.metric, claim.split, claim.point)
        values = values.merge(design[["trial_id", *sources]], on="trial_id").dropna(subset="value")
        for quantity, rows in claim_quantities(claim, values).items():
            cube = value_cube(rows, sources, levels)
            if cube is None:
                log.info(f"claim {claim.id}, {quantity}: {levels ** len(sources) - len(rows)} cells without a value "
                         "(diverged or failed runs): not decomposed")
                continue
            tables.append(decompose(cube, sources).assign(claim=claim.id, quantity=quantity, metric=claim.metric,
                                                          split=claim.split, point=claim.point, cells=cube.size))
    columns = ["claim", "quantity", "metric", "split", "point", "cells", "component", "variance", "low", "high",
               "share", "share_low", "share_high"]
    return pd.concat(tables)[columns] if tables else pd.DataFrame(columns=columns)


def verdicts_table(claims, epochs: pd.DataFrame, trials: pd.DataFrame, design: pd.DataFrame,
                   sources: tuple[str, ...]) -> pd.DataFrame:
    """Each claim judged on every cell, then on the cells where only one source varies (the others at level 0)."""
    from studies.verdicts import diverged_runs, judge

    selections = {ALL: design}
    for source in sources:
        held = (design[[s for s in sources if s != source]] == 0).all(axis=1)
        selections[source] = design[held]
    rows = []
    for varied, chosen in selections.items():
        seen = trials[trials["trial_id"].isin(chosen["trial_id"])]
        finished = seen[seen["status"] == "ok"]
        table = judge(claims, epochs[epochs["trial_id"].isin(finished["trial_id"])], finished, diverged_runs(seen))
        rows.append(table[["claim", "verdict", "seeds", "measured"]].assign(
            varied=varied, runs_per_arm=chosen.groupby("arm").size().max()))
    verdicts = pd.concat(rows, ignore_index=True)
    everything = verdicts[verdicts["varied"] == ALL].set_index("claim")["verdict"]
    verdicts["same_as_all"] = verdicts["verdict"] == verdicts["claim"].map(everything)
    return verdicts[["claim", "varied", "runs_per_arm", "verdict", "same_as_all", "seeds", "measured"]]


def variance_study(cfg: dict, levels: int) -> dict:
    """Train the factorial design of the study `cfg` configures (what is not stored yet) and return its tables:
    `design` (a row per trial), `components` and `verdicts` (see the module's doc). A ConfigError before training
    on bad settings."""
    from studies.harness import route, train_plan
    from studies.plan import plan_study
    from studies.store import TrialStore

    plan = plan_study(cfg)
    sources = design_sources(plan)
    plan = route(factorial_plan(plan, levels, sources), cfg)
    refuse_keras_dropout(plan, sources)
    line = (f"{plan.study}/{plan.variant} [{plan.profile}]: variance design over {' x '.join(sources)} at {levels} "
            f"levels: {len(plan.trials)} trials ({len(plan.arms)} arms x {plan.looks[0]} cells); ")
    trials = train_plan(cfg, plan, line)
    design = design_table(trials, sources, plan.first_seed)
    store, ids = TrialStore(cfg["results_dir"]), list(design["trial_id"])
    stored, epochs = store.trials(plan.study, ids), store.epochs(plan.study, ids)
    return {"design": design, "components": components_table(plan.claims, epochs, stored, design, sources, levels),
            "verdicts": verdicts_table(plan.claims, epochs, stored, design, sources)}


def composed(arguments: list[str]) -> dict:
    """The studybench config of Hydra overrides `arguments`, as a plain dict; Keras's backend imported."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from studies.paths import CONF_DIR
    from studies.runtime import import_backend_quietly

    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        cfg = OmegaConf.to_container(compose("config", overrides=arguments), resolve=True)
    import_backend_quietly()
    return cfg


def printed_or_failed(make_tables) -> None:
    """Print the tables `make_tables()` returns (title -> DataFrame); a bad setting: one line, exit status 2."""
    from hydra.errors import HydraException

    from studies.cli import console_logging, explain_hydra_error, fail

    console_logging()
    logging.getLogger().setLevel(logging.INFO)
    try:
        tables = make_tables()
    except HydraException as error:
        fail(explain_hydra_error(error, []))
    except ConfigError as error:
        fail(str(error))
    with pd.option_context("display.width", 200, "display.max_columns", None, "display.max_rows", None):
        for title, table in tables.items():
            print(f"\n{title}:\n{table.to_string(index=False)}")


def main(arguments: list[str]) -> None:
    """`levels=N` (default 3) is this command's; every other argument is a studybench setting."""
    mine = [a for a in arguments if a.startswith("levels=")]
    levels = mine[-1].split("=", 1)[1] if mine else "3"
    settings = [a for a in arguments if a not in mine]

    def tables() -> dict:
        if not levels.isdigit():
            raise ConfigError(f"levels={levels} is not an integer; valid: an integer >= 2")
        found = variance_study(composed(settings), int(levels))
        return {"variance components": found["components"], "verdicts by the randomness varied": found["verdicts"]}

    printed_or_failed(tables)


if __name__ == "__main__":
    main(sys.argv[1:])
