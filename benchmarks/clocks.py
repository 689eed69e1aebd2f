"""Clocks for training budgets in the benchmarks."""

import os
import time

import keras

__all__ = ["Budget", "cpu_clock", "get_clock", "median_time"]


def cpu_clock():
    """Seconds of this process's CPU time divided by the CPUs visible: on an idle machine that a
    run keeps fully busy it advances like the wall clock; on a shared one each run is charged
    only for the CPU it got."""
    return time.process_time() / (os.cpu_count() or 1)


def get_clock(name):
    """`"wall"` -> `time.time`, `"cpu"` -> `cpu_clock`."""
    clocks = {"wall": time.time, "cpu": cpu_clock}
    if name not in clocks:
        raise ValueError(f"`clock` must be one of {sorted(clocks)}. Received: clock={name!r}")
    return clocks[name]


def median_time(fn, repeats):
    """Median wall-clock seconds of `repeats` calls of `fn()`."""
    import statistics

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)



class Budget(keras.callbacks.Callback):
    """Stops `fit` after `seconds` of training on `clock` ("wall" or "cpu"; checked after every batch)."""

    def __init__(self, seconds, clock="wall"):
        super().__init__()
        self.seconds = seconds
        self.clock = get_clock(clock)

    def on_train_begin(self, logs=None):
        self.start = self.clock()

    def on_train_batch_end(self, batch, logs=None):
        if self.clock() - self.start >= self.seconds:
            self.model.stop_training = True
