"""Components by import path (`_target_`) and engine=fast's fallback to engine=keras, decided before data loads."""
import logging

import keras
import pytest

import studies.run.harness
from studies.config.settings import ConfigError, OptimizerSpec
from studies.engines.model import build_optimizer, for_trial
from studies.run.boundary import prepare_run
from studies.run.harness import run_study, stored_trial_ids
from studies.run.plan import plan_study
from studies.store.trial_store import TrialStore

SCHEDULE = {"_target_": "keras.optimizers.schedules.ExponentialDecay", "initial_learning_rate": 0.1,
            "decay_steps": 4, "decay_rate": 0.5}


def with_arms(cfg: dict, dataset=None, **arms) -> dict:
    """The optimizers study cut to `arms` (name -> patch; the study's other arms dropped), n_seeds from cfg."""
    study = cfg["study"]
    study["arms"] = {name: arms.get(name, "drop") for name in study["arms"]}
    if dataset is not None:
        study["dataset"] = dataset
    return {**cfg, "report": False}


@pytest.fixture
def loads(monkeypatch, caplog):
    """The run's logged lines at each dataset load: what was said before any data was read."""
    caplog.set_level(logging.INFO)
    seen = []
    for name in ("load_dataset", "load_custom"):
        real = getattr(studies.run.harness, name)
        monkeypatch.setattr(studies.run.harness, name,
                            lambda *args, real=real: seen.append(caplog.text) or real(*args))
    return caplog, seen


def test_schedule_by_target_is_built_inside_its_optimizer():
    optimizer = build_optimizer(OptimizerSpec("SGD", {"learning_rate": SCHEDULE}))
    schedule = optimizer._learning_rate
    assert isinstance(schedule, keras.optimizers.schedules.ExponentialDecay)
    assert float(schedule(8)) == pytest.approx(0.1 * 0.5 ** 2)


@pytest.mark.slow  # trains a study: left out of `make test-fast`
def test_components_by_path_train_on_fast_or_fall_back_to_keras_before_data_loads(smoke_config, loads):
    logged, seen = loads
    cfg = with_arms(smoke_config("n_seeds=1"),
                    sgd={"optimizer": {"_target_": "keras.optimizers.SGD", "learning_rate": 0.1},
                         "model": {"kernel_initializer": {
                             "_target_": "tests.custom_components.ScaledGlorot", "scale": 0.5}}},
                    adam={"optimizer": {"_target_": "tests.custom_components.NormalizedSGD", "learning_rate": 0.01}},
                    rmsprop={"optimizer": {"name": "SGD", "learning_rate": SCHEDULE}},
                    adagrad={"optimizer": {"_target_": "tests.custom_components.SignSGD", "learning_rate": 0.01}})
    outcome = run_study(prepare_run(cfg))
    said = logged.text
    moved = ["engine fast cannot run 1 trial of arm adam (optimizer NormalizedSGD's update of one replica depends "
             "on the others", "engine fast cannot run 1 trial of arm rmsprop (learning-rate schedule "
             "ExponentialDecay is not supported): they run on engine=keras"]
    assert all(line in seen[0] for line in moved), said  # said before the data was loaded, so before any epoch
    assert "arm sgd" not in seen[0] and "arm adagrad" not in seen[0] and outcome.trained == 4
    store = TrialStore(cfg["results_dir"])
    stored = store.trials("optimizers")
    assert set(stored["status"]) == {"ok"}
    assert stored.groupby("arm")["engine"].first().to_dict() == {"sgd": "fast", "adam": "keras", "rmsprop": "keras",
                                                                 "adagrad": "fast"}  # SignSGD: checked elementwise
    # A trial that fell back is the one engine=keras plans (truthful and stable): reruns of either find it stored.
    keras_plan = plan_study({**cfg, "engine": {"name": "keras"}})
    assert len(stored_trial_ids(keras_plan, store)) == 2
    assert run_study(prepare_run(cfg)).trained == 0


@pytest.mark.slow  # trains a study: left out of `make test-fast`
def test_model_builder_dataset_loader_and_callbacks_by_path(smoke_config, loads, tmp_path):
    logged, seen = loads
    log = tmp_path / "log.csv"
    build = {"_target_": "tests.custom_components.small_mlp", "units": 8}
    cfg = with_arms(smoke_config("n_seeds=1"), dataset={"_target_": "tests.custom_components.blobs", "samples": 150},
                    sgd={"model": build},
                    adam={"model": {**build, "layer_norm": True}},
                    rmsprop={"model": build, "train": {"callbacks": [
                        {"_target_": "keras.callbacks.CSVLogger", "filename": str(log)}]}})
    run_study(prepare_run(cfg))
    assert "arm sgd" not in seen[0] and "cannot run 1 trial of arm adam (layer LayerNormalization is not " \
        "supported" in seen[0] and "arm rmsprop (callback CSVLogger is not one a replica can drive" in seen[0]
    stored = TrialStore(cfg["results_dir"]).trials("optimizers").set_index("arm")
    assert set(stored["status"]) == {"ok"} and set(stored["dataset"]) == {"tests.custom_components.blobs"}
    assert stored.loc["sgd", "engine"] == "fast" and log.read_text().startswith("epoch,")


def test_trial_placeholder_gives_each_trial_its_own_callback_file(smoke_config, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    csv_logger = {"_target_": "keras.callbacks.CSVLogger", "filename": str(logs / "{trial}.csv")}
    cfg = with_arms(smoke_config("n_seeds=2"), dataset={"_target_": "tests.custom_components.blobs", "samples": 150},
                    sgd={"train": {"callbacks": [csv_logger]}})
    run_study(prepare_run(cfg))
    stored = TrialStore(cfg["results_dir"]).trials("optimizers")
    assert len(stored) == 2 and set(stored["status"]) == {"ok"}
    names = {f"optimizers-sgd-seed{row.seed}-{row.trial_id}.csv": row.stop_epoch for row in stored.itertuples()}
    assert sorted(path.name for path in logs.iterdir()) == sorted(names)
    written = {name: (logs / name).read_text().splitlines() for name in names}
    for name, lines in written.items():
        assert lines[0].startswith("epoch,") and len(lines) == 1 + names[name]  # a header, a row per epoch
    assert len({tuple(lines[1:]) for lines in written.values()}) == 2  # each seed's own curves


def test_trial_placeholder_is_filled_in_nested_arguments_and_leaves_a_callbacks_own_fields():
    arguments = {"filepath": "checkpoints/{trial}-{epoch:02d}.keras", "more": ["{trial}", {"deep": "x{trial}"}, 3]}
    assert for_trial(arguments, "dropout-dropout-seed1-abc") == {
        "filepath": "checkpoints/dropout-dropout-seed1-abc-{epoch:02d}.keras",
        "more": ["dropout-dropout-seed1-abc", {"deep": "xdropout-dropout-seed1-abc"}, 3]}


def test_fallback_false_stops_before_data_loads(smoke_config, loads):
    logged, seen = loads
    cfg = with_arms(smoke_config("engine.fallback=false"), adam={"optimizer": {
        "_target_": "tests.custom_components.NormalizedSGD", "learning_rate": 0.01}})
    with pytest.raises(ConfigError, match=r"^engine fast cannot run 2 trials of arm adam "
                                          r"\(optimizer NormalizedSGD's .*\), "
                                          "and engine.fallback=false keeps them off engine=keras") as error:
        run_study(prepare_run(cfg))
    assert "\n" not in str(error.value) and seen == []
    with pytest.raises(ConfigError, match=r"engine.fallback='no' is not a boolean"):
        run_study(prepare_run(smoke_config("engine.fallback=no")))


def test_target_settings_enter_the_trial_identity(smoke_config):
    def trial_id(optimizer):
        return plan_study(with_arms(smoke_config(), adam={"optimizer": optimizer})).trials[0].trial_id

    named, by_path = trial_id({"name": "SGD"}), trial_id({"_target_": "keras.optimizers.SGD"})
    assert named != by_path and by_path != trial_id({"_target_": "keras.optimizers.SGD", "learning_rate": 0.1})
