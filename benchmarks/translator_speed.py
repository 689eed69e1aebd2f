"""Training and decoding speed of kzoo's Translator against the TensorFlow NMT-tutorial architecture.

Both train in the same run on the same batches (Spanish -> English Anki pairs when
../shared/data is present, otherwise the embedded corpus):

- anchor: the "Neural machine translation with attention" tutorial architecture: embedding 256,
  bidirectional GRU encoder (256, summed directions), GRU decoder (256), one-head cross-attention
  (`keras.layers.MultiHeadAttention`) + residual + LayerNorm, Dense to the vocabulary;
- kzoo: `Translator(units=256, cell="lstm", attention="global")`: LSTM-256 encoder-decoder, Luong
  attention for all target steps at once.

Prints training tokens/s (source + target, padding excluded) and the ratio (target >= 3x),
achieved GFLOP/s against a measured float32 matmul peak, greedy vs beam-4 decoding time
(target beam-4 <= 3x greedy), and in-graph decoding vs a Python loop per step.

    python benchmarks/translator_speed.py --steps 30
"""

import argparse
import os
import sys
import time

import keras
import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kzoo.applications import Translator  # noqa: E402
from kzoo.data import load_anki, load_embedded, make_pairs_dataset  # noqa: E402
from kzoo.seq2seq import MaskedSparseCrossEntropy  # noqa: E402

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
    model.compile("adam", MaskedSparseCrossEntropy())
    return model


def tokens_per_second(model, batches, steps):
    model.train_on_batch(*batches[0])  # trace
    model.train_on_batch(*batches[1])
    tokens = 0
    start = time.perf_counter()
    for i in range(steps):
        (source, target_in), target_out = batches[i % len(batches)]
        model.train_on_batch((source, target_in), target_out)
        tokens += int(np.count_nonzero(source) + np.count_nonzero(target_out))
    return tokens / (time.perf_counter() - start)


def matmul_peak(n=1024, repeats=20):
    a = tf.random.normal((n, n))
    f = tf.function(lambda a: tf.matmul(a, a))
    f(a).numpy()
    start = time.perf_counter()
    for _ in range(repeats):
        out = f(a)
    out.numpy()
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def lstm_train_flops_per_token(units, embedding, vocab):
    """Forward multiply-adds x 2 (FLOPs) x 3 (forward + backward), per target token, plus the
    encoder per source token (approximately the same LSTM cost)."""
    lstm = 2 * 4 * units * (embedding + units)
    attention_and_output = 2 * (units * units + 2 * units * units + units * vocab)
    return 3 * (lstm + attention_and_output / 2 + lstm / 2)  # averaged over source and target tokens


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="timed training steps per model")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--pairs", type=int, default=20000)
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
    translator = Translator(units=256, embedding_dim=256, attention="global")
    translator.adapt(sources, targets, min_count=2)
    translator.compile()
    dataset = make_pairs_dataset(sources, targets, batch_size=args.batch_size, seed=0).map(translator.prepare)
    batches = [((s.numpy(), ti.numpy()), to.numpy()) for (s, ti), to in dataset.take(40)]
    anchor = tutorial_model(translator.source_tokenizer.vocabulary_size, translator.target_tokenizer.vocabulary_size)
    print(f"data: {data}, {len(sources)} pairs, batch {args.batch_size}, {args.steps} timed steps; "
          f"{os.cpu_count()} CPUs visible")
    anchor_speed = tokens_per_second(anchor, batches, args.steps)
    kzoo_speed = tokens_per_second(translator, batches, args.steps)
    print(f"training tokens/s  tutorial (biGRU+MHA): {anchor_speed:,.0f}   kzoo (LSTM+Luong): {kzoo_speed:,.0f}   "
          f"ratio {kzoo_speed / anchor_speed:.2f}x (target >= 3x)")
    peak = matmul_peak()
    flops = lstm_train_flops_per_token(256, 256, translator.target_tokenizer.vocabulary_size)
    print(f"matmul peak {peak:.1f} GFLOP/s; kzoo training ~{kzoo_speed * flops / 1e9:.1f} GFLOP/s "
          f"({kzoo_speed * flops / 1e9 / peak:.0%} of peak, estimated FLOPs)")

    texts = sources[:64]
    for beam in (1, 4):
        translator.translate(texts, beam_width=beam, max_length=40)
    timings = {}
    for beam in (1, 4):
        start = time.perf_counter()
        translator.translate(texts, beam_width=beam, max_length=40)
        timings[beam] = time.perf_counter() - start
    print(f"decoding 64 sentences: greedy {timings[1]:.2f} s, beam-4 {timings[4]:.2f} s, "
          f"ratio {timings[4] / timings[1]:.2f}x (target <= 3x)")

    source_ids = translator.source_tokenizer(tf.constant(texts))
    memory, mask, states = translator.encoder(source_ids)
    step = tf.function(lambda tokens, state, t: translator.decoder.step(tokens, state, memory, mask, t))
    state = translator.decoder.initial_state(states, len(texts))
    tokens = tf.fill([len(texts)], 2)
    step(tokens, state, 0)
    start = time.perf_counter()
    for t in range(40):  # a Python loop calling a compiled step, reading each argmax back
        logits, state, _ = step(tokens, state, t)
        tokens = tf.constant(np.argmax(logits.numpy(), -1).astype("int32"))
    python_loop = time.perf_counter() - start
    print(f"greedy 40 steps: in-graph while loop {timings[1]:.2f} s (stops at the end token) vs Python loop "
          f"{python_loop:.2f} s")


if __name__ == "__main__":
    main()
