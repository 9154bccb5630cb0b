"""What a run leaves for people's tools: Hydra's job log file holds the run's lines, timestamped, while the
console shows them plain; tensorboard=true writes every stored curve and final metric of each trial as
TensorBoard scalars, under both engines, once (a rerun writes nothing again)."""
import json
import re

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import TENSORS, EventAccumulator

from studies.report.tensorboard import trial_folder
from studies.store.trial_store import TrialStore
from tests.helpers import DROPOUT_SMOKE, studybench

# slow: trains end to end, left out of `make test-fast`; engine=fast's run is conftest's dropout_store, which
# tests/test_store_damage.py reads too: one worker trains it for both.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dropout_store")]

SMOKE = (*DROPOUT_SMOKE, "report=false", "tensorboard=true")


@pytest.fixture(scope="module", params=["fast", "keras"])
def smoke_run(request, tmp_path_factory):
    """The dropout arm, 2 seeds, with tensorboard=true: (engine, folder, the CLI's output), per engine."""
    if request.param == "fast":
        return "fast", *request.getfixturevalue("dropout_store")
    folder = tmp_path_factory.mktemp(request.param)
    done = studybench(*SMOKE, f"engine={request.param}", cwd=folder)
    assert done.returncode == 0, done.stderr[-2000:]
    return request.param, folder, done


def scalars(folder) -> dict:
    """{tag: {step: value}} of the event files in `folder`, read with TensorBoard's own event reader."""
    events = EventAccumulator(str(folder), size_guidance={TENSORS: 0})  # 0: keep every event
    events.Reload()
    assert {events.SummaryMetadata(tag).plugin_data.plugin_name for tag in events.Tags()[TENSORS]} == {"scalars"}
    return {tag: {event.step: tf.make_ndarray(event.tensor_proto).item() for event in events.Tensors(tag)}
            for tag in events.Tags()[TENSORS]}


def expected(trial, epochs) -> dict:
    """The scalars a trial's stored rows call for, as float32 (what event files hold)."""
    rows = epochs[epochs["trial_id"] == trial["trial_id"]]
    wanted = {}
    for (split, metric), curve in rows.groupby(["split", "metric"]):
        wanted[f"{metric}/{split}"] = dict(zip(curve["epoch"], np.float32(curve["value"]).tolist()))
    for metric, value in json.loads(trial["final_json"]).items():
        wanted[f"final/{metric}"] = {trial["stop_epoch"]: np.float32(value).item()}
    return wanted


def test_the_job_log_file_holds_the_console_lines_timestamped(smoke_run):
    _, folder, done = smoke_run
    (log,) = (folder / "results" / "hydra").glob("*/*.log")
    shown = [line for line in done.stdout.splitlines() if line]
    logged = log.read_text().splitlines()
    assert any("2 to train with engine=" in line for line in shown) and any("[done 2/2]" in line for line in shown)
    stamp = r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\]\[[\w.]+\]\[INFO\] - "
    for line in shown:  # every console line, in the file with its time, logger and level
        assert any(re.fullmatch(stamp + re.escape(line), entry) for entry in logged), line
    assert "\r" not in done.stdout


def test_tensorboard_scalars_equal_the_stored_curves(smoke_run):
    _, folder, _ = smoke_run
    store = TrialStore(folder / "results")
    trials, epochs = store.trials("dropout"), store.epochs("dropout")
    assert len(trials) == 2
    for _, trial in trials.iterrows():
        run = trial_folder(folder / "results", trial)  # a stored row has the TrialSpec's fields it needs
        assert run.is_dir() and scalars(run) == expected(trial, epochs)
    assert not list((folder / "results" / "tensorboard").rglob("*.tmp"))


def test_a_rerun_trains_nothing_and_writes_no_events_again(smoke_run):
    engine, folder, _ = smoke_run
    before = sorted((folder / "results" / "tensorboard").rglob("*"))
    done = studybench(*SMOKE, f"engine={engine}", cwd=folder)
    assert done.returncode == 0 and "0 to train" in done.stdout, done.stderr[-2000:]
    assert sorted((folder / "results" / "tensorboard").rglob("*")) == before
