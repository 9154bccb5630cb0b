import pytest

from studies.config.settings import ConfigError
from studies.run.plan import merge, plan_study
from tests.helpers import compose_config


def plan(*overrides):
    return plan_study(compose_config("results_dir=/nonexistent", *overrides))


def optimizers_by_arm(result):
    return {t.arm: (t.optimizer.name, t.optimizer.params) for t in result.trials if t.seed == 0}


def test_original_variant_runs_the_keras22_optimizers():
    result = plan()
    assert result.variant == "original" and result.profile == "full" and len(result.trials) == 6 * 5
    assert optimizers_by_arm(result) == {
        "sgd": ("SGD", {"learning_rate": 0.1}), "adagrad": ("Keras2Adagrad", {"learning_rate": 0.1}),
        "adadelta": ("Adadelta", {"learning_rate": 0.1}), "adam": ("Adam", {}), "nadam": ("Keras2Nadam", {}),
        "rmsprop": ("RMSprop", {})}
    trial = result.trials[0]
    assert trial.model.hidden_units == (100, 100, 100, 100) and trial.model.activation == "sigmoid"
    assert (trial.train.batch_size, trial.train.epochs, trial.train.loss) == (128, 15, "categorical_crossentropy")
    assert trial.dataset.train_first is None and trial.dataset.validation == "test"


def test_modern_variant_uses_keras3_classes_and_defaults():
    arms = optimizers_by_arm(plan("variant=modern"))
    assert arms["adagrad"] == ("Adagrad", {"learning_rate": 0.1}) and arms["nadam"] == ("Nadam", {})
    assert arms["sgd"] == ("SGD", {"learning_rate": 0.1})


def test_smoke_profile_caps_data_and_epochs_and_is_part_of_the_trial_identity():
    full, smoke = plan("n_seeds=1"), plan("n_seeds=1", "profile=smoke")
    assert smoke.trials[0].train.epochs == 2 and smoke.trials[0].dataset.train_first == 512
    assert full.trials[0].trial_id != smoke.trials[0].trial_id


def test_seeds_and_arms_give_distinct_trial_ids():
    result = plan("n_seeds=3", "first_seed=10")
    assert sorted({t.seed for t in result.trials}) == [10, 11, 12]
    assert len({t.trial_id for t in result.trials}) == len(result.trials)


def test_merge_replaces_named_objects_and_merges_the_rest():
    base = {"optimizer": {"name": "SGD", "learning_rate": 0.1}, "train": {"epochs": 5, "batch_size": 8}}
    patch = {"optimizer": {"name": "Adam"}, "train": {"epochs": 2}}
    assert merge(base, patch) == {"optimizer": {"name": "Adam"}, "train": {"epochs": 2, "batch_size": 8}}


@pytest.mark.parametrize("override, message", [
    ("variant=ancient", "unknown value 'ancient'; valid: original, modern"),
    ("n_seeds=0", r"n_seeds=0 is out of range: must be an integer >= 1"),
    ("study.train.epochs=0", r"epochs=0 is out of range"),
    ("study.train.epochs=-3", r"epochs=-3 is out of range"),
    ("study.train.batch_size=0", r"batch_size=0 is out of range"),
    ("study.model.dropout_rate=1.0", r"dropout_rate=1.0 is out of range: must be in \[0, 1\)"),
    ("study.model.dropout_rate=-0.1", r"dropout_rate=-0.1 is out of range"),
    ("study.model.activation=sigmoidal", "unknown activation 'sigmoidal'"),
    ("study.model.kernel_initializer=glorot", "unknown initializer 'glorot'"),
    ("study.arms.sgd.optimizer.name=SGDD", "unknown optimizer 'SGDD'"),
    ("+study.model.width=3", "unknown key.*width; valid:"),
    ("study.dataset.name=cifar", "unknown value 'cifar'; valid: fashion_mnist, mnist"),
    ("+study.train.sampling=bootstrap", "sampling: unknown value 'bootstrap'; valid: epoch, with_replacement"),
    ("+study.train.evaluate_train=sometimes", "evaluate_train='sometimes' is not a boolean; valid: true, false"),
    ("+study.model.batch_norm_momentum=1.0", r"batch_norm_momentum=1.0 is out of range: must be in \[0, 1\)"),
    ("+study.model.batch_norm_epsilon=0", "batch_norm_epsilon=0 is out of range: must be a finite number > 0"),
    ("+study.model.batch_norm_moving_variance_initializer=nought", "unknown initializer 'nought'; valid: "),
])
def test_bad_input_is_one_line_naming_value_and_valid_ones(override, message):
    with pytest.raises(ConfigError, match=message) as error:
        plan(override)
    assert "\n" not in str(error.value)


def test_identity_omits_defaults_so_new_settings_do_not_orphan_stored_trials():
    trial = plan("n_seeds=1").trials[0]
    identity = trial.identity()
    assert identity["identity_version"] == 1 and "label" not in identity
    assert "batch_norm" not in identity["model"] and "output_initializer" not in identity["model"]
    assert not {"batch_norm_momentum", "batch_norm_epsilon"} & set(identity["model"])
    assert not {"sampling", "evaluate_train"} & set(identity["train"])
    assert identity["model"]["activation"] == "sigmoid" and identity["train"]["epochs"] == 15
    changed = plan("n_seeds=1", "study.model.dropout_rate=0.1").trials[0]
    assert changed.identity()["model"]["dropout_rate"] == 0.1 and changed.trial_id != trial.trial_id
