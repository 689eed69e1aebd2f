"""`kzoo.training.adversarial`: the adversarial move against NumPy by hand."""

import numpy as np
import pytest
from keras import ops

from kzoo.training.adversarial import check_epsilon, perturbation


def test_the_move_is_epsilon_times_the_normalised_gradient_of_each_example():
    rng = np.random.default_rng(0)
    gradient = rng.normal(size=(3, 4, 5, 2)).astype("float32")  # (B, S, W, E)
    mask = rng.random((3, 4, 5)) > 0.3
    gradient[2] = 0.0  # an example whose loss does not move: no move
    moved = ops.convert_to_numpy(perturbation(gradient, epsilon=2.5, scale=0.4, mask=mask))
    kept = gradient * mask[..., None]
    norms = np.sqrt((kept**2).sum(axis=(1, 2, 3), keepdims=True))
    expected = np.where(norms > 0, 2.5 * 0.4 * kept / np.maximum(norms, 1e-12), 0.0)
    np.testing.assert_allclose(moved, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.sqrt((moved[:2] ** 2).sum(axis=(1, 2, 3))), [1.0, 1.0], rtol=1e-5)  # ε · scale
    assert np.all(moved[~mask] == 0)  # padding never moves
    assert np.all(moved[2] == 0)


def test_check_epsilon():
    assert check_epsilon(0) == 0.0 and check_epsilon(5) == 5.0
    for bad in (-1.0, float("inf"), float("nan"), True, "5"):
        with pytest.raises(ValueError, match=r"`adversarial_epsilon` must be a finite number >= 0 \(0 turns it off\). Received: adversarial_epsilon="):
            check_epsilon(bad)
