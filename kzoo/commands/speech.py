"""`kzoo train speech`, `kzoo evaluate speech` and `kzoo transcribe`.

`kzoo train speech` with no `--data` trains on the embedded spoken digits (our own formant
synthesiser, `kzoo.data.load_spoken_digits`), reports WER and CER on speakers held out of
training, exports `DIR/speech_to_text.keras`, `DIR/saved_model/` and `DIR/speech_to_text.tflite`
(+ `.json`), writes the CTC posteriogram and attention figures and prints a few transcripts. The
`.keras` model holds a character n-gram model of the training transcripts
(`kzoo.text.CharacterLanguageModel`) and decodes with it by default (prefix beam search fused with
it); so does the TFLite file, whose sidecar holds that model, beside the interpreter; the
SavedModel decodes greedily. `kzoo transcribe|evaluate speech --language-model FILE` decodes with another language model (`CharacterLanguageModel.save`), and
`--language-model none` without one.
`--data fsdd` (or a folder of FSDD recordings) trains on connected digit strings built from the
Free Spoken Digit Dataset and tests on its last speaker, held out of training.
"""

import os
import time

from kzoo.commands.exports import export_all, load_or_exit, open_generator, read_files
from kzoo.commands.training import fit_callbacks, is_chief, progress, run_as_workers, start

__all__ = ["train", "evaluate", "transcribe"]

_FILE = "speech_to_text"
_SHARED_FSDD = os.path.join("..", "shared", "data", "speech", "fsdd")
# Demo model: learns the embedded digits to a low WER in a few CPU minutes.
_MODEL = {"num_mel_bins": 40, "filters": 16, "encoder_units": 96, "encoder_layers": 2, "units": 96, "embedding_dim": 32}
_DATA = {"embedded": {"train": 1600, "test": 200, "epochs": 10}, "fsdd": {"train": 2000, "test": 200, "epochs": 12}}


def load_data(data, train_size, test_size, seed=0):
    """`(train, test)` dicts with `audio`, `transcripts`, `sample_rate`; test speakers are held out."""
    from kzoo.data import connected_digits, load_fsdd, load_spoken_digits

    if data == "embedded":
        train = load_spoken_digits("train", num_utterances=train_size, seed=seed)
        return train, load_spoken_digits("test", num_utterances=test_size, seed=seed)
    fsdd = load_fsdd(_SHARED_FSDD if data == "fsdd" and os.path.isdir(_SHARED_FSDD) else (None if data == "fsdd" else data))
    speakers = sorted(set(fsdd["speakers"]))
    held_out = speakers[-1]
    train = connected_digits(fsdd, train_size, speakers=speakers[:-1], seed=seed)
    return train, connected_digits(fsdd, test_size, speakers=[held_out], seed=seed + 1)


def _report(transcribe, test, label):
    from kzoo.applications.evaluation import score_texts

    hypotheses = transcribe(test["audio"])
    scores = score_texts(hypotheses, test["transcripts"], metrics=("wer", "cer"))
    print(f"{label}: WER {100 * scores['wer']:.1f}%, CER {100 * scores['cer']:.1f}% ({len(hypotheses)} utterances)", flush=True)
    return hypotheses


def train(args):
    status = run_as_workers(args)
    if status is not None:
        return status
    began = time.time()
    strategy = start(args)
    import keras

    from kzoo.applications import SpeechToText

    keras.utils.set_random_seed(args.seed)
    sizes = _DATA["embedded" if args.data == "embedded" else "fsdd"]
    train_set, test_set = load_data(args.data, args.utterances or sizes["train"], sizes["test"], args.seed)
    seconds = sum(len(a) for a in train_set["audio"]) / train_set["sample_rate"]
    print(f"data: {args.data}, {len(train_set['audio'])} training utterances ({seconds / 60:.1f} min of audio), "
          f"{len(test_set['audio'])} test utterances from held-out speakers", flush=True)
    with strategy.scope():
        model = SpeechToText(sample_rate=train_set["sample_rate"], decoder=args.decoder, seed=args.seed, **_MODEL)
        model.adapt(train_set["transcripts"])
        model.compile()
    epochs = args.epochs or sizes["epochs"]
    print(f"training {epochs} epochs ({model.count_params():,} parameters)", flush=True)
    model.fit(train_set["audio"], train_set["transcripts"], batch_size=32, epochs=epochs, verbose=progress(),
              callbacks=fit_callbacks(args))
    if not is_chief():
        return 0  # the chief evaluates and exports
    hypotheses = _report(lambda audio: model.transcribe(audio, language_model=False), test_set,
                         "held-out speakers (greedy, as the SavedModel and TFLite files decode)")
    if model.default_language_model is not None:
        hypotheses = _report(model.transcribe, test_set, "held-out speakers (the default: beam 8 + the model's language model)")
    export_all(model, args.out, _FILE)
    _figures(model, test_set, args.out)
    print("transcripts of held-out speakers:")
    for hypothesis, reference in list(zip(hypotheses, test_set["transcripts"]))[:4]:
        print(f"  {hypothesis}\n    reference: {reference}")
    print(f"done in {time.time() - began:.0f} s", flush=True)
    return 0


def _figures(model, test_set, out):
    import kzoo

    audio = test_set["audio"][0]
    _, record = model.transcribe(audio, return_attention=True)
    path = os.path.join(out, "posteriogram.png" if "posteriogram" in record else "attention.png")
    if "posteriogram" in record:
        figure = kzoo.plot.ctc_posteriogram(record["posteriogram"], model.target_tokenizer.vocabulary,
                                            record["frame_seconds"], waveform=audio, sample_rate=model.sample_rate)
    else:
        figure = kzoo.plot.speech_alignment(record["tokens"], record["weights"], record["frame_seconds"])
    figure.savefig(path, dpi=100)
    print(f"figure: {path}", flush=True)


def _open(args):
    """`(transcribe(audio), label)` for `--model` and the decoding options: a `.keras` model (or
    an export folder's) and a `.tflite` file decode as `transcribe` does, by default with the
    model's language model; a SavedModel greedily in its graph."""
    keras_file = os.path.join(args.model, f"{_FILE}.keras")
    path = keras_file if os.path.isfile(keras_file) else args.model
    if path.endswith(".keras"):
        from kzoo.applications import SpeechToText
        from kzoo.export import load_model

        model = load_or_exit(load_model, path)
        if not isinstance(model, SpeechToText):
            raise SystemExit(f"--model {path!r} holds a {type(model).__name__}, which has no transcribe(): pass a {_FILE} export.")
    elif path.endswith(".tflite"):
        from kzoo.applications.tflite_speech_to_text import TFLiteSpeechToText
        from kzoo.export import load_tflite

        model = load_or_exit(load_tflite, path)
        if not isinstance(model, TFLiteSpeechToText):
            raise SystemExit(f"--model {path!r} is a {model.metadata['kind']} file, which has no transcribe(): pass a {_FILE} export.")
    else:
        if args.language_model is not None or args.lm_weight is not None:
            raise SystemExit("--language-model and --lm-weight decode in Python: --model must be an export folder, a "
                             f".keras or a .tflite file. Received: --model={args.model!r}")
        generate = open_generator(path, _FILE, "transcribe", to_signature_input=lambda paths: read_files(paths, "WAV"))
        return generate, "beam 1"
    from kzoo.text import CharacterLanguageModel

    choice = args.language_model
    language_model = None if choice is None else False if choice == "none" else load_or_exit(CharacterLanguageModel.load, choice)
    try:
        language_model, beam_width, lm_weight, _ = model.fusion(language_model, None, args.beam_width, args.lm_weight, None)
    except ValueError as error:
        raise SystemExit(f"--language-model, --lm-weight: {error}") from None
    label = f"beam {beam_width}" + (" + language model" if language_model is not None else "")
    return (lambda audio: model.transcribe(audio, beam_width=beam_width, language_model=language_model or False,
                                           lm_weight=lm_weight)), label


def evaluate(args):
    transcribe_fn, label = _open(args)
    sizes = _DATA["embedded" if args.data == "embedded" else "fsdd"]
    _, test_set = load_data(args.data, 1, sizes["test"], args.seed)
    _report(transcribe_fn, test_set, f"held-out speakers ({label})")
    return 0


def transcribe(args):
    transcribe_fn, _ = _open(args)
    for path, text in zip(args.files, transcribe_fn(list(args.files))):
        print(f"{path}\t{text}")
    return 0
