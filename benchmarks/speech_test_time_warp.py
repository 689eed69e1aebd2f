"""Probe: test-time vocal tract length normalisation of a held-out speaker.

Lee and Rose (1996), "Speaker normalization using efficient frequency warping procedures", warp a
new speaker's frequency axis by the factor that fits the recogniser best. Here, for each
SpeechToText model saved by `speech_quality.py --save-models DIR` (trained without warping), the
held-out speaker's log-mel features are warped by each factor of `--alphas` at test time
(`kzoo.layers.FrequencyWarp`'s piecewise-linear warp, fixed instead of random) and scored with
greedy and with the default decoding (beam 8 fused with an order-4 character model of the fold's
training transcripts, α = β = 0.5). The factor chosen without labels is the one whose CTC
posteriors are most confident (the highest mean log of each frame's largest posterior) on 100 of
the speaker's isolated digits and 50 of its strings.

The warp is put into the loaded encoder from outside the library (a probe, not an API):

    python benchmarks/speech_test_time_warp.py DIR/*.keras
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import speech_quality as sq  # noqa: E402  (also puts the repository on sys.path)

import keras  # noqa: E402

from kzoo.data import load_fsdd  # noqa: E402
from kzoo.layers.frequency_warp import FrequencyWarp  # noqa: E402
from kzoo.text import CharacterLanguageModel  # noqa: E402

KEYS = ("isolated_accuracy", "connected_wer", "connected_cer")


class FixedWarp(FrequencyWarp):
    """The warp with one factor (`low == high`), applied at inference too."""

    def call(self, features, training=None):
        return super().call(features, training=True)


def set_warp(model, alpha):
    front = model.encoder.front_end
    warp = None if alpha == 1.0 else FixedWarp(model.sample_rate, front.num_mel_bins, front.lower_edge_hz,
                                               front.upper_edge_hz, low=alpha, high=alpha)
    object.__setattr__(model.encoder, "warp", warp)  # past Keras' lock on a built layer's sub-layers
    model._decode_functions.functions.clear()  # decoding functions traced before read the old warp


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="models saved by speech_quality.py --save-models")
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15])
    parser.add_argument("--json", default=os.path.join(sq.RESULTS, "speech_test_time_warp.json"))
    args = parser.parse_args()
    fsdd = load_fsdd(sq.FSDD if os.path.isdir(sq.FSDD) else None)
    out = {}
    for path in args.models:
        name = os.path.basename(path)[: -len(".keras")]
        speaker = name.rsplit("_", 2)[1]
        with open(os.path.join(sq.RESULTS, f"speech_quality_{name}.json")) as f:
            record = json.load(f)
        model = keras.saving.load_model(path)
        (_, texts), isolated, strings = sq.fold_data(fsdd, speaker, record["config"]["connected"], record["seed"])
        language_model = CharacterLanguageModel(order=4).fit(texts)
        pick = np.random.default_rng(0).choice(len(isolated["audio"]), 100, replace=False)
        sample = [isolated["audio"][i] for i in pick] + strings["audio"][:50]
        rows = {}
        for alpha in args.alphas:
            set_warp(model, alpha)
            posteriors = model.ctc_posteriors(sample)
            confidence = float(np.mean([np.mean(np.log(np.maximum(p.max(axis=1), 1e-30))) for p in posteriors]))
            greedy = sq.evaluate(model, isolated, strings, language_model=False)
            fused = sq.evaluate(model, isolated, strings, beam_width=8, language_model=language_model,
                                lm_weight=0.5, length_bonus=0.5)
            rows[f"{alpha:g}"] = {"confidence": round(confidence, 5), "greedy": {k: greedy[k] for k in KEYS},
                                  "default": {k: fused[k] for k in KEYS}}
            print(speaker, alpha, json.dumps(rows[f"{alpha:g}"]), flush=True)
        chosen = max(rows, key=lambda a: rows[a]["confidence"])
        out[name] = {"speaker": speaker, "seed": record["seed"], "by_factor": rows, "chosen": float(chosen),
                     "load_average": os.getloadavg()}
        print(speaker, "chosen", chosen, flush=True)
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
