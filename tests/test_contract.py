import importlib

import pytest

from studies.cli import available
from studies.config import ConfigError
from studies.contract import Claim, _check_claim, for_variant, load_contract


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
    ({"relation": "equal"}, "unknown relation 'equal'; valid: <, >, lowest, highest, approx, identical, runs_near"),
    ({"article_marks": (("c", 0.5),)}, r"article_marks name arm\(s\) \['c'\] outside"),
])
def test_malformed_claims_are_rejected(changes, message):
    fields = dict(id="c", text="t", metric="loss", split="train", point="final", relation="lowest",
                  arms=("a",), versus=("b",))
    with pytest.raises(ConfigError, match=message):
        _check_claim(Claim(**{**fields, **changes}), {"a", "b"}, "claim c")


def test_every_study_declares_a_kind_for_each_claim_and_a_tolerance_for_each_ordering():
    claims = [claim for study in available("study") for claim in importlib.import_module(f"studies.catalog.{study}").CLAIMS]
    assert {claim.kind for claim in claims} == {"ordering", "near", "identity", "per-run"}
    assert all(claim.tolerance > 0 for claim in claims if claim.kind == "ordering")


def test_a_study_without_a_module_gets_a_figure_per_metric_and_no_claims():
    module = load_contract("no_such_study", {"a", "b"}, "modern", metrics=("loss", "accuracy"))
    assert [figure.name for figure in for_variant(module.FIGURES, "modern")] == ["loss", "accuracy"]
    assert [column.label for column in for_variant(module.SUMMARY, "modern")] == ["final train loss",
                                                                                 "final train accuracy"]
    assert module.CLAIMS == ()
