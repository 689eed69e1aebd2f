"""SpeechToText speed: real-time factor (seconds of compute per second of audio) of every path.

Trains nothing: speed does not depend on the weights. Builds a model of the benchmark's size (or
loads one with `--model`), then times `transcribe()` at batch 1 and 32, greedy and beam-4, beam-8
fused with a character language model of the ten digit words (CTC heads), the
SavedModel's `waveforms` signature at batch 1 and 32, and the TFLite file at batch 1 (float and
dynamic-range int8 and float16 quantized), on synthesised digits of held-out voices or FSDD connected digit
strings (`--data`). With a trained `--model` it also reports the WER / CER of every path and the
TFLite files' agreement with `transcribe()`, so the quantized file's WER change shows. Medians
of `--repeats` runs; the anchor of the ratios is greedy `transcribe()` at batch 1 in the same run.

    python benchmarks/speech_speed.py --decoders ctc joint
    python benchmarks/speech_speed.py --decoders joint --model saved_models/speech/speech_to_text.keras
"""

import argparse
import json
import os
import sys
import tempfile

import keras
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kzoo.applications import SpeechToText  # noqa: E402
from kzoo.applications.evaluation import score_texts  # noqa: E402
from kzoo.testing.application_test import agreement  # noqa: E402
from kzoo.audio.batches import pad_waveforms  # noqa: E402
from kzoo.data import DIGIT_WORDS, connected_digits, load_fsdd, load_spoken_digits  # noqa: E402
from kzoo.export import load_tflite  # noqa: E402
from kzoo.text import CharacterLanguageModel  # noqa: E402
from clocks import median_time  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
# The text prior of the fused decoding: the ten digit words, alone and in a string (no test transcript).
DIGITS_LM = CharacterLanguageModel(order=4).fit([*DIGIT_WORDS, " ".join(DIGIT_WORDS)])
FSDD = os.path.join(os.path.dirname(ROOT), "shared", "data", "speech", "fsdd")


def test_audio(count, source):
    if source == "fsdd" and os.path.isdir(FSDD):
        data = connected_digits(load_fsdd(FSDD), count, seed=3)
    else:
        data = load_spoken_digits("test", num_utterances=count, seed=3)
    return data["audio"], data["transcripts"], data["sample_rate"]


def run(decoder, args):
    keras.utils.set_random_seed(0)
    audio, references, rate = test_audio(args.utterances, args.data)
    seconds = sum(len(a) for a in audio) / rate
    if args.model:
        model = keras.models.load_model(args.model)
    else:
        model = SpeechToText(sample_rate=rate, decoder=decoder, num_mel_bins=args.mels, filters=args.filters,
                             encoder_units=args.units, encoder_layers=args.layers, units=args.units)
        model.adapt(["zero one two three four five six seven eight nine"])
    model.compile()
    rtf = {}

    def timed(name, fn):
        fn()  # warm-up: tracing and conversion are not part of the steady state
        rtf[name] = round(median_time(fn, args.repeats) / seconds, 5)
        print(f"{decoder} {name}: RTF {rtf[name]}", flush=True)

    greedy = dict(language_model=False)  # without the model's own language model, as the exports decode
    timed("transcribe_greedy_batch1", lambda: [model.transcribe(a, **greedy) for a in audio])
    timed("transcribe_greedy_batch32", lambda: [model.transcribe(audio[i : i + 32], **greedy) for i in range(0, len(audio), 32)])
    timed("transcribe_beam4_batch1", lambda: [model.transcribe(a, beam_width=4, **greedy) for a in audio])
    if model.ctc_head is not None:
        timed("transcribe_beam8_lm_batch1", lambda: [model.transcribe(a, beam_width=8, language_model=DIGITS_LM) for a in audio])
    folder = tempfile.mkdtemp()
    served = tf.saved_model.load(model.export(os.path.join(folder, "saved"))).signatures["waveforms"]

    def serve(batch):
        waves, lengths = pad_waveforms(batch)
        served(waveforms=tf.constant(waves), lengths=tf.constant(lengths))

    timed("savedmodel_greedy_batch1", lambda: [serve([a]) for a in audio])
    timed("savedmodel_greedy_batch32", lambda: [serve(audio[i : i + 32]) for i in range(0, len(audio), 32)])
    sizes = {}
    expected = model.transcribe(audio, **greedy)
    quality = {"transcribe": score_texts(expected, references, metrics=("wer", "cer"))}
    if model.ctc_head is not None:
        fused = model.transcribe(audio, beam_width=8, language_model=DIGITS_LM)
        quality["transcribe_beam8_lm"] = score_texts(fused, references, metrics=("wer", "cer"))
    for quantize in (False, "int8", "float16"):
        suffix = f"_{quantize}" if quantize else ""
        path = model.export(os.path.join(folder, f"stt{suffix}.tflite"), format="litert", beam_width=1, quantize=quantize)
        runner = load_tflite(path)
        name = f"tflite{suffix}_greedy_batch1"
        timed(name, lambda: runner.transcribe(audio, **greedy))
        sizes[name] = round(os.path.getsize(path) / 1e6, 2)
        texts = runner.transcribe(audio, **greedy)
        quality[name] = {**score_texts(texts, references, metrics=("wer", "cer")),
                         "agreement_with_transcribe": agreement(texts, expected)}
        if model.ctc_head is not None:  # the language model fused beside the interpreter
            name = f"tflite{suffix}_beam8_lm_batch1"
            timed(name, lambda: runner.transcribe(audio, beam_width=8, language_model=DIGITS_LM))
            texts = runner.transcribe(audio, beam_width=8, language_model=DIGITS_LM)
            quality[name] = {**score_texts(texts, references, metrics=("wer", "cer")),
                             "agreement_with_transcribe": agreement(texts, fused)}
    record = {"decoder": decoder, "model": args.model, "data": args.data, "audio_seconds": round(seconds, 1),
              "utterances": len(audio), "parameters": model.count_params(), "rtf": rtf, "tflite_mb": sizes,
              "quality": quality,
              "ratio_to_transcribe_batch1": {k: round(v / rtf["transcribe_greedy_batch1"], 3) for k, v in rtf.items()},
              "load_average": os.getloadavg()}
    print(json.dumps(record), flush=True)
    os.makedirs(RESULTS, exist_ok=True)
    name = f"speech_speed_{decoder}{'_trained' if args.model else ''}{f'_{args.tag}' if args.tag else ''}.json"
    with open(os.path.join(RESULTS, name), "w") as f:
        json.dump(record, f, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decoders", nargs="+", default=["ctc", "joint"])
    parser.add_argument("--model", default=None, help="a trained .keras file instead of a fresh model")
    parser.add_argument("--data", default="embedded", help="embedded (synthesised test voices) or fsdd (connected digits)")
    parser.add_argument("--utterances", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mels", type=int, default=40)
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--units", type=int, default=192)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--tag", default="", help="appended to the result file's name")
    args = parser.parse_args()
    for decoder in args.decoders:
        run(decoder, args)


if __name__ == "__main__":
    main()
