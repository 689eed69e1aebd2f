"""Every application, tiny, trained a few SGD steps under a `tf.distribute` strategy: the worker
behind kzoo's proof that distributed training takes the single-device steps.

`tiny_applications()` maps each application class to a function building it small (no dropout, no data
augmentation: nothing random in a step) with a fixed-order dataset of raw global batches;
`tests/training/test_distribute.py` fails when a public application has no entry, so a new
application is covered the day it lands. `run(strategy)` evaluates each application before
training (the same weights everywhere: the metrics must agree exactly), trains it `STEPS` SGD
steps and returns the weights and metrics.

Run as a program, one per process (`TF_CONFIG` set for "multi-worker"):

    python -m kzoo.testing.distributed --strategies default,mirrored --out FOLDER
"""

import argparse
import json
import os
import sys

import numpy as np

__all__ = ["GLOBAL_BATCH", "STEPS", "load", "main", "run", "tiny_applications"]

GLOBAL_BATCH = 8  # two replicas take 4 examples each
STEPS = 3
LEARNING_RATE = 0.5


def _batches(inputs, targets):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(GLOBAL_BATCH)


def _translator():
    from kzoo import metrics
    from kzoo.applications import Translator
    from kzoo.data import load_embedded

    sources, targets = load_embedded("train", size=400)
    sources, targets = sources[: GLOBAL_BATCH * STEPS], targets[: GLOBAL_BATCH * STEPS]
    model = Translator(units=8, embedding_dim=8, dropout=0.0, seed=0)
    model.adapt(sources, targets)
    extra = [metrics.BLEU(name="bleu")]  # on the teacher-forced argmax tokens
    return model, _batches(sources, targets), extra


def _captioner():
    from kzoo.applications import Captioner
    from kzoo.data import load_scenes

    scenes = load_scenes("train", num_images=GLOBAL_BATCH * STEPS, image_size=32)
    model = Captioner(image_size=(32, 32), units=8, embedding_dim=8, filters=4, blocks=2, seed=0)
    captions = [c[0] for c in scenes["captions"]]
    model.adapt(captions)
    return model, _batches(scenes["images"], captions), []


def _speech():
    from kzoo.applications import SpeechToText
    from kzoo.audio.batches import pad_waveforms

    rng = np.random.default_rng(0)
    texts = ["ab", "b a", "a", "ba b", "b", "a b", "aa", "bb a"] * STEPS
    audio = [(0.3 * rng.standard_normal(int(800 * (1 + len(t))))).astype("float32") for t in texts]
    model = SpeechToText(
        sample_rate=8000, num_mel_bins=8, filters=4, encoder_units=8, encoder_layers=1, units=8,
        embedding_dim=8, spec_augment=False, seed=0,
    )
    model.adapt(texts)
    waveforms, lengths = pad_waveforms(audio)
    return model, _batches((waveforms, lengths.astype("int32")), texts), []


def _documents():
    from kzoo import metrics
    from kzoo.applications import DocumentClassifier

    rng = np.random.default_rng(0)
    words = ["good", "bad", "food", "room", "was", "the", "quiet", "loud"]
    texts = [
        "\n".join(" ".join(rng.choice(words, int(rng.integers(2, 6)))) for _ in range(int(rng.integers(1, 4))))
        for _ in range(GLOBAL_BATCH * STEPS)
    ]
    labels = [int("good" in t) for t in texts]
    model = DocumentClassifier(embedding_dim=8, units=4, max_sentences=4, max_words=6, dropout=0.0, seed=0)
    model.adapt(texts, min_count=1)
    task = {"task": "multiclass", "num_classes": 2}
    extra = [  # the defaults (`compile()` without metrics), plus the binned AUC
        metrics.Accuracy(average="micro", name="accuracy", **task),
        metrics.Precision(average="macro", name="precision", **task),
        metrics.Recall(average="macro", name="recall", **task),
        metrics.F1Score(average="macro", name="f1", **task),
        metrics.AUC(average="macro", name="auc", **task),
        metrics.AUC(average="macro", num_bins=1024, name="binned_auc", **task),
    ]
    return model, _batches(texts, labels), extra


def tiny_applications():
    """`{application class: builder}`; a builder returns `(model, dataset, extra_metrics)`."""
    from kzoo.applications import Captioner, DocumentClassifier, SpeechToText, Translator

    return {Translator: _translator, Captioner: _captioner, SpeechToText: _speech, DocumentClassifier: _documents}


def run(strategy, names=None):
    """Per application (class name): `weights` after `STEPS` SGD steps under `strategy`, and
    the `evaluate()` metrics of the untrained model (`metrics`, a dict) and after training."""
    import keras

    results = {}
    for cls, build in tiny_applications().items():
        if names and cls.__name__ not in names:
            continue
        keras.utils.set_random_seed(0)
        with strategy.scope():
            model, dataset, extra = build()
            metrics = (model.default_metrics() if hasattr(model, "default_metrics") else []) + extra
            model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE), metrics=metrics or None)
        before = model.evaluate(dataset, verbose=0, return_dict=True)
        model.fit(dataset, epochs=1, verbose=0)
        results[cls.__name__] = {
            "weights": [np.asarray(w) for w in model.get_weights()],
            "metrics": {k: float(v) for k, v in before.items()},
        }
    return results


def main(argv=None):
    """Runs `run` under each of `--strategies` and, in the chief, writes `OUT/STRATEGY.npz`
    (read it back with `load`); the program behind `python -m kzoo.testing.distributed`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strategies", required=True,
                        help="comma-separated: default, mirrored (2 logical CPUs), multi-worker (TF_CONFIG)")
    parser.add_argument("--out", required=True, help="folder where the chief writes STRATEGY.npz")
    parser.add_argument("--apps", default="", help="comma-separated class names (default: all)")
    args = parser.parse_args(argv)
    strategies = args.strategies.split(",")
    import tensorflow as tf

    from kzoo.training import is_chief, local_cpu_replicas, make_strategy

    if "mirrored" in strategies:
        local_cpu_replicas(2)
    made = {name: make_strategy(name) for name in strategies}  # first: multi-worker starts a server
    tf.get_logger().setLevel("ERROR")
    for name, strategy in made.items():
        results = run(strategy, [n for n in args.apps.split(",") if n])
        if is_chief():
            arrays = {f"{app}/{i}": w for app, r in results.items() for i, w in enumerate(r["weights"])}
            arrays["metrics"] = np.array(json.dumps({app: r["metrics"] for app, r in results.items()}))
            np.savez(os.path.join(args.out, f"{name}.npz"), **arrays)
    return 0


def load(path):
    """`{application: {"weights": [...], "metrics": {...}}}` from a file `main` wrote."""
    with np.load(path) as data:
        metrics = json.loads(str(data["metrics"]))
        return {
            app: {"weights": [data[f"{app}/{i}"] for i in range(sum(k.startswith(app + "/") for k in data.files))],
                  "metrics": values}
            for app, values in metrics.items()
        }


if __name__ == "__main__":
    sys.exit(main())
