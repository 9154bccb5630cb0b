"""Trial leases (studies/store/lease.py): of any number of claimants exactly one holds a trial; a dead holder's lease is
taken over (at once when its process is gone from this host, else once its heartbeat stops), by one taker only;
leases go when released or when their job ends."""
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from studies.store.lease import HOST, Leases, lease_lines

ROOT = Path(__file__).resolve().parent.parent
TRIALS = [f"trial{n:02d}" for n in range(40)]
CLAIMANT = """
import sys
from studies.store.lease import Leases
leases = Leases(sys.argv[1], "study", 120).__enter__()
print("ready", flush=True)
sys.stdin.readline()  # go
print(" ".join(leases.claim(sys.argv[2:])), flush=True)
sys.stdin.readline()  # the parent has read every answer: end without releasing, as a killed job does
"""


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def claimants(tmp_path: Path, count: int) -> list:
    return [subprocess.Popen([sys.executable, "-c", CLAIMANT, str(tmp_path), *TRIALS], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
            for _ in range(count)]


def foreign_lease(path: Path, host: str = "elsewhere", pid: int = 1, token: str = "dead") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"host": host, "pid": pid, "token": token, "started": "then"}))


def dead_pid() -> int:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(finished.stdout)


def test_of_processes_claiming_the_same_trials_at_once_exactly_one_holds_each(tmp_path):
    running = claimants(tmp_path, 3)
    for process in running:
        assert process.stdout.readline().strip() == "ready"  # an event: every claimant is about to claim
    for process in running:
        process.stdin.write("go\n")
        process.stdin.flush()
    claimed = [process.stdout.readline().split() for process in running]
    for process in running:
        process.communicate("end\n", timeout=60)
    assert sorted(sum(claimed, [])) == TRIALS  # every trial held, none twice
    assert sorted(p.stem for p in (tmp_path / "leases" / "study").glob("*.lease")) == TRIALS


def test_of_threads_claiming_the_same_trials_at_once_exactly_one_holds_each(tmp_path):
    jobs = [Leases(tmp_path, "study", 120) for _ in range(8)]
    start, claimed = threading.Barrier(len(jobs)), {}

    def claim(job):
        start.wait()
        claimed[job.token] = job.claim(TRIALS)

    threads = [threading.Thread(target=claim, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(sum(claimed.values(), [])) == TRIALS
    assert all(job.claim(TRIALS) == claimed[job.token] for job in jobs)  # the others' stay theirs: all alive


def test_a_lease_whose_process_is_gone_from_this_host_is_taken_over_at_once(tmp_path):
    job = Leases(tmp_path, "study", 120)
    foreign_lease(job.path("trial00"), host=HOST, pid=dead_pid())
    foreign_lease(job.path("trial01"), host=HOST, pid=os.getppid())  # alive: kept
    assert job.claim(["trial00", "trial01"]) == ["trial00"]
    assert json.loads(job.path("trial00").read_text())["token"] == job.token


def test_a_lease_from_another_host_is_taken_over_once_its_heartbeat_stopped_for_the_timeout(tmp_path):
    clock = Clock()
    job = Leases(tmp_path, "study", 120, clock=clock)
    foreign_lease(job.path("trial00"))
    assert job.claim(["trial00"]) == []
    clock.now = 119.0
    os.utime(job.path("trial00"), ns=(1, 1))  # its holder's heartbeat: the timeout starts again
    assert job.claim(["trial00"]) == []
    clock.now = 238.0
    assert job.claim(["trial00"]) == []
    clock.now = 239.0
    assert job.claim(["trial00"]) == ["trial00"]


def test_of_jobs_finding_one_dead_lease_at_once_exactly_one_takes_it_over(tmp_path):
    pid = dead_pid()
    for _ in range(10):
        jobs = [Leases(tmp_path, "study", 120) for _ in range(6)]
        foreign_lease(jobs[0].path("trial00"), host=HOST, pid=pid)
        start, won = threading.Barrier(len(jobs)), []

        def claim(job, start, won):
            start.wait()
            won.extend(job.claim(["trial00"]))

        threads = [threading.Thread(target=claim, args=(job, start, won)) for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert won == ["trial00"]
        holder = json.loads(jobs[0].path("trial00").read_text())["token"]
        assert [job.token for job in jobs if "trial00" in job.held] == [holder]
        assert not list(jobs[0].folder.glob("*.takeover")) and not list(jobs[0].folder.glob(".*.tmp"))


def test_a_takeover_left_by_a_dead_taker_is_taken_over_in_turn(tmp_path):
    job = Leases(tmp_path, "study", 120)
    pid = dead_pid()
    foreign_lease(job.path("trial00"), host=HOST, pid=pid, token="first")
    foreign_lease(job.path("trial00").with_name("trial00.lease.first.takeover"), host=HOST, pid=pid, token="taker")
    assert job.claim(["trial00"]) == ["trial00"]
    assert sorted(p.name for p in job.folder.iterdir()) == ["trial00.lease"]


def test_leases_go_when_released_or_when_the_job_ends_and_a_taken_over_one_stays(tmp_path):
    with pytest.raises(RuntimeError):
        with Leases(tmp_path, "study", 120) as job:
            assert job.claim(TRIALS[:3]) == TRIALS[:3]
            job.release(TRIALS[:1])
            assert sorted(p.stem for p in job.folder.iterdir()) == TRIALS[1:3]
            foreign_lease(job.path(TRIALS[2]), token="new holder")  # taken over: the job was thought dead
            raise RuntimeError("the job fails")
    assert [p.name for p in job.folder.iterdir()] == [f"{TRIALS[2]}.lease"]


def test_a_holder_s_heartbeat_moves_its_leases(tmp_path):
    with Leases(tmp_path, "study", 0.06) as job:
        job.claim(["trial00"])
        os.utime(job.path("trial00"), ns=(1, 1))
        guard = time.monotonic() + 60  # against a hang, not a deadline: a beat comes every 0.01 s
        while job.path("trial00").stat().st_mtime_ns == 1:  # an event: the heartbeat touched the lease
            assert time.monotonic() < guard, "no heartbeat"
            time.sleep(0.01)


def test_check_lists_every_lease_with_its_holder_and_whether_it_is_known_dead(tmp_path):
    with Leases(tmp_path, "study", 120) as job:
        job.claim(["trial00"])
        started = json.loads(job.path("trial00").read_text())["started"]
        pid = dead_pid()
        foreign_lease(job.path("trial01"), host=HOST, pid=pid, token="dead here")
        foreign_lease(job.path("trial02"), token="elsewhere")
        an_hour_ago = time.time() - 3600
        os.utime(job.path("trial02"), (an_hour_ago, an_hour_ago))
        lines = lease_lines(tmp_path)
    assert lines[:2] == [
        f"  {job.path('trial00')} (pid {os.getpid()} on {HOST}, since {started}: its process runs)",
        f"  {job.path('trial01')} (pid {pid} on {HOST}, since then: its process is gone: the next job to claim the "
        "trial takes it over)"]
    heartbeat = re.fullmatch(rf"  {job.path('trial02')} \(pid 1 on elsewhere, since then: last heartbeat (\d+) s ago "
                             r"by this host's clock\)", lines[2])
    assert heartbeat and int(heartbeat[1]) >= 3600
    assert lease_lines(tmp_path, "another study") == []
