"""Every `kzoo` command with its arguments and help, in one place and importing nothing heavy.

Each command stores `target`, the `"module:function"` in `kzoo/commands/` that implements it;
`kzoo_cli.main` imports that module only after parsing, so `kzoo --help` never loads TensorFlow.
"""

import argparse
import os

__all__ = ["build_parser"]

DESCRIPTION = "The `kzoo` command line: `kzoo train APP`, `kzoo translate|classify ...`, `kzoo evaluate APP`."
_MODEL_HELP = "export folder, .keras file, SavedModel folder or .tflite file"


def _saved(name):
    """The default export folder of an application."""
    return os.path.join("saved_models", name)


# === Training ===


def _train_translator(parser):
    parser.add_argument("--data", default="embedded",
                        help="embedded (default), anki-spa (download, or ../shared/data if present), or a "
                             "PATH to a tab-separated file 'target<TAB>source' (the Anki layout: English first)")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs")
    parser.add_argument("--out", default=_saved("translator"), help="export folder")
    parser.add_argument("--units", type=int, default=None, help="recurrent units")
    parser.add_argument("--attention", default="global", help="none, global, local-m, local-p or hard")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--limit", type=int, default=None, help="use at most this many training pairs")
    parser.add_argument("--seed", type=int, default=0)


def _train_captioner(parser):
    parser.add_argument("--data", default="embedded",
                        help="embedded (generated scenes, default); coco or a PATH: photos to caption after training")
    parser.add_argument("--encoder", default="small_cnn",
                        help="small_cnn, mobilenet_v3_small, efficientnet_b0 or resnet50 (random weights)")
    parser.add_argument("--attention", default="soft", help="soft, hard or none")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--images", type=int, default=None, help="training images of the scenes")
    parser.add_argument("--units", type=int, default=None, help="LSTM units")
    parser.add_argument("--out", default=_saved("captioner"), help="export folder")
    parser.add_argument("--seed", type=int, default=0)


def _train_speech(parser):
    parser.add_argument("--data", default="embedded",
                        help="embedded (synthesised digits, default), fsdd (the shared FSDD folder) or a PATH to FSDD recordings")
    parser.add_argument("--decoder", default="joint", help="ctc, attention or joint")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--utterances", type=int, default=None, help="training utterances")
    parser.add_argument("--out", default=_saved("speech"), help="export folder")
    parser.add_argument("--seed", type=int, default=0)


def _train_documents(parser):
    parser.add_argument("--data", default="embedded",
                        help="embedded (default), movie-reviews (../shared/data if present, else download), "
                             "a folder with pos/ and neg/ .txt files, or a 'sentence<TAB>label' file")
    parser.add_argument("--architecture", default="han",
                        help="han, bigru_last, bigru_mean, bigru_attention, cnn_max or cnn_attention")
    parser.add_argument("--epochs", type=int, default=None, help="most training epochs (early stopping on real data)")
    parser.add_argument("--out", default=_saved("document_classifier"), help="export folder")
    parser.add_argument("--units", type=int, default=None, help="GRU units per direction")
    parser.add_argument("--embedding-dim", type=int, default=None)
    parser.add_argument("--embeddings", default=None,
                        help="start the word embedding from pretrained vectors: glove-6b-50d (or -100d, -200d, "
                             "-300d), a GloVe / word2vec text file, or skipgram (trained on the data); sets "
                             "--embedding-dim to the vectors' size")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--limit", type=int, default=None, help="use at most this many training documents")
    parser.add_argument("--seed", type=int, default=0)


def _training_options(parser):
    """What every `kzoo train NAME` takes: distribution, workers, backups, determinism."""
    parser.add_argument("--strategy", default="default", choices=("default", "mirrored", "multi-worker"),
                        help="tf.distribute strategy: default (one device), mirrored (every local GPU, or two "
                             "logical CPU devices without one) or multi-worker (the cluster in TF_CONFIG)")
    parser.add_argument("--workers", type=int, default=None,
                        help="start this many local worker processes (multi-worker strategy) and supervise them")
    parser.add_argument("--backup-dir", default=None,
                        help="where to back up training after every epoch; a killed run started again with the "
                             "same command resumes from it (default: OUT/backup)")
    parser.add_argument("--no-backup", action="store_true", help="do not back up training")
    parser.add_argument("--deterministic", action="store_true",
                        help="deterministic ops: the same command gives the same weights, resumed or not")


# === Evaluation ===


def _evaluate(folder, data_help, beam_width=True, seed=True, extra=None):
    """The arguments of `kzoo evaluate APP`: `--model`, `--data` and, where the app has them,
    `--beam-width`, `--seed` and what `extra(parser)` adds."""

    def add_arguments(parser):
        parser.add_argument("--model", default=_saved(folder))
        parser.add_argument("--data", default="embedded", help=data_help)
        if beam_width:
            parser.add_argument("--beam-width", type=int, default=1)
        if seed:
            parser.add_argument("--seed", type=int, default=0)
        if extra:
            extra(parser)

    return add_arguments


def _language_model(parser):
    """The speech model's decoding options (`transcribe(beam_width=..., language_model=..., lm_weight=...)`)."""
    parser.add_argument("--beam-width", type=int, default=None,
                        help="prefixes of the beam search (default: 8 with a language model, else 1)")
    parser.add_argument("--language-model", default=None, metavar="FILE",
                        help="a character language model (kzoo.text.CharacterLanguageModel.save) to fuse into decoding "
                             "instead of the model's own, or 'none' for none (greedy, as the exports decode); "
                             "needs an export folder or .keras file")
    parser.add_argument("--lm-weight", type=float, default=None, help="the language model's weight (default 0.5)")


# === Using a trained model ===


def _demo(parser):
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--out", default="saved_models")


def _run_model(folder, inputs, inputs_help, beam_width=True, extra=None):
    """The arguments of `kzoo translate|caption|transcribe|classify`: `--model`, `--beam-width`
    where the model generates text, what `extra(parser)` adds, then the inputs."""

    def add_arguments(parser):
        parser.add_argument("--model", default=_saved(folder), help=_MODEL_HELP)
        if beam_width:
            parser.add_argument("--beam-width", type=int, default=1)
        if extra:
            extra(parser)
        parser.add_argument(inputs, nargs="+", help=inputs_help)

    return add_arguments


# (name after `kzoo train` / `kzoo evaluate`, train arguments, evaluate arguments); each is
# implemented by `train` and `evaluate` in kzoo/commands/<name>.py.
_APPLICATIONS = (
    ("translator", _train_translator, _evaluate("translator", "embedded, anki-spa or a PATH")),
    ("captioner", _train_captioner,
     _evaluate("captioner", "embedded (both held-out splits), coco or a PATH", seed=False)),
    ("speech", _train_speech, _evaluate("speech", "embedded, fsdd or a PATH to FSDD recordings", beam_width=False, extra=_language_model)),
    ("documents", _train_documents,
     _evaluate("document_classifier", "embedded, movie-reviews, a folder or a file", beam_width=False)),
)

# (verb, help, arguments, target)
_VERBS = (
    ("demo", "train a small attention-pooling model (1 minute)", _demo, "kzoo.commands.demo:run"),
    ("translate", "translate sentences with a trained translator",
     _run_model("translator", "texts", "sentences to translate"), "kzoo.commands.translator:translate"),
    ("caption", "caption images with a trained captioner",
     _run_model("captioner", "images", "image files (JPEG, PNG, ...)"), "kzoo.commands.captioner:caption"),
    ("transcribe", "transcribe WAV files with a trained speech model",
     _run_model("speech", "files", "WAV files (any sample rate, mono or stereo)", beam_width=False, extra=_language_model),
     "kzoo.commands.speech:transcribe"),
    ("classify", "classify documents with a trained document classifier",
     _run_model("document_classifier", "texts", "documents to classify (quote each one)", beam_width=False),
     "kzoo.commands.documents:classify"),
)


def _with_training_options(add_arguments):
    def add_all(parser):
        add_arguments(parser)
        _training_options(parser)

    return add_all


def _add_verbose(parser, default=argparse.SUPPRESS):
    # Below the top level the default is SUPPRESS, so that a subcommand without `--verbose` does
    # not overwrite `kzoo --verbose ...`.
    parser.add_argument("--verbose", action="store_true", default=default,
                        help="show TensorFlow's start-up and C++ log lines and its Python warnings")


def _command(subparsers, name, help, add_arguments, target):
    parser = subparsers.add_parser(name, help=help)
    add_arguments(parser)
    _add_verbose(parser)
    parser.set_defaults(target=target)
    return parser


def build_parser():
    """The `kzoo` parser; each command's parsed arguments hold `target` and `verbose`."""
    parser = argparse.ArgumentParser(prog="kzoo", description=DESCRIPTION)
    _add_verbose(parser, default=False)
    verbs = parser.add_subparsers(dest="verb", required=True)
    for verb, help in (("train", "train an application and export it"),
                       ("evaluate", "evaluate an exported or saved application")):
        verb_parser = verbs.add_parser(verb, help=help)
        _add_verbose(verb_parser)
        apps = verb_parser.add_subparsers(dest="app", required=True)
        for name, train_arguments, evaluate_arguments in _APPLICATIONS:
            add_arguments = _with_training_options(train_arguments) if verb == "train" else evaluate_arguments
            _command(apps, name, f"{verb} the {name}", add_arguments, f"kzoo.commands.{name}:{verb}")
    for verb, help, add_arguments, target in _VERBS:
        _command(verbs, verb, help, add_arguments, target)
    return parser
