"""Forward + backward time of kzoo.layers.Attention(score="dot") against keras.layers.Attention.

Both layers see identical inputs (and value masks); outputs are first checked equal to 1e-6. Each
timing is the median of several repeats of `--steps` compiled (tf.function) forward+backward
steps; the ratio kzoo / Keras is printed per configuration (target: <= 1.1).

    .venv/bin/python benchmarks/attention.py [--repeats 7] [--steps 50]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import kzoo  # noqa: E402

CONFIGS = [  # (batch, Tq, Tv, dim, masked)
    (32, 32, 32, 64, False),
    (32, 32, 32, 64, True),
    (64, 64, 64, 128, False),
    (64, 64, 64, 128, True),
    (16, 128, 256, 256, True),
]


def make_step(layer, masked):
    @tf.function
    def step(q, v, mask):
        with tf.GradientTape() as tape:
            tape.watch([q, v])
            out = layer([q, v], mask=[None, mask] if masked else None)
            loss = tf.reduce_sum(out * out)
        return loss, tape.gradient(loss, [q, v])

    return step


def time_step(step, args, steps, repeats):
    step(*args)  # trace
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            loss, grads = step(*args)
        grads[0].numpy()
        times.append((time.perf_counter() - start) / steps)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"tensorflow {tf.__version__}, keras {keras.__version__}, "
          f"{args.repeats} repeats x {args.steps} steps, median ms per forward+backward step")
    header = f"{'batch':>5} {'Tq':>4} {'Tv':>4} {'dim':>4} {'mask':>5} {'keras ms':>9} {'kzoo ms':>8} {'ratio':>6} {'max |diff|':>10}"
    print(header)
    print("-" * len(header))
    ratios = []
    for batch, tq, tv, dim, masked in CONFIGS:
        q = tf.constant(rng.normal(size=(batch, tq, dim)).astype("float32"))
        v = tf.constant(rng.normal(size=(batch, tv, dim)).astype("float32"))
        lengths = rng.integers(tv // 2, tv + 1, size=batch)
        mask = tf.constant(np.arange(tv)[None, :] < lengths[:, None])
        ours, theirs = kzoo.layers.Attention(score="dot"), keras.layers.Attention()
        m = [None, mask] if masked else None
        diff = float(np.max(np.abs(np.asarray(ours([q, v], mask=m)) - np.asarray(theirs([q, v], mask=m)))))
        assert diff <= 1e-6, f"outputs differ by {diff}"
        # Interleave the two so drift in machine load affects both alike.
        keras_t, kzoo_t = [], []
        step_keras, step_kzoo = make_step(theirs, masked), make_step(ours, masked)
        for _ in range(3):
            keras_t.append(time_step(step_keras, (q, v, mask), args.steps, args.repeats))
            kzoo_t.append(time_step(step_kzoo, (q, v, mask), args.steps, args.repeats))
        k_ms, z_ms = 1e3 * statistics.median(keras_t), 1e3 * statistics.median(kzoo_t)
        ratios.append(z_ms / k_ms)
        print(f"{batch:>5} {tq:>4} {tv:>4} {dim:>4} {str(masked):>5} {k_ms:>9.3f} {z_ms:>8.3f} {z_ms / k_ms:>6.2f} {diff:>10.1e}")
    print(f"median ratio kzoo/keras: {statistics.median(ratios):.2f} (target <= 1.1)")


if __name__ == "__main__":
    main()
