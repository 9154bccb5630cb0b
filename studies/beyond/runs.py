"""What the beyond parts share: a study run of changed settings, trained and stored like any run (so a rerun
resumes), its claims judged by the plain study's own rounds and tests; the study with its variant applied, to
change; and where their pages go (reports/beyond/<study>/, as reports/<study>/ for variants and profiles).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from studies.report.document import Heading, Paragraph, Table, markdown
from studies.report.study_report import report_dir
from studies.run.boundary import prepare_run
from studies.run.harness import RunOutcome, run_study
from studies.run.plan import Plan, resolve_variant
from studies.stats.sequential import judge_looks
from studies.store.atomic import write_text_atomic
from studies.store.trial_store import TrialStore


@dataclass(frozen=True)
class Judged:
    plan: Plan
    verdicts: pd.DataFrame  # judge_looks's: a row per claim, its verdict and the seeds of the look that decided it
    outcome: RunOutcome
    seconds: float  # wall time of the run, training and judging


def judged_run(cfg: dict, claims=None) -> Judged:
    """Run `cfg` (train what the store lacks, no study report) and judge `claims` (default: the run's own) on its
    trials, look by look as its seeds setting has them (studies/stats/sequential.py)."""
    started = time.monotonic()
    outcome = run_study(prepare_run({**cfg, "report": False, "search": None}))
    plan, store = outcome.plan, TrialStore(cfg["results_dir"])
    trials, epochs = store.trials(plan.study, outcome.trial_ids), store.epochs(plan.study, outcome.trial_ids)
    sequence = judge_looks(plan.claims if claims is None else claims, epochs, trials, plan.looks, plan.first_seed)
    return Judged(plan, sequence.verdicts, outcome, time.monotonic() - started)


def verdict_cell(row) -> str:
    """A claim's verdict with the seeds that support it and the seeds per arm it was judged on."""
    return f"{row['verdict']} ({row['seeds']}; {row['look_seeds']} seeds per arm)"


def study_at_variant(cfg: dict) -> dict:
    """The config's study with its variant's patch applied and that variant's patch emptied, so that changes to
    its arms and dataset are not patched over by the variant (modern's Adagrad sets its learning rate)."""
    study = resolve_variant(cfg["study"], cfg["variant"])
    return {**study, "variants": {cfg["variant"]: {}}}


def wall_times(runs: dict) -> str:
    """{run name: (trials trained, seconds)} as one sentence for a page."""
    return "Wall time: " + "; ".join(f"{name}: {trained} trials trained, {seconds:.0f} s"
                                     for name, (trained, seconds) in runs.items()) + "."


def page_folder(cfg: dict, plan: Plan) -> Path:
    return report_dir(Path(cfg["reports_dir"]) / "beyond", plan)


def combined(plan: Plan, outcomes: list[RunOutcome]) -> RunOutcome:
    """One outcome for the CLI (its exit status and objective) over every run of a beyond part."""
    ids = list(dict.fromkeys(i for outcome in outcomes for i in outcome.trial_ids))
    trained = sum(outcome.trained for outcome in outcomes)
    return RunOutcome(plan, ids, trained, len(ids) - trained, [])


def frame_table(frame: pd.DataFrame) -> Table:
    """A DataFrame as a page's table: numbers to 4 significant digits, everything else as text."""
    def cell(value) -> str:
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    rows = frame.itertuples(index=False)
    return Table(tuple(frame.columns), tuple(tuple(cell(value) for value in row) for row in rows))


def write_tables_page(cfg: dict, plan: Plan, part: str, title: str, text: str, tables: dict) -> Path:
    """reports/beyond/<study>/.../<part>.md: a heading, `text`, and each table (title -> DataFrame) under its
    title, each also as a CSV file (csv_name); returns the page's path."""
    folder = page_folder(cfg, plan)
    blocks = [Heading(f"{plan.study} ({plan.variant}, {plan.profile}): {title}", 1), Paragraph((text,))]
    for name, frame in tables.items():
        write_text_atomic(folder / csv_name(part, name), frame.to_csv(index=False))
        blocks += [Heading(name, 2), frame_table(frame)]
    write_text_atomic(folder / f"{part}.md", markdown(blocks))
    return folder / f"{part}.md"


def csv_name(part: str, table: str) -> str:
    """<part>_<table>.csv, the part said once: "variance components" of part variance is variance_components.csv."""
    slug = table.replace(" ", "_")
    return f"{slug}.csv" if slug == part or slug.startswith(f"{part}_") else f"{part}_{slug}.csv"
