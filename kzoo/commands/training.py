"""What every `kzoo train NAME` shares: the distribution strategy, local workers, determinism and
the backup that lets a killed run resume.

`kzoo train NAME --workers N` starts N local worker processes running the same command under
`--strategy multi-worker` (see `kzoo.training.workers`) and supervises them. Each worker, or a
single process, calls `start(args)` first, for the strategy to build and compile in, and
`fit_callbacks(args)`, for `fit` (a `BackupAndRestore` in `--backup-dir`, by default `OUT/backup`, unless
`--no-backup`). Only the chief writes exports and prints results (`is_chief`).
"""

import os
import sys

__all__ = ["fit_callbacks", "is_chief", "progress", "run_as_workers", "start"]


def run_as_workers(args):
    """With `--workers N`: runs this command as N local workers and returns their exit status;
    None without `--workers` (then the caller trains in this process)."""
    workers = getattr(args, "workers", None)
    if not workers:
        return None
    if workers < 1:
        raise SystemExit(f"--workers must be a positive number of processes. Received: --workers={workers}")
    from kzoo.training.workers import run_workers

    argv = list(args.argv)
    for i, arg in enumerate(argv):  # drop `--workers N` / `--workers=N`, then ask for the strategy
        if arg == "--workers":
            del argv[i : i + 2]
            break
        if arg.startswith("--workers="):
            del argv[i]
            break
    argv += ["--strategy", "multi-worker"]
    print(f"starting {workers} local workers (MultiWorkerMirroredStrategy)", flush=True)
    return run_workers([sys.executable, "-m", "kzoo_cli", *argv], workers)


def is_chief():
    from kzoo.training import is_chief as chief

    return chief()


def start(args):
    """The `tf.distribute` strategy of `--strategy` (build and compile in its `scope()`), with
    deterministic ops under `--deterministic`. Call it first: "mirrored" on a machine without a
    GPU splits the CPU into two logical devices, which must happen before TensorFlow starts.
    """
    import tensorflow as tf

    from kzoo.training import local_cpu_replicas, make_strategy

    if getattr(args, "deterministic", False):
        tf.config.experimental.enable_op_determinism()
    name = getattr(args, "strategy", "default")
    if name == "mirrored" and not tf.config.list_physical_devices("GPU"):
        local_cpu_replicas(2)
    try:
        strategy = make_strategy(name)
    except ValueError as error:
        raise SystemExit(f"--strategy {name}: {error}") from None
    if name == "multi-worker":  # the pid lets a person (or a test) stop one worker
        print(f"worker pid {os.getpid()}", flush=True)
    if strategy.num_replicas_in_sync > 1 and is_chief():
        print(f"strategy: {name}, {strategy.num_replicas_in_sync} replicas in sync", flush=True)
    return strategy


def progress():
    """`fit`'s `verbose`: a line per epoch from the chief, nothing from the other workers."""
    return 2 if is_chief() else 0


def fit_callbacks(args):
    """`[BackupAndRestore(--backup-dir)]`, or none with `--no-backup`."""
    if getattr(args, "no_backup", False):
        return []
    from kzoo.training import BackupAndRestore

    return [BackupAndRestore(args.backup_dir or os.path.join(args.out, "backup"))]
