"""Every study end to end under profile=smoke: all arms trained, every declared figure and table written."""
import pandas as pd
import pytest

from studies.cli import available
from studies.harness import run_study


@pytest.mark.parametrize("study", [s for s in available("study") if s != "optimizers"])  # optimizers: own test
def test_study_runs_end_to_end(study, smoke_config, tmp_path):
    outcome = run_study(smoke_config(f"study={study}"))
    plan = outcome.plan
    assert outcome.trained == len(plan.arms) * 2
    folder = tmp_path / "reports" / study / "smoke"
    for figure in plan.contract.FIGURES:
        assert (folder / f"{figure.name}.png").stat().st_size > 10_000
    summary = pd.read_csv(folder / "summary.csv")
    assert summary["arm"].tolist() == list(plan.arms) and (summary["n"] == 2).all()
    means = summary.filter(like="_mean")
    assert means.notna().any(axis=0).all() and means.notna().any(axis=1).all()  # no empty column, no empty arm
