"""Where a claim's variance comes from (issue #29, part 3): a factorial design over a trial's randomness sources,
a variance-components table per claim metric, and each claim judged with one source varying at a time.

Design. The cells are the full factorial over the sources that can move some arm's numbers
(studies.runtime.seeding.SOURCES: initial weights and batch order always, dropout masks where a model drops out,
the data draw where a study draws its splits), each source at `levels` seeds first_seed, first_seed + 1, .... Cell c is
trial seed first_seed + c, with the sources' seeds given apart (TrialSpec.seeds) where they differ from it: cell 0
is the study's own first_seed trial (reused when stored), and cells pair across arms as seeds do. An arm trains
one trial per level of the sources that move it: where a source cannot (dropout masks of an arm without
dropout), its cells reuse the trial of that source's level 0, the same run bit for bit, analysed under each cell's
seed (`cell_frames`). The trials train as ordinary ones (engine=fast stacks them), stored and resumed like any.
engine=keras draws dropout masks from the weights' seed (studies/runtime/seeding.py): a design that varies dropout
there is refused.

Components. Fixing every source fixes a run (same seed, same bits), so there is no noise beyond the sources: a
claim metric's value (its point value, studies/stats/across_seeds.py) is a balanced crossed random-effects design
with one run per cell, each source and each interaction of sources a random effect, the highest interaction the
residual.
Their variances are estimated by expected mean squares (Searle, Casella & McCulloch, "Variance Components", 1992,
ch. 4; Montgomery, "Design and Analysis of Experiments", ch. 13), a negative estimate set to 0, shares of their
sum. Intervals come from a parametric bootstrap (as lme4's bootMer): BOOTSTRAP designs drawn from normal
effects with the estimated variances, each estimated the same way. A variance's interval inverts the bootstrap
test (Carpenter, 1999): every variance of the effect at which its estimate lies within the central 95% of the
simulated ones, so that it reaches 0, or inf, where the design cannot bound it; a share's interval is the
simulated shares' percentiles. Measured on 200 synthetic 3x3x3 designs (variances 4, 1 and 0 from three sources,
residual 0.25; tests/test_variance.py runs 60): the variances' 95% intervals held the truth 91.5-98% of the time,
the shares' 89.5-100% (simple percentile intervals of the variances: 71-100%). Per claim, each of its arms is
decomposed, and for an ordering each (arm, versus) pair's per-cell difference, what the claim's test reads. With 3
levels a source's variance rests on 2 degrees of freedom: the intervals are wide, and say so.

Verdicts. Each claim is judged (studies/stats/verdicts.py, as the study judges it, at 5%) on every cell, and on the
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

from studies.config.settings import ConfigError, require_int
from studies.run.plan import Plan
from studies.runtime.seeding import SOURCES
from studies.stats.across_seeds import point_values

BOOTSTRAP = 2000  # parametric bootstrap designs per decomposition
INVERSION_GRID = 400  # variances tried per test-inversion interval, log-spaced (6% apart) over 10 decades
BOOTSTRAP_SEED = 29  # the same tables from the same store: the bootstrap's draws are fixed (issue #29)
CONFIDENCE = 0.95
ALL = "all"  # the verdict's row judged on every cell
log = logging.getLogger(__name__)


def moved_by(trial) -> tuple[str, ...]:
    """The sources that can move a trial's numbers: weights and order always, dropout where its model drops out,
    data where its dataset draws its splits."""
    varied = {"weights": True, "order": True, "dropout": trial.model.dropout_rate > 0,
              "data": trial.dataset.validation == "drawn"}
    return tuple(source for source in SOURCES if varied[source])


def design_sources(plan: Plan) -> tuple[str, ...]:
    """The sources that can move some arm's numbers (moved_by)."""
    moving = {source for trial in plan.trials for source in moved_by(trial)}
    return tuple(source for source in SOURCES if source in moving)


def cell_levels(levels: int, sources: tuple[str, ...]) -> list[dict]:
    """Cell c's level of each source, in cell order (the last source varying fastest)."""
    return [dict(zip(sources, cell)) for cell in itertools.product(range(levels), repeat=len(sources))]


def factorial_plan(plan: Plan, levels: int, sources: tuple[str, ...]) -> Plan:
    """The plan with each arm's first trial over the cells (see the module's doc), once per cell the arm's own
    sources tell apart: looks at every cell."""
    require_int(levels, "levels", 2)  # one level would vary nothing
    cells = cell_levels(levels, sources)
    template = {trial.arm: trial for trial in reversed(plan.trials)}  # each arm's first trial
    trials = {}
    for arm in plan.arms:
        for cell in cells:
            number = cells.index(own_cell(cell, moved_by(template[arm])))
            seed = plan.first_seed + number
            apart = {source: plan.first_seed + cells[number].get(source, 0) for source in SOURCES}
            apart = {source: value for source, value in apart.items() if value != seed}
            trials[arm, seed] = replace(template[arm], seed=seed, seeds=apart or None)
    return replace(plan, trials=tuple(trials.values()), looks=(len(cells),))


def own_cell(cell: dict, moving: tuple[str, ...]) -> dict:
    """The cell whose trial stands for `cell` in an arm moved by `moving` alone: the other sources at level 0."""
    return {source: level if source in moving else 0 for source, level in cell.items()}


def refuse_keras_dropout(plan: Plan, sources: tuple[str, ...]) -> None:
    """engine=keras cannot vary dropout masks apart from initial weights (one global seed draws both)."""
    if "dropout" not in sources:
        return
    on_keras = sorted({t.arm for t in plan.trials if t.engine == "keras" and t.model.dropout_rate > 0})
    if on_keras:
        raise ConfigError(f"a variance design varies dropout masks apart from initial weights, which engine=keras "
                          f"cannot (one Keras seed draws both), for arms {', '.join(on_keras)}; valid: engine=fast, "
                          "with settings it can stack")


def design_table(trials: list, sources: tuple[str, ...], levels: int, first_seed: int) -> pd.DataFrame:
    """Per arm and cell: the trial_id of the trial it reuses or trains, arm, the cell's seed and each source's
    level."""
    by_seed = {(t.arm, t.seed): t for t in trials}
    cells = cell_levels(levels, sources)
    rows = []
    for arm in dict.fromkeys(t.arm for t in trials):
        moving = moved_by(next(t for t in trials if t.arm == arm))
        for number, cell in enumerate(cells):
            trial = by_seed[arm, first_seed + cells.index(own_cell(cell, moving))]
            rows.append({"trial_id": trial.trial_id, "arm": arm, "seed": first_seed + number, **cell})
    return pd.DataFrame(rows)


def cell_frames(design: pd.DataFrame, trials: pd.DataFrame, epochs: pd.DataFrame) -> tuple:
    """The design, trials and epochs with a row set per cell, named TRIAL@SEED under the cell's seed: a trial
    reused by several cells of its arm is judged and decomposed in each, paired by seed with the other arms'."""
    cells = design.assign(cell_id=design["trial_id"] + "@" + design["seed"].astype(str))
    keys = cells[["trial_id", "seed", "cell_id"]]

    def per_cell(frame: pd.DataFrame) -> pd.DataFrame:
        spread = keys.merge(frame.drop(columns="seed"), on="trial_id")
        return spread.drop(columns="trial_id").rename(columns={"cell_id": "trial_id"})[frame.columns]

    design_cells = cells.drop(columns="trial_id").rename(columns={"cell_id": "trial_id"})[design.columns]
    return design_cells, per_cell(trials), per_cell(epochs)


def _subsets(items: tuple) -> list[tuple]:
    """Every subset of `items`, the empty one first, each in `items`' order."""
    return [subset for size in range(len(items) + 1) for subset in itertools.combinations(items, size)]


def _margins(cubes: np.ndarray) -> dict:
    """Per subset of the factor axes (0-based), the means over the other factors, kept as axes of length 1."""
    axes = tuple(range(cubes.ndim - 1))
    return {subset: cubes.mean(axis=tuple(1 + a for a in axes if a not in subset), keepdims=True)
            for subset in _subsets(axes)}


def _deviations(margins: dict, effect: tuple, shape: tuple) -> np.ndarray:
    """An effect's deviations in every cell, (designs, cells): the inclusion-exclusion of its margins' means."""
    deviation = sum((-1) ** (len(effect) - len(part)) * margins[part] for part in _subsets(effect))
    return np.broadcast_to(deviation, shape).reshape(shape[0], -1)


def mean_squares(cubes: np.ndarray) -> dict:
    """Per effect (a tuple of factor axes, 0-based, not the empty one): its mean square in each design of `cubes`
    (designs, *levels), one run per cell."""
    margins = _margins(cubes)
    return {effect: (_deviations(margins, effect, cubes.shape) ** 2).sum(axis=1) / _freedom(effect, cubes.shape[1:])
            for effect in list(margins)[1:]}


def _freedom(effect: tuple, levels: tuple) -> int:
    return math.prod(levels[a] - 1 for a in effect)


def _outside(effect: tuple, levels: tuple) -> int:
    """The runs per level combination of the effect: its expected mean square's factor on its own variance."""
    return math.prod(n for a, n in enumerate(levels) if a not in effect)


def _combined(squares: dict, effect: tuple):
    """The mean squares' combination whose expectation is `effect`'s variance times `_outside`."""
    return sum((-1) ** (len(other) - len(effect)) * squares[other] for other in squares if set(effect) <= set(other))


def components(cubes: np.ndarray) -> dict:
    """Per effect, its variance estimated from the mean squares by expected mean squares, at least 0: with one run
    per cell E[MS_S] = sum over T containing S of (levels outside T) var_T, inverted by inclusion-exclusion."""
    squares, levels = mean_squares(cubes), cubes.shape[1:]
    return {effect: np.maximum(_combined(squares, effect) / _outside(effect, levels), 0.0) for effect in squares}


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


def inverted_interval(cube: np.ndarray, estimates: dict, effect: tuple, rng, confidence: float) -> tuple:
    """The test-inversion bootstrap interval (Carpenter, "Test inversion bootstrap confidence intervals", JRSS B
    61, 1999) of `effect`'s variance: every variance at which the estimate is within the central `confidence` of
    the estimates of designs drawn with it (the other effects at their estimates); 0 and inf where the design
    cannot bound it. One set of draws serves every variance tried: an effect's variance moves only its own mean
    square, a quadratic in its standard deviation."""
    levels, tail = cube.shape, (1 - confidence) / 2
    others = simulated_cubes({**estimates, effect: 0.0}, levels, BOOTSTRAP, rng)
    unit = simulated_cubes({effect: 1.0}, levels, BOOTSTRAP, rng)
    fixed = _deviations(_margins(others), effect, others.shape)
    moving = _deviations(_margins(unit), effect, unit.shape)
    start, cross, own = _combined(mean_squares(others), effect), (fixed * moving).sum(axis=1), (moving ** 2).sum(axis=1)
    scale = max(sum(estimates.values()), np.finfo(float).tiny)
    observed = estimates[effect]  # tried too: a tiny estimate would fall between 0 and the grid's first variance
    variances = np.unique(np.concatenate([[0.0, observed], np.geomspace(1e-6 * scale, 1e4 * scale, INVERSION_GRID)]))
    deviation = np.sqrt(variances)[:, None]
    simulated = np.maximum((start + (2 * deviation * cross + deviation ** 2 * own) / _freedom(effect, levels))
                           / _outside(effect, levels), 0.0)
    kept = ((simulated >= observed).mean(axis=1) > tail) & ((simulated <= observed).mean(axis=1) > tail)
    if not kept.any():
        return math.nan, math.nan
    return float(variances[kept].min()), math.inf if kept[-1] else float(variances[kept].max())


def decompose(cube: np.ndarray, names: tuple[str, ...], confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Variance components of one design (a value per cell, an axis per source named in `names`): per effect its
    variance and share of the total, each with an interval from designs drawn with the estimated variances: a
    variance's by test inversion (`inverted_interval`), a share's the simulated shares' percentiles."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    estimates = {effect: float(value[0]) for effect, value in components(cube[None]).items()}
    simulated = components(simulated_cubes(estimates, cube.shape, BOOTSTRAP, rng))
    shares, simulated_shares = _shares(estimates), _shares(simulated)
    tails = [100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2]
    everything = tuple(range(cube.ndim))
    rows = []
    for effect, variance in estimates.items():
        low, high = inverted_interval(cube, estimates, effect, rng, confidence)
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
    from studies.stats.verdicts import diverged_runs, judge

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
    `design` (a row per arm and cell, naming the trial it reuses or trains), `components` and `verdicts` (see the
    module's doc), with the design's `plan`, its `sources`, its `trial_ids` (each trial once) and the number of
    trials `trained` now. A ConfigError before training on bad settings."""
    from studies.run.boundary import prepare_run
    from studies.run.harness import route, train_plan
    from studies.store.trial_store import TrialStore

    run = prepare_run(cfg)
    sources = design_sources(run.plan)
    plan = route(factorial_plan(run.plan, levels, sources), run.settings)
    refuse_keras_dropout(plan, sources)
    line = (f"{plan.study}/{plan.variant} [{plan.profile}]: variance design over {' x '.join(sources)} at {levels} "
            f"levels: {len(plan.arms)} arms x {plan.looks[0]} cells, {len(plan.trials)} trials (one per level of "
            "the sources that move its arm); ")
    trials, trained = train_plan(run, plan, line)
    design = design_table(trials, sources, levels, plan.first_seed)
    store, ids = TrialStore(run.settings.results_dir), [trial.trial_id for trial in trials]
    cells, stored, epochs = cell_frames(design, store.trials(plan.study, ids), store.epochs(plan.study, ids))
    return {"design": design, "components": components_table(plan.claims, epochs, stored, cells, sources, levels),
            "verdicts": verdicts_table(plan.claims, epochs, stored, cells, sources), "plan": plan,
            "sources": sources, "trial_ids": ids, "trained": trained}


def run_variance(cfg: dict):
    """`studybench study=X beyond=variance [beyond.levels=N]`: the design trained (what the store lacks), its
    tables written as reports/beyond/<study>/.../variance.md and CSV files."""
    from studies.beyond.runs import write_tables_page
    from studies.config.settings import check_keys
    from studies.run.harness import RunOutcome

    check_keys(cfg["beyond"], ("name", "levels"), "beyond=variance")
    found = variance_study(cfg, cfg["beyond"]["levels"])
    design, plan, ids = found["design"], found["plan"], found["trial_ids"]
    text = (f"A factorial design over the randomness sources {', '.join(found['sources'])} at "
            f"{cfg['beyond']['levels']} levels each: {len(design)} cells, {len(ids)} trials "
            "(an arm trains one per level of the sources that move it). Each claim metric's variance split "
            "between the sources and their interactions (expected mean squares of a balanced random-effects design, "
            "95% intervals by inverting a parametric bootstrap test; studies/beyond/variance.py), and each claim "
            "judged on every cell and with one source varying at a time.")
    path = write_tables_page(cfg, plan, "variance", "where the variance comes from", text,
                             {"variance components": found["components"],
                              "verdicts by the randomness varied": found["verdicts"]})
    log.info(f"beyond=variance: {path}")
    return RunOutcome(plan, ids, found["trained"], len(ids) - found["trained"], [])


def composed(arguments: list[str]) -> dict:
    """The studybench config of Hydra overrides `arguments`, as a plain dict; Keras's backend imported."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from studies.config.paths import CONF_DIR
    from studies.runtime.backend import import_backend_quietly

    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        cfg = OmegaConf.to_container(compose("config", overrides=arguments), resolve=True)
    import_backend_quietly()
    return cfg


def printed_or_failed(make_tables) -> None:
    """Print the tables `make_tables()` returns (title -> DataFrame); a bad setting: one line, exit status 2."""
    from hydra.errors import HydraException

    from studies.run.cli import console_logging, explain_hydra_error, fail

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
