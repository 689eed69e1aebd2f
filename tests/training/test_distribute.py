"""Every application under tf.distribute takes the single-device steps: MirroredStrategy on two
logical CPUs and MultiWorkerMirroredStrategy with two worker processes, against one device."""

import inspect
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import kzoo.applications
from kzoo.testing import distributed
from kzoo.training.workers import run_workers

WORKER = [sys.executable, "-m", "kzoo.testing.distributed"]


def test_every_application_has_a_tiny_distributed_configuration():
    models = {
        obj for obj in (getattr(kzoo.applications, n) for n in kzoo.applications.__all__)
        if inspect.isclass(obj) and issubclass(obj, keras.Model) and obj is not kzoo.applications.SequenceGenerator
    }
    missing = models - set(distributed.tiny_applications())
    assert not missing, f"add a tiny configuration to kzoo/testing/distributed.py for {sorted(m.__name__ for m in missing)}"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """One process trains on one device then on two mirrored replicas, while two worker
    processes train under MultiWorkerMirroredStrategy (all bounded in time)."""
    out = tmp_path_factory.mktemp("distribute")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    local = subprocess.Popen(WORKER + ["--strategies", "default,mirrored", "--out", str(out)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    status = run_workers(WORKER + ["--strategies", "multi-worker", "--out", str(out)], 2, timeout=400, env=env)
    log, _ = local.communicate(timeout=400)
    assert local.returncode == 0, log[-3000:]
    assert status == 0, f"the multi-worker run ended with status {status}"
    return {name: distributed.load(out / f"{name}.npz") for name in ("default", "mirrored", "multi-worker")}


def _relative_error(a, b):
    """`‖a − b‖ / ‖a‖` over all the weights of a model."""
    a, b = (np.concatenate([np.ravel(w).astype("float64") for w in ws]) for ws in (a, b))
    return float(np.linalg.norm(a - b) / np.linalg.norm(a))


@pytest.mark.parametrize("strategy", ["mirrored", "multi-worker"])
def test_weights_after_sgd_steps_equal_one_device(results, strategy):
    for app, one in results["default"].items():
        other = results[strategy][app]
        assert len(other["weights"]) == len(one["weights"]) > 0
        # Float32 sums in another order: measured ~1e-7 for every application. Before the
        # loss was divided by the global batch's token count, the Translator was 2.4% off
        # (largest tensor) after 3 steps; before `GlobalBatchNormalization`, the Captioner too.
        assert _relative_error(one["weights"], other["weights"]) < 1e-5, app


@pytest.mark.parametrize("strategy", ["mirrored", "multi-worker"])
def test_evaluate_metrics_equal_one_device(results, strategy):
    for app, record in results["default"].items():
        one, other = record["metrics"], results[strategy][app]["metrics"]
        assert set(other) == set(one) and len(one) >= 4, (app, sorted(one), sorted(other))
        for name, value in one.items():
            # Counts summed over replicas: the same numbers (the loss sums floats in another order).
            tolerance = 1e-6 * max(abs(value), 1.0) if name == "loss" else 1e-12
            assert other[name] == pytest.approx(value, abs=tolerance, nan_ok=True), (app, name)
