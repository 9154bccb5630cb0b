"""How studybench's output reaches people and their tools. Every module logs to `logging.getLogger(__name__)`,
one event per record and one line per record (no carriage returns: a Slurm or Ray log stays one line per
event). In `studybench`, Hydra configures logging from conf/hydra/job_logging/studybench.yaml: plain lines on
the console, info on stdout and warnings and errors on stderr, and the same lines with time, logger and level
in the job's log file, `<hydra run dir>/<job name>.log`. Used as a library, only warnings show (Python's
last-resort handler) until the caller configures logging, e.g.
`logging.basicConfig(level=logging.INFO, format="%(message)s")`.
"""
from __future__ import annotations

import logging


class BelowWarning(logging.Filter):
    """Lets info and debug records through: the stdout handler's filter, so that warnings and errors go to
    stderr alone."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING
