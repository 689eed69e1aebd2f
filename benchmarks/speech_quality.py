"""SpeechToText quality on FSDD: leave-one-speaker-out, CTC vs attention vs joint at equal training time.

For each held-out speaker (a fold) and decoder, trains `kzoo.applications.SpeechToText` for a
fixed wall-clock budget on the other speakers' isolated digits plus connected digit strings made
from them (`kzoo.data.connected_digits`), then transcribes the held-out speaker's isolated digits
(accuracy: the transcript equals the digit word) and connected strings (WER, CER). The anchor in
the same run: log-mel statistics (mean and standard deviation of each band over three thirds of
the clip) with logistic regression on the isolated digits of the same folds.

    python benchmarks/speech_quality.py --minutes 20 --decoders ctc attention joint
    python benchmarks/speech_quality.py --minutes 5 --folds theo --decoders joint
    python benchmarks/speech_quality.py --rescore DIR   # models saved with --save-models DIR
    python benchmarks/speech_quality.py --rescore DIR --fusion 0.5:1 1:2   # language-model fusion only
    python benchmarks/speech_quality.py --report

Models with a CTC head are also scored with decoding constrained to the ten digit words
(`transcribe(lexicon=...)`, `kzoo.seq2seq.ctc_lexicon`), recorded under "lexicon"; joint models
also transcribe with their attention decoder (`decode_with="attention"`), under "attention_head",
and rescore the lexicon transcripts with it (`transcribe(lexicon=..., attention_weight=...)`), under
"joint_lexicon" (at `1 - ctc_weight`) and "joint_lexicon_weights" (`--attention-weights W ...`).
`--ema MOMENTUM` trains with a moving average of the weights (`compile(ema_momentum=...)`).
The top-level scores are greedy decoding (`transcribe(language_model=False)`); models that decode
with their own language model by default (`SpeechToText(language_model_order=4)`, a CTC head) are
also scored with `transcribe`'s defaults, under "default".
`--fusion ALPHA:BETA ...` also decodes the CTC head by prefix beam search fused with a character
n-gram model of the fold's training transcripts (`transcribe(language_model=...)`), under "fusion".
"""

import argparse
import collections
import json
import os
import statistics
import sys
import time

import keras
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kzoo.applications import SpeechToText  # noqa: E402
from kzoo.applications.evaluation import score_texts  # noqa: E402
from kzoo.data import DIGIT_WORDS, connected_digits, load_fsdd  # noqa: E402
from kzoo.text import CharacterLanguageModel  # noqa: E402
from clocks import Budget  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
FSDD = os.path.join(os.path.dirname(ROOT), "shared", "data", "speech", "fsdd")


def subset(fsdd, keep):
    return {k: [v[i] for i in keep] if isinstance(v, list) else (v[keep] if isinstance(v, np.ndarray) else v)
            for k, v in fsdd.items()}


def fold_data(fsdd, speaker, connected, seed):
    train_idx = [i for i, s in enumerate(fsdd["speakers"]) if s != speaker]
    test_idx = [i for i, s in enumerate(fsdd["speakers"]) if s == speaker]
    others = sorted(set(fsdd["speakers"]) - {speaker})
    strings = connected_digits(fsdd, connected, speakers=others, seed=seed)
    audio = [fsdd["audio"][i] for i in train_idx] + strings["audio"]
    texts = [fsdd["transcripts"][i] for i in train_idx] + strings["transcripts"]
    test_strings = connected_digits(fsdd, 300, speakers=[speaker], seed=seed + 1)
    return (audio, texts), subset(fsdd, test_idx), test_strings


def anchor_features(audio, rate):
    """Log-mel statistics: per mel band, mean and std over each third of the clip (numpy STFT)."""
    import tensorflow as tf

    mel = tf.signal.linear_to_mel_weight_matrix(40, 129, rate, 20.0, rate / 2).numpy()  # (129, 40)
    rows = []
    for clip in audio:
        frames = np.lib.stride_tricks.sliding_window_view(np.pad(clip, (0, max(0, 256 - len(clip)))), 256)[::80]
        power = np.abs(np.fft.rfft(frames * np.hanning(256), axis=1)) ** 2
        logmel = np.log(power @ mel + 1e-6)
        parts = np.array_split(logmel, 3)
        rows.append(np.concatenate([np.r_[p.mean(0), p.std(0)] if len(p) else np.zeros(80) for p in parts]))
    return np.array(rows)


def anchor(fsdd, speaker):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train = [i for i, s in enumerate(fsdd["speakers"]) if s != speaker]
    test = [i for i, s in enumerate(fsdd["speakers"]) if s == speaker]
    features = anchor_features(fsdd["audio"], fsdd["sample_rate"])
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.1))
    classifier.fit(features[train], fsdd["digits"][train])
    return float(np.mean(classifier.predict(features[test]) == fsdd["digits"][test]))


def evaluate(model, isolated, strings, **decoding):
    """Isolated-digit accuracy (the transcript equals the word), its 20 commonest errors, and the
    connected strings' WER and CER, transcribed with `decoding` (`transcribe`'s options: a lexicon,
    the attention decoder's weight in its rescoring, a language model), and the seconds the
    transcription took."""
    start = time.time()
    words = model.transcribe(isolated["audio"], **decoding)
    accuracy = float(np.mean([w.strip() == t for w, t in zip(words, isolated["transcripts"])]))
    errors = collections.Counter(f"{t} -> {w.strip()!r}" for w, t in zip(words, isolated["transcripts"]) if w.strip() != t)
    hypotheses = model.transcribe(strings["audio"], **decoding)
    scores = score_texts(hypotheses, strings["transcripts"], metrics=("wer", "cer"))
    return {"isolated_accuracy": round(accuracy, 4), "connected_wer": scores["wer"], "connected_cer": scores["cer"],
            "isolated_errors": dict(errors.most_common(20)), "transcribe_seconds": round(time.time() - start, 1)}


def joint_lexicon(model, isolated, strings, weights=()):
    """A joint model's lexicon transcripts rescored with its attention decoder: at the training
    weights (`attention_weight = 1 - ctc_weight`, Watanabe et al. 2017) and at each of `weights`."""
    default = round(1 - model.ctc_weight, 4)
    out = {}
    for weight in sorted({default, *weights}):
        out[f"{weight:g}"] = evaluate(model, isolated, strings, lexicon=list(DIGIT_WORDS), attention_weight=weight)
        print(f"attention_weight {weight:g}:", json.dumps(out[f"{weight:g}"]), flush=True)
    return out[f"{default:g}"], out


def fusion(model, texts, isolated, strings, settings, order, beam_width=8):
    """The CTC head decoded by prefix beam search fused with a character n-gram model of the
    fold's training transcripts (`transcribe(language_model=...)`), at each `(α, β)` of `settings`."""
    language_model = CharacterLanguageModel(order=order).fit(texts)
    out = {}
    for lm_weight, length_bonus in settings:
        key = f"order{order}_beam{beam_width}_alpha{lm_weight:g}_beta{length_bonus:g}"
        out[key] = evaluate(model, isolated, strings, beam_width=beam_width, language_model=language_model,
                            lm_weight=lm_weight, length_bonus=length_bonus)
        print(key, json.dumps(out[key]), flush=True)
    return out


def rescore(fsdd, folder, weights=(), settings=(), order=5):
    """Adds scores to the results of the CTC-headed models saved in `folder`: with `settings`,
    language-model fusion (`fusion`) only; else lexicon-constrained decoding (and, for joint
    models, the lexicon transcripts rescored with the attention decoder)."""
    for name in sorted(os.listdir(folder)):
        label, speaker, seed = name[: -len(".keras")].rsplit("_", 2)
        path = os.path.join(RESULTS, f"speech_quality_{label}_{speaker}_{seed}.json")
        with open(path) as f:
            record = json.load(f)
        model = keras.saving.load_model(os.path.join(folder, name))
        if model.ctc_head is None:
            continue
        (_, texts), isolated, strings = fold_data(fsdd, speaker, record["config"]["connected"], record["seed"])
        print(name, flush=True)
        if settings:
            record.setdefault("fusion", {}).update(fusion(model, texts, isolated, strings, settings, order))
        else:
            record["lexicon"] = evaluate(model, isolated, strings, lexicon=list(DIGIT_WORDS))
            print(json.dumps(record["lexicon"]), flush=True)
            if model.decoder is not None:
                record["joint_lexicon"], record["joint_lexicon_weights"] = joint_lexicon(model, isolated, strings, weights)
        with open(path, "w") as f:
            json.dump(record, f, indent=1)


def run(fsdd, speaker, decoder, args):
    keras.utils.set_random_seed(args.seed)
    (audio, texts), isolated, strings = fold_data(fsdd, speaker, args.connected, args.seed)
    perturb = tuple(args.speed_perturbation) if args.speed_perturbation else None
    warp = tuple(args.frequency_warp) if args.frequency_warp else None
    model = SpeechToText(sample_rate=fsdd["sample_rate"], decoder=decoder, num_mel_bins=args.mels,
                         filters=args.filters, conv_layers=args.conv_layers, encoder_units=args.units, encoder_layers=args.layers,
                         units=args.units, subsampling=args.subsampling, seed=args.seed,
                         speed_perturbation=perturb, frequency_warp=warp, dropout=args.dropout,
                         frequency_pooling=args.frequency_pooling, encoder_context=args.context,
                         context_kernel=args.context_kernel)
    model.adapt(texts)
    model.compile(ema_momentum=args.ema)
    start = time.time()
    history = model.fit(audio, texts, batch_size=32, epochs=1000, callbacks=[Budget(args.minutes * 60, args.clock)], verbose=2)
    train_seconds = time.time() - start
    record = {"speaker": speaker, "decoder": decoder, "minutes": args.minutes, "seed": args.seed,
              "train_seconds": round(train_seconds, 1), "clock": args.clock, "epochs": len(history.history["loss"]),
              "train_utterances": len(texts), "parameters": model.count_params(),
              **evaluate(model, isolated, strings, language_model=False),  # greedy
              "anchor_logmel_lr_accuracy": round(anchor(fsdd, speaker), 4),
              "config": {"mels": args.mels, "filters": args.filters, "units": args.units, "layers": args.layers,
                         "subsampling": args.subsampling, "connected": args.connected,
                         "speed_perturbation": perturb, "frequency_warp": warp, "dropout": args.dropout,
                         "ema_momentum": args.ema, "conv_layers": args.conv_layers,
                         "frequency_pooling": args.frequency_pooling, "context": args.context,
                         "context_kernel": args.context_kernel},
              "history": {k: [round(float(x), 4) for x in v] for k, v in history.history.items()},
              "load_average": os.getloadavg()}
    if model.default_language_model is not None:  # `transcribe` fuses it by default
        record["default"] = evaluate(model, isolated, strings)
    if model.ctc_head is not None:
        record["lexicon"] = evaluate(model, isolated, strings, lexicon=list(DIGIT_WORDS))
        if args.fusion:
            record["fusion"] = fusion(model, texts, isolated, strings, args.fusion, args.lm_order)
    if decoder == "joint":  # lexicon transcripts rescored; the same model transcribing with its attention decoder
        record["joint_lexicon"], record["joint_lexicon_weights"] = joint_lexicon(model, isolated, strings, args.attention_weights)
        model.decode_with = "attention"
        record["attention_head"] = evaluate(model, isolated, strings)
        model.decode_with = "ctc"
    print(json.dumps(record), flush=True)
    os.makedirs(RESULTS, exist_ok=True)
    label = (f"{decoder}{'-speed' if perturb else ''}{'-warp' if warp else ''}{f'-sub{args.subsampling}' if args.subsampling != 2 else ''}"
             f"{f'-dropout{args.dropout:g}' if args.dropout else ''}{f'-ema{args.ema:g}' if args.ema else ''}"
             f"{f'-conv{args.conv_layers}' if args.conv_layers else ''}{'-fpool' if args.frequency_pooling else ''}"
             f"{f'-convcontext{args.context_kernel}' if args.context == 'conv' else ''}_{args.minutes:g}min")
    with open(os.path.join(RESULTS, f"speech_quality_{label}_{speaker}_seed{args.seed}.json"), "w") as f:
        json.dump(record, f, indent=1)
    if args.save_models:
        os.makedirs(args.save_models, exist_ok=True)
        model.save(os.path.join(args.save_models, f"{label}_{speaker}_seed{args.seed}.keras"))


def variant(r):
    """A run's decoder, training minutes and options: the rows averaged together."""
    config = r.get("config", {})
    perturb, subsampling, dropout = config.get("speed_perturbation"), config.get("subsampling", 2), config.get("dropout", 0)
    warp, ema = config.get("frequency_warp"), config.get("ema_momentum")
    return (f"{r['decoder']}, {r['minutes']:g} min" + (f", subsampling x{subsampling}" if subsampling != 2 else "")
            + (f", speed {perturb[0]:g}-{perturb[1]:g}" if perturb else "")
            + (f", warp {warp[0]:g}-{warp[1]:g}" if warp else "") + (f", dropout {dropout:g}" if dropout else "")
            + (f", weights averaged ({ema:g})" if ema else "")
            + (f", {config['conv_layers']} more convolutions" if config.get("conv_layers") else "")
            + (", frequency pooling" if config.get("frequency_pooling") else "")
            + (f", convolutional context ({config['layers']} x {config['context_kernel']} frames)"
               if config.get("context", "bilstm") == "conv" else "")
            + (f", {config['units']} units" if config.get("units", 192) != 192 else "")
            + (f" ({r['run']})" if "run" in r else ""))


def report():
    rows = []
    for name in sorted(os.listdir(RESULTS)):
        if name.startswith("speech_quality_"):
            with open(os.path.join(RESULTS, name)) as f:
                rows.append(json.load(f))
    def scores(r, part, key):
        return f"{r[part][key]:.1%}" if part in r else "–"

    print("| run | held-out speaker | epochs | isolated accuracy | connected WER | connected CER | "
          "with the digit lexicon: isolated / WER | lexicon, rescored with the attention decoder: isolated / WER | "
          "joint's attention head: isolated / WER | anchor (log-mel + LR) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {variant(r)} | {r['speaker']} | {r['epochs']} | {r['isolated_accuracy']:.1%} | "
              f"{r['connected_wer']:.1%} | {r['connected_cer']:.1%} | {scores(r, 'lexicon', 'isolated_accuracy')} / "
              f"{scores(r, 'lexicon', 'connected_wer')} | {scores(r, 'joint_lexicon', 'isolated_accuracy')} / "
              f"{scores(r, 'joint_lexicon', 'connected_wer')} | {scores(r, 'attention_head', 'isolated_accuracy')} / "
              f"{scores(r, 'attention_head', 'connected_wer')} | {r['anchor_logmel_lr_accuracy']:.1%} |")
    for name in sorted({variant(r) for r in rows}):
        mine = [r for r in rows if variant(r) == name]
        mean = {k: statistics.mean(r[k] for r in mine) for k in ("isolated_accuracy", "connected_wer", "anchor_logmel_lr_accuracy")}
        def means(part):
            return ("–" if not all(part in r for r in mine) else " / ".join(
                f"{statistics.mean(r[part][k] for r in mine):.1%}" for k in ("isolated_accuracy", "connected_wer")))
        print(f"| **{name}: mean of {len(mine)} folds** | | | {mean['isolated_accuracy']:.1%} | {mean['connected_wer']:.1%} | | "
              f"{means('lexicon')} | {means('joint_lexicon')} | {means('attention_head')} | {mean['anchor_logmel_lr_accuracy']:.1%} |")


def fusion_setting(text):
    """ "ALPHA:BETA" -> (lm_weight, length_bonus)."""
    try:
        alpha, beta = (float(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ALPHA:BETA (two numbers), got {text!r}") from None
    return alpha, beta


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decoders", nargs="+", default=["ctc", "attention", "joint"])
    parser.add_argument("--folds", nargs="+", default=None, help="held-out speakers (default: all)")
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--connected", type=int, default=3000, help="connected digit strings added to the training set")
    parser.add_argument("--mels", type=int, default=40)
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--conv-layers", type=int, default=0, help="SpeechToText(conv_layers=...): stride-1 3x3 convolutions before the subsampling ones")
    parser.add_argument("--frequency-pooling", action="store_true",
                        help="SpeechToText(frequency_pooling=True): max-pool 2 mel bands after each --conv-layers convolution")
    parser.add_argument("--context", choices=("bilstm", "conv"), default="bilstm",
                        help="SpeechToText(encoder_context=...): BiLSTM or residual 1-D convolution layers")
    parser.add_argument("--context-kernel", type=int, default=5, help="SpeechToText(context_kernel=...) of the conv context")
    parser.add_argument("--units", type=int, default=192)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--subsampling", type=int, default=2, choices=(1, 2, 4), help="the encoder's frame-rate reduction")
    parser.add_argument("--dropout", type=float, default=0.0, help="SpeechToText(dropout=...): between encoder layers and before the output")
    parser.add_argument("--ema", type=float, default=None, metavar="MOMENTUM",
                        help="compile(ema_momentum=MOMENTUM): train with a moving average of the weights and keep it")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="training budget clock: cpu charges the run its own CPU time / cores (for a shared machine)")
    parser.add_argument("--frequency-warp", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                        help="SpeechToText(frequency_warp=(LOW, HIGH)): vocal tract length perturbation, a lever")
    parser.add_argument("--speed-perturbation", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                        help="train with each utterance resampled by a random factor in [LOW, HIGH] (e.g. 0.9 1.1)")
    parser.add_argument("--save-models", metavar="DIR", help="also save each trained model here (.keras)")
    parser.add_argument("--rescore", metavar="DIR", help="add lexicon-constrained scores to the results of the models saved in DIR")
    parser.add_argument("--attention-weights", type=float, nargs="+", default=(), metavar="W",
                        help="joint models: also rescore lexicon transcripts at these attention weights (besides 1 - ctc_weight)")
    parser.add_argument("--fusion", type=fusion_setting, nargs="+", default=(), metavar="ALPHA:BETA",
                        help="also decode with a character n-gram model of the training transcripts: lm_weight:length_bonus pairs")
    parser.add_argument("--lm-order", type=int, default=5, help="the n of that model (CharacterLanguageModel(order=...))")
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    if args.rescore:
        rescore(load_fsdd(FSDD if os.path.isdir(FSDD) else None), args.rescore, args.attention_weights, args.fusion, args.lm_order)
    elif not args.report:
        fsdd = load_fsdd(FSDD if os.path.isdir(FSDD) else None)
        for speaker in args.folds or sorted(set(fsdd["speakers"])):
            for decoder in args.decoders:
                run(fsdd, speaker, decoder, args)
    report()


if __name__ == "__main__":
    main()
