"""What the terminal shows (issue #26): the end of a run and of `studybench report` tells each claim's verdict
with its seeds and evidence and the report's one path; epoch lines name their trial; a multirun job's lines
carry its number; on a terminal, verdicts are coloured and progress bars replace the start and epoch lines."""
import io
import logging
import os
import re
import subprocess
import sys
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import pytest

import studies.run.progress
from studies.run.boundary import prepare_run
from studies.run.harness import run_study
from studies.run.logs import Console
from studies.run.terminal import evidence

ROOT = Path(__file__).resolve().parent.parent  # this checkout's studies, whatever the venv installed
CLAIMS = ("nadam_fastest", "sgd_slower", "adadelta_slower")  # studies/catalog/optimizers.py's
VERDICT_LINE = re.compile(r"^  (PASS|FAIL|INCONCLUSIVE|DIVERGED|NOT RUN) +(\w+): .+ \| (\d+) of (\d+) seeds .+")


def studybench(*command, cwd: Path) -> subprocess.CompletedProcess:
    """The app from this checkout: `command` (nothing, or `report`), then the smoke optimizers study's settings."""
    done = subprocess.run([sys.executable, "-m", "studies.run.cli", *command, "study=optimizers", "profile=smoke",
                           "n_seeds=3", "results_dir=results", "reports_dir=reports", "data.download=false"],
                          capture_output=True, text=True, cwd=cwd, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def told(stdout: str) -> tuple[list, list]:
    """The verdict lines (verdict, claim, seeds) and the report lines a run printed."""
    lines = stdout.splitlines()
    verdicts = [(m[1], m[2], int(m[4])) for m in map(VERDICT_LINE.match, lines) if m]
    return verdicts, [line for line in lines if line.startswith("report: ")]


@pytest.mark.slow  # trains: left out of `make test-fast`
def test_a_smoke_run_and_its_report_end_with_the_verdicts_and_one_report_path(tmp_path):
    out = studybench(cwd=tmp_path).stdout
    assert "\x1b[" not in out and "\r" not in out  # not a terminal: plain lines, no colours or bars
    for arm in ("sgd", "adagrad", "adadelta", "adam", "nadam", "rmsprop"):  # each stack's first epoch, named
        assert re.search(rf"^    optimizers/original arm={arm} seed=0 epoch 1/2 loss=", out, re.M), arm
    verdicts, reports = told(out)
    assert [claim for _, claim, _ in verdicts] == list(CLAIMS) and {seeds for *_, seeds in verdicts} == {3}
    assert "optimizers/original [smoke]: 3 claims, " in out
    summary = Path("reports", "optimizers", "smoke", "summary.md")  # as reports_dir was given: from the cwd
    assert len(reports) == 1 and re.fullmatch(
        rf"report: {re.escape(str(summary))} \(\d+ files written, the figures and tables beside it\)", reports[0])
    assert (tmp_path / summary).is_file()
    again = studybench("report", cwd=tmp_path).stdout  # the store alone: the same verdicts, nothing trained
    assert told(again) == (verdicts, reports) and "reporting 18 trials from the store" in again
    assert not re.search(r" epoch \d+/", again)


def test_evidence_is_the_first_two_clauses_and_the_deciding_look():
    measured = ("10 of 10 seeds in the claimed order; supported in every pair (p_holm=0.00293); nadam - sgd: mean "
                "-0.8176, 98.89% interval [-0.8706, -0.7663] (n=10, one-sided p=0.000977) "
                "[look 1 of 5: 10 seeds, alpha 0.0056]")
    assert evidence(measured) == ("10 of 10 seeds in the claimed order; supported in every pair (p_holm=0.00293) "
                                  "[look 1 of 5: 10 seeds, alpha 0.0056]")
    assert evidence("3 of 3 seeds identical over every epoch of train loss") == \
        "3 of 3 seeds identical over every epoch of train loss"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def console_line(stream, monkeypatch, prefix="", **extra) -> str:
    monkeypatch.setattr(Console, "prefix", prefix)
    handler = Console(stream)
    record = logging.LogRecord("studies", logging.INFO, __file__, 1, "  FAIL         sgd_slower: ...", None, None)
    record.__dict__.update({"verdict": "FAIL", **extra})
    handler.emit(record)
    return stream.getvalue()


def test_the_console_leaves_what_the_bars_draw_to_the_log_file(monkeypatch, tmp_path):
    assert console_line(Terminal(), monkeypatch, drawn_as_bars=True) == ""
    file = logging.FileHandler(tmp_path / "job.log")
    file.emit(logging.makeLogRecord({"msg": "    epoch 1/2", "drawn_as_bars": True}))
    file.close()
    assert (tmp_path / "job.log").read_text() == "    epoch 1/2\n"


def test_verdicts_are_coloured_on_a_terminal_alone_and_a_multirun_job_prefixes_its_lines(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert console_line(Terminal(), monkeypatch) == "  \x1b[31mFAIL\x1b[0m         sgd_slower: ...\n"
    assert console_line(io.StringIO(), monkeypatch, "[#3] ") == "[#3]   FAIL         sgd_slower: ...\n"
    monkeypatch.setenv("NO_COLOR", "1")
    assert console_line(Terminal(), monkeypatch) == "  FAIL         sgd_slower: ...\n"


@pytest.mark.slow  # trains: left out of `make test-fast`
def test_on_a_terminal_bars_show_the_trials_and_epochs_instead_of_start_and_epoch_lines(smoke_config, monkeypatch,
                                                                                        capsys, caplog):
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(studies.run.progress, "on_terminal", lambda: True)
    # every update drawn: tqdm skips redraws within 0.1 s of the last, which fast smoke epochs race
    monkeypatch.setattr(studies.run.progress, "tqdm", partial(studies.run.progress.tqdm, mininterval=0))
    console = Terminal()
    logging.getLogger().addHandler(handler := Console(console))
    try:
        run_study(prepare_run(smoke_config("study=dropout", "n_seeds=1", "report=false")))
    finally:
        logging.getLogger().removeHandler(handler)
    bars = capsys.readouterr().err  # tqdm's, on stderr
    assert re.search(r"trials: 100%\S* 2/2", bars)  # closing draws the final count
    assert re.search(r"dropout/original arm=(no_)?dropout seed=0: +\d+%\S* [12]/2", bars)
    drawn = [record.getMessage() for record in caplog.records if getattr(record, "drawn_as_bars", False)]
    assert any(line.startswith("[1/2]") for line in drawn) and any(" epoch 1/" in line for line in drawn)
    printed = console.getvalue()  # the console: results, not what the bars draw
    assert "[done 2/2] ok" in printed and "[1/2]" not in printed and " epoch " not in printed


def test_the_time_left_is_paced_by_the_work_of_this_run_not_the_epochs_a_resumed_stack_had(monkeypatch, caplog):
    clock = [0.0]
    monkeypatch.setattr(studies.run.progress.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(studies.run.progress, "on_terminal", lambda: False)
    progress = studies.run.progress.LoggedProgress(total=4)
    progress.resumed(trials=2, epoch=9, epochs=10)  # 1.8 trials' worth trained before this run
    finished = [SimpleNamespace(trial=SimpleNamespace(arm="a", seed=seed), status="ok", stop_epoch=10,
                                wall_time_s=1.0, curves={("train", "loss"): [0.5]}) for seed in range(2)]
    with caplog.at_level(logging.INFO, logger="studies.run.progress"):
        clock[0] = 60.0
        progress.trial_done(finished[0])  # 1 done, -0.8 of it trained here: no pace yet
        progress.trial_done(finished[1])  # 0.2 of a trial in 60 s: 300 s a trial, 2 trials left
    first, second = (record.getMessage() for record in caplog.records)
    assert first.endswith("train_loss=0.5000") and "left" not in first
    assert second.endswith("train_loss=0.5000; about 10 min left")  # counting resumed epochs: "about 1 min left"
