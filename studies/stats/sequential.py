"""Seeds until decided (`n_seeds=auto`): rounds of seeds, each look at the claims at its share of the 5%.

The study runs in rounds: `first_round` seeds per arm (default 10), then `round_size` (5) more per round up to
`max_seeds` (30). After each round (a look) the claims are judged from the store; only the arms of claims
still INCONCLUSIVE get the next round, and a claim keeps the verdict of the first look that decided it.

Judged at 5% after each of five rounds, a claim with no effect would be decided far more often than 5%, so
the looks share the 5% by alpha spending (Lan & DeMets 1983): by the look at n of the N = max_seeds seeds, at
most alpha * (n / N) ** 2 is spent (Kim & DeMets's power family with rho = 2, between Pocock's rho = 1 and
O'Brien-Fleming's rho = 3), alpha = 5% for PASS and separately 5% for FAIL. A look's nominal level is the
increment of that function since the previous look: by Bonferroni over the looks the chance of any false
verdict, summed over the looks, stays within alpha for ANY valid p-values (the sign-flip permutation tests,
exact binomial tests and t prediction intervals of studies/stats/verdicts.py alike), with no normal approximation
of how the tests' statistics move from look to look. The price of that generality is a little power: looks
at overlapping seeds are correlated, so the true error stays below alpha (tests/test_sequential.py measures
it). Within a look, `judge` corrects across the study's claims by Holm at the look's level, so the union over
looks also bounds the family-wise error. Defaults give levels 0.0056, 0.0069, 0.0097, 0.0125 and 0.0153 at
10, 15, 20, 25 and 30 seeds. The first look is at 10 seeds because a sign-flip test on n seeds cannot go below
p = 2^-n: at 5 seeds 0.031, far above any look's level, so a 5-seed look would decide nothing paired.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from studies.runtime.phases import timed
from studies.stats.verdicts import ALPHA, diverged_runs, judge

SPENDING_POWER = 2  # rho: alpha * t ** rho spent by information fraction t


def look_seeds(first_round: int, round_size: int, max_seeds: int) -> tuple[int, ...]:
    """Seeds per arm at each look: first_round, then round_size more at a time, max_seeds last."""
    return tuple(range(first_round, max_seeds, round_size)) + (max_seeds,)


def spent(fraction, alpha: float = ALPHA) -> np.ndarray:
    """The alpha spent by a look at `fraction` of the planned seeds."""
    return alpha * np.asarray(fraction, dtype=float) ** SPENDING_POWER


@lru_cache
def nominal_alphas(looks: tuple[int, ...], alpha: float = ALPHA) -> tuple[float, ...]:
    """Each look's level, for `judge(..., alpha=)`: what the spending function adds since the previous look
    (alpha itself for a single look). They sum to alpha, so by Bonferroni over the looks every test valid at
    its own look keeps the error across all looks within alpha, per direction (PASS, FAIL)."""
    return tuple(float(level) for level in np.diff(spent(np.asarray(looks) / looks[-1], alpha), prepend=0.0))


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


@timed("judge")
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
