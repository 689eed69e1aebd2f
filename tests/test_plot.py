"""kzoo.plot: attention maps are real figures with the labels asked for."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import kzoo  # noqa: E402


def test_attention_map_draws_weights_with_labels():
    weights = np.array([[0.7, 0.2, 0.1], [0.0, 0.5, 0.5]])
    fig = kzoo.plot.attention_map(weights[None], ["a", "b", "c"], ["x", "y"], title="t")
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.images[0].get_array(), weights)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "y"]
    assert ax.get_title() == "t"


def test_attention_map_label_count_error():
    with pytest.raises(ValueError, match=r"`x_labels` must have one label per column.*Received: len\(x_labels\)=2"):
        kzoo.plot.attention_map(np.ones((2, 3)), ["a", "b"])
    with pytest.raises(ValueError, match=r"`weights` must have shape \(Tq, Tv\).*Received: weights.shape=\(3,\)"):
        kzoo.plot.attention_map(np.ones(3))


def test_ctc_posteriogram_draws_the_chosen_rows_over_time():
    vocabulary = ["[PAD]", "[UNK]", "[START]", "[END]", "a", "b", " "]
    probs = np.array([  # frames x characters; "b" peaks highest, then " ", then "a"; [UNK] never above 0.05
        [0.90, 0.02, 0.0, 0.0, 0.08, 0.00, 0.00],
        [0.10, 0.00, 0.0, 0.0, 0.20, 0.70, 0.00],
        [0.20, 0.00, 0.0, 0.0, 0.00, 0.00, 0.80],
    ])
    waveform = np.sin(np.arange(480) / 5.0)
    fig = kzoo.plot.ctc_posteriogram(probs, vocabulary, frame_seconds=0.04, waveform=waveform, sample_rate=4000)
    ax = fig.axes[-1]
    # Rows: the blank, then the characters that peak above 0.05, highest peak first.
    np.testing.assert_allclose(ax.images[0].get_array(), probs[:, [0, 6, 5, 4]].T)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["blank", "␣", "b", "a"]
    assert ax.images[0].get_extent() == [0.0, 3 * 0.04, -0.5, 3.5]
    np.testing.assert_allclose(fig.axes[0].lines[0].get_xdata(), np.arange(480) / 4000)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), waveform)
    top = kzoo.plot.ctc_posteriogram(probs, vocabulary, top=1).axes[-1]
    np.testing.assert_allclose(top.images[0].get_array(), probs[:, [0, 6]].T)
    with pytest.raises(ValueError, match=r"`posteriogram` must be \(frames, len\(vocabulary\)\).*shape \(3, 7\) for 6"):
        kzoo.plot.ctc_posteriogram(probs, vocabulary[:6])


def test_speech_alignment_draws_the_weights_of_each_character():
    weights = np.array([[0.6, 0.3, 0.1, 0.0], [0.0, 0.2, 0.5, 0.3]])
    fig = kzoo.plot.speech_alignment(["a", " "], weights, frame_seconds=0.05)
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.images[0].get_array(), weights)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "␣"]
    assert ax.images[0].get_extent() == [0.0, 4 * 0.05, 1.5, -0.5]
    with pytest.raises(ValueError, match=r"`weights` must be \(len\(tokens\), frames\).*weights.shape=\(2, 4\) for 3 tokens"):
        kzoo.plot.speech_alignment(["a", "b", "c"], weights)
