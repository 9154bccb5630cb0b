"""Per-source seeds (studies/runtime/seeding.py): each randomness source of a trial draws with its own seed where
`TrialSpec.seeds` gives one, the trial's seed otherwise, on either engine, whatever its stack mates."""
import dataclasses

import pytest

from studies.runtime.seeding import SOURCES
from tests.helpers import run_fast, run_keras, variant

pytestmark = pytest.mark.slow  # trains end to end: left out of `make test-fast`

MOVED = ("weights", "order", "dropout")  # the sources these trials draw (no drawn data split)


def small(base, arm, seed, seeds=None):
    trial = variant(base, arm, "Adam", seed=seed, model={"dropout_rate": 0.2, "hidden_units": (16,)},
                    train={"epochs": 2, "batch_size": 32}, dataset={"train_first": 128, "test_first": 64})
    return dataclasses.replace(trial, seeds=seeds)


def test_a_trial_without_its_own_source_seeds_keeps_its_identity(base_trial):
    """Trials stored before per-source seeds keep their ids: the key is left out of the identity when unset."""
    assert "seeds" not in base_trial.identity()
    apart = dataclasses.replace(base_trial, seeds={"weights": 3})
    assert apart.identity()["seeds"] == {"weights": 3} and apart.trial_id != base_trial.trial_id


def test_each_source_draws_with_its_own_seed_in_one_stack(base_trial, fashion_mnist, tmp_path):
    """Seed 0 with one source moved to seed 1 trains to the bits of seed 1 with every other source held at 0 (so
    each source follows its own seed and no other), unlike seed 0 itself, and moving each source changes the run."""
    moved = {source: small(base_trial, f"moved_{source}", 0, {source: 1}) for source in MOVED}
    held = {source: small(base_trial, f"held_{source}", 1, {s: 0 for s in SOURCES if s != source})
            for source in MOVED}
    plain = small(base_trial, "plain", 0)
    results = run_fast([plain, *moved.values(), *held.values()], fashion_mnist, tmp_path)
    curves = {arm: result.curves for (arm, _), result in results.items()}
    for source in MOVED:
        assert curves[f"moved_{source}"] == curves[f"held_{source}"], source  # float == float: bit for bit
        assert curves[f"moved_{source}"] != curves["plain"], source
    assert len({str(curves[f"moved_{source}"]) for source in MOVED}) == len(MOVED)


def test_engine_keras_draws_batch_order_and_weights_with_their_own_seeds(base_trial, fashion_mnist, tmp_path):
    """engine=keras: the same for batch order and initial weights (which also draw its dropout masks)."""
    for source in ("order", "weights"):
        moved = run_keras(small(base_trial, "moved", 0, {source: 1}), fashion_mnist, tmp_path)
        held = run_keras(small(base_trial, "held", 1, {s: 0 for s in SOURCES if s not in (source, "dropout")}),
                         fashion_mnist, tmp_path)
        assert moved.curves == held.curves, source


def test_the_data_draw_follows_its_own_seed_through_the_harness(smoke_config):
    """Article 002's drawn 700/300 split: seed 0 with the data draw at seed 1 trains to the bits of seed 1 with
    the other sources at seed 0, and not to seed 0's."""
    from studies.run.boundary import prepare_run
    from studies.run.harness import train_plan
    from studies.store.trial_store import TrialStore

    cfg = smoke_config("study=early_stopping_mnist", "n_seeds=1")
    run = prepare_run(cfg)
    plan = run.plan
    first = plan.trials[0]
    trials = {"plain": first, "moved": dataclasses.replace(first, seeds={"data": 1}),
              "held": dataclasses.replace(first, seed=1, seeds={s: 0 for s in SOURCES if s != "data"})}
    stored = dict(zip(trials, train_plan(run, dataclasses.replace(plan, trials=tuple(trials.values())), "")[0]))
    epochs = TrialStore(cfg["results_dir"]).epochs("early_stopping_mnist")
    curves = {name: epochs[epochs["trial_id"] == trial.trial_id].sort_values(["split", "metric", "epoch"])["value"]
              .tolist() for name, trial in stored.items()}
    assert curves["moved"] == curves["held"] and curves["moved"] != curves["plain"]
