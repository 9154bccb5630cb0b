"""The trial store: tidy Parquet under `results_dir`, one pair of files per trial, written atomically.

    <root>/epochs/<study>/<trial_id>.parquet  one row per (epoch, split, metric, value)
    <root>/trials/<study>/<trial_id>.parquet  one row: the trial's config, provenance and outcome

The trial file is written last, each file to a hidden temporary name then renamed, so a trial counts as
stored only once all of it is on disk: an interrupted write leaves nothing that is read as complete, and
processes writing different trials never touch the same file.
"""
from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from studies.data import Dataset
from studies.engines import TrialResult
from studies.environment import versions

KEYS = [("trial_id", pa.string()), ("study", pa.string()), ("variant", pa.string()), ("arm", pa.string()),
        ("seed", pa.int64()), ("engine", pa.string()), ("profile", pa.string())]
EPOCH_SCHEMA = pa.schema(KEYS + [("epoch", pa.int64()), ("split", pa.string()), ("metric", pa.string()),
                                 ("value", pa.float64())])
TRIAL_SCHEMA = pa.schema(KEYS + [
    ("label", pa.string()), ("config_json", pa.string()), ("config_hash", pa.string()), ("dataset", pa.string()),
    ("data_source", pa.string()), ("data_checksum", pa.string()), ("versions_json", pa.string()),
    ("device", pa.string()), ("wall_time_s", pa.float64()), ("stop_epoch", pa.int64()), ("best_epoch", pa.int64()),
    ("final_json", pa.string()), ("sizes_json", pa.string()), ("artifacts_json", pa.string()), ("status", pa.string()), ("message", pa.string()), ("finished_at", pa.string()),
    ("sweep_json", pa.string())])  # settings swept away from the declared arm (studies/sweeps.py); null before sweeps
COMPLETE = ("ok", "diverged")  # statuses a rerun does not train again (failed trials are retried)


def _keys(result: TrialResult) -> dict:
    t = result.trial
    return {"trial_id": t.trial_id, "study": t.study, "variant": t.variant, "arm": t.arm, "seed": t.seed,
            "engine": t.engine, "profile": t.profile}


def epoch_rows(result: TrialResult) -> list[dict]:
    keys = _keys(result)
    return [{**keys, "epoch": epoch, "split": split, "metric": metric, "value": value}
            for (split, metric), values in sorted(result.curves.items())
            for epoch, value in enumerate(values, start=1)]


def trial_row(result: TrialResult, dataset: Dataset, sweep: dict) -> dict:
    t = result.trial
    return {**_keys(result), "label": t.label, "config_json": json.dumps(dataclasses.asdict(t), default=str),
            "config_hash": t.config_hash, "dataset": dataset.name, "data_source": dataset.source,
            "data_checksum": dataset.checksum, "versions_json": json.dumps(versions()), "device": result.device,
            "wall_time_s": result.wall_time_s, "stop_epoch": result.stop_epoch, "best_epoch": result.best_epoch,
            "final_json": json.dumps(result.final), "sizes_json": json.dumps(result.sizes),
            "artifacts_json": json.dumps(result.artifacts), "status": result.status, "message": result.message,
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "sweep_json": json.dumps(sweep, default=str)}


def write_atomic(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as sink:
            pq.write_table(table, sink)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class TrialStore:
    def __init__(self, root):
        self.root = Path(root)

    def _path(self, table: str, study: str, trial_id: str) -> Path:
        return self.root / table / study / f"{trial_id}.parquet"

    def write(self, result: TrialResult, dataset: Dataset, sweep: dict | None = None) -> None:
        """Store one trial; `sweep`: the settings in which it differs from its arm as declared ({}: none)."""
        t = result.trial
        write_atomic(pa.Table.from_pylist(epoch_rows(result), EPOCH_SCHEMA), self._path("epochs", t.study, t.trial_id))
        write_atomic(pa.Table.from_pylist([trial_row(result, dataset, sweep or {})], TRIAL_SCHEMA),
                     self._path("trials", t.study, t.trial_id))

    def _read(self, table: str, study: str, schema: pa.Schema, trial_ids=None) -> pd.DataFrame:
        folder = self.root / table / study
        paths = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
        if trial_ids is not None:
            paths = [p for p in paths if p.stem in set(trial_ids)]
        if not paths:
            return schema.empty_table().to_pandas()
        return pa.concat_tables([pq.read_table(p, schema=schema) for p in paths]).to_pandas()

    def trials(self, study: str, trial_ids=None) -> pd.DataFrame:
        return self._read("trials", study, TRIAL_SCHEMA, trial_ids)

    def epochs(self, study: str, trial_ids=None) -> pd.DataFrame:
        """Epoch rows of stored trials only: an epochs file without its trial file is an unfinished write."""
        stored = self.trials(study, trial_ids)["trial_id"]
        return self._read("epochs", study, EPOCH_SCHEMA, stored)

    def completed(self, study: str) -> set[str]:
        trials = self.trials(study)
        return set(trials.loc[trials["status"].isin(COMPLETE), "trial_id"])
