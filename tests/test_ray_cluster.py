"""A sweep on an existing Ray cluster of two nodes: a head and a second node, each started with `ray start` on
loopback with its own temporary folder and one CPU, so that each runs one job. The sweep (tests/helpers.py's
SHARED: two dropout rates, both jobs running the unswept no_dropout arm) is given relative paths, which must
reach the workers absolute; every trial lands once in the one store, the shared arm is trained once, and each
node's worker logs show a job's trials."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.helpers import ENV, SHARED, assert_every_trial_once_and_the_shared_arm_trained_once, command

pytest.importorskip("hydra_plugins.hydra_ray_launcher",
                    reason="the ray extra is not installed: pip install -e '.[ray]' (CI installs it)")

# One Ray cluster on this machine at a time (tests/test_sweeps.py starts a local one): each sizes itself (CPUs,
# object store) as if it had the machine alone.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray")]  # slow: left out of `make test-fast`

RAY = Path(sys.executable).parent / "ray"
# Ray's own switch for clusters off Windows and macOS must stay on; no usage reports; no token authentication
# (a token in ~/.ray would otherwise be required of these nodes alone).
RAY_ENV = {**{key: value for key, value in ENV.items() if key != "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"},
           "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}


def free_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1 now, distinct: the head's listeners, so that no other Ray on the machine collides."""
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def start_node(folder: str, options: list) -> int:
    """`ray start` in its own process group, which the node's processes keep, and in `folder` (where its workers would
    write relative paths); returns the group."""
    node = subprocess.Popen([str(RAY), "start", f"--temp-dir={folder}", "--num-cpus=1", "--node-ip-address=127.0.0.1",
                             "--disable-usage-stats", *options], env=RAY_ENV, cwd=folder, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, _ = node.communicate(timeout=300)
    assert node.returncode == 0, output[-2000:]
    return node.pid


@pytest.fixture
def two_nodes():
    """The head's address and both nodes' temporary folders (short: Ray's socket paths must stay under 107
    characters); afterwards every process of both nodes is killed, and nothing else."""
    folders = [tempfile.mkdtemp(prefix="sbray", dir="/tmp") for _ in range(2)]
    port, dashboard, client, *agents = free_ports(5)
    groups = []
    try:
        groups.append(start_node(folders[0], ["--head", f"--port={port}", "--include-dashboard=false",
                                              f"--dashboard-port={dashboard}", f"--ray-client-server-port={client}",
                                              f"--dashboard-agent-listen-port={agents[0]}"]))
        groups.append(start_node(folders[1], [f"--address=127.0.0.1:{port}",
                                              f"--dashboard-agent-listen-port={agents[1]}"]))
        yield f"127.0.0.1:{port}", folders
    finally:
        for group in groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


def test_a_sweep_on_a_two_node_ray_cluster_lands_every_trial_once_in_one_store(tmp_path, two_nodes):
    address, folders = two_nodes
    sweep = command(*SHARED, "hydra/launcher=ray", f"hydra.launcher.ray.init.address={address}", "report=false")
    done = subprocess.run(sweep, capture_output=True, text=True, cwd=tmp_path, env=RAY_ENV, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_every_trial_once_and_the_shared_arm_trained_once(tmp_path)
    for folder in folders:  # each node ran a job: its trials' progress is in that node's worker logs
        logs = "".join(path.read_text(errors="replace") for path in Path(folder).glob("session_*/logs/worker-*.out"))
        assert "[done 1/" in logs, f"no job ran on the node of {folder}"
