"""A verdict on each claim of a study: PASS, FAIL, INCONCLUSIVE, DIVERGED or NOT RUN, with the numbers behind it.

Each kind of claim (`Claim.kind`, given by its relation; studies/config/contract.py) has its own test, every test at
level `alpha` (judge's keyword: 0.05, or what a sequential design spends at a look; studies/stats/sequential.py).
Arms of one seed are paired (same batches, same initial weights where the architecture matches). Every verdict
line says in how many seeds the claim holds ("4 of 5 seeds"), and the `test` column names what decided it.

Per-seed differences, and one arm's values against a window, are tested by one distribution-free test: the
sign-flip permutation test on their mean (`sign_flip_p`). With no effect the two arms of a seed are
exchangeable, so each difference is symmetric about 0 whatever its shape (the real ones are skewed, skew -3.5
and 1.6, and heavy-tailed), every pattern of signs is as likely as the data's own, and the share of patterns
whose mean reaches the data's is an exact p-value: no normality, unlike a t-test, which errs up to 16% one way
on exponential-shaped differences. All 2^n patterns are enumerated up to n = 16 seeds; beyond, the data's own
and 65,535 drawn with a fixed seed (p = (1 + reaching) / 65,536, also exact). The price: p is never below 2^-n
(5 seeds: 0.031), so a claim cannot be decided at a level below that; n_seeds=auto first looks at 10 seeds.

The rules, what gives each kind of claim (`Claim.kind`) PASS or FAIL, are written once, in RULES below, which the
reports print (VERDICTS); here is why they are so.
- ordering: a claim over several pairs holds only where every pair does (intersection-union: its p-value is the
  largest of its pairs', no correction inside a claim). TOST's refuting p-value is the smaller of its two tests'
  (both imply an effect below the tolerance), and a claim refuted FAILs even if also supported: an effect shown
  smaller than the tolerance is not the effect claimed. Results equal to the bit in every seed are no accident.
- near a value: the interval shown (`sign_flip_interval`) is the one that inverts the two tests.
- per-run property: a share above 90% needs about 30 of 30 runs at a look's level: that is what a few runs prove.
- single run: the article's value came from one run of its own, read to +- tolerance (an epoch off a figure's
  axis). Is that run a plausible run of ours? Our per-seed values give the prediction interval of one more run,
  mean +- t(n-1, 1 - alpha/2) sd sqrt(1 + 1/n); if the article's run is a draw from ours (normal), P(FAIL) <=
  alpha. Shown: where the article's value would rank among ours, and our mean's 1 - alpha t interval.
- identity: no statistics: one differing seed refutes an identity, and differences of opposite sign do not cancel.
Family-wise: Holm's PASS p-values are an ordering's, a near claim's and a per-run claim's; its FAIL p-values each
ordering pair's, a near claim's, a per-run claim's and a single-run claim's. With no effect anywhere, P(any false
PASS) <= alpha and P(any false FAIL) <= alpha for any dependence between the claims.
A diverged seed in an ordering goes to one side and stays out of the tests, whose result it could only
strengthen; fewer than MIN_SEEDS seeds, or (single run) values without spread, leave no test to run.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

from studies.config.contract import GAP_SPLIT, Claim
from studies.stats.across_seeds import curve_of, lower_is_better, mean_ci, point_values

ALPHA = 0.05
VERDICT_NAMES = ("PASS", "FAIL", "INCONCLUSIVE", "DIVERGED", "NOT RUN")  # every verdict a claim can get; the
# console's colours (studies/run/logs.py) and the pages' order and styles (studies/report/) name each: tests check
MIN_SEEDS = 3  # fewer: a share has almost no resolution, a prediction interval no degrees of freedom
# Values that vary by less than this, relative to their size, vary by rounding alone (float32 resolves 6e-8):
# a prediction interval from them would be a point.
ROUNDING = 1e-6
EXACT_SEEDS = 16  # up to this many seeds the sign-flip test enumerates all 2^n patterns (2^16 = 65,536)
RANDOM_PATTERNS = 2 ** 16 - 1  # beyond: the data's own pattern and this many drawn
PATTERN_SEED = 25  # the drawn patterns are the same in every call, so a verdict is reproducible (issue #25)
# A pattern's sum within this share of sum |d| of the data's own reaches it: equal sums that rounding split
# (the data's own pattern among them) count as ties, as exact arithmetic would have them.
TIES = 1e-9
FIRST_CHUNK = 1024  # patterns summed at a time at first, twice as many each next time
BLOCK = 2 ** 21  # pattern sums held at once (16 MB)
SIDES = {"greater": 1, "less": -1}
# The rules, one per kind of claim (Claim.kind): the reports print them, in VERDICTS.
RULES = {
    "ordering": "Orderings (<, >, lowest, highest): PASS when every (arm, versus) pair of the claim is supported by a "
                "one-sided sign-flip test of its per-seed differences; FAIL when a pair shows the opposite order, "
                "or, by TOST (two one-sided tests of the differences shifted by ± tolerance), no difference larger "
                "than the claim's tolerance (tolerance 0: never), even if also supported; arms equal in every seed "
                "FAIL so when the claim has a tolerance.",
    "near": "Near a value: PASS by TOST within value ± tolerance, FAIL when shown wholly outside.",
    "per-run": "Per-run properties: k of n seeds, exact binomial tests of the share against the claim's at_least "
               "(PASS above it, FAIL below), with the share's Clopper-Pearson interval.",
    "single-run": "Single-run values: FAIL when the article's value ± tolerance lies outside our t prediction "
                  "interval of one run, else PASS (not refuted).",
    "identity": "Identity: every epoch of every seed's curves equal within the tolerance (0: bit for bit; NaN in "
                "both equal, in one only a difference); FAIL names the first seed and epoch that differ.",
    "every-run": "Every run (an API's behaviour): PASS when it holds in every run that measures it (at least 3), "
                 "FAIL naming the first that does not.",
}
VERDICTS = " ".join([
    "Verdicts (studies/stats/verdicts.py), each test at the level of the look that decided it (5% with a fixed "
    "n_seeds); every line says in how many seeds the claim holds and the test column what decided it. Per-seed "
    "differences and values against a window: sign-flip permutation tests on the mean, exact whatever the "
    "differences' shape when the arms are exchangeable (all 2^n patterns up to 16 seeds, else 65,536).",
    *RULES.values(),
    "Holm's correction runs over all the study's PASS p-values, and separately its FAIL p-values. Intervals are "
    "shown at the look's level. A diverged run did not learn: in an ordering or a per-run claim it counts as its "
    "arm's worst value (an ordering's loser, even in every seed) and is named; in a single-run claim it is left "
    "out; a claim that needs an arm's values (near, single run, identity) is DIVERGED when it diverged in every "
    f"seed, NOT RUN when the arm was not run. Fewer than {MIN_SEEDS} seeds: INCONCLUSIVE, as is anything else.",
    "Measured with n_seeds=auto over 96,000 simulated studies (tests/test_sequential.py; ± Monte Carlo standard "
    "error): with no effect a claim falsely PASSes 2.90% ± 0.05% of the time (decided either way 5.8%), also "
    "with skewed (exponential arms) or heavy-tailed (t with 3 df) differences; some claim of 3 or of 16 without "
    "effect PASSes 3.07% ± 0.06% and 3.04% ± 0.06%; a mean on a window's edge PASSes 2.09% ± 0.05%; a difference "
    "of 1 sd PASSes 99.91% ± 0.01%, after 13.6 seeds on average. The guarantee is for exchangeable arms: arms "
    "with equal means but skewed differences pass 11%.",
])
SIGN = {"<": -1, "lowest": -1, ">": 1, "highest": 1}  # the claimed sign of arm - versus
COLUMNS = ["claim", "says", "kind", "relation", "point", "metric", "split", "article_value", "seeds", "measured",
           "test", "verdict"]


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


def percent(level: float) -> str:
    """A confidence level as a percentage, with the digits a small look level needs: 0.9972 is 99.72%, not 100%."""
    return f"{100 * level:.4g}%"


@lru_cache(maxsize=4)
def sign_patterns(seeds: int) -> np.ndarray:
    """(patterns, seeds) of +-1, the first all +1 (the data as observed): all 2^n for n <= EXACT_SEEDS, else
    the data's own and RANDOM_PATTERNS drawn with PATTERN_SEED."""
    if seeds <= EXACT_SEEDS:
        bits = (np.arange(2 ** seeds)[:, None] >> np.arange(seeds)) & 1
    else:
        drawn = np.random.default_rng(PATTERN_SEED).integers(0, 2, size=(RANDOM_PATTERNS, seeds))
        bits = np.vstack([np.zeros((1, seeds), dtype=drawn.dtype), drawn])
    patterns = (1 - 2 * bits).astype(float)
    patterns.flags.writeable = False
    return patterns


def _reaching(rows: np.ndarray, patterns: np.ndarray, limit: float) -> np.ndarray:
    """Per row, how many patterns' sums reach the row's own sum, counted over chunks of patterns that double
    in size; a row stops once its count reaches `limit` (its p-value is then known to reach it)."""
    reach = rows.sum(axis=1) - TIES * np.abs(rows).sum(axis=1)
    counts = np.zeros(len(rows), dtype=np.int64)
    active, start, size = np.arange(len(rows)), 0, FIRST_CHUNK
    while start < len(patterns) and active.size:
        chunk = patterns[start:start + size].T
        for block in np.array_split(active, -(-active.size * chunk.shape[1] // BLOCK)):
            counts[block] += np.count_nonzero(rows[block] @ chunk >= reach[block, None], axis=1)
        active = active[counts[active] < limit]
        start, size = start + size, 2 * size
    return counts


def sign_flip_p(differences, alternative: str = "greater", null: float = 0.0, only_below: float = 1.0):
    """One-sided p-value of the sign-flip permutation test of "the mean of `differences` is `null`" against
    a mean greater (or less): the share of sign patterns whose sum of differences - null reaches the data's
    (>=, or <=). Exact when each difference is symmetric about `null` (exchangeable paired arms make it so),
    whatever its shape. The last axis holds the seeds: a (studies, seeds) array gives a p-value per study.
    `only_below`: where only p-values below it matter (a simulation's decisions), a row stops being counted once
    its p-value is shown to reach it, and comes back as 1."""
    if alternative not in SIDES:
        raise ValueError(f"alternative={alternative!r}; valid: {', '.join(SIDES)}")
    centred = SIDES[alternative] * (np.asarray(differences, dtype=float) - null)
    rows = np.atleast_2d(centred)
    patterns = sign_patterns(rows.shape[1])
    limit = only_below * len(patterns)
    counts = _reaching(rows, patterns, limit)
    p = np.where(counts >= limit, 1.0, counts / len(patterns))
    return float(p[0]) if centred.ndim == 1 else p


def sign_flip_name(seeds: int) -> str:
    """The test, as the `test` column names it."""
    if seeds <= EXACT_SEEDS:
        return f"sign-flip permutation (exact, 2^{seeds} patterns)"
    return f"sign-flip permutation ({RANDOM_PATTERNS + 1:,} patterns, {RANDOM_PATTERNS:,} random)"


def _lower_bound(values: np.ndarray, level: float) -> float:
    """The smallest center c that the "greater" sign-flip test of values - c does not reject at `level`. A
    pattern's sum of values - c reaches the data's own exactly when the values it flips have a mean <= c (the
    data's own pattern flips none), so p(c) is the share of patterns whose flipped values' mean is at most c:
    a step function rising in c, which first reaches the level at the k-th smallest of those means."""
    flipped = sign_patterns(len(values)) < 0
    sizes = flipped.sum(axis=1)
    needed = math.ceil(level * len(flipped)) - int((sizes == 0).sum())  # patterns flipping none always reach
    if needed <= 0:
        return -math.inf
    means = (flipped[sizes > 0] @ values) / sizes[sizes > 0]
    return float(np.partition(means, needed - 1)[needed - 1])


def sign_flip_interval(values, level: float) -> tuple[float, float]:
    """The centers that neither one-sided sign-flip test rejects at `level`: a 1 - 2 level interval of the mean,
    inside a window exactly when TOST at `level` passes; infinite on a side no test can reach (2^-n >= level)."""
    values = np.asarray(values, dtype=float)
    return _lower_bound(values, level), -_lower_bound(-values, level)


def _interval_text(values: np.ndarray, level: float) -> str:
    low, high = sign_flip_interval(values, level)
    return f"{percent(1 - 2 * level)} interval [{low:.4g}, {high:.4g}]"


@dataclass
class Outcome:
    verdict: str
    seeds: str = ""  # "k of n": the seeds where the claim holds
    measured: str = ""
    test: str = ""  # the test that decided it


@dataclass
class Tests:
    """A claim's one-sided p-values: PASS's and FAIL's (an ordering: one per pair), and after Holm's correction
    across the study's claims. NaN: no such test (too few seeds, a diverged run barring PASS)."""
    support: float = math.nan
    refutes: tuple[float, ...] = ()
    support_holm: float = math.nan
    refutes_holm: tuple[float, ...] = ()


def _adjust(all_tests: list[Tests]) -> None:
    """Holm across the study's claims: once over the PASS p-values, once over the FAIL p-values."""
    for tests, adjusted in zip(all_tests, holm([tests.support for tests in all_tests])):
        tests.support_holm = float(adjusted)
    adjusted = iter(holm([p for tests in all_tests for p in tests.refutes]))
    for tests in all_tests:
        tests.refutes_holm = tuple(float(next(adjusted)) for _ in tests.refutes)


@dataclass
class Pair:
    """One (arm, versus) comparison of an ordering claim."""
    name: str
    advantage: pd.Series  # per seed: the difference in the claimed direction (> 0 holds); +-inf: one side diverged
    difference: np.ndarray  # arm - versus over the seeds where neither diverged
    problem: str  # why no test ran, or ""
    p_support: float  # one-sided: the claimed order
    p_opposite: float  # one-sided: the opposite order
    p_equivalent: float  # TOST: inside +-tolerance
    tied: bool  # equal in every seed

    @property
    def p_refute(self) -> float:
        # Both ways of refuting imply the one-sided upper bound lies below the tolerance: one test, no correction.
        return float(np.fmin(self.p_opposite, self.p_equivalent))


@dataclass
class Ordering:
    pairs: list[Pair]
    tests: Tests


def _too_few(values: np.ndarray) -> str:
    """Why no test runs on these per-seed values, or ""."""
    return f"n = {len(values)} seeds, fewer than {MIN_SEEDS}" if len(values) < MIN_SEEDS else ""


def _worst(claim: Claim) -> float:
    """A diverged run's value: the metric's worst (a larger train-test gap is more overfitting)."""
    return math.inf if lower_is_better(claim.metric) or claim.split == GAP_SPLIT else -math.inf


def _outcomes(claim: Claim, values: pd.DataFrame, diverged, arm: str) -> pd.Series:
    """Per seed, the arm's value, or its worst where it diverged."""
    lost = sorted(seed for name, seed in diverged if name == arm)
    ran = values[values["arm"] == arm].set_index("seed")["value"].dropna()
    return pd.concat([ran, pd.Series(_worst(claim), index=lost, dtype=float)]).sort_index()


def _divergence_notes(claim: Claim, diverged) -> list[str]:
    counted = " (counted as its worst value: it did not learn)" if claim.kind in OUTCOME_KINDS else ""
    by_seed = sorted(diverged, key=lambda pair: (pair[1], pair[0]))
    return [f"seed {seed}: {arm} diverged{counted}" for arm, seed in by_seed if arm in claim.arms + claim.versus]


def _equivalence_p(differences: np.ndarray, tolerance: float) -> float:
    """TOST: the larger of the two one-sided p-values against -tolerance and +tolerance."""
    return max(sign_flip_p(differences, "greater", -tolerance), sign_flip_p(differences, "less", tolerance))


def _ranked(advantage: np.ndarray) -> np.ndarray:
    """The advantages with a diverged side's +-inf as +-(twice the finite ones' total + 1): a sign pattern's sum
    then orders first by the diverged seeds' signs, then by the finite sum, so the sign-flip test counts a seed
    where one arm diverged as won or lost outright (exact under exchangeable arms, as for any statistic)."""
    finite = np.isfinite(advantage)
    big = 2 * np.abs(advantage[finite]).sum() + 1
    return np.where(finite, advantage, np.sign(advantage) * big)


def _pair(claim: Claim, values: pd.DataFrame, diverged, arm: str, other: str) -> Pair:
    sign = SIGN[claim.relation]
    advantage = (sign * (_outcomes(claim, values, diverged, arm) - _outcomes(claim, values, diverged, other))).dropna()
    finite = advantage[np.isfinite(advantage)].to_numpy()  # both diverged: no information, dropped above
    one_diverged = len(finite) < len(advantage)
    tested = _ranked(advantage.to_numpy())
    problem = _too_few(tested)
    support = opposite = equivalent = math.nan
    if not problem:
        support, opposite = sign_flip_p(tested, "greater"), sign_flip_p(tested, "less")
        if claim.tolerance > 0 and not one_diverged:  # a diverged arm is no equivalent of one that ran
            equivalent = _equivalence_p(finite, claim.tolerance)
    tied = claim.tolerance > 0 and not one_diverged and not problem and not finite.any()
    return Pair(f"{arm} - {other}", advantage, sign * finite, problem, p_support=support, p_opposite=opposite,
                p_equivalent=equivalent, tied=tied)


def _ordering(claim: Claim, values: pd.DataFrame, diverged) -> Ordering:
    pairs = [_pair(claim, values, diverged, arm, other) for arm in claim.arms for other in claim.versus]
    support = float(np.max([pair.p_support for pair in pairs]))  # intersection-union; NaN stays NaN
    return Ordering(pairs, Tests(support, tuple(pair.p_refute for pair in pairs)))


def _refutation(claim: Claim, pair: Pair, p_holm: float) -> str:
    if pair.tied:
        return f"no effect larger than {claim.tolerance:g}: {pair.name} is 0 in every seed"
    if not pair.p_opposite > pair.p_equivalent:  # NaN equivalence: refuted by the opposite order
        return f"the opposite order: {pair.name} (p_holm={p_holm:.3g})"
    return f"no effect larger than {claim.tolerance:g}: {pair.name} (TOST p_holm={p_holm:.3g})"


def _pair_text(pair: Pair, level: float) -> str:
    if pair.problem:
        return f"{pair.name}: n={len(pair.difference)}"
    return (f"{pair.name}: mean {pair.difference.mean():.4g}, {_interval_text(pair.difference, level)} "
            f"(n={len(pair.difference)}" + (f", one-sided p={pair.p_support:.3g})" if not math.isnan(pair.p_support)
                                           else ")"))


def _ordering_outcome(claim: Claim, ordering: Ordering, level: float, diverged) -> Outcome:
    pairs, tests = ordering.pairs, ordering.tests
    frame = pd.concat([pair.advantage for pair in pairs], axis=1).dropna()
    seeds = f"{int((frame > 0).all(axis=1).sum())} of {len(frame)}"
    refuting = [(pair, p) for pair, p in zip(pairs, tests.refutes_holm) if pair.tied or p < level]
    problems = sorted({f"{pair.name}: {pair.problem}" for pair in pairs if pair.problem})
    tested = [len(pair.difference) for pair in pairs if not pair.problem]
    test = sign_flip_name(max(tested)) if tested else ""
    if refuting:
        verdict, reason = "FAIL", _refutation(claim, *refuting[0])
        test = "equal in every seed" if refuting[0][0].tied else test
    elif tests.support_holm < level:
        verdict, reason = "PASS", f"supported in every pair (p_holm={tests.support_holm:.3g})"
    else:
        verdict = "INCONCLUSIVE"
        reason = "; ".join(problems) or f"not supported at {level:.3g} (p_holm={tests.support_holm:.3g})"
    lines = [f"{seeds} seeds in the claimed order", reason] + [_pair_text(pair, level) for pair in pairs]
    return Outcome(verdict, seeds, "; ".join(lines + _divergence_notes(claim, diverged)), test)


@dataclass
class OneArm:
    """The claim's arm: its per-seed values (+-inf where it diverged) and those it finished."""
    runs: pd.Series
    finite: np.ndarray
    problem: str
    tests: Tests


def _one_arm(claim: Claim, values: pd.DataFrame, diverged) -> tuple[pd.Series, np.ndarray]:
    runs = _outcomes(claim, values, diverged, claim.arms[0])
    return runs, runs[np.isfinite(runs)].to_numpy()


def _window(claim: Claim) -> tuple[float, float]:
    return claim.value - claim.tolerance, claim.value + claim.tolerance


def _near(claim: Claim, values: pd.DataFrame, diverged) -> OneArm:
    """TOST on the arm's values: PASS when shown above the window's lower edge and below its upper; FAIL when
    shown below the lower or above the upper (a diverged run bars PASS: it is near no value)."""
    runs, finite = _one_arm(claim, values, diverged)
    lower, upper = _window(claim)
    problem = _too_few(finite)
    if problem:
        return OneArm(runs, finite, problem, Tests())
    support = max(sign_flip_p(finite, "greater", lower), sign_flip_p(finite, "less", upper))
    refute = min(sign_flip_p(finite, "less", lower), sign_flip_p(finite, "greater", upper))
    return OneArm(runs, finite, problem, Tests(support if len(finite) == len(runs) else math.nan, (refute,)))


def _near_outcome(claim: Claim, near: OneArm, level: float, diverged) -> Outcome:
    runs, finite, tests = near.runs, near.finite, near.tests
    lower, upper = _window(claim)
    seeds = f"{int(runs.between(lower, upper).sum())} of {len(runs)}"
    verdict, reason = _decided(tests, level, f"{claim.value:g} ± {claim.tolerance:g}")
    if verdict == "INCONCLUSIVE" and len(finite) < len(runs) and not near.problem:
        reason = "a diverged run is near no value: no PASS"
    lines = [f"{seeds} seeds within {claim.value:g} ± {claim.tolerance:g}"]
    if near.problem:
        lines += [f"{claim.arms[0]}: mean {np.mean(finite) if len(finite) else math.nan:.4g} (n={len(finite)})",
                  near.problem]
    else:
        lines += [f"{claim.arms[0]}: mean {finite.mean():.4g}, {_interval_text(finite, level)} (n={len(finite)})",
                  reason]
    test = "" if near.problem else f"TOST, {sign_flip_name(len(finite))}"
    return Outcome(verdict, seeds, "; ".join(lines + _divergence_notes(claim, diverged)), test)


def _decided(tests: Tests, level: float, window: str) -> tuple[str, str]:
    """FAIL when the Holm-adjusted refutation is below the level, else PASS when the support is, with why."""
    if tests.refutes_holm and tests.refutes_holm[0] < level:
        return "FAIL", f"shown outside {window} (p_holm={tests.refutes_holm[0]:.3g})"
    if tests.support_holm < level:
        return "PASS", f"shown within {window} by TOST (p_holm={tests.support_holm:.3g})"
    p = "" if math.isnan(tests.support_holm) else f" (TOST p_holm={tests.support_holm:.3g})"
    return "INCONCLUSIVE", f"not shown within or outside {window} at {level:.3g}{p}"


@dataclass
class PerRun:
    holds: int  # runs within the window (a diverged run is not)
    runs: int
    tests: Tests


def run_property(claim: Claim) -> str:
    """What a per-run or every-run claim asks of each run, in words."""
    if claim.relation == "runs_above":
        return f"above {claim.value + claim.tolerance:g}"
    if claim.relation == "runs_below":
        return f"below {claim.value - claim.tolerance:g}"
    return f"within {claim.value:g} ± {claim.tolerance:g}"


def _every_run_outcome(claim: Claim, values: pd.DataFrame, diverged) -> Outcome:
    """An API's behaviour: it holds in every run that measures it (NaN: a run where it cannot show, such as one
    that used all its epochs), or the first run where it does not refutes it. No statistics: one counterexample
    is enough, and no number of agreeing runs is more than that many."""
    runs = values[values["arm"] == claim.arms[0]].set_index("seed")["value"].dropna().sort_index()
    holds = claim.holds_in(runs.to_numpy())
    seeds = f"{int(holds.sum())} of {len(runs)}"
    line = f"{seeds} seeds {run_property(claim)}"
    if not holds.all():
        seed = runs.index[~holds][0]
        verdict, reason = "FAIL", f"seed {seed}: {runs[seed]:g}"
    elif len(runs) < MIN_SEEDS:
        verdict, reason = "INCONCLUSIVE", f"n = {len(runs)} runs measure it, fewer than {MIN_SEEDS}"
    else:
        verdict, reason = "PASS", "in every run that measures it"
    return Outcome(verdict, seeds, "; ".join([line, reason] + _divergence_notes(claim, diverged)), "every run checked")


def _per_run(claim: Claim, values: pd.DataFrame, diverged) -> PerRun:
    """Exact binomial tests of the share of runs within the window against `at_least`, each way."""
    runs, _ = _one_arm(claim, values, diverged)
    holds, n = int(claim.holds_in(runs).sum()), len(runs)
    if n < MIN_SEEDS:
        return PerRun(holds, n, Tests())
    above = stats.binomtest(holds, n, claim.at_least, alternative="greater").pvalue
    below = stats.binomtest(holds, n, claim.at_least, alternative="less").pvalue
    return PerRun(holds, n, Tests(float(above), (float(below),)))


def _per_run_outcome(claim: Claim, per_run: PerRun, level: float, diverged) -> Outcome:
    holds, n, tests = per_run.holds, per_run.runs, per_run.tests
    seeds = f"{holds} of {n}"
    line = f"{seeds} seeds {run_property(claim)} (claimed: at least {claim.at_least:.0%})"
    if n < MIN_SEEDS:
        return Outcome("INCONCLUSIVE", seeds, "; ".join([line, f"n = {n} seeds, fewer than {MIN_SEEDS}"]
                                                         + _divergence_notes(claim, diverged)))
    interval = stats.binomtest(holds, n).proportion_ci(confidence_level=1 - 2 * level, method="exact")
    if tests.refutes_holm[0] < level:
        verdict, reason = "FAIL", f"share below {claim.at_least:.0%} (p_holm={tests.refutes_holm[0]:.3g})"
    elif tests.support_holm < level:
        verdict, reason = "PASS", f"share above {claim.at_least:.0%} (p_holm={tests.support_holm:.3g})"
    else:
        verdict, reason = "INCONCLUSIVE", (f"share not shown above or below {claim.at_least:.0%} at {level:.3g} "
                                           f"(p_holm={tests.support_holm:.3g} above)")
    detail = (f"{percent(1 - 2 * level)} Clopper-Pearson interval of the share [{interval.low:.2f}, "
              f"{interval.high:.2f}]")
    return Outcome(verdict, seeds, "; ".join([line, reason, detail] + _divergence_notes(claim, diverged)),
                   "exact binomial")


def _single_run(claim: Claim, values: pd.DataFrame, diverged) -> OneArm:
    """The two-sided p-value of the window's point nearest our mean as one more run of ours (t prediction)."""
    runs, finite = _one_arm(claim, values, diverged)
    problem = _too_few(finite)
    if not problem and np.ptp(finite) <= ROUNDING * np.max(np.abs(finite)):
        problem = f"zero spread ({finite[0]:.4g} in every seed): no prediction interval"
    if problem:
        return OneArm(runs, finite, problem, Tests())
    nearest = np.clip(finite.mean(), *_window(claim))
    scaled = abs(nearest - finite.mean()) / (finite.std(ddof=1) * math.sqrt(1 + 1 / len(finite)))
    return OneArm(runs, finite, problem, Tests(refutes=(float(2 * stats.t.sf(scaled, len(finite) - 1)),)))


def _ordinal(rank: int) -> str:
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return f"{rank}{suffix}"


def _single_run_outcome(claim: Claim, single: OneArm, level: float, diverged) -> Outcome:
    """The seeds column counts our runs (the claim is about the article's one run, not a share of ours); the
    line leads with whether the article's value lies in our prediction interval of one run."""
    runs, finite, tests = single.runs, single.finite, single.tests
    lower, upper = _window(claim)
    seeds = f"{len(runs)} seeds"
    within = (f"{int(runs.between(lower, upper).sum())} of {len(runs)} of our runs within {claim.value:g} "
              f"± {claim.tolerance:g}")
    if single.problem:
        return Outcome("INCONCLUSIVE", seeds, "; ".join([single.problem, within] + _divergence_notes(claim, diverged)))
    mean, spread, n = finite.mean(), finite.std(ddof=1), len(finite)
    half = stats.t.isf(level / 2, n - 1) * spread * math.sqrt(1 + 1 / n)
    summary = mean_ci(finite, 1 - level)
    p, p_holm = tests.refutes[0], tests.refutes_holm[0]
    verdict = "FAIL" if p_holm < level else "PASS"
    place = "lies wholly outside" if verdict == "FAIL" else "meets"
    reason = "not a plausible run of ours" if verdict == "FAIL" else "a plausible run of ours"
    rank = _ordinal(int((finite < claim.value).sum()) + 1)
    lines = [f"the article's {claim.value:g} ± {claim.tolerance:g} {place} our {percent(1 - level)} prediction "
             f"interval of one run [{mean - half:.4g}, {mean + half:.4g}]: {reason} (p={p:.3g}, p_holm={p_holm:.3g})",
             f"it would rank {rank} of {n + 1} (smallest first)", within,
             f"{claim.arms[0]}: mean {mean:.4g}, {percent(1 - level)} CI [{summary['low']:.4g}, "
             f"{summary['high']:.4g}] (n={n})"]
    return Outcome(verdict, seeds, "; ".join(lines + _divergence_notes(claim, diverged)), "t prediction interval")


def _curve_difference(claim: Claim, curve: pd.Series, other: pd.Series) -> dict:
    """The largest absolute and relative difference of two curves (indexed by epoch), the first epoch where
    they differ by more than the tolerance ("" if none) and how many epochs are NaN in both (equal: the same
    failure at the same epoch); an epoch only one of them ran, or NaN in one only, differs."""
    both = pd.concat([curve, other], axis=1, keys=("curve", "other"))
    ran = both.index.isin(curve.index) & both.index.isin(other.index)
    nan_in_both = ran & both["curve"].isna().to_numpy() & both["other"].isna().to_numpy()
    absolute = (both["curve"] - both["other"]).abs().mask(nan_in_both, 0.0)
    relative = (absolute / both["other"].abs().clip(lower=np.finfo(float).tiny)).mask(nan_in_both, 0.0)
    beyond = absolute[~(absolute <= claim.tolerance)]
    where = ""
    if not beyond.empty:
        epoch = beyond.index[0]
        where = f"epoch {epoch}: " + ("only one arm ran it" if not ran[both.index.get_loc(epoch)] else
                                      "NaN in one arm only" if math.isnan(beyond.iloc[0]) else
                                      f"{beyond.iloc[0]:.3g} apart (relative {relative[epoch]:.3g})")
    return {"absolute": absolute.max(), "relative": relative.max(), "where": where, "nan": int(nan_in_both.sum())}


def _identity_rows(claim: Claim, epochs: pd.DataFrame, diverged) -> pd.DataFrame:
    """Per (pair, seed): the curves' largest differences, the first one beyond the tolerance, NaN epochs in both."""
    curve = curve_of(epochs, claim.metric, claim.split).set_index(["arm", "seed", "epoch"])["value"].sort_index()
    present = set(curve.index.droplevel("epoch"))
    rows = []
    for arm, other in ((arm, other) for arm in claim.arms for other in claim.versus):
        for seed in sorted({seed for name, seed in present | diverged if name in (arm, other)}):
            gone = [name for name in (arm, other) if (name, seed) in diverged]
            if len(gone) == 1:  # one arm diverging alone is a difference
                rows.append({"seed": seed, "absolute": math.inf, "relative": math.inf, "where": f"{gone[0]} diverged",
                             "nan": 0})
            elif {(arm, seed), (other, seed)} <= present:
                rows.append({"seed": seed, **_curve_difference(claim, curve[arm, seed], curve[other, seed])})
    return pd.DataFrame(rows, columns=["seed", "absolute", "relative", "where", "nan"])


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
    if rows["nan"].sum():
        lines.append(f"NaN in both arms at {int(rows['nan'].sum())} epochs, counted equal")
    return Outcome(verdict, seeds, "; ".join(lines + _divergence_notes(claim, diverged)), "curves compared")


OUTCOME_KINDS = ("ordering", "per-run")  # kinds where a diverged run is an outcome: its arm's worst value


def _missing(claim: Claim, ran: set, diverged) -> Outcome | None:
    """DIVERGED when a needed arm diverged in every seed of a claim that needs its values, NOT RUN when one was
    not run; None otherwise. In an ordering or a per-run claim a diverged run is an outcome (a run that diverged
    did not learn), so an arm that diverged in every seed is judged, not DIVERGED."""
    needed = claim.arms + claim.versus
    lost = [arm for arm in needed if arm not in ran and any(name == arm for name, _ in diverged)]
    if claim.kind in OUTCOME_KINDS:
        ran = ran | set(lost)
        lost = []
    if lost:
        counts = ", ".join(f"{arm} diverged in all {sum(name == arm for name, _ in diverged)} seeds" for arm in lost)
        return Outcome("DIVERGED", "", counts)
    return None if set(needed) <= ran else Outcome("NOT RUN")


def diverged_runs(trials: pd.DataFrame) -> set:
    """The (arm, seed) of the trials that diverged: what `judge` takes as `diverged`."""
    return set(trials.loc[trials["status"] == "diverged", ["arm", "seed"]].itertuples(index=False, name=None))


# Per kind with p-values: what its tests need from the values, then its outcome from the Holm-adjusted p-values.
TESTED = {"ordering": (_ordering, _ordering_outcome), "near": (_near, _near_outcome),
          "per-run": (_per_run, _per_run_outcome), "single-run": (_single_run, _single_run_outcome)}


def judge(claims, epochs: pd.DataFrame, trials: pd.DataFrame, diverged=frozenset(), alpha: float = ALPHA
          ) -> pd.DataFrame:
    """Verdicts for the claims of one study run, every test at level `alpha`, Holm-corrected across the claims.
    `trials` (and `epochs`) are those that finished normally; `diverged` holds the (arm, seed) of the trials
    that diverged."""
    claims, diverged, ran = tuple(claims), frozenset(diverged), set(trials["arm"])
    missing = [_missing(claim, ran, diverged) for claim in claims]
    tested = {index: TESTED[claim.kind][0](claim, point_values(epochs, trials, claim.metric, claim.split,
                                                                claim.point), diverged)
              for index, claim in enumerate(claims) if claim.kind in TESTED and missing[index] is None}
    _adjust([found.tests for found in tested.values()])

    def outcome(index: int, claim: Claim) -> Outcome:
        if missing[index]:
            return missing[index]
        if claim.kind == "identity":
            return _identity_outcome(claim, epochs, diverged)
        if claim.kind == "every-run":
            return _every_run_outcome(claim, point_values(epochs, trials, claim.metric, claim.split, claim.point),
                                      diverged)
        return TESTED[claim.kind][1](claim, tested[index], alpha, diverged)

    rows = []
    for index, claim in enumerate(claims):
        found = outcome(index, claim)
        rows.append({"claim": claim.id, "says": claim.text, "kind": claim.kind, "relation": claim.relation,
                     "point": claim.point, "metric": claim.metric, "split": claim.split,
                     "article_value": claim.article_value, "seeds": found.seeds, "measured": found.measured,
                     "test": found.test, "verdict": found.verdict})
    return pd.DataFrame(rows, columns=COLUMNS)
