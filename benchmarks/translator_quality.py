"""Spanish -> English BLEU of the Translator against minutes of training, with its defaults.

Protocol (issue 11): train on ../shared/data/translation/spa-eng/train.tsv, Spanish -> English,
with held-out validation and test splits that keep identical Spanish sentences (with all their
English references) on one side (`kzoo.data.split_by_source`, a fixed split), for a fixed
wall-clock training budget on an idle 2-core machine; greedy decoding; sacreBLEU (13a,
lower-cased, every English reference of a Spanish source). Each run uses the library's defaults
(`Translator(seed=...)`, `adapt(spanish, english)`, `compile()`) and one of two input paths:

- `--path plain`: what a Keras user writes,
  `Dataset.from_tensor_slices((spanish, english)).shuffle(n).batch(64).repeat()`;
- `--path pairs`: `kzoo.data.make_pairs_dataset` (batches bucketed by length).

`--model tutorial` trains the TensorFlow NMT tutorial's architecture (`tutorial_nmt.py`) in the
same protocol, the anchor. `--seeds 0 1 2` repeats a configuration with different
initialisations (same data split); `--report` prints BLEU at every time point as mean ± half-range
over seeds and the minutes to 37.8 (the tutorial's 30-minute BLEU measured before).

On a machine shared with other jobs, `--clock cpu` measures the budget in this process's CPU
time divided by the number of CPUs: report such runs apart from wall-clock ones.

Every `--eval-every-minutes` of *training* time (evaluation pauses the clock) the test split is
translated and scored. Each run writes
`benchmarks/results/translator_quality_<label>_seed<N>.json`. `--save-models DIR` keeps each
run's trained weights; `--decode-speed KZOO TUTORIAL` then times greedy decoding of the test split
at batch 128 by both trained models in one process (target: kzoo >= 2x the tutorial's loop), kzoo
with its default decoding shortlist and with `shortlist=None` (the same weights), and kzoo's beam-4
against greedy at batch 64 (target <= 3x), with the BLEU of each. `--shortlist F P` decodes with
another shortlist than the default (weights saved before shortlists existed load without one; the
shortlist is learned from the training pairs by `adapt`).

    python benchmarks/translator_quality.py --path plain --seeds 0 1 2 --budget-minutes 10 --save-models /tmp/tq
    python benchmarks/translator_quality.py --model tutorial --path plain --seeds 0 1 2 --budget-minutes 10 --save-models /tmp/tq
    python benchmarks/translator_quality.py --decode-speed /tmp/tq/kzoo-global-plain_seed0.weights.h5 /tmp/tq/tutorial-plain_seed0.weights.h5
    python benchmarks/translator_quality.py --report --runs 'translator_quality_*_seed*.json'

Result files without a seed (`translator_quality_<attention>[_sampledN][_cpu].json`) are the
earlier single-seed runs with tuned settings (`min_count=2`, bucketed batches); `--report` on
them prints the per-length-bucket table and plot.
"""

import argparse
import fnmatch
import json
import os
import statistics
import sys
import time
import warnings

import keras
import sacrebleu
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from clocks import get_clock, median_time  # noqa: E402
from kzoo.applications import Translator  # noqa: E402
from kzoo.data import load_anki, make_pairs_dataset, split_by_source  # noqa: E402
from tutorial_nmt import TutorialTranslator  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "data", "translation", "spa-eng", "train.tsv")
BUCKETS = ((1, 4), (5, 6), (7, 8), (9, 11), (12, 200))  # source words (white-space split)


def bleu(hypotheses, references):
    """sacreBLEU 13a, lower-cased, a variable number of references per sentence."""
    if not hypotheses:
        return float("nan")
    width = max(len(r) for r in references)
    streams = [[refs[i] if i < len(refs) else None for refs in references] for i in range(width)]
    return sacrebleu.corpus_bleu(hypotheses, streams, tokenize="13a", lowercase=True).score


def bucket_of(source):
    n = len(source.split())
    return next(f"{lo}-{hi}" if hi < 200 else f"{lo}+" for lo, hi in BUCKETS if lo <= n <= hi)


def bucket_names():
    return [f"{lo}-{hi}" if hi < 200 else f"{lo}+" for lo, hi in BUCKETS]


def translate_all(translator, sources, chunk=256):
    """Greedy translations, decoded in chunks of similar source length (less padding, shorter loops)."""
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    out = [None] * len(sources)
    for start in range(0, len(order), chunk):
        idx = order[start : start + chunk]
        for i, text in zip(idx, translator.translate([sources[i] for i in idx])):
            out[i] = text
    return out


def score(translator, sources, references):
    hypotheses = translate_all(translator, sources)
    result = {"bleu": round(bleu(hypotheses, references), 2)}
    buckets = [bucket_of(s) for s in sources]
    for name in bucket_names():
        keep = [i for i, b in enumerate(buckets) if b == name]
        result[f"bleu_{name}"] = round(bleu([hypotheses[i] for i in keep], [references[i] for i in keep]), 2)
    return result, hypotheses


class TimePoints(keras.callbacks.Callback):
    """Stops after `budget` seconds of training and scores the test split every `every` seconds
    of training; the clock (wall, or `cpu_clock`) is paused while scoring."""

    def __init__(self, budget, every, evaluate, log, batches_per_epoch, clock=time.time):
        super().__init__()
        self.clock = clock
        self.batches_per_epoch = batches_per_epoch
        self.budget, self.every, self.evaluate, self.log = budget, every, evaluate, log
        self.points = []
        self.steps = 0

    def on_train_begin(self, logs=None):
        self.start = self.clock()
        self.wall_start = time.time()
        self.next_point = self.every
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def trained(self):
        return self.clock() - self.start

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        elapsed = self.trained()
        if elapsed >= min(self.next_point, self.budget):
            paused, paused_clock = time.time(), self.clock()
            minutes = min(self.next_point, self.budget) / 60
            result, _ = self.evaluate()
            point = {"minutes": round(minutes, 2), "train_seconds": round(elapsed, 1), "steps": self.steps,
                     "wall_seconds": round(paused - self.wall_start, 1),
                     "epochs": round(self.epoch + (batch + 1) / self.batches_per_epoch, 2),
                     "loss": round(float(logs.get("loss", float("nan"))), 4), **result,
                     "eval_seconds": round(time.time() - paused, 1)}
            self.points.append(point)
            self.log(point)
            self.start += self.clock() - paused_clock  # evaluation does not count as training time
            self.wall_start += time.time() - paused
            self.next_point += self.every
            if elapsed >= self.budget:
                self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        print(f"  epoch {epoch + 1} done after {self.trained() / 60:.1f} min of training, "
              f"{self.steps} steps, loss {logs.get('loss', float('nan')):.3f}", flush=True)


def load_splits(seed):
    sources, targets = load_anki("spa", path=SHARED)
    train_s, train_t, test_s, test_refs = split_by_source(sources, targets, test_fraction=0.03, seed=seed)
    # A validation split carved out of the rest the same way (grouping identical Spanish sentences):
    # for development (learning rate, vocabulary, ...), so the test split is only reported.
    train_s, train_t, val_s, val_refs = split_by_source(train_s, train_t, test_fraction=0.02, seed=seed + 1)
    return train_s, train_t, val_s, val_refs, test_s, test_refs


def make_model(kind, attention, seed, min_count, train_s, train_t, target_embeddings=None, **options):
    """A compiled model with the library's defaults (`kind="kzoo"`) or the tutorial anchor;
    `target_embeddings` (e.g. "glove-6b-50d") starts the English embedding from pretrained
    vectors, with `embedding_dim` set to their size."""
    keras.utils.set_random_seed(seed)
    if kind == "tutorial":
        model = TutorialTranslator()
        model.adapt(train_s, train_t)
        model.compile()
        return model
    extra = {}
    if target_embeddings:
        from kzoo.text import load_word_vectors

        vectors = load_word_vectors(target_embeddings)
        extra = {"embedding_dim": vectors.dim}
        if options.get("embedding_dim") not in (None, vectors.dim):
            raise ValueError(f"--embedding-dim must be {vectors.dim} (the size of {target_embeddings}) or left "
                             f"out. Received: {options['embedding_dim']}")
        options.pop("embedding_dim", None)
    model = Translator(attention=None if attention == "none" else attention, seed=seed, **extra, **options)
    model.adapt(train_s, train_t, **({} if min_count is None else {"min_count": min_count}),
                **({"target_embeddings": vectors} if target_embeddings else {}))
    return model


def training_data(path, train_s, train_t, seed):
    """The plain path a Keras user writes, or kzoo's bucketed `make_pairs_dataset`."""
    if path == "plain":
        ds = tf.data.Dataset.from_tensor_slices((train_s, train_t)).shuffle(len(train_s), seed=seed).batch(64)
        return ds.repeat(), len(train_s) // 64
    return make_pairs_dataset(train_s, train_t, seed=seed), None


def result_path(args, label, seed):
    return os.path.join(args.out, f"translator_quality_{label}_seed{seed}.json")


def run(kind, name, seed, args):
    train_s, train_t, val_s, val_refs, test_s, test_refs = load_splits(0)
    if args.test_size:
        test_s, test_refs = test_s[: args.test_size], test_refs[: args.test_size]
    label = f"{kind}-{name}-{args.path}" if kind == "kzoo" else f"tutorial-{args.path}"
    label += (f"-sampled{args.num_sampled}" if args.num_sampled else "") + ("-cpu" if args.clock == "cpu" else "")
    label += f"-{args.target_embeddings}" if args.target_embeddings and kind == "kzoo" else ""
    label += f"-dropout{args.dropout:g}" if args.dropout is not None and kind == "kzoo" else ""
    label += f"-smoothing{args.label_smoothing:g}" if args.label_smoothing and kind == "kzoo" else ""
    label += f"-dim{args.embedding_dim}" if args.embedding_dim and kind == "kzoo" else ""
    label += f"-{args.budget_minutes:g}min" if args.budget_minutes != 10 else ""
    print(f"[{label}, seed {seed}] {len(train_s)} training pairs, {len(val_s)} validation and "
          f"{len(test_s)} test Spanish sentences ({sum(map(len, test_refs))} references); budget "
          f"{args.budget_minutes} min ({args.clock} clock), BLEU every {args.eval_every_minutes} min; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}", flush=True)
    options = {"dropout": args.dropout} if args.dropout is not None and kind == "kzoo" else {}
    if args.embedding_dim and kind == "kzoo":
        options["embedding_dim"] = args.embedding_dim
    model = make_model(kind, name, seed, args.min_count, train_s, train_t, args.target_embeddings, **options)
    if kind == "kzoo":
        model.compile(num_sampled=args.num_sampled, label_smoothing=args.label_smoothing)
    vocabularies = (model.source_tokenizer.vocabulary_size, model.target_tokenizer.vocabulary_size)
    print(f"vocabularies: {vocabularies[0]} Spanish, {vocabularies[1]} English tokens; "
          f"{model.count_params():,} parameters", flush=True)
    os.makedirs(args.out, exist_ok=True)
    path = result_path(args, label, seed)
    record = {"label": label, "model": kind, "attention": name, "path": args.path,
              "budget_minutes": args.budget_minutes, "clock": args.clock, "seed": seed, "min_count": args.min_count,
              "dropout": getattr(model, "dropout", None), "vocabularies": vocabularies, "train_pairs": len(train_s),
              "test_sentences": len(test_s),
              "cpus": os.cpu_count(), "load_average_start": os.getloadavg(), "points": []}

    def log(point):
        record["points"].append(point)
        record["load_average"] = os.getloadavg()
        with open(path, "w") as f:
            json.dump(record, f, indent=1)
        print(json.dumps(point), flush=True)

    dataset, steps_per_epoch = training_data(args.path, train_s, train_t, seed)
    clock = TimePoints(args.budget_minutes * 60, args.eval_every_minutes * 60,
                       lambda: score(model, test_s, test_refs), log, len(train_s) / 64,
                       clock=get_clock(args.clock))
    model.fit(dataset, epochs=1000, steps_per_epoch=steps_per_epoch, callbacks=[clock], verbose=0)
    val, _ = score(model, val_s[:1000], val_refs[:1000])
    record["validation_bleu_first_1000"] = val["bleu"]
    _, hypotheses = score(model, test_s[:10], test_refs[:10])
    record["examples"] = [[s, h, r[0]] for s, h, r in zip(test_s[:10], hypotheses, test_refs[:10])]
    with open(path, "w") as f:
        json.dump(record, f, indent=1)
    if args.save_models:
        weights = os.path.join(args.save_models, f"{label}_seed{seed}.weights.h5")
        os.makedirs(args.save_models, exist_ok=True)
        model.save_weights(weights)
        print("saved weights", weights)
    for s, h, r in record["examples"]:
        print(f"  {s}  ->  {h}   (ref: {r})")
    print(f"validation BLEU (first 1000): {val['bleu']}; saved {path}")


def decoding_speed(args):
    """Greedy decoding of the test split at batch 128 by a trained kzoo model and a trained
    tutorial model (weights saved by `--save-models`), interleaved in one process; then kzoo's
    beam-4 against greedy at batch 64, with the BLEU of each."""
    kzoo_weights, tutorial_weights = args.decode_speed
    train_s, train_t, _, _, test_s, test_refs = load_splits(0)
    start = time.perf_counter()
    extra = {} if args.shortlist is None else {"shortlist": tuple(args.shortlist)}
    kzoo_model = make_model("kzoo", "global", 0, args.min_count, train_s, train_t, **extra)  # adapt learns the shortlist
    print(f"adapt (vocabularies and shortlist {kzoo_model.shortlist}) on {len(train_s):,} pairs: "
          f"{time.perf_counter() - start:.1f} s")
    with warnings.catch_warnings():  # weights saved before shortlists existed lack the shortlist's tables
        warnings.simplefilter("ignore")
        kzoo_model.load_weights(kzoo_weights, skip_mismatch=True)
    full = Translator.from_config({**kzoo_model.get_config(), "shortlist": None})  # the same weights, every word scored
    full.build()
    for mine, theirs in zip(full.weights, [w for w in kzoo_model.weights if not w.path.startswith("shortlist")]):
        mine.assign(theirs)
    tutorial = make_model("tutorial", None, 0, None, train_s, train_t)
    tutorial.load_weights(tutorial_weights)
    order = sorted(range(len(test_s)), key=lambda i: len(test_s[i]))
    ordered = [test_s[i] for i in order]
    refs = [test_refs[i] for i in order]

    def translate_all(translate, chunk):
        out = []
        for start in range(0, len(ordered), chunk):
            out.extend(translate(ordered[start : start + chunk]))
        return out

    runs = {
        "kzoo greedy, batch 128": lambda: translate_all(kzoo_model.translate, 128),
        "kzoo greedy without shortlist, batch 128": lambda: translate_all(full.translate, 128),
        "tutorial greedy, batch 128": lambda: translate_all(tutorial.translate, 128),
        "kzoo greedy, batch 64": lambda: translate_all(kzoo_model.translate, 64),
        "kzoo beam 4, batch 64": lambda: translate_all(lambda t: kzoo_model.translate(t, beam_width=4), 64),
    }
    bleus = {name: round(bleu(fn(), refs), 2) for name, fn in runs.items()}  # also warms up tracing
    times = {name: [] for name in runs}
    for _ in range(args.repeats):  # interleaved: a change in load hits every model alike
        for name, fn in runs.items():
            times[name].append(median_time(fn, 1))
    print(f"Decoding the {len(test_s)} test sentences (median of {args.repeats} interleaved rounds; "
          f"load average {os.getloadavg()[0]:.2f}):")
    print("| decoding | seconds | sentences/s | BLEU |")
    print("|---|---:|---:|---:|")
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name in runs:
        print(f"| {name} | {medians[name]:.2f} | {len(test_s) / medians[name]:.0f} | {bleus[name]:.2f} |")
    print(f"kzoo greedy speed-up over the tutorial's greedy loop at batch 128: "
          f"{medians['tutorial greedy, batch 128'] / medians['kzoo greedy, batch 128']:.2f}x (target >= 2x); "
          f"without the shortlist {medians['tutorial greedy, batch 128'] / medians['kzoo greedy without shortlist, batch 128']:.2f}x")
    same = sum(a == b for a, b in zip(translate_all(kzoo_model.translate, 128), translate_all(full.translate, 128)))
    print(f"greedy translations identical with and without the shortlist: {same} of {len(ordered)}")
    print(f"kzoo beam 4 / greedy time at batch 64: "
          f"{medians['kzoo beam 4, batch 64'] / medians['kzoo greedy, batch 64']:.2f}x (target <= 3x); "
          f"BLEU gain of the beam: {bleus['kzoo beam 4, batch 64'] - bleus['kzoo greedy, batch 64']:+.2f}")


def spread(values):
    mean = statistics.mean(values)
    return f"{mean:.1f} ± {(max(values) - min(values)) / 2:.1f}" if len(values) > 1 else f"{mean:.1f}"


def minutes_to(points, target):
    """Training minutes at which BLEU first reaches `target`, linearly interpolated between
    evaluation points (and from 0 BLEU at 0 minutes); None if never reached."""
    previous = (0.0, 0.0)
    for p in points:
        if p["bleu"] >= target:
            (m0, b0), (m1, b1) = previous, (p["minutes"], p["bleu"])
            return m0 + (target - b0) * (m1 - m0) / (b1 - b0)
        previous = (p["minutes"], p["bleu"])
    return None


def seeds_table(records, target=37.8):
    """Mean ± half-range over seeds of BLEU at each time point, per label, and time to `target`."""
    groups = {}
    for r in records:
        groups.setdefault(r["label"], []).append(r)
    minutes = sorted({p["minutes"] for r in records for p in r["points"]})
    print(f"\nBLEU by minutes of training, mean ± half-range over seeds (n), and minutes to {target} "
          "(interpolated between evaluation points, per seed):")
    print("| run | seeds | " + " | ".join(f"{m:g} min" for m in minutes) + f" | steps at {minutes[-1]:g} min | minutes to {target} |")
    print("|---|---:|" + "---:|" * (len(minutes) + 2))
    for label, runs in groups.items():
        cells = []
        for m in minutes:
            values = [p["bleu"] for r in runs for p in r["points"] if p["minutes"] == m]
            cells.append(f"{spread(values)} ({len(values)})" if values else "")
        steps = [p["steps"] for r in runs for p in r["points"] if p["minutes"] == minutes[-1]]
        reached = [minutes_to(r["points"], target) for r in runs]
        to_target = ", ".join("not reached" if m is None else f"{m:.1f}" for m in reached)
        print(f"| {label} | {len(runs)} | " + " | ".join(cells) + f" | {spread(steps) if steps else ''} | {to_target} |")
    return groups


def bleu_at_steps(points, steps):
    """BLEU after `steps` training steps, linearly interpolated between the two evaluation points
    around it; None outside the run's points. BLEU against steps is concave, so the chord lies
    under the curve: the wider a run's interval between points, the lower its estimate."""
    for before, after in zip(points, points[1:]):
        if before["steps"] <= steps <= after["steps"]:
            (s0, b0), (s1, b1) = (before["steps"], before["bleu"]), (after["steps"], after["bleu"])
            return b0 + (steps - s0) * (b1 - b0) / (s1 - s0)
    return None


def steps_table(groups, marks=(2000, 4000, 5500, 7000, 10000, 12000)):
    """BLEU at equal numbers of training steps per label (interpolated), mean ± half-range over
    the seeds whose points surround it: compares runs taken on machines of different speeds."""
    print("\nBLEU at equal training steps (interpolated; seeds that got that far), and steps per second:")
    print("| run | " + " | ".join(f"{m:,} steps" for m in marks) + " | steps/s |")
    print("|---|" + "---:|" * (len(marks) + 1))
    for label, runs in groups.items():
        cells = []
        for m in marks:
            values = [v for v in (bleu_at_steps(r["points"], m) for r in runs) if v is not None]
            cells.append(f"{spread(values)} ({len(values)})" if values else "")
        rates = [r["points"][-1]["steps"] / r["points"][-1]["train_seconds"] for r in runs]
        print(f"| {label} | " + " | ".join(cells) + f" | {', '.join(f'{x:.1f}' for x in rates)} |")


def plot_seeds(groups, out, target=37.8):
    """BLEU against minutes of training and against steps: the mean over seeds, the range shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (by_minutes, by_steps) = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for label, runs in groups.items():
        minutes = sorted({p["minutes"] for r in runs for p in r["points"]})
        values = [[p["bleu"] for r in runs for p in r["points"] if p["minutes"] == m] for m in minutes]
        line, = by_minutes.plot([0] + minutes, [0] + [statistics.mean(v) for v in values], marker="o",
                                label=f"{label} ({len(runs)} seeds)")
        by_minutes.fill_between(minutes, [min(v) for v in values], [max(v) for v in values], alpha=0.2)
        for r in runs:
            by_steps.plot([0] + [p["steps"] for p in r["points"]], [0] + [p["bleu"] for p in r["points"]],
                          marker=".", color=line.get_color(), alpha=0.7)
    for axes in (by_minutes, by_steps):
        axes.axhline(target, color="gray", linestyle="--", label=f"{target}: tutorial architecture after 30 min")
    by_minutes.set_xlabel("minutes of training (wall clock, 2 cores)")
    by_steps.set_xlabel("training steps (batches of 64; one line per seed)")
    by_minutes.set_ylabel("test BLEU (sacreBLEU, greedy)")
    by_minutes.set_title("Spanish -> English, against wall-clock minutes")
    by_steps.set_title("against steps (machines differ in speed from day to day)")
    by_minutes.legend(fontsize=8)
    figure.savefig(out, dpi=120, bbox_inches="tight")
    print("saved", out)


def report(args):
    records = []
    for name in sorted(os.listdir(args.out)):
        if any(fnmatch.fnmatch(name, pattern) for pattern in args.runs):
            with open(os.path.join(args.out, name)) as f:
                records.append(json.load(f))
    if not records:
        sys.exit(f"no results matching {' '.join(args.runs)} in {args.out}")
    seeded = [r for r in records if "label" in r]
    if seeded:
        groups = seeds_table(seeded)
        steps_table(groups)
        return plot_seeds(groups, os.path.join(args.out, args.plot))
    for r in records:  # runs on the CPU-time clock are labelled: their minutes are not wall minutes
        if r.get("clock") == "cpu":
            r["attention"] += " (CPU clock)"
    minutes = sorted({p["minutes"] for r in records for p in r["points"]})
    print("BLEU on the test split (sacreBLEU 13a, lower-cased, all references) by minutes of training:")
    print("| attention | " + " | ".join(f"{m:g} min" for m in minutes) + " |")
    print("|---|" + "---:|" * len(minutes))
    for r in records:
        by_minute = {p["minutes"]: p for p in r["points"]}
        cells = [f"{by_minute[m]['bleu']:.2f}" if m in by_minute else "" for m in minutes]
        print(f"| {r['attention']} | " + " | ".join(cells) + " |")
    common = min(max(p["minutes"] for p in r["points"]) for r in records)
    names = bucket_names()
    _, _, _, _, test_s, _ = load_splits(records[0]["seed"])
    counts = {b: sum(bucket_of(s) == b for s in test_s) for b in names}
    print(f"\nBLEU per source-length bucket (words) at {common:g} minutes of training (equal budget within a clock):")
    print("| attention | all | " + " | ".join(f"{b} ({counts[b]})" for b in names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    rows = {}
    for r in records:
        point = next(p for p in r["points"] if p["minutes"] == common)
        rows[r["attention"]] = point
        print(f"| {r['attention']} | {point['bleu']:.2f} | " + " | ".join(f"{point['bleu_' + b]:.2f}" for b in names) + " |")
    for r in records:
        last = r["points"][-1]
        if last["minutes"] > common:
            print(f"| {r['attention']} at {last['minutes']:g} min | {last['bleu']:.2f} | "
                  + " | ".join(f"{last['bleu_' + b]:.2f}" for b in names) + " |")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for name, point in rows.items():
        left.plot(names, [point["bleu_" + b] for b in names], marker="o", label=name)
    left.set_xlabel("source length (words)")
    left.set_ylabel("BLEU")
    left.set_title(f"Spanish -> English, {common:g} min training")
    left.legend()
    for r in records:
        # Steps, not minutes: a CPU-clock minute of a single-threaded run buys more steps than a
        # wall-clock minute of a multithreaded one.
        steps, scores = [p["steps"] for p in r["points"]], [p["bleu"] for p in r["points"]]
        right.plot(steps, scores, marker="o", label=r["attention"])
    right.axhline(37.8, color="gray", linestyle="--", label="TF tutorial, 30 min (issue)")
    right.axhline(42, color="black", linestyle=":", label="target")
    right.set_xlabel("training steps (batches of 64 pairs; a point every 5 min)")
    right.set_ylabel("test BLEU")
    right.legend()
    out = os.path.join(args.out, args.plot)
    figure.savefig(out, dpi=120, bbox_inches="tight")
    print("saved", out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-minutes", type=float, default=30.0, help="training time per configuration")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="budget in wall-clock time, or in this process's CPU time / CPUs (for shared machines)")
    parser.add_argument("--eval-every-minutes", type=float, default=5.0, help="test BLEU every N minutes of training")
    parser.add_argument("--attention", nargs="+", default=["global"], help="none, global, local-p, ...")
    parser.add_argument("--model", choices=("kzoo", "tutorial"), default="kzoo",
                        help="kzoo's Translator with its defaults, or the TensorFlow tutorial's architecture")
    parser.add_argument("--path", choices=("plain", "pairs"), default="plain",
                        help="plain: Dataset.from_tensor_slices(...).shuffle().batch(64).repeat(), what a Keras "
                             "user writes; pairs: kzoo.data.make_pairs_dataset (bucketed by length)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="one run per seed (same data split)")
    parser.add_argument("--save-models", default=None, help="folder where each run saves its trained weights")
    parser.add_argument("--decode-speed", nargs=2, metavar=("KZOO_WEIGHTS", "TUTORIAL_WEIGHTS"),
                        help="time greedy decoding of two trained models (from --save-models) and kzoo's beam")
    parser.add_argument("--repeats", type=int, default=5, help="rounds of --decode-speed")
    parser.add_argument("--dropout", type=float, default=None,
                        help="kzoo: Translator(dropout=...), a lever; named in the label (default: the library's)")
    parser.add_argument("--label-smoothing", type=float, default=0.0, help="kzoo: compile(label_smoothing=...), a lever")
    parser.add_argument("--shortlist", type=int, nargs=2, default=None, metavar=("FREQUENT", "PER_SOURCE"),
                        help="--decode-speed: the kzoo model's decoding shortlist (default: the library's)")
    parser.add_argument("--num-sampled", type=int, default=None,
                        help="train with a sampled softmax of this many rows (compile(num_sampled=...))")
    parser.add_argument("--min-count", type=int, default=None,
                        help="vocabulary: words seen fewer times are [UNK] (default: the library's)")
    parser.add_argument("--test-size", type=int, default=None, help="score only the first N test sentences")
    parser.add_argument("--target-embeddings", default=None,
                        help="start kzoo's English embedding from pretrained vectors (e.g. glove-6b-50d); "
                             "embedding_dim becomes their size")
    parser.add_argument("--embedding-dim", type=int, default=None,
                        help="kzoo: both embeddings' width (default: the Translator's); with --target-embeddings "
                             "it must equal the vectors' size. A 50-wide run without vectors separates GloVe's "
                             "vectors from its narrower width")
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    parser.add_argument("--report", action="store_true", help="tables and plot from the saved results")
    parser.add_argument("--runs", nargs="+", default=["translator_quality_*.json"],
                        help="result files (shell patterns, in --out) that --report compares")
    parser.add_argument("--plot", default=None, help="file name of --report's plot (default: "
                        "translator_bleu_minutes.png for seeded runs, translator_bleu_by_length.png otherwise)")
    args = parser.parse_args()
    if not os.path.isfile(SHARED):
        sys.exit(f"needs the shared Spanish-English pairs at {SHARED}")
    if args.plot is None:
        args.plot = "translator_bleu_minutes.png" if "seed" in "".join(args.runs) or not args.report else "translator_bleu_by_length.png"
    if args.report:
        return report(args)
    if args.decode_speed:
        return decoding_speed(args)
    for seed in args.seeds:
        for name in args.attention if args.model == "kzoo" else [None]:
            run(args.model, name, seed, args)
    args.runs = [os.path.basename(result_path(args, "*", "*"))]
    report(args)


if __name__ == "__main__":
    main()
