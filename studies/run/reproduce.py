"""`make reproduce` in one process: every run of RUNS (study[:variant], the Makefile's list) trained in sequence through
the CLI's own single-run path (studies/run/cli.py), each study's report built once at the end, then where the wall time
went (studies/runtime/phases.py) printed and recorded under reports/bench/.

    python -m studies.run.reproduce [--seeds n_seeds=auto] [--make-started EPOCH] [--record reports/bench] RUN ... \
        [-- KEY=VALUE ...]

`hyperparameters` among the runs is the book's random search: a sweep of its settings, one seed each. The first
run that fails stops the rest, with a line naming it and exit status non-zero; what was stored stays, and the same
command resumes (a run skips the trials its store holds).
"""
from __future__ import annotations

import time

PROCESS_STARTED = time.time()  # the breakdown's install part ends here: make's setup, before this process
PROCESS_CLOCK = time.perf_counter()  # the clock its phases are timed on (studies/runtime/phases.py)

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from studies.runtime.phases import PHASES, timed  # noqa: E402

SEARCH = "hyperparameters"  # the book's random search (conf/hydra/sweeper/book_random_search.yaml)
PARTS = ("import", "config", "planning", "data", "build", "compile", "train", "evaluate", "store", "judge", "report")
log = logging.getLogger(__name__)


def run_commands(runs: list[str], seeds: list[str], settings: list[str]) -> tuple[list, list]:
    """(training, reporting): `studybench` argument lists, each run's in the order of `runs`, training with no
    report (each is built once, at the end)."""
    training, reporting = [], []
    for run in runs:
        if run == SEARCH:
            training.append(["-m", f"study={SEARCH}", "hydra/sweeper=book_random_search", "n_seeds=1", "report=false",
                             *settings])
            reporting.append(["report", f"study={SEARCH}", "n_seeds=1", *settings])
            continue
        study, _, variant = run.partition(":")
        named = [*seeds, f"study={study}", f"variant={variant or 'original'}"]
        training.append([*named, "report=false", *settings])
        reporting.append(["report", *named, *settings])
    return training, reporting


def studybench(arguments: list[str]) -> int:
    """`studybench ARGUMENTS` in this process (studies/run/cli.py's main); its exit status."""
    from studies.run.cli import main
    from studies.run.logs import Console

    sys.argv[1:] = arguments
    try:
        main()
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    finally:
        # a sweep's jobs start their lines with their number (studies/run/logs.py): not the runs after
        Console.prefix = ""
    return 0


def run_all(commands: list[list[str]], what: str) -> None:
    """Run each command; the first that fails ends the process with its status and a line naming it."""
    for arguments in commands:
        status = studybench(arguments)
        if status:
            log.error(f"studybench reproduce: {what} `studybench {' '.join(arguments)}` failed (exit status {status}); "
                      "the trials stored so far stay: rerun the same command to resume")
            sys.exit(status)


def breakdown(make_started: float | None) -> dict:
    """Seconds per part: install (make's setup before this process, when `make_started` is known), PARTS, and
    the rest (other); total: all of them."""
    process = time.perf_counter() - PROCESS_CLOCK
    parts = {"install": PROCESS_STARTED - make_started if make_started else 0.0}
    parts.update({part: PHASES.seconds.get(part, 0.0) for part in PARTS})
    parts["other"] = process - sum(parts.values()) + parts["install"]
    return {"total_s": parts["install"] + process, "parts_s": parts}


def breakdown_table(times: dict):
    from studies.report.document import Table

    total = times["total_s"]
    return Table(("part", "seconds", "share"), tuple((part, f"{seconds:.1f}", f"{seconds / total:.0%}")
                                                    for part, seconds in [*times["parts_s"].items(), ("total", total)]))


def record(times: dict, folder: Path, name: str) -> list[Path]:
    """The breakdown as folder/NAME.json and NAME.md, with the commit, the CPU and the backend."""
    from studies.report.document import Heading, Paragraph, markdown
    from studies.runtime.provenance import commit, cpu_model

    folder.mkdir(parents=True, exist_ok=True)
    machine = {"commit": commit(), "cpu": cpu_model(), "cores": os.cpu_count(),
               "keras_backend": os.environ.get("KERAS_BACKEND", "tensorflow")}
    page = [Heading(f"Wall time of `make reproduce` ({name})", 1),
            Paragraph((f"At {machine['commit']} on {machine['cpu']} ({machine['cores']} cores), Keras backend "
                       f"{machine['keras_backend']}; runs: {', '.join(times['runs'])}. Each part is timed apart "
                       "from the others (studies/runtime/phases.py); compile is each compiled program's first call on "
                       "new shapes, its run included; build is making models and engine=fast's stacks; judge is each "
                       "round's verdicts; other is what no part claims (Hydra's own start of each job, routing, "
                       "leases, logging).",)),
            breakdown_table(times)]
    paths = [folder / f"{name}.json", folder / f"{name}.md"]
    paths[0].write_text(json.dumps({**times, **machine}, indent=2) + "\n")
    paths[1].write_text(markdown(page))
    return paths


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m studies.run.reproduce", description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="study[:variant] (variant original unless named), or hyperparameters")
    parser.add_argument("--seeds", default="", help="the seeds setting of the studies' runs (n_seeds=auto)")
    parser.add_argument("--make-started", type=float, help="when make started (seconds since the epoch)")
    parser.add_argument("--record", type=Path, help="a folder for the breakdown's JSON and Markdown")
    given = sys.argv[1:] if argv is None else argv
    end = given.index("--") if "--" in given else len(given)  # after it: the studies' settings (KEY=VALUE)
    parsed = parser.parse_args(given[:end])
    parsed.settings = given[end + 1:]
    return parsed


def record_name(settings: list[str]) -> str:
    """reproduce-PROFILE (-jax on Keras's JAX backend): a smoke run keeps the full run's record."""
    profile = next((s.split("=", 1)[1] for s in settings if s.startswith("profile=")), "full")
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    return f"reproduce-{profile}" + ("" if backend == "tensorflow" else f"-{backend}")


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    with timed("import"):
        from studies.run.cli import console_logging
        from studies.runtime.backend import import_backend_quietly

        console_logging()
        import_backend_quietly()
    training, reporting = run_commands(args.runs, args.seeds.split(), args.settings)
    run_all(training, "run")
    with timed("report"):  # the reports' own planning and store reads count as those parts
        run_all(reporting, "report")
    times = {**breakdown(args.make_started), "runs": args.runs}
    print(markdown_lines(times))
    if args.record:
        for path in record(times, args.record, record_name(args.settings)):
            print(f"wrote {path}")


def markdown_lines(times: dict) -> str:
    from studies.report.document import Heading, markdown

    return markdown([Heading("Where `make reproduce`'s wall time went", 2), breakdown_table(times)])


if __name__ == "__main__":
    main()
