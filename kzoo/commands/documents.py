"""`kzoo train documents`, `kzoo evaluate documents` and `kzoo classify`.

`kzoo train documents` with no `--data` trains a HAN on the embedded review corpus
(`kzoo.data.load_documents_corpus`, offline, a few CPU minutes), prints the metrics table on its
held-out split, saves ROC / PR / confusion-matrix figures, and exports `DIR/document_classifier.keras`,
`DIR/saved_model/` and `DIR/document_classifier.tflite` (+ `.json`).
"""

import hashlib
import os
import time

from kzoo.commands.exports import load_or_exit
from kzoo.commands.training import fit_callbacks, is_chief, progress, run_as_workers, start

__all__ = ["train", "evaluate", "classify"]

_SHARED_REVIEWS = os.path.join("..", "shared", "data", "docclass", "movie_reviews")
_KERAS_FILE = "document_classifier.keras"
# Embedded corpus: small enough to reach ~100% held-out accuracy in about two CPU minutes.
_EMBEDDED = {"epochs": 8, "units": 32, "embedding_dim": 32, "max_sentences": 12, "max_words": 24,
             "learning_rate": 3e-3, "dropout": 0.2, "batch_size": 32, "min_count": 1}
# Real reviews (~35 sentences of ~22 words): the benchmark's recipe (benchmarks/document_classifier.py).
_REAL = {"epochs": 12, "units": 50, "embedding_dim": 50, "max_sentences": 40, "max_words": 50,
         "learning_rate": 1e-3, "dropout": 0.5, "batch_size": 32, "min_count": 3}


def _hash_split(texts, labels, seed, test_fraction=0.2):
    train, test = ([], []), ([], [])
    for text, label in zip(texts, labels):
        digest = hashlib.sha256(f"{seed}:{text}".encode("utf-8")).digest()
        side = test if int.from_bytes(digest[:4], "big") / 2**32 < test_fraction else train
        side[0].append(text)
        side[1].append(label)
    return train, test


def load_data(data, seed=0):
    """`((train_texts, train_labels), (test_texts, test_labels), class_names, is_embedded)`."""
    from kzoo import data as data_lib

    if data == "embedded":
        return (data_lib.load_documents_corpus("train"), data_lib.load_documents_corpus("test"),
                list(data_lib.DOCUMENT_CLASSES), True)
    if data == "movie-reviews" or os.path.isdir(data):
        path = data if os.path.isdir(data) else (_SHARED_REVIEWS if os.path.isdir(_SHARED_REVIEWS) else None)
        texts, labels, folds = data_lib.load_movie_reviews(path, return_folds=True)
        test_fold = max(folds)  # the last fold present is held out (cv8xx in the shared copy)
        train = ([t for t, f in zip(texts, folds) if f != test_fold], [l for l, f in zip(labels, folds) if f != test_fold])
        test = ([t for t, f in zip(texts, folds) if f == test_fold], [l for l, f in zip(labels, folds) if f == test_fold])
        return train, test, list(data_lib.MOVIE_REVIEW_CLASSES), False
    if os.path.isfile(data):
        texts, labels = data_lib.load_labelled_sentences(data)
        train, test = _hash_split(texts, labels, seed)
        return train, test, [str(c) for c in range(max(labels) + 1)], False
    raise SystemExit(
        f"--data must be 'embedded', 'movie-reviews', a folder or a file. Received: --data={data!r}"
    )


def train(args):
    status = run_as_workers(args)
    if status is not None:
        return status
    began = time.time()
    strategy = start(args)
    import keras

    from kzoo.applications import DocumentClassifier

    keras.utils.set_random_seed(args.seed)
    (train_texts, train_labels), (test_texts, test_labels), class_names, embedded = load_data(args.data, args.seed)
    if args.limit is not None:
        train_texts, train_labels = train_texts[: args.limit], train_labels[: args.limit]
    defaults = _EMBEDDED if embedded else _REAL
    print(f"data: {args.data}, {len(train_texts)} training and {len(test_texts)} held-out documents", flush=True)
    embedding_dim = args.embedding_dim or defaults["embedding_dim"]
    embeddings = args.embeddings
    if embeddings not in (None, "skipgram"):
        from kzoo.text import load_word_vectors

        embeddings = load_word_vectors(embeddings)
        embedding_dim = embeddings.dim
    with strategy.scope():
        model = DocumentClassifier(
            num_classes=len(class_names),
            architecture=args.architecture,
            units=args.units or defaults["units"],
            embedding_dim=embedding_dim,
            max_sentences=defaults["max_sentences"],
            max_words=defaults["max_words"],
            dropout=defaults["dropout"],
            class_names=class_names,
            seed=args.seed,
        )
        model.adapt(train_texts, min_count=defaults["min_count"], embeddings=embeddings)
        model.compile(learning_rate=defaults["learning_rate"])
    epochs = args.epochs or defaults["epochs"]
    batch_size = args.batch_size or defaults["batch_size"]
    print(f"training {args.architecture} for up to {epochs} epochs ({model.count_params():,} parameters)", flush=True)
    if embedded:
        model.fit(train_texts, train_labels, batch_size=batch_size, epochs=epochs, verbose=progress(),
                  callbacks=fit_callbacks(args))
    else:  # early stopping on a validation tenth of the training documents
        (fit_texts, fit_labels), validation = _hash_split(train_texts, train_labels, args.seed, 0.1)
        stop = keras.callbacks.EarlyStopping("val_loss", patience=2, restore_best_weights=True)
        model.fit(fit_texts, fit_labels, batch_size=batch_size, epochs=epochs, validation_data=validation,
                  callbacks=[stop, *fit_callbacks(args)], verbose=progress())
    if not is_chief():
        return 0  # the chief evaluates and exports
    report = model.report(test_texts, test_labels)
    print(f"\nheld-out split ({len(test_texts)} documents):\n{report}\n", flush=True)
    _export(model, report, args.out)
    print(f"done in {time.time() - began:.0f} s", flush=True)
    return 0


def _export(model, report, out):
    import matplotlib

    from kzoo.export import atomic_path

    matplotlib.use("Agg")
    os.makedirs(out, exist_ok=True)
    keras_path = os.path.join(out, _KERAS_FILE)
    with atomic_path(keras_path) as tmp:  # Keras writes straight into the file it is given
        model.save(tmp)
    saved = model.export(os.path.join(out, "saved_model"))
    tflite = model.export(os.path.join(out, "document_classifier.tflite"), format="litert")
    for name, figure in report.figures().items():
        figure.savefig(os.path.join(out, f"{name}.png"), dpi=100, bbox_inches="tight")
    size = os.path.getsize(tflite) / 1e6
    print(f"exported {keras_path}, {saved}/ (SavedModel), {tflite} ({size:.2f} MB) and "
          f"roc.png, precision_recall.png, confusion_matrix.png", flush=True)


def open_model(model):
    """`(documents -> probabilities (n, C), class_names or None)` for an export folder, a .keras
    file, a SavedModel folder or a .tflite file."""
    import numpy as np

    if os.path.isdir(model) and os.path.isfile(os.path.join(model, _KERAS_FILE)):
        model = os.path.join(model, _KERAS_FILE)
    if model.endswith(".keras"):
        from kzoo.applications import DocumentClassifier
        from kzoo.export import load_model

        classifier = load_or_exit(load_model, model, DocumentClassifier)
        return classifier.predict, classifier.class_names
    if model.endswith(".tflite"):
        from kzoo.export import load_tflite

        runner = load_or_exit(load_tflite, model)
        return runner.predict, runner.class_names
    if not os.path.isfile(os.path.join(model, "saved_model.pb")):
        raise SystemExit(f"--model must be an export folder, a .keras file, a SavedModel or a .tflite file. Received: --model={model!r}")
    import tensorflow as tf

    from kzoo.export import load_saved_model

    function = load_or_exit(load_saved_model, model).signatures["serving_default"]
    return (lambda texts: np.asarray(function(texts=tf.constant(list(texts)))["probabilities"])), None


def evaluate(args):
    from kzoo.applications import ClassificationReport

    predict, names = open_model(args.model)
    _, (texts, labels), class_names, _ = load_data(args.data, args.seed)
    report = ClassificationReport(labels, predict(texts), names or class_names)
    print(f"{args.data}, held-out split ({len(texts)} documents):\n{report}")
    return 0


def classify(args):
    predict, names = open_model(args.model)
    probabilities = predict(list(args.texts))
    for text, row in zip(args.texts, probabilities):
        label = int(row.argmax())
        name = names[label] if names else str(label)
        shown = " ".join(f"{names[i] if names else i}={p:.3f}" for i, p in enumerate(row))
        print(f"{name}\t{shown}\t{text}")
    return 0
