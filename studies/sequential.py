"""Seeds until decided (`n_seeds=auto`): rounds of seeds, each look at the claims at its share of the 5%.

The study runs in rounds: `first_round` seeds per arm, then `round_size` more per round up to `max_seeds`.
After each round (a look) the claims are judged from the store; only the arms of claims still INCONCLUSIVE
get the next round, and a claim keeps the verdict of the first look that decided it.

Judged at 5% six times, a claim with no effect would be decided about 15% of the time, so the looks share
the 5% as a group-sequential design with alpha spending (Lan & DeMets 1983): by the look at n of the
N = max_seeds seeds, at most alpha * (n / N) ** 2 is spent (Kim & DeMets's power family with rho = 2,
between Pocock's rho = 1 and O'Brien-Fleming's rho = 3). O'Brien-Fleming-type spending would give the look
at 5 of 30 seeds a level of 2e-6, a paired t on 4 degrees of freedom beyond 44, so that no claim, however
clear, could be decided before 10 seeds; rho = 2 asks |t| > 7.9 there and keeps nearly its power later.
A look's nominal level is one side of the symmetric z boundary which, with no effect, is first crossed there
with exactly the 2 alpha newly spent, alpha each way as the verdicts' tests are one-sided (the z statistic's
path integrated numerically: Armitage, McPherson &
Rowe 1969; Jennison & Turnbull 2000, ch. 19). `judge` applies it to its paired t-tests (Holm-corrected)
and as the confidence of its intervals; tests/test_sequential.py measures error rate and power by
simulation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import optimize, stats

from studies.verdicts import ALPHA, diverged_runs, judge

SPENDING_POWER = 2  # rho: alpha * t ** rho spent by information fraction t
GRID_POINTS = 501  # per look, over the z path's continuation region: levels to about 1e-6 relative


def look_seeds(first_round: int, round_size: int, max_seeds: int) -> tuple[int, ...]:
    """Seeds per arm at each look: first_round, then round_size more at a time, max_seeds last."""
    return tuple(range(first_round, max_seeds, round_size)) + (max_seeds,)


def spent(fraction, alpha: float = ALPHA) -> np.ndarray:
    """The alpha spent by a look at `fraction` of the planned seeds."""
    return alpha * np.asarray(fraction, dtype=float) ** SPENDING_POWER


def _first_crossing(bound: float, fraction: float, step: float, grid: np.ndarray, mass: np.ndarray) -> float:
    """With no effect, the chance that a path not stopped yet (probability `mass` at score S = Z sqrt(t) on
    `grid` at the previous look) has |Z| >= bound at this look, its score having moved by N(0, step)."""
    edge, spread = bound * math.sqrt(fraction), math.sqrt(step)
    return float(mass @ (stats.norm.sf((edge - grid) / spread) + stats.norm.cdf((-edge - grid) / spread)))


def _continuing(bound: float, fraction: float, step: float, grid: np.ndarray, mass: np.ndarray) -> tuple:
    """The paths still running after this look: their probability on a grid over |Z| < bound."""
    edge = bound * math.sqrt(fraction)
    new_grid = np.linspace(-edge, edge, GRID_POINTS)
    weights = np.full(GRID_POINTS, new_grid[1] - new_grid[0])
    weights[[0, -1]] /= 2  # trapezoid rule
    return new_grid, mass @ stats.norm.pdf(new_grid - grid[:, None], scale=math.sqrt(step)) * weights


def z_boundaries(looks: tuple[int, ...], alpha: float = ALPHA) -> list[float]:
    """Each look's two-sided boundary on z, first crossed there with no effect with the alpha spent since
    the previous look."""
    fractions = np.asarray(looks, dtype=float) / looks[-1]
    grid, mass, previous, bounds = np.zeros(1), np.ones(1), 0.0, []  # every path starts at S = 0
    for fraction, share in zip(fractions, np.diff(spent(fractions, alpha), prepend=0.0)):
        step = fraction - previous
        bound = optimize.brentq(lambda b: _first_crossing(b, fraction, step, grid, mass) - share, 0.0, 50.0,
                                xtol=1e-12)
        grid, mass = _continuing(bound, fraction, step, grid, mass)
        previous = fraction
        bounds.append(bound)
    return bounds


@lru_cache
def nominal_alphas(looks: tuple[int, ...], alpha: float = ALPHA) -> tuple[float, ...]:
    """Each look's one-sided level, for `judge(..., alpha=)` (whose tests are one-sided: an ordering's support, its
    refutation, each half of TOST): alpha itself for a single look. The boundaries of a symmetric design spending
    2 alpha, so each direction spends alpha. Never above the alpha spent by then (the root finder's last bits
    could put a lone look a hair over alpha)."""
    levels = stats.norm.sf(z_boundaries(looks, 2 * alpha))
    return tuple(float(level) for level in np.minimum(levels, spent(np.asarray(looks) / looks[-1], alpha)))


@dataclass(frozen=True)
class Sequence:
    verdicts: pd.DataFrame  # judge's columns, then seeds (per arm, at the deciding or last look) and its alpha
    looks: int  # looks taken
    seeds: dict  # arm -> seeds it ran to: the first look's for every arm, then the looks its claims needed
    undecided: tuple[str, ...]  # ids of the claims still INCONCLUSIVE
    needed: tuple[str, ...]  # their arms: those the next round adds seeds to


def claim_arms(claims) -> tuple[str, ...]:
    return tuple(dict.fromkeys(arm for claim in claims for arm in claim.arms + claim.versus))


def _judge_at(claims, epochs: pd.DataFrame, trials: pd.DataFrame, end_seed: int, alpha: float) -> pd.DataFrame:
    """judge() on the seeds below end_seed: finished trials measured, arms whose every trial diverged named."""
    seen = trials[trials["seed"] < end_seed]
    finished = seen[seen["status"] == "ok"]
    diverged = diverged_runs(seen)
    return judge(claims, epochs[epochs["trial_id"].isin(finished["trial_id"])], finished, diverged, alpha=alpha)


def _stored(trials: pd.DataFrame, arms, low: int, high: int) -> bool:
    """Whether any of `arms` has a stored trial with a seed in [low, high)."""
    return bool((trials["arm"].isin(arms) & (trials["seed"] >= low) & (trials["seed"] < high)).any())


def _located(row: dict, look: int, looks: tuple, alpha: float) -> dict:
    """Several looks: `measured` says which look the verdict comes from and at what level."""
    if len(looks) > 1:
        row["measured"] += f" [look {look + 1} of {len(looks)}: {looks[look]} seeds, alpha {alpha:.2g}]"
    return {**row, "look_seeds": looks[look], "alpha": alpha}  # `seeds` (judge's) says how many support it


def judge_looks(claims, epochs: pd.DataFrame, trials: pd.DataFrame, looks: tuple[int, ...], first_seed: int,
                upto: int | None = None) -> Sequence:
    """The verdicts as the rounds reached them, from stored trials of every status: look k judges the seeds
    first_seed .. first_seed + looks[k] - 1 at its nominal level. A later look counts once an arm it adds
    seeds to has a stored trial among them (an interrupted round: what it stored); `upto` stops before it."""
    levels = nominal_alphas(tuple(looks))
    final, undecided, seeds, taken, columns = {}, list(range(len(claims))), {}, 0, []
    for look, (count, level) in enumerate(zip(looks[:upto], levels)):
        arms = claim_arms([claims[i] for i in undecided]) if look else tuple(dict.fromkeys(trials["arm"]))
        if look and not _stored(trials, arms, first_seed + looks[look - 1], first_seed + count):
            break
        table = _judge_at(claims, epochs, trials, first_seed + count, level)
        rows, columns = table.to_dict("records"), list(table.columns) + ["look_seeds", "alpha"]
        final.update({i: _located(rows[i], look, looks, level) for i in undecided})
        undecided = [i for i in undecided if final[i]["verdict"] == "INCONCLUSIVE"]
        seeds.update(dict.fromkeys(arms, count))
        taken += 1
        if not undecided:
            break
    still = [claims[i] for i in undecided]
    return Sequence(pd.DataFrame([final[i] for i in sorted(final)], columns=columns), taken, seeds,
                    tuple(claim.id for claim in still), claim_arms(still))
