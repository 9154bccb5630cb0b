"""Article 000's walkthrough under profile=smoke: what makes the study faithful to the text."""
import json

import numpy as np
import pandas as pd
import pytest

from studies.store.trial_store import TrialStore

# slow: trains end to end, left out of `make test-fast`; the run is tests/test_studies_smoke.py's, on one worker
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("fit_basics_smoke")]


@pytest.fixture(scope="module")
def fit_basics(smoke_study):
    """Seed 0's trials of the study's smoke run (conftest's smoke_study, 2 seeds) by arm, and their epochs."""
    _, root = smoke_study("fit_basics", "original", 2)
    store = TrialStore(root / "results")
    trials = store.trials("fit_basics")
    first = trials[trials["seed"] == 0]
    return first.set_index("arm"), store.epochs("fit_basics", list(first["trial_id"]))


def curve(epochs, arm, split):
    rows = epochs[(epochs["arm"] == arm) & (epochs["split"] == split) & (epochs["metric"] == "loss")]
    return rows.sort_values("epoch")["value"].to_numpy()


def test_sparse_and_one_hot_cross_entropy_give_the_same_curves(fit_basics):
    _, epochs = fit_basics
    for split in ("train", "val"):
        np.testing.assert_allclose(curve(epochs, "sparse_ce", split), curve(epochs, "onehot_ce", split), rtol=1e-5)


def test_validation_split_sizes_and_validation_data(fit_basics):
    trials, _ = fit_basics
    assert json.loads(trials.loc["sparse_ce", "sizes_json"]) == {"train": 512, "val": 12000, "test": 256}
    assert json.loads(trials.loc["validation_data", "sizes_json"]) == {"train": 512, "val": 256, "test": 256}
    assert json.loads(trials.loc["binary_ce", "sizes_json"])["val"] == 2400  # last 20% of the 12,000 two-class images


def test_predict_argmax_matches_evaluate_and_checkpoints_exist(fit_basics):
    trials, _ = fit_basics
    for arm in ("sparse_ce", "onehot_ce", "binary_ce"):
        final = json.loads(trials.loc[arm, "final_json"])
        assert final["predict_argmax_accuracy"] == pytest.approx(final["accuracy"], abs=1e-6)
    regression = json.loads(trials.loc["mse_regression", "final_json"])
    assert set(regression) == {"loss", "mean_absolute_error"}
    for artifacts in trials["artifacts_json"]:
        (path,) = json.loads(artifacts)
        assert path.endswith("best_model.keras") and pd.io.common.file_exists(path)
