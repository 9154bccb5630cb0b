"""Trial leases: a job claims each trial before training it, so that jobs sharing a store (the jobs of a parallel
sweep, on one machine or a cluster) never train the same trial at once.

    <results_dir>/leases/<study>/<trial_id>.lease   JSON: host, pid, token, started

A lease is created whole or not at all: written to a temporary file, then hard-linked to its name, which fails
when the name exists (also on NFS), so of two claimants exactly one wins. Its holder touches it every
timeout_s / 6 (the heartbeat) while it trains, and removes it once the trial is stored or the job ends. A
lease whose holder died is taken over: at once when the holder ran on this host and its process is gone, else
once its heartbeat has not moved for timeout_s by this job's own clock (so clocks that differ between hosts do
not matter). A takeover is claimed the same way, as a lease on `<trial_id>.lease.<dead token>.takeover`, so of
several jobs that find one dead lease only one replaces it (and a takeover whose taker died is taken over too).
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import threading
import time
from pathlib import Path

HOST = socket.gethostname()
HEARTBEATS = 6  # heartbeats per timeout: a live holder's lease moves several times before it counts as dead


def process_alive(pid) -> bool:
    """Whether a process `pid` runs on this host (one of another user counts)."""
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, TypeError, ValueError):
        return False
    except PermissionError:
        return True
    return True


def read_lease(path: Path) -> dict:
    """The lease's details and mtime; {} when there is none (a lease that does not parse: its mtime alone)."""
    try:
        with open(path) as lease:
            mtime = os.fstat(lease.fileno()).st_mtime_ns
            text = lease.read()
    except FileNotFoundError:
        return {}
    try:
        details = json.loads(text)
    except ValueError:
        details = {}
    return {**(details if isinstance(details, dict) else {}), "mtime": mtime}


def lease_lines(results_dir, study: str | None = None) -> list[str]:
    """A line per lease in the store (of one study where named): its holder, and whether it is known dead. Leases
    are never a fault: a dead holder's lease is taken over by the next job that claims its trial."""
    lines = []
    for path in sorted((Path(results_dir) / "leases").glob(f"{study or '*'}/*.lease*")):
        holder = read_lease(path)
        lines.append(f"  {path} (pid {holder.get('pid')} on {holder.get('host')}, since {holder.get('started')}: "
                     f"{_lease_state(holder)})")
    return lines


def _lease_state(holder: dict) -> str:
    if holder.get("host") != HOST:  # its process cannot be looked up from here: the heartbeat tells
        return f"last heartbeat {time.time() - holder.get('mtime', 0) / 1e9:.0f} s ago by this host's clock"
    if process_alive(holder.get("pid")):
        return "its process runs"
    return "its process is gone: the next job to claim the trial takes it over"


class Leases:
    """The leases one job holds on one study's trials; a context manager that releases them all on exit."""

    def __init__(self, results_dir, study: str, timeout_s: float, clock=time.monotonic):
        self.folder = Path(results_dir) / "leases" / study
        self.timeout_s, self.clock = timeout_s, clock
        self.token = secrets.token_hex(8)
        self.held: set[str] = set()
        self.seen: dict[str, tuple] = {}  # lease name -> (its token and mtime, when this job first saw them)
        self.stopped = threading.Event()
        self.heartbeat = threading.Thread(target=self._beat, name=f"leases-{study}", daemon=True)

    def __enter__(self) -> Leases:
        self.heartbeat.start()
        return self

    def __exit__(self, *exception) -> None:
        self.stopped.set()
        self.release(list(self.held))

    def path(self, trial_id: str) -> Path:
        return self.folder / f"{trial_id}.lease"

    def claim(self, trial_ids) -> list[str]:
        """The trials of `trial_ids` this job holds now: those it held, those free, those whose holder died."""
        return [trial_id for trial_id in trial_ids if trial_id in self.held or self._claim(trial_id)]

    def release(self, trial_ids) -> None:
        """Give up the leases on `trial_ids` this job holds (a lease taken over meanwhile stays its new holder's)."""
        for trial_id in set(trial_ids) & self.held:
            self.held.discard(trial_id)
            if read_lease(self.path(trial_id)).get("token") == self.token:
                self.path(trial_id).unlink(missing_ok=True)

    def _claim(self, trial_id: str) -> bool:
        if self._acquire(self.path(trial_id)):
            self.held.add(trial_id)
            return True
        return False

    def _acquire(self, path: Path) -> bool:
        """Create `path` as this job's, or take it over from a dead holder; whether this job holds it now."""
        if not path.exists() and self._create(path):
            return True
        holder = read_lease(path)
        return bool(holder) and self._dead(path, holder) and self._take_over(path, holder.get("token"))

    def _create(self, path: Path) -> bool:
        """Create `path` holding this job's details, unless it exists; whether it was created."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.parent / f".{path.name}.{self.token}.tmp"
        temporary.write_text(json.dumps({"host": HOST, "pid": os.getpid(), "token": self.token,
                                         "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}))
        try:
            os.link(temporary, path)
            return True
        except FileExistsError:
            return False
        finally:
            temporary.unlink()

    def _dead(self, path: Path, holder: dict) -> bool:
        """Whether the holder died: its process is gone from this host, or its heartbeat stopped."""
        if holder.get("host") == HOST and not process_alive(holder.get("pid")):
            return True
        state, now = (holder.get("token"), holder["mtime"]), self.clock()
        if self.seen.get(path.name, (None,))[0] != state:
            self.seen[path.name] = (state, now)
        return now - self.seen[path.name][1] >= self.timeout_s

    def _take_over(self, path: Path, dead_token) -> bool:
        """Replace the dead lease by this job's, unless another job takes it over first. The takeover is itself
        a lease, on `<lease>.<dead token>.takeover`: one left by a taker that died is taken over in turn."""
        marker = path.with_name(f"{path.name}.{dead_token}.takeover")
        if not self._acquire(marker):
            return False
        try:
            if read_lease(path).get("token") != dead_token:
                return False  # replaced meanwhile: taken over by a job that got the marker before this one
            path.unlink(missing_ok=True)
            return self._create(path)
        finally:
            marker.unlink(missing_ok=True)

    def _beat(self) -> None:
        while not self.stopped.wait(self.timeout_s / HEARTBEATS):
            for trial_id in list(self.held):
                with contextlib.suppress(FileNotFoundError):
                    os.utime(self.path(trial_id))

    def poll_seconds(self) -> float:
        """How often a job waiting for others' trials looks again."""
        return self.timeout_s / (4 * HEARTBEATS)
