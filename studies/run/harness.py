"""Runs one study from its `Run` (studies/run/boundary.py: typed settings and plans, read once from the config):
route what the engine cannot run to engine=keras, load data, skip stored trials, train the rest, store, report."""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, replace

from studies.config.run_settings import DataSettings, RunSettings
from studies.config.settings import ConfigError, DatasetSpec, is_import_path
from studies.data.datasets import Dataset, load_custom, load_dataset
from studies.data.splits import class_count, make_splits
from studies.engines import make_engine
from studies.report.index import write_index
from studies.report.study_report import report_dir, write_report
from studies.report.tensorboard import write_trial_events
from studies.run.boundary import Run
from studies.run.plan import AUTO, Plan, check_output
from studies.run.progress import LoggedProgress
from studies.run.sweep_report import write_sweep_report
from studies.run.sweeps import expand, one_data_per_arm, swept_settings, swept_trial_ids
from studies.run.terminal import tell_report
from studies.runtime.phases import timed
from studies.runtime.seeding import source_seed
from studies.stats.sequential import Sequence, judge_looks, nominal_alphas
from studies.store.lease import Leases
from studies.store.trial_store import TrialStore

log = logging.getLogger(__name__)


@dataclass
class RunOutcome:
    plan: Plan
    trial_ids: list  # every trial of the run, stored now
    trained: int
    skipped: int
    report_files: list
    setting_trial_ids: list | None = None  # with a `search`: each setting's trials (studies/run/sweeps.py)


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


def route(plan: Plan, settings: RunSettings) -> Plan:
    """The plan with each trial its engine cannot run moved to engine=keras, one line per arm and reason, before
    any data is loaded; with engine.fallback=false a ConfigError instead. A moved trial is the very trial
    engine=keras plans (its identity names the engine it runs on), so a rerun finds it stored."""
    engine, moved, trials = make_engine(dict(settings.engine), settings.results_dir), {}, []
    for trial in plan.trials:
        reason = engine.unsupported(trial)
        if reason is not None:
            moved[(trial.arm, reason)] = moved.get((trial.arm, reason), 0) + 1
            trial = replace(trial, engine="keras")
        trials.append(trial)
    for (arm, reason), count in moved.items():
        line = f"engine {engine.name} cannot run {count} trial{'s' * (count > 1)} of arm {arm} ({reason})"
        if not engine.fallback:
            raise ConfigError(f"{line}, and engine.fallback=false keeps them off engine=keras: "
                              "run them with engine=keras, or drop engine.fallback=false")
        log.info(f"{line}: they run on engine=keras")
    return replace(plan, trials=tuple(trials))


def report_only(run: Run) -> RunOutcome:
    """`studybench report`: rebuild a study's report from the trial store alone, training nothing."""
    plan = route(run.plan, run.settings)  # the trials that fell back were stored as engine=keras ones
    store = TrialStore(run.settings.results_dir)
    ids = with_swept(plan, store, stored_trial_ids(plan, store))
    if not ids:
        raise ConfigError(f"no stored engine={plan.engine} trials for study {plan.study} variant {plan.variant} "
                          f"profile {plan.profile} in {run.settings.results_dir}{other_engines(plan, store)}: run "
                          f"`studybench study={plan.study} engine={plan.engine}` first")
    log.info(f"{plan.study}/{plan.variant} [{plan.profile}]: reporting {len(ids)} trials from the store "
             f"({len(plan.trials)} planned, plus any swept settings)")
    return RunOutcome(plan, ids, 0, len(ids), _report(run.settings, plan, store, ids))


def other_engines(plan: Plan, store: TrialStore) -> str:
    """", which holds engine=... trials of it" when the store holds the study's variant and profile under other
    engines (`report ... engine=keras` after engine=fast runs), else nothing."""
    trials = store.trials(plan.study)
    mine = trials[(trials["variant"] == plan.variant) & (trials["profile"] == plan.profile)] if len(trials) else trials
    engines = sorted(set(mine["engine"]) - {plan.engine}) if len(mine) else []
    return (f", which holds engine={', engine='.join(engines)} trials of it (report those with that engine=)"
            if engines else "")


def with_swept(plan: Plan, store: TrialStore, ids: list) -> list:
    """`ids` and every stored trial that sweeps the plan's arms: a report covers all jobs of a sweep."""
    return list(dict.fromkeys(ids + swept_trial_ids(plan, store.trials(plan.study))))


@timed("report")
def _report(settings: RunSettings, plan: Plan, store: TrialStore, ids: list) -> list:
    trials, epochs = store.trials(plan.study, ids), store.epochs(plan.study, ids)
    if not (trials["status"] == "ok").any():  # e.g. a sweep job whose value diverged: the sweep goes on
        log.info(f"report: none, no trial finished normally ({', '.join(sorted(set(trials['status'])))})")
        return []
    folder = report_dir(settings.reports_dir, plan)
    expanded = expand(plan, trials, epochs)
    one_data_per_arm(plan.study, expanded[1])  # before any file is written
    files = write_sweep_report(plan, trials, epochs, folder)  # first: write_report ends with run.json
    plan, trials, epochs = expanded
    sequence = judge_looks(plan.claims, epochs, trials, plan.looks, plan.first_seed)
    files = write_report(ran(plan, sequence), trials, epochs, folder, sequence.verdicts) + files
    files += write_index(settings.reports_dir)
    tell_report(plan, folder, files)
    return files


def ran(plan: Plan, sequence: Sequence) -> Plan:
    """The plan cut to the trials its looks asked for (n_seeds=auto plans max_seeds of every arm); an arm the
    looks never saw (e.g. renamed by a sweep) keeps the first round."""
    return replace(plan, trials=tuple(t for t in plan.trials
                                      if t.seed < plan.first_seed + sequence.seeds.get(t.arm, plan.looks[0])))


def run_study(run: Run) -> RunOutcome:
    if run.settings.mode == "report":
        return report_only(run)
    plans = [route(plan, run.settings) for plan in run.plans]  # engine errors surface before data or any write
    plan = replace(plans[0], trials=tuple({t.trial_id: t for p in plans for t in p.trials}.values()))
    datasets = load_datasets(run.settings.data, plan)
    store = TrialStore(run.settings.results_dir)
    wanted, trained = _rounds(run, plan, _checksummed(plan.trials, datasets), datasets, store)
    ids = with_swept(plan, store, wanted)
    files = _report(run.settings, plan, store, ids) if run.settings.report else []
    settings = [[t.trial_id for t in _checksummed(p.trials, datasets)] for p in plans] if run.searched else None
    return RunOutcome(plan, wanted, trained, len(wanted) - trained, files, settings)


def load_datasets(data: DataSettings, plan: Plan) -> dict:
    """The data of the plan's trials, by `data_key`, loaded once each and checked against each arm's model."""
    specs = {data_key(trial.dataset): trial.dataset for trial in plan.trials}
    datasets = {key: _load(spec, data) for key, spec in specs.items()}
    check_outputs(plan, datasets)
    return datasets


def train_plan(run: Run, plan: Plan, line: str) -> tuple[list, int]:
    """Train the plan's trials not stored yet, all in one round after `line` (a design of trials beyond a study's
    seeds, studies/beyond/); returns the trials, with their data's checksums in their ids, and how many this
    job trained."""
    datasets = load_datasets(run.settings.data, plan)
    trials = _checksummed(plan.trials, datasets)
    return trials, _train_missing(run, plan, trials, datasets, TrialStore(run.settings.results_dir), line)


def _checksummed(trials, datasets: dict) -> list:
    """The trials with their data's checksum, which their ids hold."""
    return [replace(t, data_checksum=datasets[data_key(t.dataset)].checksum) for t in trials]


def unfinished(plan: Plan, store: TrialStore, trial_ids: list) -> str | None:
    """None when some trial of the run finished normally; else one line naming every trial and what became of
    it (a run whose trials all failed or diverged has no result to report, and says so in its exit status)."""
    trials = store.trials(plan.study, trial_ids)
    if (trials["status"] == "ok").any():
        return None
    outcomes = {}
    for row in trials.sort_values(["arm", "seed"]).itertuples():
        why = row.status + (f" ({str(row.message).splitlines()[0]})" if row.status == "failed" else "")
        outcomes.setdefault(why, []).append(f"{row.arm} seed={row.seed}")
    said = "; ".join(f"{len(names)} {why}: {', '.join(names)}" for why, names in outcomes.items())
    return f"no trial of {plan.study}/{plan.variant} finished normally: {said or 'none stored'}"


def check_outputs(plan: Plan, datasets: dict) -> None:
    """Each arm's model builder suits its loss on the loaded data's classes (at planning, only where known then)."""
    for trial in {t.arm: t for t in plan.trials}.values():
        classes = class_count(datasets[data_key(trial.dataset)], trial.dataset)
        check_output(trial.model, trial.train.loss, classes, f"study {plan.study} arm {trial.arm}")


def data_key(spec: DatasetSpec) -> str:
    """What names a loaded dataset: a built-in's name, or a loader's path with its arguments."""
    return json.dumps([spec.name, spec.arguments], sort_keys=True, default=str)


@timed("data")
def _load(spec: DatasetSpec, data: DataSettings) -> Dataset:
    if is_import_path(spec.name):
        return load_custom(spec.name, spec.arguments)
    return load_dataset(spec.name, data.dir, bool(data.download), bool(data.strict))


def _rounds(run: Run, plan: Plan, trials: list, datasets: dict, store: TrialStore) -> tuple[list, int]:
    """Every arm's first round of seeds, then rounds for the arms of claims still undecided (n_seeds=N: the one
    round). Returns the trials the rounds asked for and how many of them were trained now."""
    if len(plan.looks) > 1:
        log.info(f"{plan.study}/{plan.variant} [{plan.profile}]: n_seeds={AUTO}, {len(plan.arms)} arms, looks at "
                 f"{', '.join(map(str, plan.looks))} seeds judged at levels "
                 f"{', '.join(f'{alpha:.2g}' for alpha in nominal_alphas(plan.looks))}")
    wanted, trained = {}, 0
    for look, seeds in enumerate(plan.looks):
        sequence = _sequence(plan, store, trials, look) if look else None  # the looks before this round
        arms = sequence.needed if sequence else tuple(plan.arms)
        if not arms:
            break
        batch = [t for t in trials if t.arm in arms and t.seed < plan.first_seed + seeds]
        line = _round_line(plan, look, arms, sequence, len(batch))
        trained += _train_missing(run, plan, batch, datasets, store, line)
        wanted.update(dict.fromkeys(t.trial_id for t in batch))
    if len(plan.looks) > 1:
        log.info(_closing_line(plan, _sequence(plan, store, trials)))
    return list(wanted), trained


def _train_missing(run: Run, plan: Plan, batch: list, datasets: dict, store: TrialStore, line: str) -> int:
    """Train the trials of `batch` not stored yet, after `line` and their count; returns how many this job
    trained. A trial another job is training is waited for instead (studies/store/lease.py)."""
    stored = store.completed(plan.study)
    pending = [t for t in batch if t.trial_id not in stored]
    log.info(f"{line}{len(batch) - len(pending)} already stored, skipped; {len(pending)} to train with "
             f"engine={plan.engine} on {batch[0].backend}")
    if not pending:
        return 0
    with Leases(run.settings.results_dir, plan.study, run.settings.lease_timeout_s) as leases:
        return _train_leased(run, pending, datasets, store, leases)


def _train_leased(run: Run, pending: list, datasets: dict, store: TrialStore, leases: Leases) -> int:
    """Train the pending trials this job can lease, then wait for those other jobs hold: each is taken as its
    job stores it, or trained here once that job releases it unstored (or failed) or dies. Returns how many
    this job trained."""
    trained, waited = 0, set()
    while pending:
        claimed = set(leases.claim([t.trial_id for t in pending]))
        done = store.completed(pending[0].study, claimed)  # stored by another job since this one looked
        leases.release(done)
        mine = [t for t in pending if t.trial_id in claimed - done]
        if mine:
            with LoggedProgress(len(mine)) as progress:
                _train(run, mine, datasets, store, progress, leases)
            trained += len(mine)
        pending = [t for t in pending if t.trial_id not in claimed]
        if pending and not mine:
            waited = _wait(pending, waited, leases)
    return trained


def _wait(pending: list, logged: set, leases: Leases) -> set:
    """Wait a poll interval for trials other jobs hold, saying which (once per set); returns the set named."""
    ids = {t.trial_id for t in pending}
    if ids != logged:
        log.info(f"waiting for {len(pending)} trial{'s' * (len(pending) > 1)} another job is training: "
                 + ", ".join(f"{t.arm} seed={t.seed}" for t in pending))
    time.sleep(leases.poll_seconds())
    return ids


def _sequence(plan: Plan, store: TrialStore, trials: list, upto: int | None = None) -> Sequence:
    """The looks so far (before `upto`), judged on the run's own stored trials."""
    ids = [t.trial_id for t in trials]
    return judge_looks(plan.claims, store.epochs(plan.study, ids), store.trials(plan.study, ids), plan.looks,
                       plan.first_seed, upto)


def _round_line(plan: Plan, look: int, arms: tuple, sequence: Sequence | None, size: int) -> str:
    """n_seeds=N: the run's trials; n_seeds=auto: the round, the arms it adds seeds to and why."""
    if len(plan.looks) == 1:
        return (f"{plan.study}/{plan.variant} [{plan.profile}]: {size} trials ({len(plan.arms)} arms x "
                f"{plan.looks[0]} seeds); ")
    before = plan.looks[look - 1] if look else 0
    why = f"claims {', '.join(sequence.undecided)} undecided" if sequence else "first round"
    return f"round {look + 1}: {before} -> {plan.looks[look]} seeds for arms {', '.join(arms)}: {why}; "


def _closing_line(plan: Plan, sequence: Sequence) -> str:
    rounds = f"round {sequence.looks} of {len(plan.looks)} ({max(sequence.seeds.values())} seeds per arm at most)"
    if not sequence.undecided:
        return f"every claim decided after {rounds}"
    return f"claims {', '.join(sequence.undecided)} still undecided (INCONCLUSIVE) after {rounds}"


def _train(run: Run, pending: list, datasets: dict, store: TrialStore, progress: LoggedProgress,
           leases: Leases) -> None:
    def splits_for(trial):
        progress.trial_started(trial)
        with timed("data"):
            return make_splits(datasets[data_key(trial.dataset)], trial.dataset, source_seed(trial, "data"))

    for name in dict.fromkeys(trial.engine for trial in pending):  # the configured one and engine=keras (route)
        engine = make_engine(run.settings.engine_settings(name), run.settings.results_dir)
        for result in engine.run([t for t in pending if t.engine == name], splits_for, progress):
            store.write(result, datasets[data_key(result.trial.dataset)], swept_settings(result.trial, run.declared))
            leases.release([result.trial.trial_id])
            if run.settings.tensorboard:
                write_trial_events(run.settings.results_dir, result)
            progress.trial_done(result)
        if getattr(engine, "replica_epochs", None):  # engine=fast: what its stacks computed for what they used
            log.info(f"engine {name}: {engine.replica_epochs}")
