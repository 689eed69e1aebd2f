"""`kzoo train translator`, `kzoo evaluate translator` and `kzoo translate`.

`kzoo train translator` with no `--data` trains on the embedded Zooish -> English corpus, reports
BLEU on its held-out split, exports `DIR/translator.keras`, `DIR/saved_model/` and
`DIR/translator.tflite` (+ `.json`), and prints a few translations.
"""

import os
import time

from kzoo.commands.exports import export_all, open_generator
from kzoo.commands.training import fit_callbacks, is_chief, progress, run_as_workers, start

__all__ = ["train", "evaluate", "translate"]

_SHARED_SPA = os.path.join("..", "shared", "data", "translation", "spa-eng", "train.tsv")
# Demo model: small enough to train to BLEU > 90 on the embedded corpus in a few CPU minutes. The
# generated corpus is noiseless and not overfitted in 8 epochs, so no dropout; real data gets the
# library's default dropout.
_EMBEDDED = {"size": 14000, "epochs": 8, "units": 128, "embedding_dim": 64, "batch_size": 32, "dropout": 0.0}
_REAL = {"epochs": 10, "units": 256, "embedding_dim": 128, "batch_size": 64}


def _bleu(hypotheses, references, lowercase=False):
    """Corpus BLEU (sacreBLEU's 13a tokenization); `references` is a list of reference lists."""
    from kzoo.metrics import BLEU

    metric = BLEU(lowercase=lowercase)
    metric.update_state(references, hypotheses)
    return float(metric.result())


def _load(data, limit, seed):
    """(train sources, train targets, test sources, test reference lists)."""
    from kzoo import data as data_lib

    if data == "embedded":
        train = data_lib.load_embedded("train", size=_EMBEDDED["size"])
        test = data_lib.load_embedded("test", size=_EMBEDDED["size"])
        return train[0][:limit], train[1][:limit], test[0], [[t] for t in test[1]]
    if data == "anki-spa":
        path = _SHARED_SPA if os.path.isfile(_SHARED_SPA) else None
        sources, targets = data_lib.load_anki("spa", path=path)
    elif os.path.isfile(data):
        sources, targets = data_lib.load_anki("spa", path=data)
    else:
        raise SystemExit(f"--data must be 'embedded', 'anki-spa' or an existing file. Received: --data={data!r}")
    from kzoo.data import split_by_source

    return split_by_source(sources, targets, limit=limit, seed=seed)


def train(args):
    status = run_as_workers(args)
    if status is not None:
        return status
    began = time.time()
    strategy = start(args)
    import keras

    from kzoo.applications import Translator
    from kzoo.data import make_pairs_dataset

    defaults = _EMBEDDED if args.data == "embedded" else _REAL
    keras.utils.set_random_seed(args.seed)
    train_s, train_t, test_s, test_refs = _load(args.data, args.limit, args.seed)
    print(f"data: {args.data}, {len(train_s)} training pairs, {len(test_s)} held-out sentences", flush=True)
    attention = None if args.attention == "none" else args.attention
    with strategy.scope():
        translator = Translator(
            units=args.units or defaults["units"],
            embedding_dim=defaults["embedding_dim"],
            attention=attention,
            seed=args.seed,
            **{key: defaults[key] for key in ("dropout",) if key in defaults},
        )
        translator.adapt(train_s, train_t)
        translator.compile()
    dataset = make_pairs_dataset(train_s, train_t, batch_size=args.batch_size or defaults["batch_size"], seed=args.seed)
    epochs = args.epochs or defaults["epochs"]
    print(f"training {epochs} epochs ({translator.count_params():,} parameters)", flush=True)
    translator.fit(dataset, epochs=epochs, verbose=progress(), callbacks=fit_callbacks(args))
    if not is_chief():
        return 0  # the chief evaluates and exports
    hypotheses = translator.translate(test_s)
    bleu = _bleu(hypotheses, test_refs)
    print(f"BLEU on the held-out split ({len(test_s)} sentences, greedy): {bleu:.1f}", flush=True)
    _export(translator, args.out)
    print("translations:")
    for source, hypothesis, refs in list(zip(test_s, hypotheses, test_refs))[:5]:
        print(f"  {source}\n    -> {hypothesis}\n    reference: {refs[0]}")
    print(f"done in {time.time() - began:.0f} s", flush=True)
    return 0


def _export(translator, out):
    export_all(translator, out, "translator")


def _open(model):
    """A `texts -> translations` function for a .keras file, a SavedModel, a .tflite or an export folder."""
    return open_generator(model, "translator", "translate")


def evaluate(args):
    translate_fn = _open(args.model)
    _, _, test_s, test_refs = _load(args.data, None, args.seed)
    hypotheses = translate_fn(test_s, beam_width=args.beam_width)
    print(f"BLEU ({len(test_s)} sentences, beam {args.beam_width}): {_bleu(hypotheses, test_refs):.1f}")
    return 0


def translate(args):
    translate_fn = _open(args.model)
    for text, translation in zip(args.texts, translate_fn(list(args.texts), beam_width=args.beam_width)):
        print(f"{text}\t{translation}")
    return 0
