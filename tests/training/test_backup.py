"""Training that survives a kill: `kzoo train` backs up every epoch; a process killed with
SIGKILL mid-epoch and started again with the same command resumes and, with deterministic ops,
ends with the weights of a run that was never interrupted. The same for one of two workers."""

import os
import re
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from kzoo.training import BackupAndRestore

COMMAND = [sys.executable, "-m", "kzoo_cli", "train", "translator", "--units", "16", "--limit", "1800",
           "--epochs", "3", "--deterministic"]
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


def _train(out, extra=(), timeout=300):
    done = subprocess.run(COMMAND + ["--out", str(out), *extra], capture_output=True, text=True, timeout=timeout, env=ENV)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def _kill_during_epoch_2(out, extra=(), pid_of=None):
    """Starts training, waits until epoch 2 has begun (epoch 1 backed up) and SIGKILLs the
    process (or, with `pid_of`, the worker whose pid that function reads from the output)."""
    process = subprocess.Popen(COMMAND + ["--out", str(out), *extra], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=ENV, start_new_session=True)
    lines, deadline = [], time.monotonic() + 300
    try:
        for line in process.stdout:
            lines.append(line)
            if re.search(r"Epoch 2/3", line):
                time.sleep(0.7)  # into the epoch (about 3 s long): some batches trained after the backup
                os.kill(pid_of(lines) if pid_of else process.pid, signal.SIGKILL)
                break
            assert time.monotonic() < deadline, "".join(lines[-20:])
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    output = "".join(lines)
    assert "Epoch 2/3" in output, output[-3000:]
    assert "done in" not in output, "the run finished before the kill"
    assert process.returncode != 0
    return output


def _weights(out):
    model = keras.models.load_model(os.path.join(out, "translator.keras"))
    return [np.asarray(w) for w in model.get_weights()]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted")
    _train(out, ["--no-backup"])
    return _weights(out)


def test_killed_run_resumes_and_ends_with_the_uninterrupted_weights(tmp_path, uninterrupted):
    out = tmp_path / "run"
    _kill_during_epoch_2(out)
    assert BackupAndRestore(out / "backup").last_epoch() == 1
    resumed = _train(out)
    assert "Resuming from the backup of epoch 1" in resumed
    assert "Epoch 1/3" not in resumed and "Epoch 2/3" in resumed
    for a, b in zip(uninterrupted, _weights(out)):
        np.testing.assert_array_equal(a, b)
    assert not os.path.exists(out / "backup"), "the backup is deleted when training ends"


def test_one_of_two_workers_killed_then_the_same_command_resumes(tmp_path):
    out, reference = tmp_path / "workers", tmp_path / "reference"

    def worker_1(lines):
        found = (re.search(r"\[worker 1\] worker pid (\d+)", line) for line in lines)
        return int(next(m for m in found if m).group(1))

    output = _kill_during_epoch_2(out, ["--workers", "2"], pid_of=worker_1)
    assert BackupAndRestore(out / "backup").last_epoch() == 1, output[-2000:]
    resumed = _train(out, ["--workers", "2"])
    assert "Resuming from the backup of epoch 1" in resumed
    _train(reference, ["--workers", "2", "--no-backup"])
    for a, b in zip(_weights(reference), _weights(out)):
        np.testing.assert_array_equal(a, b)
