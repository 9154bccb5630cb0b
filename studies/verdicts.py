"""A verdict on each claim of a study: PASS, FAIL or INCONCLUSIVE, with the numbers behind it.

Arms of one seed are paired (same batches, same initial weights where the architecture matches), so a
comparison "A < B" is tested on the per-seed differences A_s - B_s: the effect is their mean with a
Student-t 95% CI, the p-value comes from the paired t-test (scipy.stats.ttest_rel, two-sided; with 5
seeds a Wilcoxon signed-rank test can never reach p < 0.05), and Holm's correction runs over all the
comparisons of a study's claims. A claim over several pairs passes when every pair does.
- <, >, lowest, highest: PASS if every difference has the claimed sign at Holm-corrected p < 0.05;
  FAIL if any pair shows the opposite sign at that level; otherwise INCONCLUSIVE.
- equal (within `tolerance`): PASS if the 95% CI of every difference lies inside +-tolerance; FAIL if one
  lies wholly outside; otherwise INCONCLUSIVE.
- approx (`value` +- `tolerance`): the same test on the arm's own mean against the interval.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from studies.contract import Claim
from studies.stats import mean_ci, point_values

ALPHA = 0.05
VERDICTS = ("Verdicts: paired t-test on per-seed differences, Holm-corrected across the study's comparisons, or "
            "the 95% interval against the claim's tolerance (see studies/verdicts.py).")
DIRECTIONAL = {"<": -1, "lowest": -1, ">": 1, "highest": 1}


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
    """Two-sided paired t-test p-value on per-seed differences; 0 or 1 where they do not vary."""
    differences = np.asarray(differences, dtype=float)
    if len(differences) < 2:
        return math.nan
    if np.ptp(differences) == 0:
        return 1.0 if differences[0] == 0 else 0.0
    return float(stats.ttest_1samp(differences, 0.0).pvalue)  # identical to ttest_rel on the two samples


def _interval_verdict(low: float, high: float, lower: float, upper: float) -> str:
    if math.isnan(low):
        return "INCONCLUSIVE"
    if lower <= low and high <= upper:
        return "PASS"
    return "FAIL" if high < lower or low > upper else "INCONCLUSIVE"


def _per_seed(values: pd.DataFrame, arm: str) -> pd.Series:
    return values[values["arm"] == arm].set_index("seed")["value"]


def comparisons(claim: Claim, values: pd.DataFrame, alpha: float = ALPHA) -> list[dict]:
    """One row per (arm, versus) pair, or one row for an `approx` claim."""
    if claim.relation == "approx":
        summary = mean_ci(_per_seed(values, claim.arms[0]).dropna(), 1 - alpha)
        return [{"pair": claim.arms[0], **summary, "p": math.nan}]
    rows = []
    for arm in claim.arms:
        for other in claim.versus:
            a, b = _per_seed(values, arm), _per_seed(values, other)
            differences = (a - b).dropna()  # seeds both arms ran
            rows.append({"pair": f"{arm} - {other}", **mean_ci(differences, 1 - alpha), "p": paired_test(differences)})
    return rows


def _claim_verdict(claim: Claim, rows: list[dict], alpha: float) -> str:
    if not rows:
        return "NOT RUN"
    if claim.relation == "approx":
        row = rows[0]
        return _interval_verdict(row["low"], row["high"], claim.value - claim.tolerance, claim.value + claim.tolerance)
    if claim.relation == "equal":
        each = [_interval_verdict(r["low"], r["high"], -claim.tolerance, claim.tolerance) for r in rows]
    else:
        sign = DIRECTIONAL[claim.relation]
        each = ["PASS" if r["p_holm"] < alpha and np.sign(r["mean"]) == sign else
                "FAIL" if r["p_holm"] < alpha and np.sign(r["mean"]) == -sign else "INCONCLUSIVE" for r in rows]
    return "FAIL" if "FAIL" in each else "PASS" if all(v == "PASS" for v in each) else "INCONCLUSIVE"


def _measured(claim: Claim, rows: list[dict]) -> str:
    def one(row):
        interval = f" [{row['low']:.4g}, {row['high']:.4g}]" if not math.isnan(row["low"]) else ""
        p = f", p_holm={row['p_holm']:.3g}" if not math.isnan(row.get("p_holm", math.nan)) else ""
        return f"{row['pair']}: {row['mean']:.4g}{interval} (n={row['n']}{p})"
    return "; ".join(one(row) for row in rows)


def judge(claims, epochs: pd.DataFrame, trials: pd.DataFrame, diverged=frozenset(),
          alpha: float = ALPHA) -> pd.DataFrame:
    """Verdicts for the claims of one study run (Holm across all their directional comparisons). `trials`
    are those that finished normally; a claim naming an arm whose every trial diverged is DIVERGED, one
    naming an arm that was not run is NOT RUN. `alpha`: the level of every test (n_seeds=auto: the look's)."""
    ran = set(trials["arm"])
    per_claim = [(claim, comparisons(claim, point_values(epochs, trials, claim.metric, claim.split, claim.point), alpha)
                  if set(claim.arms + claim.versus) <= ran else [])
                 for claim in claims]
    directional = [row for claim, rows in per_claim if claim.relation in DIRECTIONAL for row in rows]
    for row, adjusted in zip(directional, holm([row["p"] for row in directional])):
        row["p_holm"] = adjusted
    return pd.DataFrame([{"claim": claim.id, "says": claim.text, "relation": claim.relation,
                          "point": claim.point, "metric": claim.metric, "split": claim.split,
                          "article_value": claim.article_value, "measured": _measured(claim, rows),
                          "verdict": "DIVERGED" if set(claim.arms + claim.versus) & (set(diverged) - ran)
                          else _claim_verdict(claim, rows, alpha)} for claim, rows in per_claim],
                        columns=["claim", "says", "relation", "point", "metric", "split", "article_value",
                                 "measured", "verdict"])
