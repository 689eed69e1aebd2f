"""AUC side by side: kzoo exact and binned, keras.metrics.AUC, scikit-learn, torchmetrics.

2M scores in batches of 8192, four score distributions. Every run builds a fresh metric and times
`update_state` over all batches plus one `result()`, both as `tf.function`s and tracing included
(what `evaluate()` pays once). Every Keras metric is called the same way: the same batches (int32
labels, float32 scores, `(8192,)` tensors, the last one `(1152,)`, so each `update_state` traces
twice), one `tf.function(metric.update_state)` and one `tf.function(metric.result)` per run.
Neither Keras' nor kzoo's methods are AutoGraph-converted: AutoGraph skips the `keras` package,
and kzoo marks `update_state` / `result` `do_not_convert` (as in `fit`, where Keras' own step
function is not converted either). Runs are interleaved (one run of every implementation per
round) so that load from other processes hits all of them alike; the table prints the median
time, the median of the per-round ratios to Keras' 200-bucket AUC (the target's measure), the
ratio of the fastest runs (the least disturbed by other processes, as `timeit` advises), the
range of the per-round ratios, the median per-round ratio of this process' CPU time (all its
threads; what other processes' load changes least), the absolute error against the exact AUC
(scikit-learn's `roc_auc_score`) and, for kzoo's binned AUC, its guaranteed error bound. The
load averages before and after are printed: on a shared machine, compare ratios, not times.

Run: `.venv/bin/python benchmarks/metrics.py [--n N] [--repeats R]`.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

import kzoo  # noqa: E402

tf.get_logger().setLevel("ERROR")  # a fresh metric per run retraces by design

BATCH = 8192
BASELINE = "keras AUC (200)"


def distributions(n, rng):
    """The four score distributions: (labels, float32 probabilities)."""
    y = rng.integers(0, 2, n)
    spread = np.clip(rng.normal(0.5 + 0.15 * (2 * y - 1), 0.2), 0, 1)
    rare = (rng.random(n) < 0.01).astype(int)
    tiny = 10 ** -(4 + 2 * rng.random(n) - 0.5 * rare)  # 1% positives, scores 1e-6..1e-3
    near_one = 1 - 10 ** -(2 + 3 * rng.random(n) + 0.5 * y)  # squeezed near 1
    grid = np.round(np.clip(rng.normal(0.5 + 0.1 * (2 * y - 1), 0.2), 0, 1), 2)  # ties on a grid
    return {
        "spread": (y, spread),
        "1% positives, tiny": (rare, tiny),
        "squeezed near 1": (y, near_one),
        "tied on a grid": (y, grid),
    }


def keras_metric(make):
    """One timed run of a Keras metric: `(seconds, result seconds, value, metric, CPU seconds)`."""

    def run(batches):
        metric = make()
        update = tf.function(metric.update_state)
        result = tf.function(metric.result)
        start, cpu = time.perf_counter(), time.process_time()
        for yb, pb in batches:
            update(yb, pb)
        middle = time.perf_counter()
        value = float(result())
        end = time.perf_counter()
        return end - start, end - middle, value, metric, time.process_time() - cpu

    return run


def sklearn_run(batches, y, p):
    start, cpu = time.perf_counter(), time.process_time()
    value = roc_auc_score(y, p)
    seconds = time.perf_counter() - start
    return seconds, seconds, value, None, time.process_time() - cpu


def torch_run(torch, torchmetrics, y, p):
    start, cpu = time.perf_counter(), time.process_time()
    metric = torchmetrics.AUROC(task="binary")
    for i in range(0, len(y), BATCH):
        metric.update(torch.from_numpy(p[i : i + BATCH]), torch.from_numpy(y[i : i + BATCH]))
    middle = time.perf_counter()
    value = float(metric.compute())
    end = time.perf_counter()
    return end - start, end - middle, value, None, time.process_time() - cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    contenders = {
        "kzoo AUC exact": keras_metric(lambda: kzoo.metrics.AUC()),
        "kzoo AUC binned (2**16)": keras_metric(lambda: kzoo.metrics.AUC(num_bins=2**16)),
        BASELINE: keras_metric(lambda: keras.metrics.AUC(num_thresholds=200)),
        "keras AUC (1000)": keras_metric(lambda: keras.metrics.AUC(num_thresholds=1000)),
    }
    try:
        import torch
        import torchmetrics
    except ImportError:
        torch = torchmetrics = None
    print(
        f"{args.n} scores, batches of {BATCH}, median of {args.repeats} interleaved runs; "
        f"torchmetrics {'included' if torch else 'not installed'}; "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs\n"
    )
    print("| distribution | implementation | time (s) | of which result() (s) | x keras-200 time "
          "| fastest runs | per-round range | x keras-200 CPU time | abs error | error bound |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for dist, (y, p) in distributions(args.n, rng).items():
        p = p.astype("float32")
        y = y.astype("int32")
        exact = roc_auc_score(y, p)
        batches = [
            (tf.constant(y[i : i + BATCH]), tf.constant(p[i : i + BATCH]))
            for i in range(0, len(y), BATCH)
        ]
        runs = dict(contenders)
        runs["scikit-learn roc_auc_score"] = lambda b: sklearn_run(b, y, p)
        if torch is not None:
            runs["torchmetrics AUROC"] = lambda b: torch_run(torch, torchmetrics, y, p)
        rounds = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, run in runs.items():
                rounds[name].append(run(batches))
        for name, results in rounds.items():
            seconds = statistics.median(r[0] for r in results)
            in_result = statistics.median(r[1] for r in results)
            ratios = [r[0] / b[0] for r, b in zip(results, rounds[BASELINE])]
            ratio = statistics.median(ratios)
            fastest = min(r[0] for r in results) / min(b[0] for b in rounds[BASELINE])
            cpu = statistics.median(r[4] / b[4] for r, b in zip(results, rounds[BASELINE]))
            value, metric = results[-1][2], results[-1][3]
            bound = (
                f"{float(metric.binned_error_bound()[0]):.1e}"
                if isinstance(metric, kzoo.metrics.AUC) and metric.num_bins
                else ""
            )
            print(
                f"| {dist} | {name} | {seconds:.3f} | {in_result:.3f} | {ratio:.2f} "
                f"| {fastest:.2f} | {min(ratios):.2f}–{max(ratios):.2f} | {cpu:.2f} "
                f"| {abs(value - exact):.2e} | {bound} |",
                flush=True,
            )
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
