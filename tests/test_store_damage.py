"""A damaged trial store: every kind of damage is named in one line, quarantined, and read as not stored (so a
rerun trains the trial again), while the other trials read as before; `studybench check` and `report` over it."""
import logging
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from studies.store import trial_store as store_module
from studies.store.check import check_store
from studies.store.trial_result import failed_result
from studies.store.trial_store import TRIAL_SCHEMA, TrialStore, move_aside
from tests.helpers import DATASET, DROPOUT_SMOKE, result_for, studybench

STUDY = "optimizers"


def rewrite(path: Path, edit) -> None:
    pq.write_table(edit(pq.read_table(path)), path)


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def garbage(path: Path) -> None:
    path.write_bytes(b"not parquet at all " * 20)


def without_status(table: pa.Table) -> pa.Table:
    return table.drop_columns(["status"])


def seed_as_text(table: pa.Table) -> pa.Table:
    return table.set_column(table.schema.get_field_index("seed"), "seed", pc.cast(table["seed"], pa.string()))


def another_id(table: pa.Table) -> pa.Table:
    return table.set_column(0, "trial_id", pa.array(["f" * 20] * len(table)))


def first_two_epochs(table: pa.Table) -> pa.Table:
    return table.filter(pc.less_equal(table["epoch"], 2))


# kind -> (the file damaged: trials | epochs, what is done to it, the reason the one-line message gives)
DAMAGE = {
    "truncated": ("trials", truncate, "unreadable Parquet file (Parquet magic bytes not found"),
    "garbage": ("trials", garbage, "unreadable Parquet file ("),
    "column missing": ("trials", lambda path: rewrite(path, without_status), "wrong schema: no column status"),
    "wrong type": ("trials", lambda path: rewrite(path, seed_as_text), "wrong schema: seed is string, not int64"),
    "id mismatch": ("trials", lambda path: rewrite(path, another_id), "trial_id 'ffffffffffffffffffff' differs from"),
    "epochs missing": ("epochs", Path.unlink, "its epochs file is missing"),
    "epochs truncated": ("epochs", truncate, "unreadable Parquet file ("),
    "epochs inconsistent": ("epochs", lambda path: rewrite(path, first_two_epochs),
                            "its last epoch is 2, the trial's stop_epoch 3"),
    "epochs of another trial": ("epochs", lambda path: rewrite(path, another_id), "rows of trial_id ['ffff"),
}


def stored_three(root: Path, trials) -> TrialStore:
    store = TrialStore(root)
    for trial in trials[:3]:
        store.write(result_for(trial), DATASET)
    return store


@pytest.mark.parametrize("kind", DAMAGE)
def test_a_damaged_trial_is_named_quarantined_and_no_longer_stored(tmp_path, trials, caplog, kind):
    table, damage, reason = DAMAGE[kind]
    store = stored_three(tmp_path, trials)
    bad, good = trials[1].trial_id, {trials[0].trial_id, trials[2].trial_id}
    damaged = tmp_path / table / STUDY / f"{bad}.parquet"
    damage(damaged)
    named = damaged if damaged.exists() else tmp_path / "trials" / STUDY / damaged.name  # missing: its trial
    assert store.completed(STUDY) == good  # a rerun trains it again
    message = caplog.messages
    assert len(message) == 1 and message[0].startswith(f"studybench: quarantined {named}: {reason}"), message
    assert caplog.records[0].levelname == "WARNING"  # on stderr in studybench
    caplog.clear()
    assert set(store.trials(STUDY)["trial_id"]) == good and set(store.epochs(STUDY)["trial_id"]) == good
    assert caplog.messages == []  # named once: it has left the store
    assert not list((tmp_path / "trials").rglob(f"{bad}*")) and not list((tmp_path / "epochs").rglob(f"{bad}*"))
    assert (tmp_path / "quarantine" / "trials" / STUDY / f"{bad}.parquet").is_file()
    assert store.quarantine_files() == sorted((tmp_path / "quarantine").rglob("*.parquet"))
    store.write(result_for(trials[1]), DATASET)  # the rerun
    assert store.completed(STUDY) == good | {bad}


def test_quarantine_never_overwrites_an_earlier_file(tmp_path, trials):
    store = stored_three(tmp_path, trials)
    bad = trials[0].trial_id
    for _ in range(2):
        garbage(tmp_path / "trials" / STUDY / f"{bad}.parquet")
        assert bad not in store.completed(STUDY)
        store.write(result_for(trials[0]), DATASET)
    folder = tmp_path / "quarantine" / "trials" / STUDY
    assert sorted(p.name for p in folder.iterdir()) == [f"{bad}.1.parquet", f"{bad}.parquet"]


def test_a_file_already_moved_by_another_process_is_left_alone(tmp_path):
    assert move_aside(tmp_path / "gone.parquet", tmp_path / "quarantine") is None
    assert list((tmp_path / "quarantine").iterdir()) == []


def test_a_trial_rewritten_while_it_is_read_is_read_again_not_quarantined(tmp_path, trials, monkeypatch):
    store = TrialStore(tmp_path)
    store.write(failed_result(trials[0], RuntimeError("boom"), "CPU: test"), DATASET)
    real_read, retried = store_module.read_checked, []

    def retried_meanwhile(source, path, schema):
        table = real_read(source, path, schema)
        if schema is TRIAL_SCHEMA and not retried:  # the failed trial's file is read, its epochs not yet ...
            store.write(result_for(trials[0]), DATASET)  # ... when its retry lands: new epochs, then trial file
            retried.append(path)
        return table

    monkeypatch.setattr(store_module, "read_checked", retried_meanwhile)
    assert store.completed(STUDY) == {trials[0].trial_id} and retried  # the retry's version, read whole
    assert not (tmp_path / "quarantine").exists()


def test_what_is_not_damage_reads_as_stored(tmp_path, trials):
    store = TrialStore(tmp_path)
    store.write(failed_result(trials[0], RuntimeError("boom"), "CPU: test"), DATASET)  # no epochs, stop_epoch 0
    store.write(result_for(trials[1]), DATASET)
    before_sweeps = tmp_path / "trials" / STUDY / f"{trials[1].trial_id}.parquet"
    rewrite(before_sweeps, lambda table: table.drop_columns(["sweep_json"]))
    leftover = tmp_path / "trials" / STUDY / f".{trials[2].trial_id}.parquet.0123456789ab.tmp"
    leftover.write_bytes(b"half a write")
    read = store.trials(STUDY).set_index("trial_id")
    assert read["status"].to_dict() == {trials[0].trial_id: "failed", trials[1].trial_id: "ok"}
    assert read["sweep_json"].isna().to_dict() == {trials[0].trial_id: False, trials[1].trial_id: True}
    assert store.temporary_files() == [leftover] and not (tmp_path / "quarantine").exists()


def test_check_counts_a_failed_trial_as_wrong_and_lists_leftover_temporary_files(tmp_path, trials, caplog):
    caplog.set_level(logging.INFO)
    store = TrialStore(tmp_path)
    store.write(failed_result(trials[0], RuntimeError("boom"), "CPU: test"), DATASET)
    store.write(result_for(trials[1]), DATASET)
    leftover = tmp_path / "epochs" / STUDY / f".{trials[2].trial_id}.parquet.0123456789ab.tmp"
    leftover.write_bytes(b"half a write")
    assert check_store(tmp_path) == 1
    assert caplog.messages == [
        f"trial store {tmp_path}: 1 study", "  optimizers [engine fast, profile smoke]: 1 ok, 0 diverged, 1 failed",
        "quarantine: 0 files", "temporary files of interrupted or running writes: 1", f"  {leftover}",
        "trial leases: 0", "NOT HEALTHY: 1 failed trial (rerunning the study retries failed trials)"]
    assert leftover.exists()  # a write under way may own it


@pytest.fixture(scope="module")
def smoke_store(dropout_store) -> Path:
    """A real store (conftest's dropout_store, shared with tests/test_logs_and_tensorboard.py): copy it before
    damaging it."""
    return dropout_store[0]


def copy_of(smoke_store: Path, tmp_path: Path) -> tuple[Path, list]:
    """The store alone: not its job logs, nor the event files its run also wrote."""
    shutil.copytree(smoke_store / "results", tmp_path / "results",
                    ignore=shutil.ignore_patterns("hydra", "tensorboard"))
    return tmp_path, sorted((tmp_path / "results" / "trials" / "dropout").glob("*.parquet"))


@pytest.mark.slow  # its store is a study trained by the CLI: left out of `make test-fast`
@pytest.mark.xdist_group("dropout_store")  # the worker that trains conftest's dropout_store for the tensorboard tests
def test_check_on_a_healthy_store_counts_the_trials_and_exits_0(smoke_store, tmp_path):
    folder, _ = copy_of(smoke_store, tmp_path)
    done = studybench("check", "results_dir=results", cwd=folder)
    assert done.returncode == 0 and done.stderr == "", done.stderr[-2000:]
    assert done.stdout.splitlines() == ["trial store results: 1 study",
                                        "  dropout [engine fast, profile smoke]: 2 ok, 0 diverged, 0 failed",
                                        "quarantine: 0 files", "temporary files of interrupted or running writes: 0",
                                        "trial leases: 0", "healthy"]


@pytest.mark.slow  # its store is a study trained by the CLI: left out of `make test-fast`
@pytest.mark.xdist_group("dropout_store")  # the worker that trains conftest's dropout_store for the tensorboard tests
def test_check_on_a_damaged_store_names_the_file_and_exits_1_until_the_quarantine_is_cleared(smoke_store, tmp_path):
    folder, (damaged, _) = copy_of(smoke_store, tmp_path)
    truncate(damaged)
    done = studybench("check", "results_dir=results", cwd=folder)
    relative = damaged.relative_to(folder)
    assert done.returncode == 1
    said = done.stderr.splitlines()
    assert len(said) == 1 and said[0].startswith(f"studybench: quarantined {relative}: unreadable Parquet file ("), said
    assert "  dropout [engine fast, profile smoke]: 1 ok, 0 diverged, 0 failed" in done.stdout
    assert f"  results/quarantine/trials/dropout/{damaged.name} (moved now: unreadable Parquet file (" in done.stdout
    assert done.stdout.splitlines()[-1] == "NOT HEALTHY: 2 files in quarantine (inspect, then delete them)"
    again = studybench("check", "results_dir=results", cwd=folder)
    assert again.returncode == 1 and again.stderr == "" and "moved now" not in again.stdout
    elsewhere = studybench("check", "study=optimizers", "results_dir=results", cwd=folder)  # narrowed to a study
    assert elsewhere.returncode == 0 and "  optimizers: no stored trials" in elsewhere.stdout
    shutil.rmtree(folder / "results" / "quarantine")
    assert studybench("check", "results_dir=results", cwd=folder).returncode == 0


@pytest.mark.slow  # its store is a study trained by the CLI: left out of `make test-fast`
@pytest.mark.xdist_group("dropout_store")  # the worker that trains conftest's dropout_store for the tensorboard tests
def test_report_over_a_damaged_store_reports_the_good_trials(smoke_store, tmp_path):
    folder, (damaged, _) = copy_of(smoke_store, tmp_path)
    garbage(damaged)
    done = studybench("report", *DROPOUT_SMOKE, cwd=folder)
    assert done.returncode == 0, done.stderr[-2000:]
    said = [line for line in done.stderr.splitlines() if line.startswith("studybench:")]
    assert len(said) == 1 and said[0].startswith(f"studybench: quarantined {damaged.relative_to(folder)}: unreadable")
    summary = (folder / "reports" / "dropout" / "smoke" / "summary.csv").read_text().splitlines()
    assert summary[1].split(",")[:3] == ["dropout", "dropout 0.15", "1"]  # one seed left of two
    assert not list((folder / "reports").rglob("*.tmp"))
