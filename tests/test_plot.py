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
