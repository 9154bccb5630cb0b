import json

import pyarrow.parquet as pq
import pytest

from studies.store.trial_store import TrialStore
from tests.helpers import DATASET, result_for


def test_round_trip_keeps_every_epoch_and_the_trial_record(tmp_path, trials):
    store = TrialStore(tmp_path)
    store.write(result_for(trials[0]), DATASET)
    epochs = store.epochs("optimizers")
    assert len(epochs) == 2 * 3
    curve = epochs[(epochs["split"] == "train") & (epochs["metric"] == "loss")].sort_values("epoch")
    assert curve["epoch"].tolist() == [1, 2, 3] and curve["value"].tolist() == pytest.approx([2.0, 1.0, 2 / 3])
    row = store.trials("optimizers").iloc[0]
    assert (row["arm"], row["seed"], row["engine"], row["profile"]) == ("sgd", 0, "fast", "smoke")
    assert row["config_hash"] == trials[0].config_hash and row["status"] == "ok"
    assert json.loads(row["config_json"])["optimizer"] == {"name": "SGD", "params": {"learning_rate": 0.1}}
    assert (row["data_source"], row["data_checksum"], row["dataset"]) == ("test:fixture", "c" * 64, "fashion_mnist")
    assert json.loads(row["final_json"]) == {"loss": 0.7, "accuracy": 0.8}
    assert "tensorflow" in json.loads(row["versions_json"]) and row["wall_time_s"] == 12.5


def test_completed_lists_stored_trials_for_resume(tmp_path, trials):
    store = TrialStore(tmp_path)
    for trial in trials[:3]:
        store.write(result_for(trial), DATASET)
    assert store.completed("optimizers") == {t.trial_id for t in trials[:3]}
    assert store.completed("initializers") == set()
    assert len(store.trials("optimizers", [trials[1].trial_id])) == 1


def test_interrupted_write_leaves_nothing_that_reads_as_complete(tmp_path, trials, monkeypatch):
    store = TrialStore(tmp_path)
    store.write(result_for(trials[0]), DATASET)
    real_write = pq.write_table
    calls = []

    def dies_on_trial_file(table, sink, **kwargs):
        calls.append(table.num_rows)
        if "config_json" in table.column_names:  # the epochs file went through; die writing the trial record
            real_write(table.slice(0, 0), sink)  # a partial file on disk ...
            raise KeyboardInterrupt  # ... then the process is interrupted
        real_write(table, sink, **kwargs)

    monkeypatch.setattr(pq, "write_table", dies_on_trial_file)
    with pytest.raises(KeyboardInterrupt):
        store.write(result_for(trials[1]), DATASET)
    monkeypatch.undo()
    assert len(calls) == 2
    assert store.completed("optimizers") == {trials[0].trial_id}  # the interrupted trial is not complete
    assert set(store.epochs("optimizers")["trial_id"]) == {trials[0].trial_id}  # its orphan epochs are not read
    assert not list(tmp_path.rglob("*.tmp"))  # no temporary file left behind
    store.write(result_for(trials[1]), DATASET)  # the rerun completes it
    assert store.completed("optimizers") == {trials[0].trial_id, trials[1].trial_id}


def test_rewriting_a_trial_replaces_it_without_duplicates(tmp_path, trials):
    store = TrialStore(tmp_path)
    store.write(result_for(trials[0], epochs=3), DATASET)
    store.write(result_for(trials[0], epochs=2), DATASET)
    assert len(store.trials("optimizers")) == 1 and store.epochs("optimizers")["epoch"].max() == 2
