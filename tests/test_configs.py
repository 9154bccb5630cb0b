"""Every config composes and plans: each study x variant x engine x profile."""
import itertools

import pytest

from studies.run.cli import available
from studies.run.plan import plan_study
from tests.helpers import compose_config


def variants(study):
    return list(compose_config(f"study={study}")["study"]["variants"])


COMBINATIONS = [(study, variant, engine, profile)
                for study in available("study") for variant in variants(study)
                for engine, profile in itertools.product(available("engine"), available("profile"))]


@pytest.mark.parametrize("study, variant, engine, profile", COMBINATIONS)
def test_every_config_composes_and_plans(study, variant, engine, profile):
    plan = plan_study(compose_config(f"study={study}", f"variant={variant}", f"engine={engine}", f"profile={profile}"))
    assert plan.study == study and plan.trials and all(t.engine == engine for t in plan.trials)


def test_a_study_runs_its_default_variant_unless_one_is_named():
    assert compose_config("study=hyperparameters")["variant"] == "book"  # its only variant
    assert compose_config("study=optimizers")["variant"] == "original"
    assert compose_config("study=optimizers", "variant=modern")["variant"] == "modern"


@pytest.mark.parametrize("beyond", available("beyond"))
def test_every_beyond_composes_and_plans_with_every_study(beyond):
    for study in available("study"):
        cfg = compose_config(f"study={study}", f"beyond={beyond}")
        assert cfg["beyond"]["name"] == beyond and plan_study(cfg, components=False).trials, study
