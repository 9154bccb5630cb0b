"""The claim register (studies/report/register.py): a family's verdict from its members', and each verdict's row beside
the source it judges."""
import pandas as pd
import pytest

from studies.config.contract import SAYS, Claim, Family, NotJudged, Source
from studies.report.register import SOURCE_COLUMNS, family_outcome, not_judged_rows, registered
from studies.stats.verdicts import COLUMNS

ARTICLE = Source("article 001", "§1.3, the figure", "図から、SGDは遅い。", "From the figure, SGD is slower.",
                 "one run, read by eye")
BOOK = Source("the book behind article 001", "§6.3.2, Fig. 6-19", "", "In almost every case, it is faster.",
              "one run per scale", says="book", verbatim=False)
RECORDED = Source("the book behind article 001", "§6.4.3", "a sentence we could not check", "It narrows the gap.",
                  "one run", says="book", verbatim=False)
PLACEHOLDER = "(the source's text is not among ../shared/seeds)"


def claim(name: str, source=None, why: str = "") -> Claim:
    return Claim(name, f"{name} holds", metric="loss", split="train", point="mean", relation=">", arms=("a",),
                 versus=("b",), tolerance=0.01, source=source, why_tolerance=why)


def family(exceptions: int, size: int = 5) -> Family:
    return Family("fam", "in almost every case", members=tuple(claim(f"m{i}", why=f"why m{i}") for i in range(size)),
                  exceptions=exceptions, why_exceptions="'almost every': all but one", source=BOOK)


def rows(verdicts) -> pd.DataFrame:
    """The judge's rows (studies/stats/verdicts.py COLUMNS) of claims m0, m1, ... with these verdicts."""
    return pd.DataFrame([{"claim": f"m{i}", "says": f"m{i} holds", "kind": "ordering", "relation": ">",
                          "point": "mean", "metric": "loss", "split": "train", "article_value": "",
                          "seeds": "5 of 5", "measured": f"measured m{i}", "verdict": verdict}
                         for i, verdict in enumerate(verdicts)], columns=COLUMNS)


# family_outcome --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("exceptions, verdicts, expected", [
    (1, ["PASS"] * 5, "PASS"),
    (1, ["PASS", "FAIL", "PASS", "PASS", "PASS"], "PASS"),  # exactly `exceptions` not PASS
    (1, ["PASS", "INCONCLUSIVE", "PASS", "PASS", "PASS"], "PASS"),
    (2, ["FAIL", "PASS", "PASS", "INCONCLUSIVE", "PASS"], "PASS"),
    (1, ["FAIL", "PASS", "FAIL", "PASS", "PASS"], "FAIL"),  # more FAILs than exceptions
    (1, ["FAIL", "FAIL", "FAIL", "INCONCLUSIVE", "PASS"], "FAIL"),
    (0, ["PASS", "PASS", "FAIL", "PASS", "PASS"], "FAIL"),
    (1, ["FAIL", "INCONCLUSIVE", "PASS", "PASS", "PASS"], "INCONCLUSIVE"),  # too many not PASS, too few FAIL
    (1, ["INCONCLUSIVE", "INCONCLUSIVE", "PASS", "PASS", "PASS"], "INCONCLUSIVE"),
    (0, ["PASS", "PASS", "INCONCLUSIVE", "PASS", "PASS"], "INCONCLUSIVE"),
    (1, ["DIVERGED", "NOT RUN", "PASS", "PASS", "PASS"], "INCONCLUSIVE"),  # neither PASS nor FAIL
])
def test_a_familys_verdict_follows_its_exceptions(exceptions, verdicts, expected):
    outcome = family_outcome(family(exceptions), rows(verdicts))
    assert outcome["verdict"] == expected
    assert outcome["claim"] == "fam" and outcome["kind"] == "family" and outcome["relation"] == "family"
    assert outcome["seeds"] == f"{verdicts.count('PASS')} of 5 settings"


def test_the_familys_measured_line_counts_and_names_the_members_that_did_not_pass():
    outcome = family_outcome(family(1), rows(["PASS", "FAIL", "PASS", "INCONCLUSIVE", "PASS"]))
    assert outcome["measured"] == ("3 of 5 settings PASS, 1 FAIL (the source allows 1 exceptions: 'almost every': "
                                   "all but one); not PASS: m1: FAIL; m3: INCONCLUSIVE")
    passed = family_outcome(family(1), rows(["PASS"] * 5))["measured"]
    assert passed.startswith("5 of 5 settings PASS, 0 FAIL") and "not PASS" not in passed


# registered ------------------------------------------------------------------------------------------------------

def register() -> tuple[tuple, pd.DataFrame]:
    """Claims: an article claim, a family of three, a claim quoted from a record; the judge's rows in its order."""
    fam = family(1, size=3)
    claims = (claim("first", ARTICLE, "why first"), fam, claim("last", RECORDED, "why last"))
    judged = rows(["PASS", "FAIL", "PASS"])
    others = rows(["PASS", "INCONCLUSIVE"]).assign(claim=["first", "last"])
    return claims, pd.concat([others, judged], ignore_index=True)


def test_each_family_row_follows_its_members_which_name_it():
    claims, verdicts = register()
    table = registered(claims, verdicts)
    assert table["claim"].tolist() == ["first", "m0", "m1", "m2", "fam", "last"]
    assert table["family"].tolist() == ["", "fam", "fam", "fam", "", ""]
    assert table["verdict"].tolist() == ["PASS", "PASS", "FAIL", "PASS", "PASS", "INCONCLUSIVE"]
    assert list(table.columns) == COLUMNS + [column for column in SOURCE_COLUMNS if column not in COLUMNS]
    fam = table.set_index("claim").loc["fam"]
    assert fam["kind"] == "family" and fam["measured"].endswith("not PASS: m1: FAIL")
    assert fam["work"] == BOOK.work and fam["translation"] == BOOK.translation
    assert fam["why_tolerance"] == "'almost every': all but one"


def test_a_members_row_keeps_its_own_judgment_and_why_tolerance():
    claims, verdicts = register()
    member = registered(claims, verdicts).set_index("claim").loc["m1"]
    assert member["measured"] == "measured m1" and member["verdict"] == "FAIL"
    assert member["why_tolerance"] == "why m1"


def test_an_ordinary_claims_row_carries_its_source():
    claims, verdicts = register()
    first = registered(claims, verdicts).set_index("claim").loc["first"]
    assert first["measured"] == "measured m0"  # the judge's own row, untouched
    assert (first["work"], first["place"], first["quote"], first["translation"]) == (
        ARTICLE.work, ARTICLE.place, ARTICLE.quote, ARTICLE.translation)
    assert first["source_says"] == SAYS["article"] and first["how_measured"] == ARTICLE.measured
    assert first["why_tolerance"] == "why first"


def test_a_source_not_quoted_verbatim_shows_no_made_up_quote():
    claims, verdicts = register()
    table = registered(claims, verdicts).set_index("claim")
    for name, source in (("last", RECORDED), ("fam", BOOK)):
        assert table.loc[name, "quote"] == PLACEHOLDER
        assert table.loc[name, "translation"] == source.translation
        assert table.loc[name, "source_says"] == SAYS["book"]
    assert RECORDED.quote not in table.to_csv()


def test_claims_the_judge_has_no_row_for_are_left_out():
    claims, verdicts = register()
    table = registered(claims, verdicts[verdicts["claim"] != "last"])
    assert table["claim"].tolist() == ["first", "m0", "m1", "m2", "fam"]


def test_not_judged_statements_are_listed_with_their_source():
    class Module:
        NOT_JUDGED = (NotJudged(ARTICLE, "advice, with nothing to measure"),)

    assert not_judged_rows(Module) == [{"work": ARTICLE.work, "place": ARTICLE.place, "quote": ARTICLE.quote,
                                        "translation": ARTICLE.translation, "why": "advice, with nothing to measure"}]
    assert not_judged_rows(object()) == []
