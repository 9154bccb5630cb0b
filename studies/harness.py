"""Runs one study: plan and validate, load data, skip stored trials, train the rest, store, report."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from studies.config import ConfigError, check_keys
from studies.data import load_dataset
from studies.engines import make_engine
from studies.index import write_index
from studies.plan import Plan, plan_study
from studies.report import report_dir, write_report
from studies.splits import make_splits
from studies.store import TrialStore
from studies.sweeps import expand, sweep_settings, swept_trial_ids, write_sweep_report

DATA_KEYS = ("dir", "download", "strict")


@dataclass
class RunOutcome:
    plan: Plan
    trial_ids: list  # every trial of the run, stored now
    trained: int
    skipped: int
    report_files: list


class ConsoleProgress:
    """A line when a trial starts, per-epoch lines at most every `every_s` seconds, and a result line per
    trial with the time left at the average pace so far."""

    def __init__(self, total: int, every_s: float = 10.0, stream=None):
        self.total, self.every_s, self.stream = total, every_s, stream or sys.stdout
        self.index, self.done, self.last, self.started = 0, 0, 0.0, time.monotonic()

    def say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def trial_started(self, trial) -> None:
        self.index += 1
        self.last = time.monotonic()
        self.say(f"[{self.index}/{self.total}] {trial.study}/{trial.variant} arm={trial.arm} seed={trial.seed} ...")

    def epoch(self, trial, epoch: int, epochs: int, logs: dict) -> None:
        if time.monotonic() - self.last >= self.every_s:
            self.last = time.monotonic()
            shown = " ".join(f"{k}={v:.4f}" for k, v in logs.items() if isinstance(v, (int, float)))
            self.say(f"    epoch {epoch}/{epochs} {shown}")

    def trial_done(self, result) -> None:
        """Counted apart from trial_started: engine=fast starts a whole stack before finishing any trial."""
        t, self.done = result.trial, self.done + 1
        if result.status == "failed":
            self.say(f"[done {self.done}/{self.total}] FAILED {t.arm} seed={t.seed}: {result.message}")
            return
        final = " ".join(f"{split}_{metric}={values[-1]:.4f}" for (split, metric), values in sorted(result.curves.items()))
        left = (time.monotonic() - self.started) / self.done * (self.total - self.done)
        self.say(f"[done {self.done}/{self.total}] {result.status} {t.arm} seed={t.seed}: {result.stop_epoch} epochs in "
                 f"{result.wall_time_s:.1f}s, {final}; about {left / 60:.0f} min left")


def _data_settings(cfg: dict) -> dict:
    data = dict(cfg.get("data") or {})
    check_keys(data, DATA_KEYS, "data")
    return {key: data.get(key) for key in DATA_KEYS}


def stored_trial_ids(plan: Plan, store: TrialStore) -> list[str]:
    """The planned trials found in the store, without loading data: a trial's id depends on its data's
    checksum, so try each checksum the store holds for the study and keep the one matching most."""
    stored = store.trials(plan.study)
    known, found = set(stored["trial_id"]), []
    for checksum in set(stored["data_checksum"]):
        ids = [replace(t, data_checksum=checksum).trial_id for t in plan.trials]
        ids = [i for i in ids if i in known]
        found = ids if len(ids) > len(found) else found
    return found


def report_only(cfg: dict, stream=None) -> RunOutcome:
    """`studybench report`: rebuild a study's report from the trial store alone, training nothing."""
    plan, stream = plan_study(cfg), stream or sys.stdout
    store = TrialStore(cfg["results_dir"])
    ids = with_swept(plan, store, stored_trial_ids(plan, store))
    if not ids:
        raise ConfigError(f"no stored trials for study {plan.study} variant {plan.variant} profile {plan.profile} "
                          f"in {cfg['results_dir']}: run `studybench study={plan.study}` first")
    print(f"{plan.study}/{plan.variant} [{plan.profile}]: reporting {len(ids)} trials from the store "
          f"({len(plan.trials)} planned, plus any swept settings)", file=stream, flush=True)
    return RunOutcome(plan, ids, 0, len(ids), _report(cfg, plan, store, ids, stream))


def with_swept(plan: Plan, store: TrialStore, ids: list) -> list:
    """`ids` and every stored trial that sweeps the plan's arms: a report covers all jobs of a sweep."""
    return list(dict.fromkeys(ids + swept_trial_ids(plan, store.trials(plan.study))))


def _report(cfg: dict, plan: Plan, store: TrialStore, ids: list, stream) -> list:
    trials, epochs = store.trials(plan.study, ids), store.epochs(plan.study, ids)
    if not (trials["status"] == "ok").any():  # e.g. a sweep job whose value diverged: the sweep goes on
        print(f"report: none, no trial finished normally ({', '.join(sorted(set(trials['status'])))})",
              file=stream, flush=True)
        return []
    folder = report_dir(cfg["reports_dir"], plan)
    files = write_sweep_report(plan, trials, epochs, folder)  # first: write_report ends with run.json
    files = write_report(*expand(plan, trials, epochs), folder) + files
    files += write_index(cfg["reports_dir"])
    print(f"report: {', '.join(str(f) for f in files)}", file=stream, flush=True)
    return files


def run_study(cfg: dict, stream=None) -> RunOutcome:
    if cfg.get("mode") == "report":
        return report_only(cfg, stream)
    plan = plan_study(cfg)  # every ConfigError surfaces here, before data, training or any write
    stream = stream or sys.stdout
    data = _data_settings(cfg)
    names = sorted({trial.dataset.name for trial in plan.trials})
    datasets = {name: load_dataset(name, data["dir"], bool(data["download"]), bool(data["strict"])) for name in names}
    trials = [replace(t, data_checksum=datasets[t.dataset.name].checksum) for t in plan.trials]
    store = TrialStore(cfg["results_dir"])
    stored = store.completed(plan.study)
    pending = [t for t in trials if t.trial_id not in stored]
    print(f"{plan.study}/{plan.variant} [{plan.profile}]: {len(trials)} trials ({len(plan.arms)} arms x "
          f"{cfg['n_seeds']} seeds); {len(trials) - len(pending)} already stored, skipped; "
          f"{len(pending)} to train with engine={plan.engine} on {trials[0].backend}", file=stream, flush=True)
    if pending:
        swept = sweep_settings(cfg, plan)
        _train(cfg, pending, datasets, store, swept, ConsoleProgress(len(pending), stream=stream))
    ids = with_swept(plan, store, [t.trial_id for t in trials])
    files = _report(cfg, plan, store, ids, stream) if cfg.get("report", True) else []
    return RunOutcome(plan, [t.trial_id for t in trials], len(pending), len(trials) - len(pending), files)


def _train(cfg: dict, pending: list, datasets: dict, store: TrialStore, swept: dict, progress: ConsoleProgress) -> None:
    engine = make_engine(dict(cfg["engine"]), cfg["results_dir"])

    def splits_for(trial):
        progress.trial_started(trial)
        return make_splits(datasets[trial.dataset.name], trial.dataset, trial.seed)

    for result in engine.run(pending, splits_for, progress):
        store.write(result, datasets[result.trial.dataset.name], swept[result.trial.arm])
        progress.trial_done(result)
