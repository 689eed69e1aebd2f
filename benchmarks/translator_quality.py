"""Spanish -> English BLEU of the Translator for a fixed training budget, per attention kind.

Protocol (the issue's): train on ../shared/data/translation/spa-eng/train.tsv with a held-out
split that groups identical Spanish sentences (`kzoo.data.split_by_source`), for a fixed
wall-clock budget (30 minutes per configuration on 2 cores in the full protocol), default
hyperparameters, greedy decoding; score with sacreBLEU 13a, lower-cased, every English
reference of a Spanish source. Compares attention=None, "global" and "local-p" on the same
budget, and BLEU per source-length bucket (the Bahdanau et al. 2015 figure), saved as a plot.
The TensorFlow tutorial's architecture scores 37.8 under this protocol on a withheld test set;
the target is >= 42.

    python benchmarks/translator_quality.py --budget-minutes 30
"""

import argparse
import json
import os
import sys
import time

import keras

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kzoo.applications import Translator  # noqa: E402
from kzoo.data import load_anki, make_pairs_dataset, split_by_source  # noqa: E402
from kzoo.metrics import BLEU  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "data", "translation", "spa-eng", "train.tsv")
BUCKETS = ((1, 5), (6, 8), (9, 12), (13, 200))  # source words


class Budget(keras.callbacks.Callback):
    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    def on_train_begin(self, logs=None):
        self.start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if time.time() - self.start > self.seconds:
            self.model.stop_training = True


def bleu(hypotheses, references):
    metric = BLEU(lowercase=True)
    metric.update_state(references, hypotheses)
    return float(metric.result())


def run(attention, data, seconds, seed):
    train_s, train_t, test_s, test_refs = data
    keras.utils.set_random_seed(seed)
    translator = Translator(attention=attention, seed=seed)
    translator.adapt(train_s, train_t, min_count=2)
    translator.compile()
    start = time.time()
    translator.fit(make_pairs_dataset(train_s, train_t, seed=seed), epochs=1000, callbacks=[Budget(seconds)], verbose=0)
    trained = time.time() - start
    hypotheses = translator.translate(test_s)
    result = {"attention": str(attention), "train_seconds": round(trained), "bleu": round(bleu(hypotheses, test_refs), 2)}
    for low, high in BUCKETS:
        keep = [i for i, s in enumerate(test_s) if low <= len(s.split()) <= high]
        result[f"bleu_{low}-{high}"] = round(bleu([hypotheses[i] for i in keep], [test_refs[i] for i in keep]), 2)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-minutes", type=float, default=30.0, help="training time per configuration")
    parser.add_argument("--attention", nargs="+", default=["none", "global", "local-p"])
    parser.add_argument("--test-size", type=int, default=None, help="score only the first N held-out sentences")
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not os.path.isfile(SHARED):
        sys.exit(f"needs the shared Spanish-English pairs at {SHARED}")
    sources, targets = load_anki("spa", path=SHARED)
    train_s, train_t, test_s, test_refs = split_by_source(sources, targets, test_fraction=0.03, seed=args.seed)
    if args.test_size:
        test_s, test_refs = test_s[: args.test_size], test_refs[: args.test_size]
    print(f"{len(train_s)} training pairs, {len(test_s)} held-out Spanish sentences, "
          f"{args.budget_minutes} min per configuration")
    results = []
    for name in args.attention:
        result = run(None if name == "none" else name, (train_s, train_t, test_s, test_refs), args.budget_minutes * 60, args.seed)
        print(json.dumps(result), flush=True)
        results.append(result)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "translator_quality.json"), "w") as f:
        json.dump(results, f, indent=1)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(6, 4))
    labels = [f"{low}-{high if high < 200 else '+'}" for low, high in BUCKETS]
    for result in results:
        ax.plot(labels, [result[f"bleu_{low}-{high}"] for low, high in BUCKETS], marker="o", label=result["attention"])
    ax.set_xlabel("source length (words)")
    ax.set_ylabel("BLEU")
    ax.set_title(f"Spanish -> English, {args.budget_minutes:g} min training")
    ax.legend()
    figure.savefig(os.path.join(args.out, "translator_bleu_by_length.png"), dpi=120, bbox_inches="tight")
    print("saved", os.path.join(args.out, "translator_bleu_by_length.png"))


if __name__ == "__main__":
    main()
