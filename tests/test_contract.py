import pytest

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
    ({"relation": "approx", "value": None}, "needs a `value`"),
    ({"article_marks": (("c", 0.5),)}, r"article_marks name arm\(s\) \['c'\] outside"),
])
def test_malformed_claims_are_rejected(changes, message):
    fields = dict(id="c", text="t", metric="loss", split="train", point="final", relation="lowest",
                  arms=("a",), versus=("b",))
    with pytest.raises(ConfigError, match=message):
        _check_claim(Claim(**{**fields, **changes}), {"a", "b"}, "claim c")
