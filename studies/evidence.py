"""The evidence behind each claim, seed by seed: a figure of the per-seed values of the arms it names, and the
probability that one arm beats another across seeds.

Probability of improvement (rliable; Agarwal et al., "Deep RL at the edge of the statistical precipice",
2021): P(A beats B) is the chance that a seed of A beats a seed of B, over all n·m pairs of their seeds, that
is the Mann-Whitney U statistic of A over B divided by n·m: P(A > B) + ½ P(A = B), ties counting half. Its 95%
interval is a percentile bootstrap that resamples each arm's seeds on its own (rliable's stratified bootstrap
with a single task), from a fixed generator so that a rebuilt report gives the same numbers. "Beats" follows
the metric: a lower loss or error, a higher value of anything else; where no side is better (epochs such as
`stop`, sizes, and train-test gaps, whose better side depends on the sign) it is plainly P(A > B).
"""
from __future__ import annotations

import dataclasses

import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the file-only backend)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from scipy import stats  # noqa: E402

from studies.atomic import save_figure_atomic  # noqa: E402
from studies.contract import GAP_SPLIT  # noqa: E402
from studies.stats import CONFIDENCE, lower_is_better, point_values  # noqa: E402

RESAMPLES = 9999
UNORDERED_POINTS = ("stop", "best_epoch", "size")  # epochs and counts: neither side is better
FOLDER = "claims"  # under the report folder: one figure per claim, named by its id
FIGURE_FORMATS = ("png", "svg")
CLAIM_COLOUR = "crimson"
IMPROVEMENT = ("P(A beats B): the probability that a seed of arm A beats a seed of arm B, over every pair of their "
               "seeds (rliable's probability of improvement, ties counting half), with a 95% bootstrap interval; "
               "beats means a lower loss or error and a higher accuracy; for epochs, sizes and train-test gaps, "
               "where neither side is better, it reads P(A > B).")


def better_side(claim) -> str | None:
    """'lower' or 'higher': which values of the claim's metric are better; None where neither is."""
    if claim.point in UNORDERED_POINTS or claim.split == GAP_SPLIT:
        return None
    return "lower" if lower_is_better(claim.metric) else "higher"


def _improvement(a, b, axis=-1):
    # Only U is used: the asymptotic method skips the exact null distribution, whose p-value is not needed.
    return stats.mannwhitneyu(a, b, axis=axis, method="asymptotic").statistic / (a.shape[axis] * b.shape[axis])


def probability_of_improvement(a, b) -> dict:
    """P(a > b) + P(a = b) / 2 over every pair of a value of `a` and a value of `b` (NaN left out), with its 95%
    percentile bootstrap interval: NaN where a side has fewer than 2 values; all NaN where one has none."""
    a, b = (np.asarray(values, dtype=float) for values in (a, b))
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    result = {"probability": math.nan, "low": math.nan, "high": math.nan, "n": (len(a), len(b))}
    if len(a) and len(b):
        result["probability"] = float(_improvement(a, b))
    if min(len(a), len(b)) >= 2:
        interval = stats.bootstrap((a, b), _improvement, vectorized=True, n_resamples=RESAMPLES,
                                   confidence_level=CONFIDENCE, method="percentile",
                                   rng=np.random.default_rng(0)).confidence_interval
        result.update(low=float(interval.low), high=float(interval.high))
    return result


def _arm_values(values: pd.DataFrame, arm: str) -> np.ndarray:
    return values.loc[values["arm"] == arm, "value"].to_numpy(dtype=float)


def improvement_texts(claim, values: pd.DataFrame) -> list[str]:
    """"P(a beats b) = 0.84 [0.60, 1.00]" for each pair of an arm and a `versus` arm; none for a claim on one
    arm. `values` as from point_values."""
    side = better_side(claim)
    texts = []
    for arm in claim.arms:
        for other in claim.versus:
            a, b = _arm_values(values, arm), _arm_values(values, other)
            if side == "lower":  # P(a beats b) = P(-a > -b)
                a, b = -a, -b
            result = probability_of_improvement(a, b)
            event = f"P({arm} {'beats' if side else '>'} {other})"
            texts.append(_improvement_text(event, result, (arm, other)))
    return texts


def _improvement_text(event: str, result: dict, arms: tuple) -> str:
    missing = [arm for arm, n in zip(arms, result["n"]) if n == 0]
    if missing:
        return f"{event}: no values of {' and '.join(missing)}"
    if math.isnan(result["low"]):
        return f"{event} = {result['probability']:.2f} (a single seed: no interval)"
    return f"{event} = {result['probability']:.2f} [{result['low']:.2f}, {result['high']:.2f}]"


def _mark_claimed_value(axis, claim) -> None:
    """An `approx` claim's value ± tolerance, as a band."""
    axis.axhspan(claim.value - claim.tolerance, claim.value + claim.tolerance, color=CLAIM_COLOUR, alpha=0.12,
                 label=f"claimed {claim.value:g} ± {claim.tolerance:g}")
    axis.axhline(claim.value, color=CLAIM_COLOUR, linewidth=1, linestyle="-.")


def _value_label(claim) -> str:
    if claim.point == "stop":
        return "stop epoch"
    of = "of " if claim.point == "best_epoch" else ""
    return f"{claim.point} {of}{claim.split} {claim.metric}".replace("_", " ")


def evidence_figure(claim, values: pd.DataFrame, texts: list[str], context: str, folder: Path) -> list[Path]:
    """A point per seed for each arm the claim names, a line joining the arms of one seed (seed s of every arm
    shares batches and initial weights), the probabilities of improvement above. PNG and SVG."""
    arms = list(dict.fromkeys(claim.arms + claim.versus))
    shown = values[values["arm"].isin(arms)].dropna(subset=["value"])
    shown = shown.assign(seed=shown["seed"].astype(str))
    width = max(4.5, 1.5 + 1.3 * len(arms))
    fig, axis = plt.subplots(figsize=(width, 4.2))
    if claim.relation == "approx":
        _mark_claimed_value(axis, claim)
    if not shown.empty:
        sns.pointplot(data=shown, x="arm", y="value", hue="seed", order=arms, errorbar=None, palette="colorblind",
                      markersize=5, linewidth=1, ax=axis, legend=shown["seed"].nunique() <= 10)
    axis.set_xticks(range(len(arms)), [textwrap.fill(arm.replace(",", ", "), 18) for arm in arms], fontsize=8)
    axis.set(xlabel=None, ylabel=_value_label(claim))
    if axis.get_legend() is not None:
        axis.legend(title="seed", fontsize=7, title_fontsize=7, loc="best")
    missing = [arm for arm in arms if arm not in set(shown["arm"])]
    lines = [claim.id, context] + texts + ([f"no values: {', '.join(missing)}"] if missing else [])
    axis.set_title("\n".join(textwrap.fill(line, int(11 * width)) for line in lines), fontsize=8)  # 8 pt: ~11/inch
    fig.tight_layout()
    paths = [folder / FOLDER / f"{claim.id}.{kind}" for kind in FIGURE_FORMATS]
    for path in paths:
        save_figure_atomic(fig, path, dpi=110)
    plt.close(fig)
    return paths


def claim_evidence(claims, epochs: pd.DataFrame, trials: pd.DataFrame, context: str,
                   folder: Path) -> tuple[dict, list[Path]]:
    """Per claim id: its figure (relative to `folder`) and its probabilities of improvement, joined by "; ";
    and the files written."""
    evidence, written = {}, []
    for claim in claims:
        if claim.point == "curve":  # an identity claim is about whole curves: per seed, their last values
            claim = dataclasses.replace(claim, point="final")
        values = point_values(epochs, trials, claim.metric, claim.split, claim.point)
        texts = improvement_texts(claim, values)
        written += evidence_figure(claim, values, texts, context, folder)
        evidence[claim.id] = {"figure": f"{FOLDER}/{claim.id}.png", "improvement": "; ".join(texts)}
    return evidence, written
