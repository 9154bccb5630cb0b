"""Do engine=fast and engine=keras give the same study results? An equivalence test, from the trial store alone.

    studybench agreement [study=NAME] [results_dir=results] [n_seeds=auto] [first_seed=0]
    (writes <reports_dir>/bench/engine_agreement.md; studies/run/cli.py)

Trials of the two engines are paired by (variant, profile, backend, arm, seed): same initial weights, same batch
order; trials of swept settings are left out (the claims are about the declared ones). RULES says how each
final metric and the stop epoch is judged against TOLERANCES; then, for each study run both engines made, every
claim of the article is judged on each engine's trials as that engine's report judges it (look by look under
n_seeds=auto, studies/stats/sequential.py), and each claim is listed with both verdicts and the seeds behind them;
where they differ, with both measured values and why (first: an engine that has not trained every trial its
deciding look judges, a run still under way or stopped). `verdict_flips` compares two claims tables (claims.csv of
one engine and of the other), since a report folder holds one engine's report only: `studybench report
study=X engine=keras` writes where the engine=fast report was.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf
from scipy import stats

from studies.config.contract import for_variant, judged_claims, study_module
from studies.config.settings import ConfigError
from studies.config.studypath import study_yaml
from studies.stats.across_seeds import lower_is_better, mean_ci, point_values
from studies.stats.sequential import claim_arms, judge_looks
from studies.stats.verdicts import ALPHA, holm
from studies.store.trial_store import TrialStore

# What "the same" means, per kind of metric: (tolerance, absolute or relative to the keras mean, why).
TOLERANCES = {
    "accuracy": (0.005, "absolute", "half a percentage point: well below the accuracy effects the articles claim "
                                    "(a point or more)"),
    "loss or error": (0.01, "relative", "1% of the keras mean: losses and errors here run from 0.001 (MSE) to 20 "
                                        "(the book's L2-weighted loss), so no absolute bound fits them all"),
    "epochs": (2.0, "absolute", "two epochs: where early stopping falls, at article 001's patience of 2"),
}
RULES = ("For each final metric (evaluate() on the test set) and the stop epoch, the per-seed differences d = fast - "
         "keras are held against the metric's tolerance ±tol. EQUIVALENT: both one-sided paired t-tests of TOST "
         "(H0: mean d <= -tol; H0: mean d >= +tol) reject at 5%, Holm-corrected across the study's comparisons "
         "(p equivalent: the larger one-sided p). DIFFERENT: the paired test that mean d lies beyond the tolerance "
         "rejects at Holm-corrected 5% (p different: twice the smaller one-sided p of H0: mean d <= +tol and H0: "
         "mean d >= -tol; uncorrected, that is the 95% interval of mean d wholly outside ±tol). UNDECIDED: neither. "
         "Fewer than 3 seeds are UNDECIDED whatever their differences: one or two seeds that agree say little of "
         "the next. Without a test, and no p-value made up: every difference below 1e-4 relative is EQUIVALENT, "
         "identical (the float32 tolerance of the engine tests); differences that do not vary are EQUIVALENT by "
         "inspection when inside ±tol, DIFFERENT when outside. predict_argmax_accuracy is the test accuracy again "
         "(from predict() and argmax rather than evaluate(); tests/test_study_fit_basics.py holds the two within "
         "1e-6), so only accuracy is compared: one quantity, counted once in the Holm correction.")
ENGINES = ("keras", "fast")
KEYS = ["variant", "profile", "backend", "arm", "seed"]
RUN = KEYS[:3]  # one study run: the trials one report covers
IDENTICAL = 1e-4  # relative
FLAT = 1e-6  # relative: a spread below float32 rounding of the values is no spread
MIN_SEEDS = 3
ALIASES = {"predict_argmax_accuracy": "accuracy"}  # metric -> the quantity it measures again, compared once
EPOCH_POINTS = ("stop", "best_epoch")
UNRUN = {"DIVERGED": "diverged", "NOT RUN": "was not run"}


def metric_kind(metric: str) -> str | None:
    """The row of TOLERANCES that applies; None for a metric it does not cover."""
    if metric == "stop_epoch":
        return "epochs"
    if "accuracy" in metric:
        return "accuracy"
    return "loss or error" if lower_is_better(metric) else None


def tolerance(kind: str | None, keras) -> float:
    if kind is None:
        return math.nan
    bound, scale, _ = TOLERANCES[kind]
    return bound * abs(float(np.mean(keras))) if scale == "relative" else bound


def _without_test(difference: np.ndarray, scale: np.ndarray, bound: float) -> tuple[str, str]:
    """(verdict, why) where inspection decides or no test can; ("", "") where the test decides."""
    if len(difference) < MIN_SEEDS:
        return "UNDECIDED", f"too few seeds (n = {len(difference)})"
    if np.all(np.abs(difference) / scale < IDENTICAL):
        return "EQUIVALENT", "identical: every seed within 1e-4 relative"
    if math.isnan(bound):
        return "UNDECIDED", "no tolerance stated for this metric"
    if np.ptp(difference) <= FLAT * scale.max():
        inside = np.abs(difference).max() <= bound
        return ("EQUIVALENT" if inside else "DIFFERENT",
                f"by inspection: every seed differs by {difference[0]:.3g}, {'inside' if inside else 'outside'} "
                f"±{bound:.3g}; no spread, so no test")
    return "", ""


def _tost(difference: np.ndarray, bound: float) -> dict:
    def one_sided(null_bound, alternative):
        return float(stats.ttest_1samp(difference, null_bound, alternative=alternative).pvalue)

    inside = max(one_sided(-bound, "greater"), one_sided(bound, "less"))
    beyond = min(1.0, 2 * min(one_sided(bound, "greater"), one_sided(-bound, "less")))
    return {"p_equivalent": inside, "p_different": beyond}


def equivalence(fast, keras, kind: str | None) -> dict:
    """The paired comparison of one arm and metric: means, fast - keras with its 95% t interval, the tolerance,
    the largest per-seed difference, the TOST p-values (NaN where no test is made), and the verdict with why
    where inspection decides (else "": `decide` gives it from the p-values)."""
    fast, keras = np.asarray(fast, dtype=float), np.asarray(keras, dtype=float)
    difference = fast - keras
    scale = np.maximum(np.abs(keras), 1e-12)
    interval, bound = mean_ci(difference), tolerance(kind, keras)
    verdict, why = _without_test(difference, scale, bound)
    tested = _tost(difference, bound) if not verdict else {"p_equivalent": math.nan, "p_different": math.nan}
    return {"n": len(difference), "keras": float(keras.mean()), "fast": float(fast.mean()),
            "difference": interval["mean"], "low": interval["low"], "high": interval["high"], "tolerance": bound,
            "largest": float(difference[np.argmax(np.abs(difference))]),
            "max_relative": float(np.max(np.abs(difference) / scale)), **tested, "verdict": verdict, "why": why}


def decide(p_equivalent: float, p_different: float) -> str:
    if p_equivalent < ALPHA:
        return "EQUIVALENT"
    return "DIFFERENT" if p_different < ALPHA else "UNDECIDED"


def declared(trials: pd.DataFrame) -> pd.DataFrame:
    """The trials at the study's declared settings (sweep_json {} or, stored before sweeps, null), each with its
    Keras backend."""
    swept = trials["sweep_json"].map(lambda text: isinstance(text, str) and json.loads(text) != {})
    backend = trials["versions_json"].map(lambda text: json.loads(text).get("keras_backend", ""))
    return trials[~swept].assign(backend=backend[~swept])


def final_values(trials: pd.DataFrame) -> pd.DataFrame:
    """One row per completed trial and metric: the evaluate() values (less ALIASES) and the stop epoch."""
    rows = []
    for trial in declared(trials).query("status == 'ok'").itertuples():
        final = {metric: value for metric, value in json.loads(trial.final_json).items() if metric not in ALIASES}
        values = {**final, "stop_epoch": trial.stop_epoch}
        rows += [{**{k: getattr(trial, k) for k in KEYS + ["engine"]}, "metric": m, "value": float(v)}
                 for m, v in values.items()]
    return pd.DataFrame(rows, columns=KEYS + ["engine", "metric", "value"])


def compare(trials: pd.DataFrame) -> pd.DataFrame:
    """Per (variant, profile, backend, arm, metric) where both engines ran the same seeds: the paired comparison
    and its verdict, Holm across all of them."""
    values = final_values(trials).pivot_table(index=KEYS + ["metric"], columns="engine", values="value")
    if not set(ENGINES) <= set(values.columns):
        return pd.DataFrame()
    values = values.dropna(subset=list(ENGINES)).reset_index()
    groups = KEYS[:-1] + ["metric"]
    table = pd.DataFrame([{**dict(zip(groups, key)), **equivalence(group["fast"], group["keras"], metric_kind(key[-1]))}
                          for key, group in values.groupby(groups)])
    if table.empty:
        return table
    table["p_equivalent_holm"], table["p_different_holm"] = holm(table["p_equivalent"]), holm(table["p_different"])
    tested = table["verdict"] == ""
    table.loc[tested, "verdict"] = [decide(equal, apart) for equal, apart in
                                    table.loc[tested, ["p_equivalent_holm", "p_different_holm"]].to_numpy()]
    return table


def _claims_table(claims) -> pd.DataFrame:
    return claims if isinstance(claims, pd.DataFrame) else pd.read_csv(claims, keep_default_na=False)


def _reason(fast: str, keras: str) -> str:
    for engine, verdict in (("fast", fast), ("keras", keras)):
        if verdict in UNRUN:
            return f"under engine={engine} an arm it needs {UNRUN[verdict]}"
    if {fast, keras} == {"PASS", "FAIL"}:
        return "opposite conclusions: one engine's runs support the claim, the other's its opposite"
    return ("a borderline claim: the evidence reaches the verdict's threshold (Holm-corrected 5%, or the "
            "tolerance) under one engine only")


def verdict_flips(fast, keras) -> pd.DataFrame:
    """The claims whose verdict differs between two claims tables (claims.csv of engine=fast and of engine=keras,
    as paths or DataFrames): claim, says, both verdicts, both measured values and why."""
    merged = _claims_table(fast).merge(_claims_table(keras), on="claim", suffixes=("_fast", "_keras"))
    flipped = merged[merged["verdict_fast"] != merged["verdict_keras"]]
    return pd.DataFrame({"claim": flipped["claim"], "says": flipped["says_fast"], "fast": flipped["verdict_fast"],
                         "keras": flipped["verdict_keras"], "measured_fast": flipped["measured_fast"],
                         "measured_keras": flipped["measured_keras"],
                         "why": [_reason(f, k) for f, k in zip(flipped["verdict_fast"], flipped["verdict_keras"])]},
                        columns=["claim", "says", "fast", "keras", "measured_fast", "measured_keras", "why"])


def arm_agreement(claim, trials: pd.DataFrame, epochs: pd.DataFrame) -> str:
    """How the claim's own per-seed values compare between the engines, arm by arm (uncorrected); for a claim on
    whole curves (identity), their final values."""
    finished = trials[trials["status"] == "ok"]
    point = "final" if claim.point == "curve" else claim.point
    values = point_values(epochs, finished, claim.metric, claim.split, point).merge(
        finished[["trial_id", "engine"]], on="trial_id")
    kind = "epochs" if claim.point in EPOCH_POINTS else metric_kind(claim.metric)
    parts = []
    for arm in claim_arms((claim,)):
        paired = values[values["arm"] == arm].pivot_table(index="seed", columns="engine", values="value")
        paired = paired.reindex(columns=list(ENGINES)).dropna()
        if paired.empty:
            parts.append(f"{arm}: no seed run by both engines")
            continue
        row = equivalence(paired["fast"], paired["keras"], kind)
        verdict = row["verdict"] or decide(row["p_equivalent"], row["p_different"])
        parts.append(f"{arm} {verdict} (fast - keras {row['difference']:.3g} [{row['low']:.3g}, {row['high']:.3g}], "
                     f"tolerance ±{row['tolerance']:.3g}, n = {row['n']})")
    return (f"the claim's {'final ' if point != claim.point else ''}values, fast vs keras (TOST, uncorrected): "
            + "; ".join(parts))


def engine_verdicts(claims, trials: pd.DataFrame, epochs: pd.DataFrame, looks: tuple, first_seed: int) -> dict:
    """engine -> the claims' verdicts on that engine's trials, as its own report gives them: look by look over
    the seeds first_seed .. first_seed + looks[k] - 1 (one look: n_seeds fixed; several: n_seeds=auto)."""
    return {engine: judge_looks(claims, epochs, trials[trials["engine"] == engine], looks, first_seed).verdicts
            for engine in ENGINES}


def _missing(trials: pd.DataFrame, engine: str, arms: tuple, seeds: int, first_seed: int) -> int:
    """How many trials of `arms` over seeds first_seed .. first_seed + seeds - 1 `engine` has not stored."""
    window = trials["seed"].isin(range(first_seed, first_seed + seeds))
    stored = trials[(trials["engine"] == engine) & trials["arm"].isin(arms) & window]
    return len(arms) * seeds - len(stored[["arm", "seed"]].drop_duplicates())


def unfinished(claim, trials: pd.DataFrame, row, looks: tuple, first_seed: int) -> str:
    """Why two verdicts differ when an engine has not trained every trial its verdict rests on (a run still under
    way, or stopped): the trials its deciding look judges, and where that look left the claim INCONCLUSIVE before
    the last look, those of its next look (its rounds have not ended). Which engine, and how many trials of the
    claim's arms it lacks; else ""."""
    arms = claim_arms((claim,))
    named = f"(arms {', '.join(arms)}); rerun it to compare"
    for engine in ENGINES:
        judged = int(getattr(row, f"look_seeds_{engine}"))
        if missing := _missing(trials, engine, arms, judged, first_seed):
            return (f"unfinished: engine={engine} has not trained {missing} of the {len(arms) * judged} trials its "
                    f"look at {judged} seeds judges {named}")
        if getattr(row, f"verdict_{engine}") != "INCONCLUSIVE" or judged >= looks[-1]:
            continue
        following = min(count for count in looks if count > judged)
        if missing := _missing(trials, engine, arms, following, first_seed):
            return (f"unfinished: engine={engine} left the claim INCONCLUSIVE at {judged} seeds and has not trained "
                    f"{missing} of the {len(arms) * following} trials its next look, at {following} seeds, judges "
                    f"{named}")
    return ""


def claim_verdicts(claims, trials: pd.DataFrame, epochs: pd.DataFrame, looks: tuple, first_seed: int) -> pd.DataFrame:
    """Every claim of one study run (declared trials of one variant, profile and backend, both engines) under each
    engine: verdict, seeds supporting it of those judged, the seeds per arm of the look that decided it, and
    where the verdicts differ, why (with how the claim's own values compare between the engines)."""
    verdicts = engine_verdicts(claims, trials, epochs, looks, first_seed)
    merged = verdicts["fast"].merge(verdicts["keras"], on="claim", suffixes=("_fast", "_keras"))
    by_id = {claim.id: claim for claim in claims}
    why = [(unfinished(by_id[row.claim], trials, row, looks, first_seed)
            or f"{_reason(row.verdict_fast, row.verdict_keras)}; {arm_agreement(by_id[row.claim], trials, epochs)}")
           if row.verdict_fast != row.verdict_keras else "" for row in merged.itertuples()]
    return pd.DataFrame({"claim": merged["claim"], "says": merged["says_fast"],
                         **{column: merged[f"{part}_{engine}"] for engine in ENGINES[::-1]
                            for column, part in ((engine, "verdict"), (f"seeds_{engine}", "seeds"),
                                                 (f"look_seeds_{engine}", "look_seeds"),
                                                 (f"measured_{engine}", "measured"))},
                         "why": why})


def stored_study_module(study: str):
    """The module declaring a stored study, found as a run finds it (its YAML's `contract:`, a module beside the
    YAML on STUDYBENCH_PATH, or the catalog); None for a study without one (no claims)."""
    found = study_yaml(study)
    return study_module(study, OmegaConf.load(found).get("contract") if found else None)


def study_claims(study: str, trials: pd.DataFrame, epochs: pd.DataFrame, looks: tuple, first_seed: int) -> dict:
    """(variant, profile, backend) -> claim_verdicts, for every study run both engines made."""
    trials = declared(trials)
    module = stored_study_module(study)
    runs = {}
    for run, group in trials.groupby(RUN):
        claims = judged_claims(for_variant(module.CLAIMS, run[0])) if module else ()
        if set(ENGINES) <= set(group["engine"]) and claims:
            runs[run] = claim_verdicts(claims, group, epochs[epochs["trial_id"].isin(group["trial_id"])], looks,
                                       first_seed)
    return runs


def _run_name(run: tuple) -> str:
    variant, profile, backend = run
    return variant + "".join(f", {part}" for part, usual in ((profile, "full"), (backend, "tensorflow"))
                             if part != usual)


def _tolerance_text(row) -> str:
    kind = metric_kind(row.metric)
    relative = f" ({TOLERANCES[kind][0]:.0%})" if kind and TOLERANCES[kind][1] == "relative" else ""
    return f"±{row.tolerance:.3g}{relative}" if not math.isnan(row.tolerance) else "—"


def _p_text(row) -> str:
    return "—" if math.isnan(row.p_equivalent_holm) else f"{row.p_equivalent_holm:.3g} / {row.p_different_holm:.3g}"


def agreement_lines(table: pd.DataFrame) -> list[str]:
    lines = ["| variant | arm | metric | n | keras | fast | fast - keras [95% CI] | tolerance | largest per-seed "
             "difference | p equivalent / different (Holm) | verdict | why |", "|" + "---|" * 12]
    return lines + [f"| {_run_name((r.variant, r.profile, r.backend))} | {r.arm} | {r.metric} | {r.n} | "
                     f"{r.keras:.4g} | {r.fast:.4g} | {r.difference:.3g} [{r.low:.3g}, {r.high:.3g}] | "
                     f"{_tolerance_text(r)} | {r.largest:.3g} | {_p_text(r)} | {r.verdict} | {r.why} |"
                     for r in table.itertuples()]


def claim_lines(runs: dict) -> list[str]:
    lines = ["### Every claim under each engine", ""] if runs else []
    for run, table in runs.items():
        differ = table[table["fast"] != table["keras"]]
        lines += [f"{_run_name(run)}: the verdict differs in {len(differ)} of {len(table)} claims.", "",
                  "| claim | engine=fast | seeds (look) | engine=keras | seeds (look) | why they differ |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {r.claim} | {r.fast} | {r.seeds_fast} ({r.look_seeds_fast}) | {r.keras} | {r.seeds_keras} "
                  f"({r.look_seeds_keras}) | {r.why} |" for r in table.itertuples()]
        lines += [""] + [f"- {r.claim} (fast): {r.measured_fast}\n- {r.claim} (keras): {r.measured_keras}"
                         for r in differ.itertuples()] + ([""] if len(differ) else [])
    return lines


def markdown(tables: dict, claims: dict) -> str:
    lines = ["# engine=fast vs engine=keras", "", RULES, "", "| metric | tolerance | why |", "|---|---|---|"]
    lines += [f"| {kind} | ±{bound:g}{' relative' if scale == 'relative' else ''} | {why} |"
              for kind, (bound, scale, why) in TOLERANCES.items()]
    for study, table in tables.items():
        lines += ["", f"## {study}", ""] + agreement_lines(table) + [""] + claim_lines(claims.get(study, {}))
    return "\n".join(lines)


def agreement_report(results_dir, looks: tuple, first_seed: int, study: str | None = None) -> str:
    """The comparison of every study in the store (or `study` alone) as Markdown; ConfigError where there is no
    store or nothing to compare. `looks` and `first_seed` as the runs had them (studies.stats.sequential.look_seeds)."""
    folder = Path(results_dir) / "trials"
    if not folder.is_dir():
        raise ConfigError(f"no trial store at results_dir={results_dir} (no folder {folder}); give the results_dir "
                          "the runs wrote to")
    store = TrialStore(results_dir)
    tables, claims = {}, {}
    for name in [study] if study else sorted(path.name for path in folder.iterdir()):
        trials = store.trials(name)
        table = compare(trials) if len(trials) else pd.DataFrame()
        if not table.empty:
            tables[name] = table
            claims[name] = study_claims(name, trials, store.epochs(name), looks, first_seed)
    if not tables:  # a header-only file would read as "nothing differs"
        raise ConfigError(f"nothing to compare in {results_dir}{f' for study {study}' if study else ''}: no arm has "
                          "the same seeds stored under both engine=fast and engine=keras; run the study with "
                          "engine=keras too (studybench study=NAME engine=keras, with its engine=fast run's seeds)")
    return markdown(tables, claims)
