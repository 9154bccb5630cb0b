"""`studybench check [study=NAME]`: the health of the trial store at `results_dir`, from the store alone (no
training, no TensorFlow).

Reading the store quarantines damaged trials (studies/store/trial_store.py). Check reads every study (or the one named)
and logs, per study, engine and profile, the stored trials by status; every file in quarantine, with the
reason for those it moved there now; the temporary files that interrupted writes left; and the trial leases
(studies/store/lease.py) of running jobs and of jobs that died. Exit status 0 when healthy, 1 when something needs a
look: a failed trial (a rerun retries it) or any file in quarantine (found now or before: inspect it, then
delete it). Temporary files and leases are only listed: a write or a job under way owns its own, and a dead
job's lease is taken over by the next job that claims its trial.
"""
from __future__ import annotations

import logging

from studies.store.lease import lease_lines
from studies.store.trial_store import TrialStore

STATUSES = ("ok", "diverged", "failed")
log = logging.getLogger(__name__)


def _count(number: int, noun: str, plural: str = "") -> str:
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def trial_lines(store: TrialStore, studies: list) -> tuple[list[str], int]:
    """A line per (study, engine, profile) with its trials by status; and how many failed."""
    lines, failed = [], 0
    for study in studies:
        trials = store.trials(study)
        if trials.empty:
            lines.append(f"  {study}: no stored trials")
        for (engine, profile), group in trials.groupby(["engine", "profile"]):
            counts = group["status"].value_counts()
            lines.append(f"  {study} [engine {engine}, profile {profile}]: "
                         + ", ".join(f"{counts.get(status, 0)} {status}" for status in STATUSES))
        failed += int((trials["status"] == "failed").sum())
    return lines, failed


def check_store(results_dir, study: str | None = None) -> int:
    """Log the store's health (of one study where named), a record per line; 0 when healthy, else 1."""
    store = TrialStore(results_dir)
    studies = [study] if study else store.studies()
    lines, failed = trial_lines(store, studies)
    moved_now = dict(store.quarantined)
    quarantined = [f"  {path}" + (f" (moved now: {moved_now[path]})" if path in moved_now else "")
                   for path in store.quarantine_files(study)]
    temporary = [f"  {path}" for path in store.temporary_files(study)]
    leases = lease_lines(results_dir, study)
    problems = ([f"{_count(failed, 'failed trial')} (rerunning the study retries failed trials)"] if failed else []) + (
        [f"{_count(len(quarantined), 'file')} in quarantine (inspect, then delete them)"] if quarantined else [])
    report = ([f"trial store {store.root}: {_count(len(studies), 'study', 'studies')}"] + lines
              + [f"quarantine: {_count(len(quarantined), 'file')}"] + quarantined
              + [f"temporary files of interrupted or running writes: {len(temporary)}"] + temporary
              + [f"trial leases: {len(leases)}"] + leases
              + ["NOT HEALTHY: " + "; ".join(problems) if problems else "healthy"])
    for line in report:
        log.info(line)
    return 1 if problems else 0
