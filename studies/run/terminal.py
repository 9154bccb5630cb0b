"""What a run, or `studybench report`, tells at its end: the study's verdicts, a line per claim with the seeds
and evidence behind it, and where its report is, in one path (studies/run/logs.py colours the verdicts on a
terminal)."""
from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path

import pandas as pd

from studies.run.logs import VERDICT_COLOURS

log = logging.getLogger(__name__)
LOOK = re.compile(r" (\[look [^\]]*\])$")  # the look that decided a claim, ending its `measured` text


def evidence(measured: str) -> str:
    """A verdict's evidence in one line: the first two clauses of its `measured` text (in how many seeds the claim
    holds, and what decided it; the pairs' numbers follow in summary.md), and the look that decided it."""
    shown = "; ".join(measured.split("; ")[:2])
    look = LOOK.search(measured)
    return shown if look is None or shown.endswith(look.group(1)) else f"{shown} {look.group(1)}"


def shown_claims(claims: pd.DataFrame) -> pd.DataFrame:
    """The claims a run tells: a family in one line, its members (one per setting) left to summary.md."""
    return claims[claims["family"] == ""]


def verdict_count(claims: pd.DataFrame) -> str:
    counts = Counter(claims["verdict"])
    return ", ".join(f"{counts[verdict]} {verdict}" for verdict in VERDICT_COLOURS if counts[verdict])


def tell_report(plan, folder: Path, files: list) -> None:
    """Log the claims of the report just written to `folder` (its claims.csv), then the report's one path."""
    claims = shown_claims(pd.read_csv(folder / "claims.csv", keep_default_na=False))
    if len(claims):
        log.info(f"{plan.study}/{plan.variant} [{plan.profile}]: {len(claims)} claim{'s' * (len(claims) > 1)}, "
                 f"{verdict_count(claims)}")
    for row in claims.itertuples():
        log.info(f"  {row.verdict:<12} {row.claim}: {row.says} | {evidence(row.measured)}",
                 extra={"verdict": row.verdict})
    log.info(f"report: {folder / 'summary.md'} ({len(files)} files written, the figures and tables beside it)")
