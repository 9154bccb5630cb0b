"""The trial store: tidy Parquet under `results_dir`, one pair of files per trial, written atomically.

    <root>/epochs/<study>/<trial_id>.parquet  one row per (epoch, split, metric, value)
    <root>/trials/<study>/<trial_id>.parquet  one row: the trial's config, provenance and outcome

The trial file is written last, each file to a hidden temporary name then renamed, so a trial counts as
stored only once all of it is on disk: an interrupted write leaves nothing that is read as complete, and
processes writing different trials never touch the same file.

Reading never fails over a damaged file. A trial whose files do not read as what was written (not Parquet, a
wrong schema, its epochs file missing or ending at another epoch than its stop_epoch, a trial_id that is
not its file name) is named in one warning (a line on stderr), its two files are moved to
`<root>/quarantine/<table>/<study>/`, and it counts as not stored, so a rerun trains it again. Processes may
read and write at once: a rewrite (a retried trial) first removes the old trial file, and a trial file replaced
while it was read is read again, so no reader pairs one version's trial file with another's epochs.
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import os
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from studies.data.datasets import Dataset
from studies.runtime.phases import timed
from studies.runtime.provenance import versions
from studies.store.atomic import TEMPORARY_GLOB, atomic_file
from studies.store.trial_result import TrialResult

KEYS = [("trial_id", pa.string()), ("study", pa.string()), ("variant", pa.string()), ("arm", pa.string()),
        ("seed", pa.int64()), ("engine", pa.string()), ("profile", pa.string())]
EPOCH_SCHEMA = pa.schema(KEYS + [("epoch", pa.int64()), ("split", pa.string()), ("metric", pa.string()),
                                 ("value", pa.float64())])
TRIAL_SCHEMA = pa.schema(KEYS + [
    ("label", pa.string()), ("config_json", pa.string()), ("config_hash", pa.string()), ("dataset", pa.string()),
    ("data_source", pa.string()), ("data_checksum", pa.string()), ("versions_json", pa.string()),
    ("device", pa.string()), ("wall_time_s", pa.float64()), ("stop_epoch", pa.int64()), ("best_epoch", pa.int64()),
    ("final_json", pa.string()), ("sizes_json", pa.string()), ("artifacts_json", pa.string()), ("status", pa.string()),
    ("message", pa.string()), ("finished_at", pa.string()),
    # settings swept away from the declared arm (studies/run/sweeps.py); null before sweeps
    ("sweep_json", pa.string())])
OPTIONAL = ("sweep_json",)  # columns that files written before them lack: read as null
COMPLETE = ("ok", "diverged")  # statuses a rerun does not train again (failed trials are retried)
log = logging.getLogger(__name__)


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
    with atomic_file(path) as sink:
        pq.write_table(table, sink)


class DamagedFile(Exception):
    """A stored file that does not read as what was written there."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def _brief(error: Exception) -> str:
    """An error's first sentence, printable, on one line."""
    return "".join(c for c in " ".join(str(error).split()) if c.isprintable()).split(". ")[0][:120]


def read_checked(source, path: Path, schema: pa.Schema) -> pa.Table:
    """The Parquet file open as `source`, as `schema`: DamagedFile where it does not parse or a column is
    missing or of another type (extra columns are dropped, missing OPTIONAL ones read as null)."""
    try:
        table = pq.ParquetFile(source).read()
    except (pa.ArrowException, OSError) as error:
        raise DamagedFile(path, f"unreadable Parquet file ({_brief(error)})") from None
    found = table.schema
    missing = [f.name for f in schema if f.name not in found.names and f.name not in OPTIONAL]
    wrong = [f"{f.name} is {found.field(f.name).type}, not {f.type}"
             for f in schema if f.name in found.names and found.field(f.name).type != f.type]
    if missing or wrong:
        raise DamagedFile(path, "wrong schema: " + "; ".join(wrong + [f"no column {name}" for name in missing]))
    return pa.table([table[f.name] if f.name in found.names else pa.nulls(len(table), f.type) for f in schema],
                    schema=schema)


def _same_file(path: Path, source) -> bool:
    """Whether `path` still names the file open as `source` (not replaced, not moved away)."""
    try:
        now, then = os.stat(path), os.fstat(source.fileno())
    except FileNotFoundError:
        return False
    return (now.st_dev, now.st_ino) == (then.st_dev, then.st_ino)


def move_aside(path: Path, folder: Path) -> Path | None:
    """Move `path` into `folder` under a name no earlier file there has (name.parquet, name.1.parquet...);
    where it went, or None when it is gone already (another process moved it)."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in itertools.count():
        target = folder / (path.name if number == 0 else f"{path.stem}.{number}{path.suffix}")
        try:  # claim the name, even against another process doing the same
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
            break
        except FileExistsError:
            continue
    try:
        os.replace(path, target)
        return target
    except FileNotFoundError:
        target.unlink()
        return None


def _frame(tables: list, schema: pa.Schema) -> pd.DataFrame:
    return pa.concat_tables(tables or [schema.empty_table()]).to_pandas()


class TrialStore:
    def __init__(self, root):
        self.root = Path(root)
        self.quarantined = []  # (path in quarantine, reason) of each file this store moved there

    def _path(self, table: str, study: str, trial_id: str) -> Path:
        return self.root / table / study / f"{trial_id}.parquet"

    @timed("store")
    def write(self, result: TrialResult, dataset: Dataset, sweep: dict | None = None) -> None:
        """Store one trial; `sweep`: the settings in which it differs from its arm as declared ({}: none)."""
        t = result.trial
        trial_path = self._path("trials", t.study, t.trial_id)
        trial_path.unlink(missing_ok=True)  # a rewrite (a retried trial): readers must not pair the old with new epochs
        write_atomic(pa.Table.from_pylist(epoch_rows(result), EPOCH_SCHEMA), self._path("epochs", t.study, t.trial_id))
        write_atomic(pa.Table.from_pylist([trial_row(result, dataset, sweep or {})], TRIAL_SCHEMA), trial_path)

    def studies(self) -> list[str]:
        folder = self.root / "trials"
        return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []

    def _load(self, study: str, trial_ids=None) -> list[tuple[pa.Table, pa.Table]]:
        """(trial, epochs) tables of every stored trial of the study (or of `trial_ids`) that reads whole; a
        damaged one is quarantined. An epochs file without its trial file is an unfinished write: not read."""
        folder = self.root / "trials" / study
        paths = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
        if trial_ids is not None:
            paths = [p for p in paths if p.stem in set(trial_ids)]
        loaded = []
        for path in paths:
            try:
                loaded.append(self._load_trial(study, path))
            except FileNotFoundError:
                continue  # gone since listed: quarantined by another process, or being rewritten
            except DamagedFile as damage:
                self._quarantine(study, path.stem, damage)
        return loaded

    def _load_trial(self, study: str, path: Path) -> tuple[pa.Table, pa.Table]:
        with open(path, "rb") as source:  # held open: its inode then names this version of the file
            try:
                return self._read_pair(study, path, source)
            except DamagedFile:
                if _same_file(path, source):
                    raise
        return self._load_trial(study, path)  # rewritten while being read: read the new version

    def _read_pair(self, study: str, path: Path, source) -> tuple[pa.Table, pa.Table]:
        """The trial file open as `source` and its epochs file, checked against each other."""
        trial = read_checked(source, path, TRIAL_SCHEMA)
        ids = trial["trial_id"].to_pylist()
        if ids != [path.stem]:
            raise DamagedFile(path, f"{len(ids)} rows, not 1" if len(ids) != 1 else
                              f"trial_id {ids[0]!r} differs from the file name")
        epochs_path = self._path("epochs", study, path.stem)
        try:
            with open(epochs_path, "rb") as epochs_source:
                epochs = read_checked(epochs_source, epochs_path, EPOCH_SCHEMA)
        except FileNotFoundError:
            raise DamagedFile(path, "its epochs file is missing") from None
        others = set(epochs["trial_id"].to_pylist()) - {path.stem}
        last, stop = pc.max(epochs["epoch"]).as_py() or 0, trial["stop_epoch"][0].as_py()
        if others or last != stop:  # a failed trial: stop_epoch 0 and no rows
            raise DamagedFile(epochs_path, f"rows of trial_id {sorted(others)}" if others else
                              f"its last epoch is {last}, the trial's stop_epoch {stop}")
        return trial, epochs

    def _quarantine(self, study: str, trial_id: str, damage: DamagedFile) -> None:
        """Move both files of the trial aside (the trial file first: from then on it is not stored)."""
        moved = []
        for table in ("trials", "epochs"):
            path = self._path(table, study, trial_id)
            target = move_aside(path, self.root / "quarantine" / table / study)
            if target:
                moved.append((target, damage.reason if path == damage.path else "its trial's other file is damaged"))
        if moved:  # none: another process quarantined the trial, and said so
            self.quarantined += moved
            log.warning(f"studybench: quarantined {damage} (moved to {self.root / 'quarantine'}/; a rerun trains "
                        "the trial again)")

    @timed("store")
    def trials(self, study: str, trial_ids=None) -> pd.DataFrame:
        return _frame([trial for trial, _ in self._load(study, trial_ids)], TRIAL_SCHEMA)

    @timed("store")
    def epochs(self, study: str, trial_ids=None) -> pd.DataFrame:
        """Epoch rows of stored trials only."""
        return _frame([epochs for _, epochs in self._load(study, trial_ids)], EPOCH_SCHEMA)

    @timed("store")
    def completed(self, study: str, trial_ids=None) -> set[str]:
        """The stored trials of the study (or of `trial_ids`) that a rerun does not train again."""
        trials = self.trials(study, trial_ids)
        return set(trials.loc[trials["status"].isin(COMPLETE), "trial_id"])

    def quarantine_files(self, study: str | None = None) -> list[Path]:
        return sorted((self.root / "quarantine").glob(f"*/{study or '*'}/*"))

    def temporary_files(self, study: str | None = None) -> list[Path]:
        """What interrupted writes left (or writes under way hold): not trials, never read."""
        return sorted(path for table in ("trials", "epochs")
                      for path in (self.root / table).glob(f"{study or '*'}/{TEMPORARY_GLOB}"))
