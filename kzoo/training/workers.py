"""Starting and supervising the workers of a `MultiWorkerMirroredStrategy` on one machine.

Each worker is a process running the same command with its own `TF_CONFIG` (the cluster's
loopback addresses and its task index; worker 0 is the chief, which writes the files). On a
cluster, run the same command once per host with `cluster_config(hosts, index)` in `TF_CONFIG`
(see the docs' distributed training guide for Kubernetes and Slurm).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

__all__ = ["cluster_config", "free_ports", "run_workers"]


def free_ports(count):
    """`count` TCP ports free on the loopback interface now.

    Examples:
        >>> ports = free_ports(2)
        >>> len(set(ports)) == 2 and all(1024 <= p < 65536 for p in ports)
        True
    """
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def cluster_config(hosts, index):
    """The `TF_CONFIG` value (a JSON string) of worker `index` in a cluster of `hosts`
    ("host:port" each; worker 0 is the chief).

    Examples:
        >>> json.loads(cluster_config(["a:1", "b:2"], 1))["task"]
        {'type': 'worker', 'index': 1}
    """
    hosts = list(hosts)
    if not hosts or not all(isinstance(h, str) and ":" in h for h in hosts):
        raise ValueError(f"`hosts` must be a non-empty list of 'host:port' strings. Received: hosts={hosts!r}")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(hosts):
        raise ValueError(f"`index` must be an int in [0, {len(hosts)}). Received: index={index!r}")
    return json.dumps({"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}})


def run_workers(command, count=2, timeout=None, env=None, log_prefix=True, poll_seconds=0.2):
    """Runs `command` (a list, e.g. `[sys.executable, "-m", ...]`) as `count` local workers and
    waits for them.

    Workers get loopback addresses on free ports; their output is passed through, each line
    prefixed with `[worker i]` when `log_prefix`. When one worker fails (or `timeout` seconds
    pass), the others are stopped: a collective would otherwise wait for the lost worker forever.

    Returns:
        The exit status: 0 when every worker succeeded, else the first failure's (124 on timeout).
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"`count` must be a positive int. Received: count={count!r}")
    hosts = [f"127.0.0.1:{port}" for port in free_ports(count)]
    processes = []
    for index in range(count):
        worker_env = dict(os.environ if env is None else env, TF_CONFIG=cluster_config(hosts, index))
        processes.append(
            subprocess.Popen(
                command,
                env=worker_env,
                stdout=subprocess.PIPE if log_prefix else None,
                stderr=subprocess.STDOUT if log_prefix else None,
                text=True,
                start_new_session=True,  # stopped as a group, children included
                preexec_fn=_die_with_parent,
            )
        )
    readers = [_prefix_output(p, f"[worker {i}] ") for i, p in enumerate(processes)] if log_prefix else []
    deadline = None if timeout is None else time.monotonic() + timeout
    status = 0
    try:
        while any(p.poll() is None for p in processes):
            failed = [p.returncode for p in processes if p.returncode not in (None, 0)]
            if failed:
                status = failed[0]
                break
            if deadline is not None and time.monotonic() > deadline:
                status = 124
                break
            time.sleep(poll_seconds)
        else:
            status = next((p.returncode for p in processes if p.returncode != 0), 0)
    finally:
        for p in processes:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        for reader in readers:
            reader.join(timeout=5)
    return status


def _die_with_parent():
    """In a worker, before it runs: on Linux, ask for SIGKILL when the supervisor dies, so that
    a killed `kzoo train --workers N` leaves no worker waiting in a collective."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _prefix_output(process, prefix):
    import threading

    def copy():
        for line in process.stdout:
            sys.stdout.write(prefix + line)
            sys.stdout.flush()

    thread = threading.Thread(target=copy, daemon=True)
    thread.start()
    return thread
