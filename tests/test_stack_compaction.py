"""Few replica-epochs wasted: a stack goes on without the replicas early stopping has stopped, to the same bits.

Four seeds of an early-stopping arm (patience 1: they stop at different epochs) share a stack. Once a quarter
of its replicas have stopped, it goes on with the live ones (at least two: one again as a stand-in), and each
trial ends with the bits it has trained alone; a stack killed after it dropped replicas resumes from its
checkpoint to the same bits.
"""
import pytest

from studies.config.settings import EarlyStoppingSpec
from studies.data.splits import make_splits
from studies.engines.fast import IDLE_SHARE, MINIMUM_REPLICAS, FastEngine, StackRun
from tests.helpers import Quiet, assert_same_bits
from tests.test_stack_bits import EPOCHS, arm

pytestmark = pytest.mark.slow  # trains end to end: left out of `make test-fast`


@pytest.fixture(scope="module")
def trials(base_trial):
    stopping = EarlyStoppingSpec(monitor="val_loss", patience=1, restore_best_weights=True)
    return [arm(base_trial, "stopping", 0.15, 0.003, stopping, seed) for seed in range(4)]

def train(trials, dataset, tmp_path, **settings):
    engine = FastEngine({"name": "fast", **settings}, tmp_path)
    splits = lambda trial: make_splits(dataset, trial.dataset, trial.seed)  # noqa: E731
    return {(r.trial.arm, r.trial.seed): r for r in engine.run(trials, splits, Quiet())}, engine

def computed_replica_epochs(stop_epochs: list) -> int:
    """Each epoch, the stack's replicas: all of them (at least MINIMUM_REPLICAS) until a quarter of them have
    stopped, then the live ones, and so on."""
    size, computed = max(len(stop_epochs), MINIMUM_REPLICAS), 0
    for epoch in range(1, max(stop_epochs) + 1):
        computed += size
        needed = max(sum(stop > epoch for stop in stop_epochs), MINIMUM_REPLICAS)
        if size - needed >= max(1, IDLE_SHARE * size):
            size = needed
    return computed


def test_stopped_replicas_leave_the_stack_and_the_others_keep_their_bits(trials, fashion_mnist, tmp_path):
    alone, _ = train(trials, fashion_mnist, tmp_path, max_replicas=1)
    together, engine = train(trials, fashion_mnist, tmp_path)
    assert_same_bits(together, alone)
    stops = [result.stop_epoch for result in together.values()]
    assert len(set(stops)) > 1 and max(stops) < EPOCHS  # they stop apart
    assert engine.replica_epochs.used == sum(stops)
    assert engine.replica_epochs.computed == computed_replica_epochs(stops) < len(stops) * max(stops)

def test_a_stack_killed_after_dropping_replicas_resumes_to_the_same_bits(trials, fashion_mnist, tmp_path, monkeypatch):
    uninterrupted, whole = train(trials, fashion_mnist, tmp_path / "uninterrupted", checkpoint_seconds=0)
    train_epoch, calls = StackRun._train_epoch, []

    def killed_once_compacted(self, *arguments):
        calls.append(self.stack is not self.full)
        if sum(calls) == 3:  # two epochs after the stack first dropped a replica
            raise RuntimeError("killed")
        return train_epoch(self, *arguments)

    monkeypatch.setattr(StackRun, "_train_epoch", killed_once_compacted)
    killed, _ = train(trials, fashion_mnist, tmp_path, checkpoint_seconds=0)
    assert {result.status for result in killed.values()} == {"failed"}
    monkeypatch.setattr(StackRun, "_train_epoch", train_epoch)
    resumed, rest = train(trials, fashion_mnist, tmp_path, checkpoint_seconds=0)
    assert_same_bits(resumed, uninterrupted)
    assert rest.replica_epochs.computed < whole.replica_epochs.computed  # resumed, not started over
    assert not list(tmp_path.rglob("*.unusable"))
