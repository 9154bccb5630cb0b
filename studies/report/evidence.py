"""The evidence behind each claim, seed by seed: a figure of the per-seed values of the arms it names, and the
probability that one arm beats another, both from the seeds of the look that decided the claim (studies/
sequential.py), so that they show what the verdict saw, not later seeds it never judged.

Seed s of every arm shares its batches and initial weights, so arms are compared seed by seed: P(A beats B) is
the share of the seeds both arms ran in which A beats B, ties counting half (the paired counterpart of rliable's
probability of improvement, which pairs every seed of A with every seed of B and so ignores what a seed shares).
Its interval is exact (Clopper-Pearson) on the wins among the untied seeds, at the deciding look's level (each
side at its alpha, as the verdicts' one-sided tests), and carried to the share given the ties seen: with t of n
seeds tied, share = (1 - t/n) · (wins among the untied) + t/(2n). Ties are rare for losses and accuracies; for
epochs and identical runs they are common, and the text says how many. "Beats" follows the metric: a lower loss
or error, a higher value of anything else; where no side is better (epochs such as `stop`, sizes, and train-test
gaps, whose better side depends on the sign) it is plainly P(A > B).
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

from studies.config.contract import GAP_SPLIT  # noqa: E402
from studies.stats.across_seeds import CONFIDENCE, lower_is_better, point_values  # noqa: E402
from studies.stats.verdicts import MIN_SEEDS, SIGN, percent, sign_flip_interval  # noqa: E402
from studies.store.atomic import save_figure_atomic  # noqa: E402

UNORDERED_POINTS = ("stop", "best_epoch", "size")  # epochs and counts: neither side is better
FOLDER = "claims"  # under the report folder: one figure per claim, named by its id
FIGURE_FORMATS = ("png", "svg")
CLAIM_COLOUR = "crimson"
LEGEND_SEEDS = 10  # the colorblind palette's colours: more seeds repeat them, so no legend
DODGE = 0.4  # of an arm's width: the seeds spread over it, apart from the next arm's
IMPROVEMENT = ("P(A beats B): the share of seeds in which arm A beats arm B, seed by seed (seed s of every arm shares "
               "batches and initial weights), over the seeds both ran of the look that decided the claim (the "
               "figure's title names them), ties counting half; in brackets its exact (Clopper-Pearson) interval at "
               "that look's level, each side at the look's alpha (90% where a single look judges at 5%; 95% where no "
               "look is recorded), on the wins among the untied seeds, carried to the share given the ties seen. "
               "Beats means a lower loss or error and a higher accuracy; for epochs, sizes and train-test gaps, where "
               "neither side is better, it reads P(A > B).")


@dataclasses.dataclass(frozen=True)
class Look:
    """The seeds a claim's verdict judged, first_seed .. first_seed + seeds - 1, and the level it judged them at
    (one-sided, as the verdicts' tests); `decided`: False where that look, the last, left it INCONCLUSIVE."""
    first_seed: int
    seeds: int
    alpha: float
    decided: bool = True

    @property
    def confidence(self) -> float:
        """Of a two-sided interval whose each side errs at the look's alpha."""
        return 1 - 2 * self.alpha


def deciding_looks(verdicts: pd.DataFrame, first_seed: int) -> dict[str, Look]:
    """Claim id -> its deciding look, from judge_looks' verdicts (columns look_seeds and alpha); none from a
    table judged on all seeds at once (judge's own), whose evidence then covers every stored seed."""
    if not {"look_seeds", "alpha"} <= set(verdicts.columns):
        return {}
    return {row.claim: Look(first_seed, int(row.look_seeds), float(row.alpha), row.verdict != "INCONCLUSIVE")
            for row in verdicts.itertuples()}


def better_side(claim) -> str | None:
    """'lower' or 'higher': which values of the claim's metric are better; None where neither is."""
    if claim.point in UNORDERED_POINTS or claim.split == GAP_SPLIT:
        return None
    return "lower" if lower_is_better(claim.metric) else "higher"


def paired_improvement(a, b, confidence: float = CONFIDENCE) -> dict:
    """The share of seeds where a beats b (a[i] > b[i]; ties count half) over the seeds with both values, with
    its exact interval at `confidence` given the ties: Clopper-Pearson on the wins among the untied seeds, carried
    to the share (a seed either beats, loses or ties, so with t of n tied the share is (1 - t/n) times the untied
    seeds' win rate plus t/(2n)). All NaN where no seed has both values; every seed tied is exactly 1/2."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both = ~(np.isnan(a) | np.isnan(b))
    a, b = a[both], b[both]
    n, wins, ties = len(a), int(np.sum(a > b)), int(np.sum(a == b))
    result = {"probability": math.nan, "low": math.nan, "high": math.nan, "n": n, "wins": wins, "ties": ties}
    if not n:
        return result
    untied, tied_share = n - ties, ties / n
    rate = (0.5, 0.5) if not untied else stats.binomtest(wins, untied).proportion_ci(confidence, method="exact")
    low, high = ((1 - tied_share) * bound + tied_share / 2 for bound in rate)
    return {**result, "probability": (wins + ties / 2) / n, "low": float(low), "high": float(high)}


def _by_seed(values: pd.DataFrame, arm: str) -> pd.Series:
    return values.loc[values["arm"] == arm].set_index("seed")["value"].dropna()


def improvement_texts(claim, values: pd.DataFrame, confidence: float = CONFIDENCE) -> list[str]:
    """"P(a beats b) = 0.80 [0.34, 0.99] (4 of 5 seeds; 90% CI)" for each pair of an arm and a `versus` arm, seed
    paired with seed; none for a claim on one arm. `values` as from point_values."""
    sign = -1 if better_side(claim) == "lower" else 1  # P(a beats b) = P(-a > -b) for a loss
    texts = []
    for arm in claim.arms:
        for other in claim.versus:
            event = f"P({arm} {'beats' if better_side(claim) else '>'} {other})"
            a, b = _by_seed(values, arm), _by_seed(values, other)
            missing = [name for name, seeds in ((arm, a), (other, b)) if seeds.empty]
            if missing:
                texts.append(f"{event}: no values of {' and '.join(missing)}")
                continue
            a, b = a.align(b, join="inner")
            texts.append(_improvement_text(event, paired_improvement(sign * a, sign * b, confidence), confidence))
    return texts


def _improvement_text(event: str, result: dict, confidence: float) -> str:
    if not result["n"]:
        return f"{event}: no seed with values of both"
    tied = f", {result['ties']} tied" if result["ties"] else ""
    return (f"{event} = {result['probability']:.2f} [{result['low']:.2f}, {result['high']:.2f}] "
            f"({result['wins']} of {result['n']} seeds{tied}; {percent(confidence)} CI)")


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


def seed_points(values: pd.DataFrame, arms: list[str]) -> pd.DataFrame:
    """The values to draw, seeds in numeric order and then as text (a category each, not a colour scale)."""
    shown = values[values["arm"].isin(arms)].dropna(subset=["value"]).sort_values("seed", kind="stable")
    return shown.assign(seed=shown["seed"].astype(str))


def draw_seeds(axis, points: pd.DataFrame, arms: list[str]) -> None:
    """A point per seed and arm, each seed in its own colour and at its own offset within every arm, so a seed's
    arms line up (they share batches and initial weights) with no line drawn between arms, which are categories."""
    seeds = list(dict.fromkeys(points["seed"]))
    sns.pointplot(data=points, x="arm", y="value", hue="seed", order=arms, hue_order=seeds, errorbar=None,
                  linestyle="none", dodge=DODGE if len(seeds) > 1 else False, palette="colorblind", markersize=5,
                  ax=axis, legend=len(seeds) <= LEGEND_SEEDS)
    if axis.get_legend() is not None:
        axis.legend(title="seed", fontsize=7, title_fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))


def seeds_line(look: Look | None) -> str:
    """Which seeds the figure and its probabilities cover, and why those."""
    if look is None:
        return f"every stored seed ({percent(CONFIDENCE)} intervals)"
    last = look.first_seed + look.seeds - 1
    seeds = f"seed {last}" if look.seeds == 1 else f"seeds {look.first_seed}-{last}"
    which = "the look that decided it" if look.decided else "its last look, which left it INCONCLUSIVE"
    return f"{seeds} ({which}, at alpha {look.alpha:.2g})"


def evidence_figure(claim, values: pd.DataFrame, texts: list[str], context: str, folder: Path,
                    look: Look | None = None) -> list[Path]:
    """The per-seed values of each arm the claim names (those of `look`, the caller's choice), the probabilities
    of improvement above. PNG and SVG."""
    arms = list(dict.fromkeys(claim.arms + claim.versus))
    points = seed_points(values, arms)
    width = max(4.5, 1.5 + 1.3 * len(arms))
    fig, axis = plt.subplots(figsize=(width, 4.2))
    if claim.relation in ("approx", "typical", "runs_near", "every_run"):  # a value with its tolerance
        _mark_claimed_value(axis, claim)
    if not points.empty:
        draw_seeds(axis, points, arms)
    axis.set_xticks(range(len(arms)), [textwrap.fill(arm.replace(",", ", "), 18) for arm in arms], fontsize=8)
    axis.set(xlabel=None, ylabel=_value_label(claim))
    missing = [arm for arm in arms if arm not in set(points["arm"])]
    lines = [claim.id, context, seeds_line(look)] + texts + (
        [f"no values: {', '.join(missing)}"] if missing else [])
    axis.set_title("\n".join(textwrap.fill(line, int(11 * width)) for line in lines), fontsize=8)  # 8 pt: ~11/inch
    fig.tight_layout()
    paths = [folder / FOLDER / f"{claim.id}.{kind}" for kind in FIGURE_FORMATS]
    for path in paths:
        save_figure_atomic(fig, path, dpi=110)
    plt.close(fig)
    return paths


def _finite(number: float) -> float | None:
    """A bound for run.json: None where no test reaches that side (an infinite interval)."""
    return float(number) if math.isfinite(number) else None


def _effect(label: str, estimate: float, interval, window, claimed: str) -> dict:
    return {"label": label, "estimate": float(estimate), "low": _finite(interval[0]), "high": _finite(interval[1]),
            "window": [float(bound) for bound in window], "claimed": claimed}


def _difference_effects(claim, values: pd.DataFrame, alpha: float) -> list[dict]:
    """Per compared pair, arm - versus seed by seed: its mean and sign-flip interval (the verdict's) against 0,
    or against +-tolerance where a smaller effect refutes the claim."""
    effects = []
    for arm in claim.arms:
        for other in claim.versus:
            a, b = _by_seed(values, arm).align(_by_seed(values, other), join="inner")
            differences = (a - b).to_numpy()
            if len(differences) >= MIN_SEEDS:
                claimed = "above" if SIGN[claim.relation] > 0 else "below"
                effects.append(_effect(f"{arm} - {other}", differences.mean(), sign_flip_interval(differences, alpha),
                                       (-claim.tolerance, claim.tolerance), claimed))
    return effects


def _one_arm_effect(claim, values: pd.DataFrame, alpha: float) -> list[dict]:
    """The arm's values against the claimed window: their mean and sign-flip interval (near), our t prediction
    interval of one run (single run), or the share of runs with the property and its Clopper-Pearson interval
    against `at_least` (per run)."""
    runs = _by_seed(values, claim.arms[0]).to_numpy()
    if len(runs) < MIN_SEEDS:
        return []
    window = (claim.value - claim.tolerance, claim.value + claim.tolerance)
    if claim.kind == "per-run":
        holds = int(claim.holds_in(runs).sum())
        interval = stats.binomtest(holds, len(runs)).proportion_ci(1 - 2 * alpha, method="exact")
        return [_effect(f"share of runs of {claim.arms[0]}", holds / len(runs), (interval.low, interval.high),
                        (claim.at_least, claim.at_least), "above")]
    if claim.kind == "single-run":
        # the verdict's prediction interval: 1 - alpha two-sided, as its test is
        half = stats.t.isf(alpha / 2, len(runs) - 1) * runs.std(ddof=1) * math.sqrt(1 + 1 / len(runs))
        return [_effect(f"one run of {claim.arms[0]}", runs.mean(), (runs.mean() - half, runs.mean() + half), window,
                        "overlapping")]
    return [_effect(f"mean of {claim.arms[0]}", runs.mean(), sign_flip_interval(runs, alpha), window, "inside")]


def claim_effects(claim, values: pd.DataFrame, alpha: float) -> list[dict]:
    """What a claim's forest plot draws, at the level its verdict judged (each side at `alpha`): per row an
    estimate, its interval (None on a side no test reaches) and the window it is claimed `above`, `below`,
    `inside` or `overlapping`. None for an identity or every-run claim: one differing seed decides those, not an
    interval."""
    if claim.kind == "ordering":
        return _difference_effects(claim, values, alpha)
    if claim.kind in ("near", "per-run", "single-run"):
        return _one_arm_effect(claim, values, alpha)
    return []


def look_values(values: pd.DataFrame, look: Look | None) -> pd.DataFrame:
    """The values of the look's seeds; all of them without a look."""
    if look is None:
        return values
    return values[values["seed"].between(look.first_seed, look.first_seed + look.seeds - 1)]


def claim_evidence(claims, epochs: pd.DataFrame, trials: pd.DataFrame, context: str, folder: Path,
                   looks: dict[str, Look] | None = None) -> tuple[dict, list[Path]]:
    """Per claim id: its figure (relative to `folder`) and its probabilities of improvement, joined by "; ",
    from the seeds of its deciding look in `looks` (deciding_looks) at that look's level, else from every seed at
    95%; and the files written."""
    evidence, written = {}, []
    for claim in claims:
        if claim.point == "curve":  # an identity claim is about whole curves: per seed, their last values
            claim = dataclasses.replace(claim, point="final")
        look = (looks or {}).get(claim.id)
        values = look_values(point_values(epochs, trials, claim.metric, claim.split, claim.point), look)
        confidence = look.confidence if look else CONFIDENCE
        texts = improvement_texts(claim, values, confidence)
        written += evidence_figure(claim, values, texts, context, folder, look)
        evidence[claim.id] = {"figure": f"{FOLDER}/{claim.id}.png", "improvement": "; ".join(texts),
                              "effects": claim_effects(claim, values, (1 - confidence) / 2),
                              "confidence": confidence}
    return evidence, written
