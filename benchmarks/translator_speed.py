"""Training and decoding speed of kzoo's Translator against the TensorFlow NMT-tutorial architecture.

All models train in the same process on the same batches (Spanish -> English Anki pairs when
../shared/data is present, otherwise the embedded corpus), interleaved round by round so that a
change in machine load (the CPU may be shared) hits every model alike; the reported speed is the
median over rounds.

- anchor: the "Neural machine translation with attention" tutorial architecture: embedding 256,
  bidirectional GRU encoder (256, summed directions), GRU decoder (256), one-head cross-attention
  (`keras.layers.MultiHeadAttention`) + residual + LayerNorm, Dense to the vocabulary;
- floor: only the embeddings and the LSTM-256 encoder and decoder of kzoo's defaults, trained
  with SGD on a dummy loss: an upper bound of any LSTM-256 encoder-decoder's speed on this machine;
- kzoo: `Translator()` with its defaults (LSTM-256 encoder-decoder, embedding 128, Luong "general"
  attention computed for all target steps at once, full softmax), the same trained with a
  sampled softmax of 512 rows (`compile(num_sampled=512)`), and the defaults with embedding 256
  (the anchor's embedding size).

Prints training tokens/s (source + target, padding excluded) and the ratio (target >= 3x), the
time of the parts of one kzoo training step (recurrent layers, output layer, optimizer),
achieved GFLOP/s (analytic FLOP count of the padded batches with a full-vocabulary output layer,
forward x 3 for training: for the sampled softmax this is the work it avoids, so its GFLOP/s is an
"equivalent" rate) against a
float32 matmul peak measured in the same run, greedy vs beam-4 decoding time (target beam-4 <= 3x
greedy), and in-graph decoding (`tf.function` while loop) vs a Python loop calling a compiled step.

    python benchmarks/translator_speed.py
"""

import argparse
import os
import statistics
import sys
import time

import keras
import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from clocks import median_time  # noqa: E402
from kzoo.applications import Translator  # noqa: E402
from kzoo.data import load_anki, load_embedded, make_pairs_dataset  # noqa: E402
from kzoo.seq2seq import MaskedSparseCrossEntropy  # noqa: E402
from kzoo.text.tokenizer import END, START  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "data", "translation", "spa-eng", "train.tsv")


def tutorial_model(source_vocab, target_vocab, units=256):
    source = keras.Input((None,), dtype="int32")
    target = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(source_vocab, units, mask_zero=True)(source)
    x = keras.layers.Bidirectional(keras.layers.GRU(units, return_sequences=True), merge_mode="sum")(x)
    y = keras.layers.Embedding(target_vocab, units, mask_zero=True)(target)
    y = keras.layers.GRU(units, return_sequences=True)(y)
    attended = keras.layers.MultiHeadAttention(num_heads=1, key_dim=units)(query=y, value=x)
    y = keras.layers.LayerNormalization()(keras.layers.Add()([y, attended]))
    logits = keras.layers.Dense(target_vocab)(y)
    model = keras.Model([source, target], logits)
    model.compile(keras.optimizers.Adam(1e-3), MaskedSparseCrossEntropy())
    return model


def recurrent_floor_model(source_vocab, target_vocab, embedding=128, units=256):
    """Only what every LSTM-256 encoder-decoder must compute: embeddings, a masked LSTM encoder
    and an LSTM decoder started from its final state, trained with plain SGD on a dummy loss (no
    attention, no output layer, no Adam). Its tokens/s bounds any model of that size here."""
    source = keras.Input((None,), dtype="int32")
    target = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(source_vocab, embedding, mask_zero=True)(source)
    _, h, c = keras.layers.LSTM(units, return_sequences=True, return_state=True)(x)
    y = keras.layers.Embedding(target_vocab, embedding)(target)
    y = keras.layers.LSTM(units, return_sequences=True)(y, initial_state=[h, c])
    model = keras.Model([source, target], y)
    model.compile(keras.optimizers.SGD(1e-3), lambda labels, outputs: keras.ops.mean(outputs, axis=-1))
    return model


# === Analytic forward FLOPs of one padded batch (multiply-add = 2 FLOPs) ===
def kzoo_forward_flops(b, s, t, units, embedding, vocab):
    lstm = 2 * 4 * units * (embedding + units)
    encoder = b * s * lstm
    attention = 2 * units * units + 2 * 2 * s * units + 2 * 2 * units * units  # W_a h, scores+context, W_c
    decoder = b * t * (lstm + attention + 2 * units * vocab)
    return encoder + decoder


def tutorial_forward_flops(b, s, t, units, vocab):
    gru = 2 * 3 * units * (units + units)
    encoder = b * s * (2 * gru + 2 * 2 * units * units)  # two directions; key and value projections
    attention = 2 * 2 * units * units + 2 * 2 * s * units  # query and output projections, scores+context
    decoder = b * t * (gru + attention + 2 * units * vocab)
    return encoder + decoder


def as_dataset(batches):
    """The batches as a `tf.data.Dataset` with unknown lengths, so `fit` traces its step once
    (`train_on_batch` with numpy arrays of a new shape retraces at every call)."""
    spec = ((tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.int32)),
            tf.TensorSpec([None, None], tf.int32))
    return tf.data.Dataset.from_generator(lambda: iter(batches), output_signature=spec)


def train_round(model, batches, flops_fn):
    """Trains on every batch once with `fit`; returns (real tokens/s, achieved training GFLOP/s)."""
    tokens = sum(int(np.count_nonzero(s) + np.count_nonzero(to)) for (s, _), to in batches)
    flops = sum(3 * flops_fn(s.shape[0], s.shape[1], ti.shape[1]) for (s, ti), _ in batches)
    dataset = as_dataset(batches)
    start = time.perf_counter()
    model.fit(dataset, epochs=1, verbose=0)
    elapsed = time.perf_counter() - start
    return tokens / elapsed, flops / elapsed / 1e9


def matmul_peak(n=2048, repeats=8):
    a = tf.random.normal((n, n))
    f = tf.function(lambda a: tf.matmul(a, a))
    f(a).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f(a).numpy()
        times.append(time.perf_counter() - start)
    return 2 * n**3 / min(times) / 1e9, 2 * n**3 / statistics.median(times) / 1e9


def step_breakdown(translator, batch, repeats):
    """Milliseconds of the parts of one kzoo training step on one batch (each part a compiled
    function run to completion; median of `repeats`, parts interleaved): where the time goes."""
    (source, target_in), target_out = (tuple(tf.constant(x) for x in batch[0]), tf.constant(batch[1]))
    variables = translator.trainable_variables
    encoder, decoder = translator.encoder, translator.decoder
    features = tf.random.normal(target_in.shape + (decoder.units,))

    def forward_backward():
        with tf.GradientTape() as tape:
            loss = translator.loss(target_out, translator((source, target_in), training=True))
        return tape.gradient(loss, variables)

    def full():
        gradients = forward_backward()
        translator.optimizer.apply(gradients, variables)
        return gradients[0]

    def recurrent():  # embeddings + encoder LSTM + decoder LSTM, forward and backward
        rnn_variables = encoder.trainable_variables + decoder.embedding.trainable_variables + decoder.rnns[0].trainable_variables
        with tf.GradientTape() as tape:
            _, _, states = encoder(source, training=True)
            outputs, *_ = decoder.rnns[0](decoder.embedding(target_in), initial_state=states[0], mask=target_in != 0)
            loss = tf.reduce_sum(outputs)
        return tape.gradient(loss, rnn_variables)

    def output_layer():  # Dense to the vocabulary + masked cross-entropy, forward and backward
        with tf.GradientTape() as tape:
            tape.watch(features)
            loss = translator.loss(target_out, decoder.output_layer(features))
        return tape.gradient(loss, [features] + decoder.output_layer.trainable_variables)

    zeros = [tf.zeros_like(v) for v in variables]

    def optimizer():
        translator.optimizer.apply(zeros, variables)
        return tf.constant(0)

    parts = {"whole step (forward, backward, Adam)": full, "forward + backward": forward_backward,
             "embeddings + LSTM encoder + LSTM decoder (fwd + bwd)": recurrent,
             "output layer + cross-entropy (fwd + bwd)": output_layer, "Adam update of every weight": optimizer}
    compiled = {name: tf.function(fn) for name, fn in parts.items()}
    for fn in compiled.values():
        tf.nest.map_structure(lambda x: tf.convert_to_tensor(x).numpy(), fn())
    times = {name: [] for name in parts}
    for _ in range(repeats):
        for name, fn in compiled.items():
            start = time.perf_counter()
            tf.nest.map_structure(lambda x: tf.convert_to_tensor(x).numpy(), fn())
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    parser.add_argument("--steps", type=int, default=10, help="training steps per model per round")
    parser.add_argument("--warmup-steps", type=int, default=300,
                        help="kzoo training steps on the pairs before the decoding timings (sentences then end "
                             "where a trained model's do; a barely trained model stops beam search early)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--pairs", type=int, default=20000)
    parser.add_argument("--decode-repeats", type=int, default=9)
    parser.add_argument("--breakdown-repeats", type=int, default=21, help="timings of each part of a step")
    args = parser.parse_args()
    if os.path.isfile(SHARED):
        sources, targets = load_anki("spa", path=SHARED)
        data = "anki spa-eng"
    else:
        sources, targets = load_embedded("train")
        data = "embedded"
    rng = np.random.default_rng(0)
    index = rng.permutation(len(sources))[: args.pairs]
    sources, targets = [sources[i] for i in index], [targets[i] for i in index]
    keras.utils.set_random_seed(0)

    def kzoo_model(compile_args=None, **kwargs):
        translator = Translator(seed=0, **kwargs)
        translator.adapt(sources, targets, min_count=2)
        translator.compile(**(compile_args or {}))
        return translator

    translator = kzoo_model()  # defaults
    translator_sampled = kzoo_model({"num_sampled": 512})
    translator_e256 = kzoo_model(embedding_dim=256)
    sv, tv = translator.source_tokenizer.vocabulary_size, translator.target_tokenizer.vocabulary_size
    dataset = make_pairs_dataset(sources, targets, batch_size=args.batch_size, seed=0).map(translator.prepare)
    n_batches = args.rounds * args.steps + 2
    batches = [((s.numpy(), ti.numpy()), to.numpy()) for (s, ti), to in dataset.take(n_batches)]
    anchor = tutorial_model(sv, tv)
    models = {
        "tutorial biGRU+MHA (E=256, U=256)": (anchor, lambda b, s, t: tutorial_forward_flops(b, s, t, 256, tv)),
        "kzoo defaults (LSTM, E=128, U=256)": (translator, lambda b, s, t: kzoo_forward_flops(b, s, t, 256, 128, tv)),
        "kzoo defaults + sampled softmax (compile(num_sampled=512))": (
            translator_sampled, lambda b, s, t: kzoo_forward_flops(b, s, t, 256, 128, tv)
        ),
        "kzoo E=256 (LSTM, U=256)": (translator_e256, lambda b, s, t: kzoo_forward_flops(b, s, t, 256, 256, tv)),
        "floor: embeddings + LSTM encoder/decoder only (SGD, no attention/output)": (
            recurrent_floor_model(sv, tv), lambda b, s, t: (s + t) * b * 2 * 4 * 256 * (128 + 256)
        ),
    }
    print(f"data: {data}, {len(sources)} pairs, vocab {sv}/{tv}, batch {args.batch_size}, bucketed; "
          f"{args.rounds} interleaved rounds x {args.steps} steps per model; {os.cpu_count()} CPUs visible, "
          f"load average {os.getloadavg()[0]:.2f}")
    for name, (model, _) in models.items():
        print(f"  {name}: {model.count_params():,} parameters")
        model.fit(as_dataset(batches[:2]), epochs=1, verbose=0)  # trace
    peak_best, peak_median = matmul_peak()
    timed = batches[2:]
    speeds = {name: [] for name in models}
    gflops = {name: [] for name in models}
    for r in range(args.rounds):
        round_batches = timed[r * args.steps : (r + 1) * args.steps]
        order = list(models) if r % 2 == 0 else list(models)[::-1]
        for name in order:
            model, flops_fn = models[name]
            tps, gf = train_round(model, round_batches, flops_fn)
            speeds[name].append(tps)
            gflops[name].append(gf)
    peak_best2, peak_median2 = matmul_peak()
    peak = max(peak_best, peak_best2)
    anchor_name = next(iter(models))
    anchor_speed = statistics.median(speeds[anchor_name])
    print()
    print("| model | training tokens/s (median) | per round | vs tutorial (ratio of medians) | "
          "vs tutorial (median of per-round ratios) | GFLOP/s | % of matmul peak |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for name in models:
        tps, gf = statistics.median(speeds[name]), statistics.median(gflops[name])
        rounds = " ".join(f"{x:,.0f}" for x in speeds[name])
        per_round = statistics.median(x / a for x, a in zip(speeds[name], speeds[anchor_name]))
        print(f"| {name} | {tps:,.0f} | {rounds} | {tps / anchor_speed:.2f}x | {per_round:.2f}x | {gf:.1f} | "
              f"{gf / peak:.0%} |")
    print(f"matmul peak (2048x2048 float32 tf.matmul, best of 8, start/end of run): {peak_best:.1f} / "
          f"{peak_best2:.1f} GFLOP/s (medians {peak_median:.1f} / {peak_median2:.1f}); "
          f"target ratio kzoo defaults / tutorial >= 3x")

    # === Where a kzoo step's time goes (defaults, one batch of typical size) ===
    typical = sorted(timed, key=lambda b: b[0][0].size + b[1].size)[len(timed) // 2]
    tokens = int(np.count_nonzero(typical[0][0]) + np.count_nonzero(typical[1]))
    parts = step_breakdown(translator, typical, args.breakdown_repeats)
    whole = next(iter(parts.values()))
    print()
    print(f"| part of one kzoo training step (batch {typical[0][0].shape} source, {typical[1].shape} target, "
          f"{tokens} tokens; median of {args.breakdown_repeats}) | ms | share of the whole step |")
    print("|---|---:|---:|")
    for name, ms in parts.items():
        print(f"| {name} | {ms:.1f} | {ms / whole:.0%} |")

    # === Decoding (kzoo defaults), after a little training so that sentences end ===
    translator.fit(dataset.repeat(), steps_per_epoch=args.warmup_steps, epochs=1, verbose=0)
    texts = tf.constant(sources[:64])
    source_ids = translator.source_tokenizer(texts)
    max_length = 40
    decoders = {}
    for beam in (1, 4):
        sampler = "greedy" if beam == 1 else __import__("kzoo.seq2seq.samplers", fromlist=["x"]).BeamSampler(beam)
        decoders[beam] = tf.function(
            lambda ids, sampler=sampler: translator.decode_ids(ids, max_length, sampler, collect_attention=False)[0]
        )
        decoders[beam](source_ids)
    steps = {b: int(tf.reduce_max(tf.reduce_sum(tf.cast(decoders[b](source_ids) > 0, "int32"), 1))) for b in decoders}
    for b in decoders:
        translator.translate(sources[:64], beam_width=b, max_length=max_length)  # trace

    def interleaved(run):
        """Greedy and beam-4 timed alternately; (median greedy, median beam, median per-pair ratio)."""
        pairs = [(median_time(lambda: run(1), 1), median_time(lambda: run(4), 1)) for _ in range(args.decode_repeats)]
        greedy, beam = [p[0] for p in pairs], [p[1] for p in pairs]
        return statistics.median(greedy), statistics.median(beam), statistics.median(b / g for g, b in pairs)

    ids_g, ids_b, ids_ratio = interleaved(lambda b: decoders[b](source_ids).numpy())
    str_g, str_b, str_ratio = interleaved(
        lambda b: translator.translate(sources[:64], beam_width=b, max_length=max_length)
    )
    print()
    print("| decoding 64 sentences (kzoo defaults, in graph) | greedy | beam-4 | beam-4 / greedy (median of "
          "interleaved pairs) |")
    print("|---|---:|---:|---:|")
    print(f"| ids -> ids (decode_ids in tf.function), median of {args.decode_repeats} | {ids_g * 1000:.0f} ms "
          f"({steps[1]} steps) | {ids_b * 1000:.0f} ms ({steps[4]} steps) | {ids_ratio:.2f}x |")
    print(f"| strings -> strings (translate) | {str_g * 1000:.0f} ms | {str_b * 1000:.0f} ms | {str_ratio:.2f}x |")

    # One sentence at a time (interactive use): fixed per-step costs weigh more than the 4x rows.
    singles = [source_ids[i : i + 1] for i in range(16)]
    single_steps = [(int(tf.reduce_sum(tf.cast(decoders[1](ids) > 0, "int32"))),  # first calls trace the (1, S) shape
                     int(tf.reduce_sum(tf.cast(decoders[4](ids) > 0, "int32")))) for ids in singles]
    pairs = [(median_time(lambda: decoders[1](ids).numpy(), 3), median_time(lambda: decoders[4](ids).numpy(), 3))
             for ids in singles]
    print(f"| one sentence at a time, ids -> ids, 16 sentences (median of 3 each; medians over sentences) | "
          f"{statistics.median(p[0] for p in pairs) * 1000:.1f} ms "
          f"({statistics.median(s[0] for s in single_steps):g} tokens) | "
          f"{statistics.median(p[1] for p in pairs) * 1000:.1f} ms "
          f"({statistics.median(s[1] for s in single_steps):g} tokens) | "
          f"{statistics.median(b / g for g, b in pairs):.2f}x |")
    print("target beam-4 <= 3x greedy")

    # === In-graph while loop vs a Python loop calling a compiled step (greedy, same stopping rule) ===
    encode = tf.function(lambda ids: translator.encoder(ids, training=False))
    step = tf.function(lambda tokens, state, memory, mask, t: translator.decoder.step(tokens, state, memory, mask, t)[:2])

    def python_loop():
        memory, mask, states = encode(source_ids)
        state = translator.decoder.initial_state(states, source_ids.shape[0])
        tokens = tf.fill([source_ids.shape[0]], START)
        done = np.zeros(source_ids.shape[0], bool)
        out = []
        for t in range(max_length):
            logits, state = step(tokens, state, memory, mask, tf.constant(t))
            logits = logits.numpy()
            logits[:, :START + 1] = -1e9  # the sampler's forbidden tokens: [PAD], [UNK], [START]
            next_tokens = np.where(done, 0, np.argmax(logits, -1)).astype("int32")
            out.append(next_tokens)
            done |= next_tokens == END
            tokens = tf.constant(next_tokens)
            if done.all():
                break
        return np.stack(out, 1)

    python_loop()
    same = np.array_equal(python_loop(), decoders[1](source_ids).numpy()[:, : len(python_loop()[0])])
    loop_time = median_time(python_loop, args.decode_repeats)
    print()
    print("| greedy, 64 sentences, same stopping rule | time |")
    print("|---|---:|")
    print(f"| in-graph tf.function while loop | {ids_g * 1000:.0f} ms |")
    print(f"| Python loop over a compiled step (+ compiled encoder) | {loop_time * 1000:.0f} ms |")
    print(f"Python loop / in-graph: {loop_time / ids_g:.2f}x; identical tokens: {same}")


if __name__ == "__main__":
    main()
