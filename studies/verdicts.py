"""A verdict on each claim of a study: PASS, FAIL, INCONCLUSIVE, DIVERGED or NOT RUN, with the numbers behind it.

Each kind of claim (`Claim.kind`, given by its relation; studies/contract.py) has its own test, every test at
level `alpha` (judge's keyword: 0.05, or what a sequential design spends at a look). Arms of one seed are paired
(same batches, same initial weights where the architecture matches). Every verdict line says in how many
seeds the claim holds ("4 of 5 seeds").
- ordering (<, >, lowest, highest): per (arm, versus) pair, the per-seed differences and one-sided paired
  t-tests (scipy.stats.ttest_1samp on the differences, the same as ttest_rel). A claim is supported when every
  pair is (intersection-union: its p-value is the largest of its pairs', no correction across them); Holm's
  correction runs over those p-values of the study's ordering claims. A pair refutes the claim when it shows
  the opposite order, or, by TOST (two one-sided tests), a mean difference inside +-tolerance ("no effect
  larger than the tolerance"; tolerance 0: never); Holm runs over every pair's refuting p-value. FAIL when
  refuted, even if also supported (an effect shown smaller than the tolerance is not the effect claimed);
  else PASS when supported; else INCONCLUSIVE.
- near a value (approx): TOST of the arm's mean against value +- tolerance, read off the (1 - 2 alpha) t
  interval of the mean (90%, shown): PASS when it lies inside, FAIL when it lies wholly outside.
- identity (identical): per seed, every epoch of the claim's curve in both arms. PASS when every seed agrees
  within the tolerance (0: bit for bit); FAIL names the first seed that differs, its first such epoch and the
  size of the difference. No statistics: one differing seed refutes an identity, and differences of opposite
  sign do not cancel.
- per-run property (runs_near): in how many seeds the value lies within value +- tolerance (k of n), with a
  Clopper-Pearson (1 - alpha) interval on that share (scipy.stats.binomtest). FAIL when the interval lies
  wholly below the claim's `at_least`; PASS when k / n >= at_least; otherwise INCONCLUSIVE. PASS is
  descriptive: the interval shows how little a few seeds prove (a share above 90% is shown at the 5% level
  only by 29 of 29 runs).
A seed where a needed arm diverged counts as that arm's outcome and is named in the line. In an ordering the
diverged arm takes the metric's worst value (a NaN loss is worse than any): that seed goes to one side, stays
out of the t-tests (whose result it could only strengthen), bars support of the other side and any
equivalence. In an approx claim it bars PASS; in a per-run claim it is a run that is not near the value; in an
identity one arm diverging alone is a difference. A claim whose needed arm diverged in every seed is
DIVERGED; one naming an arm that was not run is NOT RUN. Fewer than 3 seeds, or values without spread (where
a t-test would give p = 0), are INCONCLUSIVE with the reason; except that an ordering whose arms are equal in
every seed FAILs by equivalence when it has a tolerance: results equal to the bit are no accident.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from studies.contract import GAP_SPLIT, Claim
from studies.stats import curve_of, lower_is_better, mean_ci, point_values

ALPHA = 0.05
MIN_SEEDS = 3  # fewer: a t-test has almost no degrees of freedom, a share almost no resolution
# Values that vary by less than this, relative to their size, vary by rounding alone (float32 resolves 6e-8):
# a t-test on them would report p = 0 for a spread that is not there.
ROUNDING = 1e-6
VERDICTS = ("Verdicts, each at the 5% level (studies/verdicts.py); every line says in how many seeds the claim "
            "holds. Orderings (<, >, lowest, highest): one-sided paired t-tests on per-seed differences, every pair "
            "of a claim supported, Holm-corrected across the study's claims; FAIL when the opposite order is "
            "supported, or by TOST no difference larger than the claim's tolerance. Near a value: PASS when the 90% "
            "t interval of the mean lies within value ± tolerance, FAIL when wholly outside. Identity: every epoch "
            "of every seed's curves equal within the tolerance (0: bit for bit); FAIL names the first seed and "
            "epoch that differ. Per-run properties: the seeds where it holds, k of n, with a 95% Clopper-Pearson "
            "interval: PASS when k/n reaches the claim's share, FAIL when the interval lies below it. A diverged "
            "run counts as its arm's outcome (an ordering's loser) and is named; fewer than 3 seeds or values "
            "without spread: INCONCLUSIVE.")
SIGN = {"<": -1, "lowest": -1, ">": 1, "highest": 1}  # the claimed sign of arm - versus
COLUMNS = ["claim", "says", "kind", "relation", "point", "metric", "split", "article_value", "seeds", "measured",
           "verdict"]


def holm(p_values) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (step-down, monotone), NaN kept as NaN."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    order = valid[np.argsort(p[valid])]
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def paired_test(differences) -> float:
    """Two-sided paired t-test p-value on per-seed differences; 0 or 1 where they do not vary (the engine
    comparison's test; claims use the one-sided tests below)."""
    differences = np.asarray(differences, dtype=float)
    if len(differences) < 2:
        return math.nan
    if np.ptp(differences) == 0:
        return 1.0 if differences[0] == 0 else 0.0
    return float(stats.ttest_1samp(differences, 0.0).pvalue)  # identical to ttest_rel on the two samples


@dataclass
class Outcome:
    verdict: str
    seeds: str = ""  # "k of n": the seeds where the claim holds
    measured: str = ""


@dataclass
class Pair:
    """One (arm, versus) comparison of an ordering claim."""
    name: str
    advantage: pd.Series  # per seed: the difference in the claimed direction (> 0 holds); +-inf: one side diverged
    difference: dict  # mean_ci of arm - versus over the seeds where neither diverged
    problem: str  # why no t-test ran, or ""
    p_support: float  # one-sided: the claimed order
    p_opposite: float  # one-sided: the opposite order
    p_equivalent: float  # TOST: inside +-tolerance
    tied: bool  # equal in every seed
    p_refute_holm: float = math.nan

    @property
    def p_refute(self) -> float:
        # Both ways of refuting imply the one-sided upper bound lies below the tolerance: one test, no correction.
        return float(np.fmin(self.p_opposite, self.p_equivalent))


@dataclass
class Ordering:
    pairs: list[Pair]
    p_support_holm: float = math.nan

    @property
    def p_support(self) -> float:
        return float(np.max([pair.p_support for pair in self.pairs]))  # intersection-union; NaN stays NaN


def _one_sided(values, alternative: str, popmean: float = 0.0) -> float:
    return float(stats.ttest_1samp(values, popmean, alternative=alternative).pvalue)


def _untestable(values: np.ndarray) -> str:
    """Why a t-test on these per-seed values would mislead, or ""."""
    if len(values) < MIN_SEEDS:
        return f"n = {len(values)} seeds, fewer than {MIN_SEEDS}"
    if np.ptp(values) <= ROUNDING * np.max(np.abs(values)):
        return f"zero spread ({values[0]:.4g} in every seed): no t-test"
    return ""


def _worst(claim: Claim) -> float:
    """A diverged run's value: the metric's worst (a larger train-test gap is more overfitting)."""
    return math.inf if lower_is_better(claim.metric) or claim.split == GAP_SPLIT else -math.inf


def _outcomes(claim: Claim, values: pd.DataFrame, diverged, arm: str) -> pd.Series:
    """Per seed, the arm's value, or its worst where it diverged."""
    lost = sorted(seed for name, seed in diverged if name == arm)
    ran = values[values["arm"] == arm].set_index("seed")["value"].dropna()
    return pd.concat([ran, pd.Series(_worst(claim), index=lost, dtype=float)]).sort_index()


def _divergence_notes(claim: Claim, diverged) -> list[str]:
    return [f"seed {seed}: {arm} diverged" for arm, seed in sorted(diverged, key=lambda pair: (pair[1], pair[0]))
            if arm in claim.arms + claim.versus]


def _pair(claim: Claim, values: pd.DataFrame, diverged, arm: str, other: str) -> Pair:
    sign = SIGN[claim.relation]
    advantage = (sign * (_outcomes(claim, values, diverged, arm) - _outcomes(claim, values, diverged, other))).dropna()
    finite = advantage[np.isfinite(advantage)].to_numpy()  # both diverged: no information, dropped above
    won, lost = bool((advantage == math.inf).any()), bool((advantage == -math.inf).any())
    problem = _untestable(finite)
    tolerance = claim.tolerance
    support = opposite = equivalent = math.nan
    if not problem:
        support, opposite = _one_sided(finite, "greater"), _one_sided(finite, "less")
        if tolerance > 0:
            equivalent = max(_one_sided(finite, "greater", -tolerance), _one_sided(finite, "less", tolerance))
    tied = tolerance > 0 and not (won or lost) and len(finite) >= MIN_SEEDS and not finite.any()
    return Pair(f"{arm} - {other}", advantage, mean_ci(sign * finite), problem,
                p_support=math.nan if lost else support, p_opposite=math.nan if won else opposite,
                p_equivalent=math.nan if won or lost else equivalent, tied=tied)


def _ordering(claim: Claim, values: pd.DataFrame, diverged) -> Ordering:
    return Ordering([_pair(claim, values, diverged, arm, other) for arm in claim.arms for other in claim.versus])


def _adjust(orderings: list[Ordering]) -> None:
    """Holm across the study's claims for support, across all their pairs for refutation."""
    for ordering, adjusted in zip(orderings, holm([ordering.p_support for ordering in orderings])):
        ordering.p_support_holm = adjusted
    pairs = [pair for ordering in orderings for pair in ordering.pairs]
    for pair, adjusted in zip(pairs, holm([pair.p_refute for pair in pairs])):
        pair.p_refute_holm = adjusted


def _refutation(claim: Claim, pair: Pair) -> str:
    if pair.tied:
        return f"no effect larger than {claim.tolerance:g}: {pair.name} is 0 in every seed"
    if not pair.p_opposite > pair.p_equivalent:  # NaN equivalence: refuted by the opposite order
        return f"the opposite order: {pair.name} (p_holm={pair.p_refute_holm:.3g})"
    return f"no effect larger than {claim.tolerance:g}: {pair.name} (TOST p_holm={pair.p_refute_holm:.3g})"


def _pair_text(pair: Pair) -> str:
    difference = pair.difference
    interval = (f" [{difference['low']:.4g}, {difference['high']:.4g}]" if not math.isnan(difference["low"]) else "")
    p = f", one-sided p={pair.p_support:.3g}" if not math.isnan(pair.p_support) else ""
    return f"{pair.name}: {difference['mean']:.4g}{interval} (n={difference['n']}{p})"


def _ordering_outcome(claim: Claim, ordering: Ordering, alpha: float, diverged) -> Outcome:
    pairs = ordering.pairs
    frame = pd.concat([pair.advantage for pair in pairs], axis=1).dropna()
    seeds = f"{int((frame > 0).all(axis=1).sum())} of {len(frame)}"
    refuting = [pair for pair in pairs if pair.tied or pair.p_refute_holm < alpha]
    problems = sorted({f"{pair.name}: {pair.problem}" for pair in pairs if pair.problem})
    if refuting:
        verdict, reason = "FAIL", _refutation(claim, refuting[0])
    elif ordering.p_support_holm < alpha:
        verdict, reason = "PASS", f"supported in every pair (p_holm={ordering.p_support_holm:.3g})"
    else:
        verdict = "INCONCLUSIVE"
        reason = "; ".join(problems) or f"not supported at {alpha:g} (p_holm={ordering.p_support_holm:.3g})"
    lines = [f"{seeds} seeds in the claimed order", reason] + [_pair_text(pair) for pair in pairs]
    return Outcome(verdict, seeds, "; ".join(lines + _divergence_notes(claim, diverged)))


def _interval_verdict(low: float, high: float, lower: float, upper: float) -> str:
    if lower <= low and high <= upper:
        return "PASS"
    return "FAIL" if high < lower or low > upper else "INCONCLUSIVE"


def percent(level: float) -> str:
    """A confidence level as a percentage, with the digits a small look level needs: 0.9972 is 99.72%, not 100%."""
    return f"{100 * level:.4g}%"


def _near_outcome(claim: Claim, values: pd.DataFrame, alpha: float, diverged) -> Outcome:
    runs = _outcomes(claim, values, diverged, claim.arms[0])
    finite = runs[np.isfinite(runs)].to_numpy()
    lower, upper = claim.value - claim.tolerance, claim.value + claim.tolerance
    seeds = f"{int(runs.between(lower, upper).sum())} of {len(runs)}"
    confidence = 1 - 2 * alpha  # TOST at alpha: this interval inside the bounds
    summary = mean_ci(finite, confidence)
    problem = _untestable(finite)
    verdict = "INCONCLUSIVE" if problem else _interval_verdict(summary["low"], summary["high"], lower, upper)
    if verdict == "PASS" and len(finite) < len(runs):
        verdict, problem = "INCONCLUSIVE", "a diverged run is near no value"
    interval = "" if problem else f", {percent(confidence)} CI [{summary['low']:.4g}, {summary['high']:.4g}]"
    lines = [f"{seeds} seeds within {claim.value:g} ± {claim.tolerance:g}",
             f"{claim.arms[0]}: mean {summary['mean']:.4g}{interval} (n={summary['n']})"]
    lines += [problem] if problem else []
    return Outcome(verdict, seeds, "; ".join(lines + _divergence_notes(claim, diverged)))


def _per_run_outcome(claim: Claim, values: pd.DataFrame, alpha: float, diverged) -> Outcome:
    runs = _outcomes(claim, values, diverged, claim.arms[0])
    holds, n = int(((runs - claim.value).abs() <= claim.tolerance).sum()), len(runs)  # a diverged run: not near
    seeds = f"{holds} of {n}"
    line = f"{seeds} seeds within {claim.value:g} ± {claim.tolerance:g} (claimed: at least {claim.at_least:.0%})"
    if n < MIN_SEEDS:
        verdict, detail = "INCONCLUSIVE", f"n = {n} seeds, fewer than {MIN_SEEDS}"
    else:
        interval = stats.binomtest(holds, n).proportion_ci(confidence_level=1 - alpha, method="exact")
        verdict = ("FAIL" if interval.high < claim.at_least else "PASS" if holds / n >= claim.at_least
                   else "INCONCLUSIVE")
        detail = f"{percent(1 - alpha)} Clopper-Pearson interval of the share [{interval.low:.2f}, {interval.high:.2f}]"
    return Outcome(verdict, seeds, "; ".join([line, detail] + _divergence_notes(claim, diverged)))


def _curve_difference(claim: Claim, curve: pd.Series, other: pd.Series) -> dict:
    """The largest absolute and relative difference of two curves (indexed by epoch) and the first epoch where
    they differ by more than the tolerance ("" if none); an epoch only one of them ran differs."""
    both = pd.concat([curve, other], axis=1, keys=("curve", "other"))
    absolute = (both["curve"] - both["other"]).abs()
    relative = absolute / both["other"].abs().clip(lower=np.finfo(float).tiny)
    beyond = absolute[~(absolute <= claim.tolerance)]
    where = "" if beyond.empty else f"epoch {beyond.index[0]}: " + (
        "only one arm ran it" if math.isnan(beyond.iloc[0]) else f"{beyond.iloc[0]:.3g} apart "
                                                                 f"(relative {relative[beyond.index[0]]:.3g})")
    return {"absolute": absolute.max(), "relative": relative.max(), "where": where}


def _identity_rows(claim: Claim, epochs: pd.DataFrame, diverged) -> pd.DataFrame:
    """Per (pair, seed): the curves' largest differences and the first one beyond the tolerance."""
    curve = curve_of(epochs, claim.metric, claim.split).set_index(["arm", "seed", "epoch"])["value"].sort_index()
    present = set(curve.index.droplevel("epoch"))
    rows = []
    for arm, other in ((arm, other) for arm in claim.arms for other in claim.versus):
        for seed in sorted({seed for name, seed in present | diverged if name in (arm, other)}):
            gone = [name for name in (arm, other) if (name, seed) in diverged]
            if len(gone) == 1:  # one arm diverging alone is a difference
                rows.append({"seed": seed, "absolute": math.inf, "relative": math.inf, "where": f"{gone[0]} diverged"})
            elif {(arm, seed), (other, seed)} <= present:
                rows.append({"seed": seed, **_curve_difference(claim, curve[arm, seed], curve[other, seed])})
    return pd.DataFrame(rows, columns=["seed", "absolute", "relative", "where"])


def _identity_outcome(claim: Claim, epochs: pd.DataFrame, diverged) -> Outcome:
    rows = _identity_rows(claim, epochs, diverged)
    differing = rows[rows["where"] != ""].sort_values("seed", kind="stable")
    seeds = f"{rows['seed'].nunique() - differing['seed'].nunique()} of {rows['seed'].nunique()}"
    if len(differing):
        first = differing.iloc[0]
        verdict, reason = "FAIL", f"seed {first['seed']}, {first['where']}"
    elif rows["seed"].nunique() < MIN_SEEDS:
        verdict, reason = "INCONCLUSIVE", f"n = {rows['seed'].nunique()} seeds, fewer than {MIN_SEEDS}"
    else:
        within = f" within {claim.tolerance:g}" if claim.tolerance else " (bit for bit)"
        verdict, reason = "PASS", "identical in every seed" + within
    compared = rows[np.isfinite(rows["absolute"].astype(float))]  # not the seeds where one arm diverged
    largest = (f"largest difference {compared['absolute'].max():.3g} (relative {compared['relative'].max():.3g})"
               if len(compared) else "no curves compared")
    lines = [f"{seeds} seeds identical over every epoch of {claim.split} {claim.metric}", reason, largest]
    return Outcome(verdict, seeds, "; ".join(lines + _divergence_notes(claim, diverged)))


def _missing(claim: Claim, ran: set, diverged) -> Outcome | None:
    """DIVERGED when a needed arm diverged in every seed, NOT RUN when one was not run; None otherwise."""
    needed = claim.arms + claim.versus
    lost = [arm for arm in needed if arm not in ran and any(name == arm for name, _ in diverged)]
    if lost:
        counts = ", ".join(f"{arm} diverged in all {sum(name == arm for name, _ in diverged)} seeds" for arm in lost)
        return Outcome("DIVERGED", "", counts)
    return None if set(needed) <= ran else Outcome("NOT RUN")


def diverged_runs(trials: pd.DataFrame) -> set:
    """The (arm, seed) of the trials that diverged: what `judge` takes as `diverged`."""
    return set(trials.loc[trials["status"] == "diverged", ["arm", "seed"]].itertuples(index=False, name=None))


def judge(claims, epochs: pd.DataFrame, trials: pd.DataFrame, diverged=frozenset(), alpha: float = ALPHA
          ) -> pd.DataFrame:
    """Verdicts for the claims of one study run, every test at level `alpha`. `trials` (and `epochs`) are those
    that finished normally; `diverged` holds the (arm, seed) of the trials that diverged."""
    claims, diverged, ran = tuple(claims), frozenset(diverged), set(trials["arm"])
    missing = [_missing(claim, ran, diverged) for claim in claims]

    def values(claim):
        return point_values(epochs, trials, claim.metric, claim.split, claim.point)

    orderings = {index: _ordering(claim, values(claim), diverged) for index, claim in enumerate(claims)
                 if claim.kind == "ordering" and missing[index] is None}
    _adjust(list(orderings.values()))

    def outcome(index: int, claim: Claim) -> Outcome:
        if missing[index]:
            return missing[index]
        if claim.kind == "ordering":
            return _ordering_outcome(claim, orderings[index], alpha, diverged)
        if claim.kind == "identity":
            return _identity_outcome(claim, epochs, diverged)
        one_arm = _near_outcome if claim.kind == "near" else _per_run_outcome
        return one_arm(claim, values(claim), alpha, diverged)

    rows = []
    for index, claim in enumerate(claims):
        found = outcome(index, claim)
        rows.append({"claim": claim.id, "says": claim.text, "kind": claim.kind, "relation": claim.relation,
                     "point": claim.point, "metric": claim.metric, "split": claim.split,
                     "article_value": claim.article_value, "seeds": found.seeds, "measured": found.measured,
                     "verdict": found.verdict})
    return pd.DataFrame(rows, columns=COLUMNS)
