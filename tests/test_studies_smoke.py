"""Every study end to end under profile=smoke: all arms trained, every declared figure and table written."""
import pandas as pd
import pytest

from studies.config.contract import for_variant
from studies.run.boundary import prepare_run
from studies.run.cli import available
from studies.run.harness import run_study
from tests.helpers import compose_config

pytestmark = pytest.mark.slow  # trains end to end: left out of `make test-fast`

# tests/test_study_fit_basics.py reads fit_basics's run: on the same worker, it is trained once for both
SHARED = {("fit_basics", "original"): pytest.mark.xdist_group("fit_basics_smoke")}
CASES = [pytest.param(study, variant, marks=SHARED.get((study, variant), ())) for study in available("study")
         for variant in compose_config(f"study={study}")["study"]["variants"]
         if (study, variant) != ("optimizers", "original")]  # that one has its own test


@pytest.mark.parametrize("study, variant", CASES)
def test_study_runs_end_to_end(study, variant, smoke_study):
    seeds = 1 if (study, variant) == ("batchnorm", "book") else 2  # 32 arms: one seed is enough here
    outcome, root = smoke_study(study, variant, seeds)
    plan = outcome.plan
    assert outcome.trained == len(plan.arms) * seeds
    folder = root / "reports" / study / ("" if variant == plan.default_variant else variant) / "smoke"
    for figure in for_variant(plan.contract.FIGURES, plan.variant):
        assert (folder / f"{figure.name}.png").stat().st_size > 10_000
    summary = pd.read_csv(folder / "summary.csv")
    assert summary["arm"].tolist() == list(plan.arms)
    text = (folder / "summary.md").read_text()
    for arm in summary.loc[summary["n"] < seeds, "arm"]:  # e.g. the book's weight scale 1.0 without BN
        assert f"- diverged: arm {arm} seed" in text
    ran = summary[summary["n"] == seeds].filter(like="_mean")
    assert len(ran) and ran.notna().any(axis=0).all() and ran.notna().any(axis=1).all()  # no empty column or arm


def test_a_diverging_arm_is_stored_reported_by_name_and_not_retrained(smoke_config, tmp_path):
    overrides = ("study=initializers", "n_seeds=1", "+study.arms.he_uniform.optimizer={name:SGD,learning_rate:1e12}")
    outcome = run_study(prepare_run(smoke_config(*overrides)))
    assert outcome.trained == 3
    summary = (tmp_path / "reports" / "initializers" / "smoke" / "summary.md").read_text()
    assert "- diverged: arm he_uniform seed 0" in summary
    table = pd.read_csv(tmp_path / "reports" / "initializers" / "smoke" / "summary.csv").set_index("arm")
    assert table.loc["he_uniform", "n"] == 0 and table.loc["glorot_uniform", "n"] == 1
    assert run_study(prepare_run(smoke_config(*overrides))).trained == 0  # diverged is a result: not trained again
