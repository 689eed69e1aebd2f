"""AUC side by side: kzoo exact and binned, keras.metrics.AUC, scikit-learn, torchmetrics.

2M scores in batches of 8192, four score distributions. Prints update+result time (median of
several runs), the ratio to Keras' 200-bucket AUC, and the absolute error against the exact AUC
(scikit-learn's `roc_auc_score`). Run: `.venv/bin/python benchmarks/metrics.py [--n N] [--repeats R]`.
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

BATCH = 8192


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


def time_metric(make, y, p, repeats):
    batches = [
        (tf.constant(y[i : i + BATCH]), tf.constant(p[i : i + BATCH])) for i in range(0, len(y), BATCH)
    ]
    times, value = [], None
    for _ in range(repeats):
        metric = make()
        update = tf.function(metric.update_state)
        result = tf.function(metric.result)
        start = time.perf_counter()
        for yb, pb in batches:
            update(yb, pb)
        value = float(result())
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def time_sklearn(y, p, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        value = roc_auc_score(y, p)
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    contenders = {
        "kzoo AUC exact": lambda: kzoo.metrics.AUC(),
        "kzoo AUC binned (2**16)": lambda: kzoo.metrics.AUC(num_bins=2**16),
        "keras AUC (200)": lambda: keras.metrics.AUC(num_thresholds=200),
        "keras AUC (1000)": lambda: keras.metrics.AUC(num_thresholds=1000),
    }
    try:
        import torch
        import torchmetrics

        has_torch = True
    except ImportError:
        has_torch = False
    print(f"{args.n} scores, batches of {BATCH}, median of {args.repeats} runs; "
          f"torchmetrics {'included' if has_torch else 'not installed'}\n")
    print("| distribution | implementation | time (s) | x keras-200 time | abs error |")
    print("|---|---|---:|---:|---:|")
    for dist, (y, p) in distributions(args.n, rng).items():
        p = p.astype("float32")
        y = y.astype("int32")
        exact = roc_auc_score(y, p)
        rows = {name: time_metric(make, y, p, args.repeats) for name, make in contenders.items()}
        rows["scikit-learn roc_auc_score"] = time_sklearn(y, p, args.repeats)
        if has_torch:
            def run_torch():
                m = torchmetrics.AUROC(task="binary")
                for i in range(0, len(y), BATCH):
                    m.update(torch.from_numpy(p[i : i + BATCH]), torch.from_numpy(y[i : i + BATCH]))
                return float(m.compute())

            t = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                v = run_torch()
                t.append(time.perf_counter() - start)
            rows["torchmetrics AUROC"] = (statistics.median(t), v)
        base = rows["keras AUC (200)"][0]
        for name, (seconds, value) in rows.items():
            print(f"| {dist} | {name} | {seconds:.3f} | {seconds / base:.2f} | {abs(value - exact):.2e} |")


if __name__ == "__main__":
    main()
