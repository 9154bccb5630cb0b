"""What a study module declares for `beyond=tuning`, as data beside its claims: `TUNING = Tuning(...)` names each
tuned arm's main hyperparameter and the article's value of it, or `TUNING = NotTuned("why")` says why the study
has none (it is then skipped with that line, as Benchopt's `skip()`). Kept apart from studies/beyond/tuning.py so
that a catalog module imports no training code.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tuning:
    setting: str  # the hyperparameter, as a dotted key of an arm's settings: optimizer.learning_rate
    article: dict  # tuned arm -> the article's value (the grid's centre); arms not named run at their settings
    metric: str  # what the grid is chosen on, measured on the validation split carved from the training data
    point: str  # which value of its curve: final, best, mean, ... (studies/stats/across_seeds.py point_values)
    rate: bool = False  # a rate in [0, 1): the grid is spaced on its odds, so that it stays in range
    variants: tuple[str, ...] = ("original",)  # the variants whose settings the article values are

    def values(self, points: int, span: float) -> dict:
        """Tuned arm -> its grid: `points` values from 1/span to span times the article's value, evenly spaced
        on a log scale (a rate: on its odds, p / (1 - p)); the article's own value is the middle one."""
        factors = [span ** (2 * index / (points - 1) - 1) for index in range(points)] if points > 1 else [1.0]
        return {arm: [_rounded(_scaled(article, factor, self.rate)) for factor in factors]
                for arm, article in self.article.items()}


@dataclass(frozen=True)
class NotTuned:
    reason: str  # why the study has no hyperparameter to give every arm alike


def _scaled(value: float, factor: float, rate: bool) -> float:
    if not rate:
        return value * factor
    odds = value / (1.0 - value) * factor
    return odds / (1.0 + odds)


def _rounded(value: float) -> float:
    """Six significant digits: the grid's values name trials and table rows, and 0.1 * 2 ** 0.5 needs no more."""
    return float(f"{value:.6g}")
