"""Training speed of the Translator under `tf.distribute`: one process, two replicas, two workers.

Three configurations train the same model on the same batches, each in processes of its own,
one after the other (never at the same time):

- single: one process, the default strategy (one replica), the anchor;
- mirrored: one process, `MirroredStrategy` over two logical CPU devices
  (`kzoo.training.local_cpu_replicas(2)`), global batch split 2 x half;
- multi-worker: two local processes (`kzoo.training.run_workers`), `MultiWorkerMirroredStrategy`
  with ring all-reduce over loopback; worker 0, the chief, reports.

Each builds `Translator(units, embedding_dim)` in the strategy's scope, compiles it with the
defaults (Adam, masked cross-entropy, the default metrics) and trains it with `fit` on a fixed
list of pre-tokenized batches of exactly `--batch-size` sentences (the global batch), the same
list in every configuration: `--warmup-steps` untimed steps (tracing), then `--windows` windows
of `--steps` steps, timed from the start of one step to the start of the step after the window.
Reported: steps/s and target tokens/s (padding excluded) per window, their median and range,
and the ratio to the single process.

All-reduce share: after training, the two-replica configurations time the gradients' all-reduce
alone: `replica_context.all_reduce(SUM, tensors)` over dense float32 tensors with the shapes of
every trainable weight (the call Keras' optimizer makes on the gradients; kzoo makes embedding
gradients dense first), `--reduce-chain` all-reduces chained in one `tf.function` under
`strategy.run`, median of `--reduce-calls` calls, divided by the chain length and by the median
step time. Other collectives of a step (the token count, the metrics) are not in it.

On one machine with 2 cores this measures the overhead of distribution, not a speed-up: the
two replicas or workers share the same cores that the single process uses alone.

    .venv/bin/python benchmarks/scaling.py           # a few minutes on an idle 2-core machine
    .venv/bin/python benchmarks/scaling.py --quick   # a small model and a few steps, to check it runs
"""

import argparse
import datetime
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
CONFIGURATIONS = {  # name: (strategy for make_strategy, processes, replicas in sync)
    "single": ("default", 1, 1),
    "mirrored": ("mirrored", 1, 2),
    "multi-worker": ("multi-worker", 2, 2),
}
QUICK = {"units": 32, "embedding_dim": 16, "pairs": 2000, "warmup_steps": 3, "steps": 5, "windows": 3,
         "reduce_chain": 5, "reduce_calls": 3, "timeout": 300}
IDLE_SHARE = 0.05  # other processes' share of the machine above which a configuration's numbers are flagged
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")  # recorded when set
# TensorFlow's start-up lines, written before its logging is set up (TF_CPP_MIN_LOG_LEVEL does not silence them).
STARTUP_NOISE = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called"
    r"|I0000 .*\] (oneDNN custom operations|Could not find cuda drivers)"
)


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive int. Received: {text}")
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a small model and a few steps, to check that the script runs (not a measurement)")
    parser.add_argument("--configurations", default=",".join(CONFIGURATIONS),
                        help=f"comma-separated, run in this order: {', '.join(CONFIGURATIONS)}")
    parser.add_argument("--data", default=None,
                        help="an Anki file `english<TAB>spanish` (e.g. ../shared/data/translation/spa-eng/train.tsv); "
                             "default: the embedded corpus")
    parser.add_argument("--pairs", type=positive_int, default=20000,
                        help="sentence pairs used, a seeded random subset (the embedded corpus has 13,013)")
    parser.add_argument("--units", type=positive_int, default=256,
                        help="the Translator's units (default %(default)s, as the Translator's)")
    parser.add_argument("--embedding-dim", type=positive_int, default=128,
                        help="the Translator's embedding_dim (default %(default)s, as the Translator's)")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="global batch, in sentences")
    parser.add_argument("--warmup-steps", type=positive_int, default=10, help="untimed steps first (tracing)")
    parser.add_argument("--steps", type=positive_int, default=40, help="steps per timed window")
    parser.add_argument("--windows", type=positive_int, default=5, help="timed windows (median and range reported)")
    parser.add_argument("--reduce-chain", type=positive_int, default=20, help="all-reduces chained in one timed call")
    parser.add_argument("--reduce-calls", type=positive_int, default=7, help="timed calls of the chain (median)")
    parser.add_argument("--timeout", type=positive_int, default=1800, help="seconds allowed to each configuration")
    parser.add_argument("--out", default=None,
                        help="result file (default benchmarks/results/scaling.json, scaling_quick.json with --quick)")
    parser.add_argument("--config", help=argparse.SUPPRESS)  # internal: run one configuration here
    parser.add_argument("--result", help=argparse.SUPPRESS)  # internal: where the chief writes it
    args = parser.parse_args(argv)
    if args.quick:  # the quick values replace the defaults, not the options given
        parser.set_defaults(**QUICK)
        args = parser.parse_args(argv)
    names = [n for n in args.configurations.split(",") if n]
    unknown = [n for n in names if n not in CONFIGURATIONS]
    if unknown or not names:
        parser.error(f"--configurations must name some of {', '.join(CONFIGURATIONS)}. "
                     f"Received: --configurations={args.configurations}")
    args.configurations = names
    if args.data and not os.path.isfile(args.data):
        parser.error(f"--data must be an Anki file `english<TAB>spanish`. Received: --data={args.data} (no such file)")
    return args


# === One configuration (a child process, or each worker of one) ===
def load_pairs(data, pairs):
    """`pairs` sentence pairs (a seeded random subset) of the Anki file `data`, or of the embedded corpus."""
    import numpy as np

    from kzoo.data import load_anki, load_embedded

    sources, targets = load_anki("spa", path=data) if data else load_embedded("train", size=14000)
    index = np.random.default_rng(0).permutation(len(sources))[:pairs]
    return [sources[i] for i in index], [targets[i] for i in index]


def fixed_batches(translator, sources, targets, batch_size, count):
    """The first `count` full batches (exactly `batch_size` pairs) of the bucketed, shuffled
    pairs, tokenized: `((source, target_in), target_out)` int32 arrays, padded per batch."""
    from kzoo.data import make_pairs_dataset

    dataset = make_pairs_dataset(sources, targets, batch_size=batch_size, seed=0).repeat().map(translator.prepare)
    batches = []
    for (source, target_in), target_out in dataset.take(10 * count):
        if source.shape[0] == batch_size:
            batches.append((source.numpy(), target_in.numpy(), target_out.numpy()))
        if len(batches) == count:
            return batches
    raise ValueError(f"Only {len(batches)} of the first {10 * count} batches hold {batch_size} pairs; {count} are "
                     "needed. Use more pairs or a smaller batch. "
                     f"Received: pairs={len(sources)}, batch_size={batch_size}")


def as_dataset(batches):
    """`batches`, in order, as a `tf.data.Dataset` of `((source, target_in), target_out)` whose
    lengths change from batch to batch (so `fit` traces its step once)."""
    import numpy as np
    import tensorflow as tf

    def stack(arrays):  # n arrays (batch, length_i) -> ragged (n, batch, (length_i))
        rows = tf.RaggedTensor.from_row_lengths(
            np.concatenate([a.reshape(-1) for a in arrays]), np.concatenate([[a.shape[1]] * a.shape[0] for a in arrays])
        )
        return tf.RaggedTensor.from_uniform_row_length(rows, arrays[0].shape[0])

    parts = tuple(stack([batch[i] for batch in batches]) for i in range(3))
    return (tf.data.Dataset.from_tensor_slices(parts)
            .map(lambda s, ti, to: ((s.to_tensor(), ti.to_tensor()), to.to_tensor()))
            .prefetch(tf.data.AUTOTUNE))


def step_starts():
    """A callback recording `time.perf_counter()` at the start of every training step (a step
    begins when the one before has finished: TensorFlow runs functions synchronously)."""
    import keras

    class StepStarts(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.times = []

        def on_train_batch_begin(self, batch, logs=None):
            self.times.append(time.perf_counter())

    return StepStarts()


def all_reduce_seconds(strategy, weights, chain, calls):
    """Median seconds of one all-reduce (sum) across the replicas of dense tensors shaped like
    `weights`: `chain` all-reduces, each taking the previous one's result, in one `tf.function`."""
    import tensorflow as tf

    tensors = [tf.zeros(w.shape, w.dtype) for w in weights]

    def replica_fn():
        context = tf.distribute.get_replica_context()
        reduced = tensors
        for _ in range(chain):
            reduced = context.all_reduce(tf.distribute.ReduceOp.SUM, reduced)
        return reduced[-1]

    run = tf.function(lambda: strategy.run(replica_fn))

    def timed_call():
        start = time.perf_counter()
        for value in strategy.experimental_local_results(run()):
            value.numpy()
        return time.perf_counter() - start

    timed_call()  # trace
    return statistics.median(timed_call() for _ in range(calls)) / chain


def run_configuration(args):
    """Trains and times one configuration in this process (one worker of it under multi-worker);
    the chief writes the result to `args.result`."""
    import keras
    import numpy as np
    import tensorflow as tf

    from kzoo.applications import Translator
    from kzoo.training import is_chief, local_cpu_replicas, make_strategy

    strategy_name, _, replicas = CONFIGURATIONS[args.config]
    if strategy_name == "mirrored":
        local_cpu_replicas(replicas)  # before TensorFlow's runtime starts
    strategy = make_strategy(strategy_name)  # before any other op: multi-worker starts its server
    tf.get_logger().setLevel("ERROR")
    keras.utils.set_random_seed(0)
    sources, targets = load_pairs(args.data, args.pairs)
    with strategy.scope():
        translator = Translator(units=args.units, embedding_dim=args.embedding_dim, seed=0)
        translator.adapt(sources, targets)
        translator.compile()
    timed = args.windows * args.steps
    batches = fixed_batches(translator, sources, targets, args.batch_size, args.warmup_steps + timed + 1)
    starts = step_starts()
    translator.fit(as_dataset(batches), steps_per_epoch=len(batches), epochs=1, verbose=0, callbacks=[starts])
    windows = []
    for w in range(args.windows):
        first = args.warmup_steps + w * args.steps
        seconds = starts.times[first + args.steps] - starts.times[first]
        tokens = sum(int(np.count_nonzero(b[2])) for b in batches[first : first + args.steps])
        windows.append({"seconds": seconds, "steps_per_s": args.steps / seconds, "target_tokens": tokens,
                        "tokens_per_s": tokens / seconds})
    weights = translator.trainable_weights
    result = {
        "strategy": strategy_name,
        "replicas_in_sync": strategy.num_replicas_in_sync,
        "parameters": int(sum(np.prod(w.shape) for w in weights)),
        "gradient_bytes": int(sum(np.prod(w.shape) * np.dtype(w.dtype).itemsize for w in weights)),
        "vocabulary": [translator.source_tokenizer.vocabulary_size, translator.target_tokenizer.vocabulary_size],
        "windows": windows,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }
    if strategy.num_replicas_in_sync > 1:
        result["all_reduce_s"] = all_reduce_seconds(strategy, weights, args.reduce_chain, args.reduce_calls)
    if is_chief():
        with open(args.result, "w") as f:
            json.dump(result, f)
    return 0


def launch_workers(args, argv):
    """The multi-worker configuration: this same command as local workers, with `TF_CONFIG`."""
    from kzoo.training.workers import run_workers

    processes = CONFIGURATIONS[args.config][1]
    return run_workers([sys.executable, os.path.abspath(__file__), *argv], processes, timeout=args.timeout)


# === The parent: runs each configuration alone, then reports ===
def machine_busy_seconds():
    """CPU-seconds the whole machine has spent busy since boot (user, nice, system, irq,
    softirq, and steal: time a virtual machine's CPUs ran something else; from /proc/stat),
    or None where there is no /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_seconds():
    """CPU-seconds used by this process and its finished children (workers included)."""
    usages = [resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usages)


def load_average():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def child_argv(args, name, result):
    """The command line of configuration `name`, with this run's settings."""
    argv = ["--config", name, "--result", result]
    for option in ("data", "pairs", "units", "embedding_dim", "batch_size", "warmup_steps", "steps", "windows",
                   "reduce_chain", "reduce_calls", "timeout"):
        value = getattr(args, option)
        if value is not None:
            argv += [f"--{option.replace('_', '-')}", str(value)]
    return argv


def run_alone(args, name):
    """Runs configuration `name` in a process of its own (its workers under multi-worker) and
    waits; returns its result (None when it failed), the CPU used by other processes meanwhile
    and its output less TensorFlow's start-up lines."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    with tempfile.TemporaryDirectory() as folder:
        result_path = os.path.join(folder, "result.json")
        command = [sys.executable, os.path.abspath(__file__), *child_argv(args, name, result_path)]
        busy, own, start = machine_busy_seconds(), own_seconds(), time.monotonic()
        try:
            process = subprocess.run(command, env=env, capture_output=True, text=True, timeout=args.timeout + 60)
            status, output = process.returncode, process.stdout + process.stderr
        except subprocess.TimeoutExpired as error:
            status, output = 124, (error.stdout or b"").decode() + (error.stderr or b"").decode()
        elapsed = time.monotonic() - start
        others = None if busy is None else max(0.0, machine_busy_seconds() - busy - (own_seconds() - own))
        share = None if others is None else others / elapsed / os.cpu_count()
        result = None
        if status == 0 and os.path.isfile(result_path):
            with open(result_path) as f:
                result = json.load(f)
    lines = [line for line in output.splitlines() if line.strip() and not STARTUP_NOISE.search(line)]
    process = {"seconds": elapsed, "others_cpu_s": others, "others_share": share, "exit_status": status}
    return result, process, lines


def summarize(result):
    steps = [w["steps_per_s"] for w in result["windows"]]
    tokens = [w["tokens_per_s"] for w in result["windows"]]
    summary = {"steps_per_s": statistics.median(steps), "steps_per_s_range": [min(steps), max(steps)],
               "tokens_per_s": statistics.median(tokens), "tokens_per_s_range": [min(tokens), max(tokens)]}
    if "all_reduce_s" in result:
        summary["all_reduce_share"] = result["all_reduce_s"] * summary["steps_per_s"]
    return summary


def report(args, runs, machine):
    """Prints the table; returns the notes printed under it."""
    cpus = machine["cpu_count"]
    anchor = runs.get("single", {}).get("summary")
    first = next((r["result"] for r in runs.values() if r["result"]), None)
    if first:
        print(f"Translator units {args.units}, embedding {args.embedding_dim}, vocabulary {first['vocabulary'][0]}"
              f"/{first['vocabulary'][1]}, {first['parameters']:,} trainable parameters "
              f"({first['gradient_bytes'] / 1e6:.1f} MB of gradients); global batch {args.batch_size}; "
              f"{args.windows} windows x {args.steps} steps after {args.warmup_steps} warm-up steps")
    print()
    print("| configuration | processes | replicas | steps/s (median) | range | target tokens/s (median) | range | "
          "tokens/s vs single | all-reduce ms/step | share of a step |")
    print("|---|---:|---:|---:|---|---:|---|---:|---:|---:|")
    for name, run in runs.items():
        _, processes, replicas = CONFIGURATIONS[name]
        if not run["result"]:
            print(f"| {name} | {processes} | {replicas} | failed (exit status {run['process']['exit_status']}) "
                  f"| | | | | | |")
            continue
        s, result = run["summary"], run["result"]
        ratio = f"{s['tokens_per_s'] / anchor['tokens_per_s']:.2f}x" if anchor else "—"
        reduce_ms = f"{result['all_reduce_s'] * 1000:.1f}" if "all_reduce_s" in result else "—"
        share = f"{s['all_reduce_share']:.0%}" if "all_reduce_share" in s else "—"
        print(f"| {name} | {processes} | {replicas} | {s['steps_per_s']:.2f} | {s['steps_per_s_range'][0]:.2f}–"
              f"{s['steps_per_s_range'][1]:.2f} | {s['tokens_per_s']:,.0f} | {s['tokens_per_s_range'][0]:,.0f}–"
              f"{s['tokens_per_s_range'][1]:,.0f} | {ratio} | {reduce_ms} | {share} |")
    notes = [
        f"On one machine ({cpus} CPUs) the replicas and workers share the cores the single process uses alone: "
        "the ratios measure the overhead of distribution, not a speed-up.",
        "All-reduce: sum of dense float32 tensors shaped like every trainable weight (the gradients), "
        f"{args.reduce_chain} chained in one tf.function under strategy.run, median of {args.reduce_calls} calls; "
        "share = all-reduce time x median steps/s.",
    ]
    tokens = {name: [w["target_tokens"] for w in r["result"]["windows"]] for name, r in runs.items() if r["result"]}
    if len({tuple(t) for t in tokens.values()}) > 1:
        notes.append(f"WARNING: the configurations did not train on the same batches (tokens per window: {tokens}).")
    for name, run in runs.items():
        process = run["process"]
        if process["others_share"] is not None:
            notes.append(f"{name}: {process['seconds']:.0f} s; other processes (and VM steal) used "
                         f"{process['others_cpu_s']:.1f} CPU-s ({process['others_share']:.0%} of the machine) meanwhile"
                         + (" — not idle: numbers unreliable" if process["others_share"] > IDLE_SHARE else ""))
    notes.append(f"load average (1 min) {machine['load_average_start']} at the start, {machine['load_average_end']} at "
                 f"the end; machine idle during every configuration: {machine['idle']}")
    if args.quick:
        notes.append("--quick: a small model and a few steps, to check that the script runs; not a measurement.")
    print()
    for note in notes:
        print(note)
    return notes


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.config:
        sys.path.insert(0, ROOT)
        if CONFIGURATIONS[args.config][1] > 1 and "TF_CONFIG" not in os.environ:
            return launch_workers(args, argv)
        return run_configuration(args)
    machine = {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
               "load_average_start": load_average(), "date": datetime.datetime.now().isoformat(timespec="seconds"),
               "threads": {k: os.environ[k] for k in THREAD_VARIABLES if k in os.environ}}
    print(f"{machine['date']}: {machine['cpu_count']} CPUs visible, load average (1 min) "
          f"{machine['load_average_start']}; data: {args.data or 'embedded corpus'}")
    runs = {}
    for name in args.configurations:
        print(f"running {name} ...", flush=True)
        result, process, output = run_alone(args, name)
        for line in output:
            print(f"  {line}")
        runs[name] = {"result": result, "process": process, "summary": summarize(result) if result else None}
    machine["load_average_end"] = load_average()
    shares = [r["process"]["others_share"] for r in runs.values()]
    machine["idle"] = None if None in shares else all(share <= IDLE_SHARE for share in shares)
    notes = report(args, runs, machine)
    out = args.out or os.path.join(RESULTS, "scaling_quick.json" if args.quick else "scaling.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    settings = {k: v for k, v in vars(args).items() if k not in ("config", "result", "out")}
    with open(out, "w") as f:
        json.dump({"command": " ".join(["benchmarks/scaling.py", *argv]), "machine": machine, "settings": settings,
                   "configurations": runs, "notes": notes}, f, indent=1)
    print(f"results: {out if args.out else os.path.relpath(out, ROOT)}")
    return 0 if all(r["result"] for r in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
