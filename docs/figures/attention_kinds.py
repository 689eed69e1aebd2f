"""Draws the attention-kind figures of docs/guides/attention.md (one PNG per kind, in this folder).

Inputs are built so that each kind's shape of attention is visible: keys are random vectors and
each query is a scaled copy of one key (a permutation), so soft attention peaks where the query's
key is; the layers are untrained (seed 0). Run: `.venv/bin/python docs/figures/attention_kinds.py`.
"""

import os

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import kzoo  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
T, S, D = 8, 12, 16  # queries, keys, width


def save(fig, name):
    fig.set_size_inches(3.6, 3.0)
    fig.tight_layout()
    fig.savefig(os.path.join(HERE, f"attention_{name}.png"), dpi=80)
    plt.close(fig)


def main():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    keys = rng.normal(size=(1, S, D)).astype("float32")
    order = rng.permutation(S)[:T]
    queries = 2.0 * keys[:, order] + 0.3 * rng.normal(size=(1, T, D)).astype("float32")
    maps = {
        "soft": kzoo.layers.Attention(score="dot")([queries, keys], return_attention_scores=True)[1],
        "hard": kzoo.layers.HardAttention(score="dot")([queries, keys], return_attention_scores=True)[1],
        "local_m": kzoo.layers.LocalAttention(window=2, mode="monotonic", score="dot")(
            [queries, keys], return_attention_scores=True)[1],
        "local_p": kzoo.layers.LocalAttention(window=2, mode="predictive", score="dot")(
            [queries, keys], return_attention_scores=True)[1],
    }
    x = keys[:, :T]
    heads = kzoo.layers.MultiHeadAttention(num_heads=2, key_dim=8)(
        [x, x], use_causal_mask=True, return_attention_scores=True)[1]  # (1, heads, T, T)
    maps["multi_head_causal"] = heads[:, 0]
    titles = {
        "soft": "soft / global (dot score)",
        "hard": "hard (one key per query)",
        "local_m": "local-m (window around t·S/T)",
        "local_p": "local-p (predicted centre)",
        "multi_head_causal": "multi-head self, causal (head 1)",
    }
    for name, weights in maps.items():
        save(kzoo.plot.attention_map(np.asarray(weights)[0], title=titles[name]), name)

    _, pooled = kzoo.layers.AttentionPooling()(keys, return_attention_scores=True)  # (1, S)
    fig, ax = plt.subplots()
    ax.bar(range(S), np.asarray(pooled)[0])
    ax.set_xlabel("time step")
    ax.set_title("attention pooling (learned query)")
    save(fig, "pooling")

    words = rng.normal(size=(1, 4, 6, D)).astype("float32")
    mask = np.ones((1, 4, 6), bool)
    mask[0, 1, 4:] = mask[0, 3, 3:] = False  # sentences of unequal length
    _, word_w, sentence_w = kzoo.layers.HierarchicalAttention(units=8)(words, mask=mask, return_attention_scores=True)
    fig, (left, right) = plt.subplots(1, 2, gridspec_kw={"width_ratios": [6, 1]})
    left.imshow(np.asarray(word_w)[0], cmap="viridis")
    left.set_title("words in each sentence")
    left.set_xlabel("word")
    left.set_ylabel("sentence")
    right.imshow(np.asarray(sentence_w)[0][:, None], cmap="viridis")
    right.set_title("sentences")
    right.set_xticks([])
    save(fig, "hierarchical")

    feature_map = 0.3 * rng.normal(size=(1, 7, 7, D)).astype("float32")
    target = rng.normal(size=(D,)).astype("float32")
    feature_map[0, 1:3, 4:6] += target  # an "object" the query looks for
    _, where = kzoo.layers.SpatialAttention(score="dot")([3.0 * target[None], feature_map], return_attention_scores=True)
    fig, ax = plt.subplots()
    ax.imshow(np.asarray(where)[0], cmap="magma")
    ax.set_title("spatial (query over a 7×7 feature map)")
    save(fig, "spatial")


if __name__ == "__main__":
    main()
