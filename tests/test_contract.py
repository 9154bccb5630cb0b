import importlib
import math
import pkgutil
from pathlib import Path

import numpy as np
import pytest

import studies.catalog
from studies.config.contract import KINDS, SAYS, Claim, Family, _check_claim, for_variant, judged_claims, load_contract
from studies.config.settings import ConfigError
from studies.run.cli import available


def test_the_optimizer_study_declares_figures_summary_and_claims():
    module = load_contract("optimizers", {"sgd", "adagrad", "adadelta", "adam", "nadam", "rmsprop"})
    assert [f.name for f in for_variant(module.FIGURES, "original")] == ["loss", "accuracy"]
    assert [f.name for f in for_variant(module.FIGURES, "book")] == ["loss_by_iteration"]
    assert {c.id for c in module.CLAIMS} >= {"nadam_fastest", "sgd_slower", "adadelta_slower"}
    assert module.__doc__.startswith("Optimizers: article 001 §1")


def test_claims_naming_an_arm_the_config_lacks_are_rejected():
    with pytest.raises(ConfigError, match=r"unknown arm\(s\) \['nadam'\]"):
        load_contract("optimizers", {"sgd", "adagrad", "adadelta", "adam", "rmsprop"})


@pytest.mark.parametrize("changes, message", [
    ({"relation": "<<"}, "unknown relation '<<'"),
    ({"point": "last"}, "unknown point 'last'"),
    ({"relation": "<", "versus": ()}, "needs `versus` arms"),
    ({"relation": "approx", "versus": (), "value": None}, "relation 'approx' needs a `value`"),
    ({"relation": "runs_near", "value": 0.1}, r"relation 'runs_near' is about one arm: arms \('a',\), versus \('b',\); "
                                              "valid: one arm, no versus"),
    ({"relation": "runs_near", "versus": (), "value": 0.1, "at_least": 1.5},
     r"at_least 1.5; valid: a share in \(0, 1\]"),
    ({"tolerance": -0.01}, "tolerance -0.01; valid: a number >= 0"),
    ({"relation": "identical"}, "relation 'identical' compares whole curves: point 'final'; valid: curve"),
    ({"point": "curve"}, "unknown point 'curve'"),
    ({"relation": "equal"}, "unknown relation 'equal'; valid: <, >, lowest, highest, approx, identical, runs_near, "
                            "runs_above, runs_below, typical, every_run$"),
    ({"relation": "typical", "versus": (), "value": None}, "relation 'typical' needs a `value`"),
    ({"relation": "every_run", "versus": (), "value": None}, "relation 'every_run' needs a `value`"),
    ({"relation": "runs_above", "versus": (), "value": None}, "relation 'runs_above' needs a `value`"),
    ({"relation": "runs_below", "value": 0.2}, r"relation 'runs_below' is about one arm: arms \('a',\), versus "
                                               r"\('b',\); valid: one arm, no versus"),
    ({"relation": "typical", "arms": ("a", "b"), "versus": (), "value": 40},
     r"relation 'typical' is about one arm: arms \('a', 'b'\)"),
    ({"relation": "every_run", "versus": (), "value": 3, "tolerance": -1.0}, "tolerance -1.0; valid: a number >= 0"),
    ({"relation": "runs_above", "versus": (), "value": 1, "at_least": 0}, r"at_least 0; valid: a share in \(0, 1\]"),
    ({"article_marks": (("c", 0.5),)}, r"article_marks name arm\(s\) \['c'\] outside"),
])
def test_malformed_claims_are_rejected(changes, message):
    fields = dict(id="c", text="t", metric="loss", split="train", point="final", relation="lowest",
                  arms=("a",), versus=("b",))
    with pytest.raises(ConfigError, match=message):
        _check_claim(Claim(**{**fields, **changes}), {"a", "b"}, "claim c")


def test_every_study_declares_a_kind_for_each_claim_and_a_tolerance_for_each_ordering():
    declared = [claim for study in available("study")
                for claim in importlib.import_module(f"studies.catalog.{study}").CLAIMS]
    claims = judged_claims(declared)
    assert {claim.kind for claim in claims} <= set(KINDS.values())
    assert {claim.kind for claim in declared} <= set(KINDS.values()) | {"family"}
    assert set(KINDS.values()) == {"ordering", "near", "identity", "per-run", "single-run", "every-run"}
    assert all(claim.tolerance > 0 for claim in claims if claim.kind == "ordering")


def test_judged_claims_flatten_a_family_into_members_that_name_it():
    member = dict(metric="loss", split="train", point="mean", relation=">", arms=("a",), versus=("b",))
    family = Family("fam", "almost always", members=(Claim("m0", "t", **member), Claim("m1", "t", **member)),
                    exceptions=0, why_exceptions="none")
    alone = Claim("alone", "t", **member)
    judged = judged_claims((alone, family))
    assert [claim.id for claim in judged] == ["alone", "m0", "m1"]
    assert [claim.family for claim in judged] == ["", "fam", "fam"] and family.kind == "family"


@pytest.mark.parametrize("relation, value, tolerance, expected", [
    ("runs_above", 1, 0.0, [False, False, True, False]),  # falls: more than one
    ("runs_below", 0.2, 0.0, [True, False, False, False]),  # accuracy below 20%
    ("runs_below", 2.0, 0.5, [True, True, False, False]),  # below value - tolerance
    ("every_run", 1, 0.0, [False, True, False, False]),  # exactly the value
    ("every_run", 1.5, 0.5, [False, True, True, False]),  # within value +- tolerance, ends included
    ("runs_near", 0.1, 0.05, [True, False, False, False]),
])
def test_holds_in_says_per_run_whether_the_claim_holds_and_nan_never_does(relation, value, tolerance, expected):
    claim = Claim("c", "t", metric="loss", split="train", point="final", relation=relation, arms=("a",), value=value,
                  tolerance=tolerance)
    assert claim.holds_in([0.1, 1.0, 2.0, math.nan]).tolist() == expected
    assert isinstance(claim.holds_in(np.array([1.0])), np.ndarray)


def test_a_study_without_a_module_gets_a_figure_per_metric_and_no_claims():
    module = load_contract("no_such_study", {"a", "b"}, "modern", metrics=("loss", "accuracy"))
    assert [figure.name for figure in for_variant(module.FIGURES, "modern")] == ["loss", "accuracy"]
    assert [column.label for column in for_variant(module.SUMMARY, "modern")] == ["final train loss",
                                                                                 "final train accuracy"]
    assert module.CLAIMS == ()


# The catalog's sources: every claim says where it comes from, and an article's words are the article's ----------

STUDY_MODULES = {info.name: importlib.import_module(f"studies.catalog.{info.name}")
                 for info in pkgutil.iter_modules(studies.catalog.__path__)}
ARTICLES = ("article 000", "article 001", "article 002")  # Source.work of the three seed texts, 000_*.txt ...
PER_RUN_KINDS = ("per-run", "single-run", "every-run")  # a tolerance read per run must say why it is what it is
# Quotes that do not appear verbatim in the seed text (catalog owners fix them; xfail strict: a fixed one fails
# here until it is taken off this list).


def seeds_folder() -> Path | None:
    """../shared/seeds beside the repository root; in a git worktree, beside the main checkout's root."""
    root = Path(__file__).resolve().parents[1]
    candidates = [root.parent / "shared" / "seeds"]
    dot_git = root / ".git"
    if dot_git.is_file() and dot_git.read_text().startswith("gitdir:"):  # <main>/.git/worktrees/<name>
        candidates.append(Path(dot_git.read_text().split(":", 1)[1].strip()).parents[2].parent / "shared" / "seeds")
    return next((folder for folder in candidates if folder.is_dir()), None)


def article_text(work: str) -> str:
    folder = seeds_folder()
    if folder is None:
        pytest.skip("../shared/seeds is absent (a copy of the repository without shared/): the article texts the "
                    "quotes are checked against are not here")
    found = sorted(folder.glob(f"{work.removeprefix('article ')}_*.txt"))
    assert len(found) == 1, f"{work}: expected one {work.removeprefix('article ')}_*.txt in {folder}, found {found}"
    return found[0].read_text(encoding="utf-8")


def declared_items():
    """(module name, claim or family) for every judged claim and every Family of the catalog."""
    for name, module in STUDY_MODULES.items():
        for claim in judged_claims(module.CLAIMS):
            yield name, claim
        for family in module.CLAIMS:
            if family.kind == "family":
                yield name, family


def families() -> dict:
    return {(name, item.id): item for name, item in declared_items() if item.kind == "family"}


def quoted_sources():
    """(id, source) of every source that quotes an article's text: judged claims, families and NOT_JUDGED."""
    items = [(f"{name}.{item.id}", item.source) for name, item in declared_items()]
    items += [(f"{name}.NOT_JUDGED[{index}]", statement.source) for name, module in STUDY_MODULES.items()
              for index, statement in enumerate(getattr(module, "NOT_JUDGED", ()))]
    return [(name, source) for name, source in items if source is not None and source.work in ARTICLES
            and source.verbatim]


def test_the_catalog_has_a_module_for_every_study():
    assert set(available("study")) <= set(STUDY_MODULES)


def test_every_claim_and_family_of_the_catalog_has_a_source():
    """A family's members (one per setting) take the family's source, which their family row carries."""
    known = families()
    for name, item in declared_items():
        source = item.source or (known[(name, item.family)].source if getattr(item, "family", "") else None)
        assert source is not None, f"{name} claim {item.id!r} has no Source"
        assert source.says in SAYS, f"{name} claim {item.id!r}: says {source.says!r}; valid: {', '.join(SAYS)}"
        assert source.translation and source.measured and source.place, f"{name} claim {item.id!r}: empty fields"


def test_every_claim_the_article_makes_quotes_it_verbatim_with_a_translation():
    for name, item in declared_items():
        source = item.source
        if source is not None and source.says == "article":
            assert source.work in ARTICLES, f"{name} claim {item.id!r}: work {source.work!r}; valid: {ARTICLES}"
            assert source.verbatim and source.quote.strip() and source.translation.strip(), (
                f"{name} claim {item.id!r}: the article's claim needs its verbatim quote and a translation")
    for module in STUDY_MODULES.values():
        for statement in getattr(module, "NOT_JUDGED", ()):
            said = statement.source
            assert said.translation.strip() and statement.why.strip()
            if said.says == "article":
                assert said.work in ARTICLES and said.verbatim and said.quote.strip()


@pytest.mark.parametrize("name, source", [
    pytest.param(name, source, id=name) for name, source in quoted_sources()])
def test_a_quote_appears_verbatim_in_the_articles_seed_text(name, source):
    # A page's line breaks are layout: the quote and the text are compared with white space folded.
    assert " ".join(source.quote.split()) in " ".join(article_text(source.work).split()), (
        f"{name}: {source.quote!r} is not in {source.work}'s text")


def test_every_tolerance_says_why_and_every_family_why_its_exceptions():
    for name, item in declared_items():
        if item.kind == "family":
            assert item.why_exceptions.strip(), (
                f"{name} family {item.id!r} does not say why {item.exceptions} exceptions")
        elif item.tolerance > 0 or item.kind in PER_RUN_KINDS:
            assert item.why_tolerance.strip(), f"{name} claim {item.id!r} does not say why its tolerance is what it is"
