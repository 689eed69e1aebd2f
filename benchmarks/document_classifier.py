"""DocumentClassifier architectures side by side on the movie reviews (Pang & Lee 2004).

Cross-validation over the folds of the shared copy (`cv0xx`-`cv8xx`, 200 reviews each): for each
test fold, every architecture trains on the other folds (a tenth of them held out for early
stopping on validation loss, best weights restored) within `--minutes-per-model` minutes, and is
scored on the test fold with kzoo's metrics (`kzoo.applications.ClassificationReport`). A TF-IDF
+ logistic-regression baseline (scikit-learn, word 1-2-grams) runs on the same folds for context.

Anchor: Pang & Lee (2004) report 87.2% accuracy on this corpus (naive Bayes with subjectivity
extraction, 10-fold cross-validation). The printed ratio is accuracy / 0.872.

Usage:
    python benchmarks/document_classifier.py                      # full protocol: 9 folds, 10 min per model
    python benchmarks/document_classifier.py --folds 8 --minutes-per-model 3 --architectures han,bigru_last
    python benchmarks/document_classifier.py --folds 8 --architectures han --validation-only   # tuning
    python benchmarks/document_classifier.py --merge results/a.json results/b.json             # one table

Recipe (the default `--embeddings skipgram`; `--embeddings glove-6b-50d` or a vectors file starts
from pretrained vectors instead, `--coverage-only` reports how much of each fold's vocabulary they
cover), the same for every architecture: vocabulary of words
seen at least 3 times in the training split, 50-d embeddings started from skip-gram vectors
trained on that split (`adapt(..., embeddings="skipgram")`: word2vec, window 5, 5 negatives,
5 epochs; included in the training time), the last 40 sentences of a review kept
(`truncate="tail"`) and 50 words per sentence, dropout 0.5, Adam 1e-3, batch 32, early stopping
on validation loss (patience 2, best weights restored). `--epochs 5` is the budget used for the
numbers in the README (about 5 minutes for the HAN on an idle 2-core machine); the wall-clock
limit (`--minutes-per-model`) is a safety cap, flagged in the output when it cuts training.

Tuning (`--validation-only`: the HAN on the validation tenth of folds cv0-cv7, 168 reviews,
fold cv8 never scored; best epoch by validation loss; 168 reviews give about ±2.5 points):

| HAN variant | val loss | val accuracy |
|---|---:|---:|
| head truncation, random embeddings (previous recipe; run stopped after 3 epochs) | 0.313 | 0.869 |
| + naive-Bayes label features (`label_features=True`) | 0.482 | 0.816 |
| tail truncation, random embeddings | 0.358 | 0.845 |
| tail truncation, skip-gram embeddings (chosen) | 0.315 | 0.893 |

The label features overfit: the ratios are counted from the training labels, so on the training
documents they partly encode the answer (training loss 0.10 after 2 epochs, validation loss
worse). The other differences are within the noise of 168 reviews.
"""

import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clocks import get_clock  # noqa: E402

DEFAULT_DATA = os.path.join(ROOT, "..", "shared", "data", "docclass", "movie_reviews")
LABELLED_SENTENCES = os.path.join(ROOT, "..", "shared", "data", "docclass", "sentiment_labelled_sentences")
ANCHOR = 0.872  # Pang & Lee (2004), Table 2: NB on subjective extracts, 10-fold CV


def parse_args(argv=None):
    from kzoo.applications import ARCHITECTURES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="folder with pos/ and neg/ reviews")
    parser.add_argument("--folds", default="all", help="test folds, e.g. '8' or '0,4,8'; 'all' = every fold present")
    parser.add_argument("--architectures", default=",".join(ARCHITECTURES), help="comma-separated architectures")
    parser.add_argument("--minutes-per-model", type=float, default=10.0, help="training time limit per model and fold")
    parser.add_argument("--clock", default="wall", choices=["wall", "cpu"],
                        help="budget clock: wall seconds, or this process's CPU seconds / CPUs (shared machines)")
    parser.add_argument("--epochs", type=int, default=5, help="most epochs (the budget; early stopping may end sooner)")
    parser.add_argument("--embedding-dim", type=int, default=50)
    parser.add_argument("--units", type=int, default=50, help="GRU units per direction")
    parser.add_argument("--filters", type=int, default=100, help="CNN filters per width")
    parser.add_argument("--max-sentences", type=int, default=40, help="covers 75%% of the reviews whole")
    parser.add_argument("--max-words", type=int, default=50, help="covers 95%% of the sentences whole")
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--min-count", type=int, default=3)
    parser.add_argument("--truncate", default="tail", choices=["head", "tail"], help="keep the first or last sentences")
    parser.add_argument("--word-dropout", type=float, default=0.0, help="probability of dropping a whole word")
    parser.add_argument("--label-features", action="store_true", help="naive-Bayes log-count ratios beside the embedding")
    parser.add_argument("--embeddings", default="skipgram",
                        help="embedding start: random, skipgram, or pretrained vectors (a name such as glove-6b-50d, or a file)")
    parser.add_argument("--embedding-trainable", default="true",
                        help="pretrained embeddings: true (fine-tune), false (frozen) or N (frozen for N epochs)")
    parser.add_argument("--patience", type=int, default=2, help="early-stopping patience (epochs)")
    parser.add_argument("--ema", type=float, default=0.0, metavar="MOMENTUM",
                        help="compile(ema_momentum=...): keep an exponential moving average of the weights with "
                             "this momentum (e.g. 0.98, about one epoch of 50 steps) and validate, stop and score with it")
    parser.add_argument("--adversarial", type=float, default=0.0, metavar="EPSILON",
                        help="DocumentClassifier(adversarial_epsilon=...): adversarial training on the word vectors "
                             "(Miyato et al. 2017), moves of this L2 norm per document in embedding standard deviations")
    parser.add_argument("--pretrain-sentences", type=int, default=0, metavar="EPOCHS",
                        help="first train on labelled single sentences (one-sentence documents) for EPOCHS epochs")
    parser.add_argument("--pretrain-source", default="labelled", choices=["labelled", "reviews"],
                        help="labelled: Kotzias et al. 2015's sentences; reviews: the training reviews' sentences with their review's label")
    parser.add_argument("--coverage-only", action="store_true",
                        help="with pretrained --embeddings: report the share of each fold's training vocabulary (types "
                             "and tokens) that the vectors cover, and train nothing")
    parser.add_argument("--validation-only", action="store_true",
                        help="tuning: report the best validation accuracy, never score the test fold")
    parser.add_argument("--no-baseline", action="store_true", help="skip the TF-IDF logistic regression")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ensemble", type=int, default=1,
                        help="models per architecture and fold (seeds seed, seed+1, ...) sharing one time budget; "
                             "their probabilities are averaged")
    parser.add_argument("--json", default=None, help="also write the per-fold results here")
    parser.add_argument("--merge", nargs="+", default=None, metavar="JSON",
                        help="print the table of earlier --json files together (runs nothing)")
    return parser.parse_args(argv)


class TimeLimit:
    """Stops training after `seconds` of `clock` (checked after every batch)."""

    def __init__(self, seconds, clock=time.time):
        import keras

        class _Callback(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.start = clock()
                self.hit = False

            def on_train_batch_end(self, batch, logs=None):
                if clock() - self.start > seconds:
                    self.model.stop_training = True
                    self.hit = True

        self.callback = _Callback()


def validation_split(texts, labels, seed, fraction=0.1):
    fit, validation = ([], []), ([], [])
    for text, label in zip(texts, labels):
        digest = hashlib.sha256(f"{seed}:{text}".encode("utf-8")).digest()
        side = validation if int.from_bytes(digest[:4], "big") / 2**32 < fraction else fit
        side[0].append(text)
        side[1].append(label)
    return fit, validation


def pretraining_sentences(source, fit):
    """Labelled single sentences for `--pretrain-sentences`: "labelled" = the 3,000 sentences of
    Kotzias et al. (2015) (IMDb, Amazon and Yelp reviews; not from this corpus), "reviews" = every
    sentence (line) of the training reviews, labelled with its review's label."""
    if source == "labelled":
        from kzoo.data import load_labelled_sentences

        return load_labelled_sentences(LABELLED_SENTENCES)
    pairs = [(line, label) for text, label in zip(*fit) for line in text.split("\n") if line.strip()]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def train_member(architecture, fit, validation, args, seed, clock, seconds):
    """One DocumentClassifier trained on `fit` within `seconds` of `clock` (adapt included);
    returns `(model, history, time_limited, adapt_seconds)`."""
    import keras

    from kzoo.applications import DocumentClassifier

    keras.utils.set_random_seed(seed)
    model = DocumentClassifier(
        num_classes=2,
        architecture=architecture,
        max_sentences=args.max_sentences,
        max_words=args.max_words,
        embedding_dim=args.embedding_dim,
        units=args.units,
        filters=args.filters,
        dropout=args.dropout,
        truncate=args.truncate,
        word_dropout=args.word_dropout,
        adversarial_epsilon=args.adversarial,
        label_features=args.label_features,
        class_names=["neg", "pos"],
        seed=seed,
    )
    start = clock()
    trainable = {"true": True, "false": False}.get(args.embedding_trainable.lower())
    model.adapt(fit[0], fit[1], min_count=args.min_count,
                embeddings=None if args.embeddings == "random" else args.embeddings,
                embedding_trainable=int(args.embedding_trainable) if trainable is None else trainable)
    model.compile(learning_rate=args.learning_rate, ema_momentum=args.ema or None)
    adapt_seconds = clock() - start
    progress = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: print(
        f"  {architecture} (seed {seed}) epoch {epoch + 1}: loss {logs['loss']:.4f} "
        f"val_loss {logs.get('val_loss', float('nan')):.4f} val_accuracy {logs.get('val_accuracy', float('nan')):.4f} "
        f"({clock() - start:.0f} s {args.clock})", flush=True))
    if args.pretrain_sentences:  # single sentences read as one-sentence documents, inside the budget
        sentences, sentence_labels = pretraining_sentences(args.pretrain_source, fit)
        print(f"  pretraining on {len(sentences)} {args.pretrain_source} sentences", flush=True)
        model.fit(sentences, sentence_labels, batch_size=args.batch_size, epochs=args.pretrain_sentences,
                  validation_data=validation, callbacks=[TimeLimit(seconds - adapt_seconds, clock).callback, progress],
                  verbose=0)
    limit = TimeLimit(seconds - (clock() - start), clock)
    # With --ema, fit validates the averaged weights and hands them to early stopping at each
    # epoch's end, so it picks (and restores) the best average.
    stop = keras.callbacks.EarlyStopping("val_loss", patience=args.patience, restore_best_weights=True)
    history = model.fit(
        fit[0], fit[1], batch_size=args.batch_size, epochs=args.epochs, validation_data=validation,
        callbacks=[stop, limit.callback, progress], verbose=0,
    )
    if limit.callback.hit and stop.best_weights is not None:
        model.set_weights(stop.best_weights)  # stopped by the clock: keep the best epoch seen
    return model, history.history, limit.callback.hit, adapt_seconds


def vocabulary_coverage(model, texts, vectors):
    """How much of `model`'s adapted vocabulary (and of its tokens in `texts`, as the model reads
    them: truncated to its sentences and words) `vectors` cover: `kzoo.text.WordVectors.coverage`."""
    ids = model.document_tokenizer.ids_of(texts)
    counts = np.bincount(ids.ravel(), minlength=model.document_tokenizer.vocabulary_size)
    coverage = vectors.coverage(model.document_tokenizer.vocabulary, counts)
    return {"types": coverage.types, "tokens": coverage.tokens, "words": coverage.total}


def pretrained(args):
    """The `kzoo.text.WordVectors` of a pretrained `--embeddings` source, else None."""
    if args.embeddings in ("random", "skipgram"):
        return None
    from kzoo.text import load_word_vectors

    return load_word_vectors(args.embeddings)


def coverage_only(args, texts, labels, folds, test_folds):
    """`--coverage-only`: the vectors' coverage of each fold's training vocabulary (the words seen
    `--min-count` times in the part `adapt` sees), without training."""
    from kzoo.applications import DocumentClassifier

    vectors = pretrained(args)
    if vectors is None:
        raise SystemExit(f"--coverage-only needs pretrained --embeddings (a name or a file). Received: --embeddings {args.embeddings}")
    rows = {}
    for fold in test_folds:
        train = ([t for t, f in zip(texts, folds) if f != fold], [l for l, f in zip(labels, folds) if f != fold])
        fit, _ = validation_split(*train, args.seed)
        model = DocumentClassifier(num_classes=2, max_sentences=args.max_sentences, max_words=args.max_words,
                                   truncate=args.truncate, embedding_dim=vectors.dim)
        model.adapt(fit[0], fit[1], min_count=args.min_count)
        rows[fold] = vocabulary_coverage(model, fit[0], vectors)
        print(f"fold {fold}: {100 * rows[fold]['types']:.1f}% of {rows[fold]['words']:,} word types, "
              f"{100 * rows[fold]['tokens']:.1f}% of tokens", flush=True)
    mean = {k: float(np.mean([r[k] for r in rows.values()])) for k in ("types", "tokens", "words")}
    print(f"mean over {len(rows)} folds: {100 * mean['types']:.1f}% of {mean['words']:,.0f} word types, "
          f"{100 * mean['tokens']:.1f}% of tokens")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"args": vars(args), "coverage": rows}, f, indent=1)
    return rows


def run_model(architecture, train, test, args):
    """Trains `args.ensemble` members (seeds `seed`, `seed + 1`, ...) within one budget of
    `--minutes-per-model`, averages their probabilities, and scores them on `test`."""
    from kzoo.applications.classification_report import ClassificationReport

    clock = get_clock(args.clock)
    start, wall_start = clock(), time.time()  # the budget includes adapt(): vocabulary, ratios, skip-gram
    fit, validation = validation_split(*train, args.seed)
    budget = args.minutes_per_model * 60
    members, histories, limited, adapt_seconds = [], [], False, 0.0
    for i in range(args.ensemble):
        left = budget - (clock() - start)
        if i and left < 0.5 * budget / args.ensemble:
            print(f"  {architecture}: {left:.0f} s left, ensemble stops at {i} members", flush=True)
            break
        model, history, hit, adapt = train_member(architecture, fit, validation, args, args.seed + i, clock, left)
        members.append(model)
        histories.append(history)
        limited, adapt_seconds = limited or hit, adapt_seconds + adapt
    seconds, wall_seconds = clock() - start, time.time() - wall_start

    def probabilities(texts):
        return np.mean([m.predict(texts) for m in members], axis=0)

    if len(members) == 1:
        best = int(np.argmin(histories[0]["val_loss"]))
        validation_scores = {"val_accuracy": histories[0]["val_accuracy"][best], "val_loss": histories[0]["val_loss"][best]}
    else:
        p = np.clip(probabilities(validation[0]), 1e-7, 1.0)
        y = np.asarray(validation[1])
        validation_scores = {"val_accuracy": float(np.mean(p.argmax(-1) == y)),
                             "val_loss": float(-np.mean(np.log(p[np.arange(len(y)), y])))}
    if args.validation_only:
        scores = {"accuracy": float("nan"), "f1_macro": float("nan"), "roc_auc": float("nan")}
    else:
        member_probabilities = [m.predict(test[0]) for m in members]
        report = ClassificationReport(np.asarray(test[1]), np.mean(member_probabilities, axis=0), ["neg", "pos"])
        scores = {k: report.metrics[k] for k in ("accuracy", "f1_macro", "roc_auc")}
        if len(members) > 1:  # each member alone, to see what averaging adds
            scores["member_accuracy"] = [float(np.mean(p.argmax(-1) == np.asarray(test[1]))) for p in member_probabilities]
    vectors = pretrained(args)  # after the budget: not charged to training
    if vectors is not None:
        scores["coverage"] = vocabulary_coverage(members[0], fit[0], vectors)
    return {
        **scores,
        **validation_scores,
        "adapt_seconds": adapt_seconds,
        "epochs": sum(len(h["loss"]) for h in histories),
        "members": len(members),
        "train_seconds": seconds,
        "clock": args.clock,
        "wall_seconds": wall_seconds,
        "time_limited": limited,
        "parameters": sum(m.count_params() for m in members),
    }


def run_baseline(train, test):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from kzoo.applications import ClassificationReport

    start = time.time()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    classifier = LogisticRegression(C=10.0, max_iter=2000).fit(vectorizer.fit_transform(train[0]), train[1])
    report = ClassificationReport(test[1], classifier.predict_proba(vectorizer.transform(test[0])))
    return {**{k: report.metrics[k] for k in ("accuracy", "f1_macro", "roc_auc")}, "epochs": 0,
            "train_seconds": time.time() - start, "time_limited": False, "parameters": len(vectorizer.vocabulary_) + 1}


def print_table(results):
    print("\n| model | folds | accuracy | macro F1 | ROC-AUC | accuracy / Pang & Lee 87.2% | epochs | train s / fold |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, runs in results.items():
        mean = {k: float(np.mean([r[k] for r in runs])) for k in ("accuracy", "f1_macro", "roc_auc", "epochs", "train_seconds")}
        spread = f" ± {np.std([r['accuracy'] for r in runs]):.3f}" if len(runs) > 1 else ""
        folds = ",".join(str(r["fold"]) for r in runs)
        print(f"| {name} | {folds} | {mean['accuracy']:.4f}{spread} | {mean['f1_macro']:.4f} | {mean['roc_auc']:.4f} | "
              f"{mean['accuracy'] / ANCHOR:.3f} | {mean['epochs']:.1f} | {mean['train_seconds']:.0f} |")


# Arguments that do not change what is trained or scored (where, which folds, the clock and the
# safety cap of the budget); every other argument that differs from its default names a row.
_NOT_RECIPE = {"data", "folds", "architectures", "minutes_per_model", "clock", "validation_only", "no_baseline",
               "json", "merge", "coverage_only", "note"}


def recipe_name(name, settings):
    """`name` followed by the options of `settings` (a run's saved `args`) that differ from their
    defaults, as command-line flags: the row of a merged table, e.g. "han --epochs 8 --ema 0.98".
    The baseline's name stays bare (it takes none of them)."""
    if name == "tfidf_logreg":
        return name
    defaults = vars(parse_args([]))
    flags = []
    for key, default in defaults.items():
        value = settings.get(key, default)
        if key in _NOT_RECIPE or value == default or (key == "pretrain_source" and not settings.get("pretrain_sentences")):
            continue
        flags.append(f"--{key.replace('_', '-')}" + ("" if value is True else f" {value:g}" if isinstance(value, float) else f" {value}"))
    return " ".join([name, *flags])


def merge(paths):
    """Per-fold results of several runs, one row per model and recipe (`recipe_name`): runs of the
    same recipe on different folds join one row; a fold seen twice keeps the later run."""
    results = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            saved = json.load(f)
        settings = saved.get("args", {})
        for name, runs in saved["results"].items():
            name = recipe_name(name, settings)
            kept = {r["fold"]: r for r in results.get(name, [])}
            kept.update({r["fold"]: r for r in runs})
            results[name] = [kept[k] for k in sorted(kept)]
    return results


def main(argv=None):
    args = parse_args(argv)
    if args.merge:
        results = merge(args.merge)
        for name, runs in results.items():
            for r in runs:
                print(f"fold {r['fold']} {name:16s} acc {r['accuracy']:.4f}  macro-F1 {r['f1_macro']:.4f}  "
                      f"ROC-AUC {r['roc_auc']:.4f}  ({r['epochs']} epochs, {r['train_seconds']:.0f} s"
                      f"{', time limit' if r['time_limited'] else ''})")
        print_table(results)
        baseline = {r["fold"]: r for r in results.get("tfidf_logreg", [])}
        for name, runs in results.items():
            folds = [r["fold"] for r in runs]
            if name != "tfidf_logreg" and baseline and set(folds) <= set(baseline) and len(folds) < len(baseline):
                same = {k: np.mean([baseline[f][k] for f in folds]) for k in ("accuracy", "f1_macro", "roc_auc")}
                print(f"tfidf_logreg on {name}'s folds {folds}: accuracy {same['accuracy']:.4f}, "
                      f"macro F1 {same['f1_macro']:.4f}, ROC-AUC {same['roc_auc']:.4f}")
        return results
    from kzoo.applications import ARCHITECTURES
    from kzoo.data import load_movie_reviews

    architectures = [a.strip() for a in args.architectures.split(",") if a.strip()]
    unknown = sorted(set(architectures) - set(ARCHITECTURES))
    if unknown:
        raise SystemExit(f"--architectures: unknown {unknown}; expected some of {sorted(ARCHITECTURES)}")
    if not os.path.isdir(args.data):
        raise SystemExit(f"--data: no folder {args.data!r} (the shared movie reviews, or pos/ and neg/ folders)")
    texts, labels, folds = load_movie_reviews(args.data, return_folds=True)
    present = sorted(set(folds))
    test_folds = present if args.folds == "all" else [int(f) for f in args.folds.split(",")]
    if args.coverage_only:
        return coverage_only(args, texts, labels, folds, test_folds)
    rows = (["tfidf_logreg"] if not (args.no_baseline or args.validation_only) else []) + architectures
    results = {name: [] for name in rows}
    print(f"{len(texts)} reviews, folds {present}; test folds {test_folds}; "
          f"{args.minutes_per_model:g} min per model", flush=True)
    for fold in test_folds:
        train = ([t for t, f in zip(texts, folds) if f != fold], [l for l, f in zip(labels, folds) if f != fold])
        test = ([t for t, f in zip(texts, folds) if f == fold], [l for l, f in zip(labels, folds) if f == fold])
        for name in rows:
            result = run_baseline(train, test) if name == "tfidf_logreg" else run_model(name, train, test, args)
            result["load_average"] = os.getloadavg()[1]  # 5-minute load: other work on the machine
            results[name].append({"fold": fold, **result})
            if args.json:  # after every model, so an interrupted run keeps what it measured
                with open(args.json, "w", encoding="utf-8") as f:
                    json.dump({"args": vars(args), "results": results}, f, indent=1)
            validation = f"val acc {result['val_accuracy']:.4f} val loss {result['val_loss']:.4f}  " if "val_loss" in result else ""
            print(f"fold {fold} {name:16s} {validation}acc {result['accuracy']:.4f}  macro-F1 {result['f1_macro']:.4f}  "
                  f"ROC-AUC {result['roc_auc']:.4f}  ({result['epochs']} epochs, {result['train_seconds']:.0f} s"
                  f"{', time limit' if result['time_limited'] else ''}; load {result['load_average']:.1f})", flush=True)
    print_table(results)
    return results


if __name__ == "__main__":
    main()
