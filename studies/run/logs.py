"""How studybench's output reaches people and their tools. Every module logs to `logging.getLogger(__name__)`,
one event per record and one line per record (no carriage returns: a Slurm or Ray log stays one line per
event). In `studybench`, Hydra configures logging from conf/hydra/job_logging/studybench.yaml: plain lines on
the console, info on stdout and warnings and errors on stderr, and the same lines with time, logger and level
in the job's log file, `<hydra run dir>/<job name>.log`. On a terminal (stdout and stderr both), a single run
also shows progress bars (studies/run/progress.py), the console's lines print above them and verdicts are coloured;
each job of a multirun prefixes its console lines with its number, `[#3] `, as its jobs may share a terminal.
Used as a library, only warnings show (Python's last-resort handler) until the caller configures logging, e.g.
`logging.basicConfig(level=logging.INFO, format="%(message)s")`.
"""
from __future__ import annotations

import logging
import os
import sys

from tqdm import tqdm

# ANSI colours of the verdicts (SGR codes): green, red, yellow, magenta, dim.
VERDICT_COLOURS = {"PASS": "32", "FAIL": "31", "INCONCLUSIVE": "33", "DIVERGED": "35", "NOT RUN": "2"}


class BelowWarning(logging.Filter):
    """Lets info and debug records through: the stdout handler's filter, so that warnings and errors go to
    stderr alone."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING


class Console(logging.StreamHandler):
    """The console's handler: a multirun job's prefix on every line; on a terminal, the verdict a record names
    (`extra={"verdict": ...}`) coloured, unless NO_COLOR is set, lines written above the progress bars, and none
    of the records those bars draw (`extra={"drawn_as_bars": True}`; the log file keeps them)."""

    prefix = ""  # "[#n] " in job n of a multirun (prefix_job_lines)

    def format(self, record: logging.LogRecord) -> str:
        text = self.prefix + super().format(record)
        verdict = getattr(record, "verdict", None)
        if verdict in VERDICT_COLOURS and self.stream.isatty() and "NO_COLOR" not in os.environ:
            text = text.replace(verdict, f"\033[{VERDICT_COLOURS[verdict]}m{verdict}\033[0m", 1)
        return text

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "drawn_as_bars", False):
            return
        if not self.stream.isatty():
            super().emit(record)
            return
        try:
            tqdm.write(self.format(record), file=self.stream)  # clears the bars, writes, draws them again
            self.flush()
        except Exception:
            self.handleError(record)


def prefix_job_lines(number: int) -> None:
    """Every console line of this multirun job starts with `[#number] `: joblib's jobs share the terminal."""
    Console.prefix = f"[#{number}] "


def on_terminal() -> bool:
    """Whether to draw progress bars: stdout and stderr are a terminal, and no other job shares it."""
    return sys.stdout.isatty() and sys.stderr.isatty() and not Console.prefix
