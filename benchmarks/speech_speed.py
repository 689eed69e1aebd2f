"""SpeechToText speed: real-time factor (seconds of compute per second of audio) of every path.

Trains nothing: speed does not depend on the weights. Builds a model of the benchmark's size (or
loads one with `--model`), then times `transcribe()` at batch 1 and 32, greedy and beam-4, the
SavedModel's `waveforms` signature at batch 1 and 32, and the TFLite file at batch 1 (float and
dynamic-range quantized), on FSDD connected digit strings (or synthesised digits without the
shared data). Medians of `--repeats` runs; the anchor of the ratios is greedy `transcribe()` at
batch 1 in the same run.

    python benchmarks/speech_speed.py --decoders ctc joint
"""

import argparse
import json
import os
import sys
import tempfile

import keras
import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kzoo.applications import SpeechToText  # noqa: E402
from kzoo.audio.batches import pad_waveforms  # noqa: E402
from kzoo.data import connected_digits, load_fsdd, load_spoken_digits  # noqa: E402
from kzoo.export import load_tflite  # noqa: E402
from clocks import median_time  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
FSDD = os.path.join(os.path.dirname(ROOT), "shared", "data", "speech", "fsdd")


def test_audio(count):
    if os.path.isdir(FSDD):
        fsdd = load_fsdd(FSDD)
        data = connected_digits(fsdd, count, seed=3)
    else:
        data = load_spoken_digits("test", num_utterances=count, seed=3)
    return data["audio"], data["sample_rate"]


def run(decoder, args):
    keras.utils.set_random_seed(0)
    audio, rate = test_audio(args.utterances)
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

    timed("transcribe_greedy_batch1", lambda: [model.transcribe(a) for a in audio])
    timed("transcribe_greedy_batch32", lambda: [model.transcribe(audio[i : i + 32]) for i in range(0, len(audio), 32)])
    timed("transcribe_beam4_batch1", lambda: [model.transcribe(a, beam_width=4) for a in audio])
    folder = tempfile.mkdtemp()
    served = tf.saved_model.load(model.export(os.path.join(folder, "saved"))).signatures["waveforms"]

    def serve(batch):
        waves, lengths = pad_waveforms(batch)
        served(waveforms=tf.constant(waves), lengths=tf.constant(lengths))

    timed("savedmodel_greedy_batch1", lambda: [serve([a]) for a in audio])
    timed("savedmodel_greedy_batch32", lambda: [serve(audio[i : i + 32]) for i in range(0, len(audio), 32)])
    sizes = {}
    for quantize in (False, True):
        path = model.export(os.path.join(folder, f"stt{'_int8' if quantize else ''}.tflite"), format="litert",
                            beam_width=1, quantize=quantize)
        runner = load_tflite(path)
        name = "tflite_int8_greedy_batch1" if quantize else "tflite_greedy_batch1"
        timed(name, lambda: runner.transcribe(audio))
        sizes[name] = round(os.path.getsize(path) / 1e6, 2)
    record = {"decoder": decoder, "audio_seconds": round(seconds, 1), "utterances": len(audio),
              "parameters": model.count_params(), "rtf": rtf, "tflite_mb": sizes,
              "ratio_to_transcribe_batch1": {k: round(v / rtf["transcribe_greedy_batch1"], 3) for k, v in rtf.items()},
              "load_average": os.getloadavg()}
    print(json.dumps(record), flush=True)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"speech_speed_{decoder}.json"), "w") as f:
        json.dump(record, f, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decoders", nargs="+", default=["ctc", "joint"])
    parser.add_argument("--model", default=None, help="a trained .keras file instead of a fresh model")
    parser.add_argument("--utterances", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mels", type=int, default=40)
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--units", type=int, default=192)
    parser.add_argument("--layers", type=int, default=2)
    args = parser.parse_args()
    for decoder in args.decoders:
        run(decoder, args)


if __name__ == "__main__":
    main()
