"""The claim register: each verdict beside the sentence it judges, and a family's verdict from its members'.

A claim's row in claims.csv (and the reports) carries its source as data from the study module: the work and
place, whose claim it is (the article's, the book's behind it, or our reading), the sentence in the source's
language with an English translation, how the source measured it, and why the tolerance is what it is. A
Family ("in almost every case" over 16 scales) gets a row of its own after its members': PASS when at most
`exceptions` members fail to PASS, FAIL when more than `exceptions` members FAIL, INCONCLUSIVE otherwise.
"""
from __future__ import annotations

import pandas as pd

from studies.config.contract import SAYS

SOURCE_COLUMNS = ["family", "work", "place", "source_says", "quote", "translation", "how_measured", "why_tolerance"]


def _source_cells(item, family: str = "") -> dict:
    source = item.source
    why = getattr(item, "why_tolerance", "") or getattr(item, "why_exceptions", "")
    if source is None:  # a family's member: the family's row carries the source
        return dict.fromkeys(SOURCE_COLUMNS, "") | {"family": family, "why_tolerance": why}
    quote = source.quote if source.verbatim else "(the source's text is not among ../shared/seeds)"
    return {"family": family, "work": source.work, "place": source.place, "source_says": SAYS[source.says],
            "quote": quote, "translation": source.translation, "how_measured": source.measured,
            "why_tolerance": why}


def family_outcome(family, members: pd.DataFrame) -> dict:
    """The family's verdict and its measured line, from its members' rows."""
    verdicts = members["verdict"]
    passed, failed, total = int((verdicts == "PASS").sum()), int((verdicts == "FAIL").sum()), len(members)
    allowed = family.exceptions
    if total - passed <= allowed:
        verdict = "PASS"
    elif failed > allowed:
        verdict = "FAIL"
    else:
        verdict = "INCONCLUSIVE"
    others = members[verdicts != "PASS"]
    named = "; ".join(f"{row['claim']}: {row['verdict']}" for _, row in others.iterrows())
    measured = (f"{passed} of {total} settings PASS, {failed} FAIL (the source allows {allowed} exceptions: "
                f"{family.why_exceptions})" + (f"; not PASS: {named}" if named else ""))
    return {"claim": family.id, "says": family.text, "kind": "family", "relation": "family",
            "seeds": f"{passed} of {total} settings", "measured": measured, "verdict": verdict}


def registered(claims, verdicts: pd.DataFrame) -> pd.DataFrame:
    """`verdicts` (judge's rows for the flat claims) with the source columns, each family's row after its
    members'."""
    by_id = verdicts.set_index("claim", drop=False)
    rows = []
    for claim in claims:
        if claim.kind == "family":
            judged = [member for member in claim.members if member.id in by_id.index]
            rows += [{**by_id.loc[member.id].to_dict(), **_source_cells(member, claim.id)} for member in judged]
            members = by_id.loc[[member.id for member in judged]]
            rows.append({**family_outcome(claim, members), **_source_cells(claim)})
        elif claim.id in by_id.index:
            rows.append({**by_id.loc[claim.id].to_dict(), **_source_cells(claim)})
    columns = list(verdicts.columns) + [column for column in SOURCE_COLUMNS if column not in verdicts.columns]
    return pd.DataFrame(rows, columns=columns)


def not_judged_rows(module) -> list[dict]:
    """The study module's NOT_JUDGED statements (none where it declares none), as rows for the reports."""
    return [{"work": item.source.work, "place": item.source.place,
             "quote": item.source.quote if item.source.verbatim else "",
             "translation": item.source.translation, "why": item.why} for item in getattr(module, "NOT_JUDGED", ())]
