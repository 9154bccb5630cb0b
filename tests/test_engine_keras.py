"""engine=keras: determinism, pairing across arms, batch order, early stopping and checkpoints."""
import dataclasses
import math

import keras
import numpy as np
import pytest

from studies.config.settings import EarlyStoppingSpec
from studies.data.splits import make_splits
from studies.engines.batches import epoch_batches
from studies.engines.keras_fit import KerasFitEngine, batch_order, batches
from studies.run.plan import plan_study
from studies.runtime.seeding import replacement_batch, replacement_order, training_order
from studies.store.trial_result import best_epoch
from tests.helpers import Quiet, compose_config


@pytest.fixture(scope="module")
def smoke_trials():
    return plan_study(compose_config("profile=smoke", "n_seeds=2")).trials


def train(trial, dataset, tmp_path, engine=None):
    engine = engine or KerasFitEngine({"name": "keras"}, tmp_path)
    return engine.train(trial, make_splits(dataset, trial.dataset, trial.seed), Quiet())


def test_a_seed_gives_the_same_curves_bit_for_bit(smoke_trials, fashion_mnist, tmp_path):
    trial = next(t for t in smoke_trials if t.arm == "adam" and t.seed == 1)
    first, second = train(trial, fashion_mnist, tmp_path), train(trial, fashion_mnist, tmp_path)
    assert first.curves == second.curves and first.final == second.final
    assert set(first.curves) == {("train", "loss"), ("train", "accuracy"), ("test", "loss"), ("test", "accuracy")}
    assert all(len(values) == 2 for values in first.curves.values()) and first.stop_epoch == 2


def test_arms_of_one_seed_share_batches_and_initial_weights(smoke_trials, fashion_mnist, tmp_path):
    """Two arms that differ only in name must train identically: nothing random depends on the arm."""
    sgd = next(t for t in smoke_trials if t.arm == "sgd" and t.seed == 0)
    twin = dataclasses.replace(sgd, arm="sgd_twin", label="SGD twin")
    other_seed = next(t for t in smoke_trials if t.arm == "sgd" and t.seed == 1)
    curves = [train(t, fashion_mnist, tmp_path).curves for t in (sgd, twin, other_seed)]
    assert curves[0] == curves[1] and curves[0] != curves[2]


def batches_seen(order, batch_size: int, epochs: int, steps: int) -> list:
    """The rows of each batch model.fit trains on, reading `batches(order)` as engine=keras does."""
    x = np.arange(order.max() + 1, dtype=np.float32).reshape(-1, 1)
    seen = []

    class Recorder(keras.Model):
        def train_step(self, data):
            seen.append(data[0].numpy()[:, 0].astype(int).tolist())
            return {"batches": len(seen)}

    model = Recorder(inputs=(inp := keras.Input((1,))), outputs=keras.layers.Dense(1)(inp))
    model.compile(run_eagerly=True)
    model.fit(batches(x, x, order, batch_size), epochs=epochs, steps_per_epoch=steps, shuffle=False, verbose=0)
    return seen


def test_keras_reads_batches_in_the_drawn_order_across_epochs():
    order = training_order(seed=7, epochs=3, samples=10)
    seen = batches_seen(order, 4, epochs=3, steps=math.ceil(10 / 4))
    expected = [row[i:i + 4].tolist() for row in order for i in range(0, 10, 4)]
    assert seen == expected and len(seen) == 9
    assert not np.array_equal(order[0], order[1])  # a new order every epoch


def test_with_replacement_each_step_draws_from_seed_and_step_alone_the_same_for_every_arm():
    """The book's np.random.choice per iteration: both engines train step s of seed 3 on replacement_batch(3, s),
    whatever the arm (batch norm or not, any weight scale), and the draw repeats duplicates as it should."""
    book = plan_study(compose_config("study=batchnorm", "variant=book", "n_seeds=2")).trials
    arms_of_seed = [t for t in book if t.seed == 1]
    orders = [batch_order(t, steps=10, samples=1000) for t in arms_of_seed]
    assert len(orders) == 32 and all(np.array_equal(orders[0], order) for order in orders)
    assert not np.array_equal(orders[0], batch_order(book[0], steps=10, samples=1000))  # seed 0
    draws = [replacement_batch(3, step, 1000, 100) for step in range(6)]
    assert np.array_equal(replacement_batch(3, 5, 1000, 100), draws[5]) and len(set(draws[5])) < 100
    assert np.array_equal(replacement_order(3, 6, 1000, 100)[0], np.concatenate(draws))
    assert batches_seen(replacement_order(3, 6, 1000, 100), 100, epochs=2, steps=3) == [d.tolist() for d in draws]
    (rows,) = epoch_batches([3, 4, 3], epoch=1, samples=1000, batch_size=100, steps=3, sampling="with_replacement")
    assert rows.shape == (3, 3, 100) and np.array_equal(rows[0], np.stack(draws[3:]))
    assert np.array_equal(rows[0], rows[2]) and not np.array_equal(rows[0], rows[1])  # replicas of seeds 3, 4, 3


def test_early_stopping_is_keras_own_and_stop_epoch_is_recorded(smoke_trials, fashion_mnist, tmp_path):
    trial = next(t for t in smoke_trials if t.arm == "sgd")
    # min_delta=10 makes every epoch after the first "no improvement": Keras stops after epoch 1 + patience
    stopping = EarlyStoppingSpec(patience=1, min_delta=10.0)
    trial = dataclasses.replace(trial, train=dataclasses.replace(trial.train, epochs=6, early_stopping=stopping))
    result = train(trial, fashion_mnist, tmp_path)
    assert result.stop_epoch == 2 and len(result.curves[("train", "loss")]) == 2


def test_checkpoint_best_writes_a_loadable_keras_file(smoke_trials, fashion_mnist, tmp_path):
    trial = next(t for t in smoke_trials if t.arm == "nadam")
    trial = dataclasses.replace(trial, train=dataclasses.replace(trial.train, checkpoint_best=True))
    result = train(trial, fashion_mnist, tmp_path)
    assert result.artifacts == [str(tmp_path / "artifacts" / trial.trial_id / "best_model.keras")]
    restored = keras.saving.load_model(result.artifacts[0])
    assert type(restored.optimizer).__name__ == "Keras2Nadam"


@pytest.mark.parametrize("values, monitor, expected", [
    ([0.9, 0.5, 0.7, 0.6], "val_loss", 2),  # lowest loss
    ([0.5, 0.4, 0.4, 0.6], "val_loss", 2),  # a tie is no improvement: the first of equals, as EarlyStopping has it
    ([0.5, 0.8, 0.7, 0.9], "val_accuracy", 4),  # highest accuracy
    ([], "val_loss", None),  # nothing monitored
])
def test_best_epoch_is_the_1_based_epoch_of_the_best_monitored_value(values, monitor, expected):
    assert best_epoch(values, monitor) == expected


def test_a_diverging_trial_is_stored_as_diverged_with_its_curve(smoke_trials, fashion_mnist, tmp_path):
    trial = next(t for t in smoke_trials if t.arm == "sgd")
    blow_up = dataclasses.replace(trial.optimizer, params={"learning_rate": 1e12})  # ReLU: activations explode
    trial = dataclasses.replace(trial, optimizer=blow_up, model=dataclasses.replace(trial.model, activation="relu"))
    result = train(trial, fashion_mnist, tmp_path)
    assert result.status == "diverged" and result.stop_epoch == 1  # TerminateOnNaN ended it in epoch 1
    assert not np.isfinite(result.curves[("train", "loss")][-1])


def test_an_exception_fails_that_trial_only(smoke_trials, fashion_mnist, tmp_path):
    engine = KerasFitEngine({"name": "keras"}, tmp_path)
    broken = dataclasses.replace(smoke_trials[0], model=dataclasses.replace(smoke_trials[0].model, activation="nope"))
    splits = make_splits(fashion_mnist, smoke_trials[0].dataset, 0)
    results = list(engine.run([broken, smoke_trials[1]], lambda trial: splits, Quiet()))
    assert [r.status for r in results] == ["failed", "ok"]
    assert results[0].message.startswith("ValueError") and "\n" not in results[0].message
