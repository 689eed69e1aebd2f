import os

import pytest

from kzoo.testing.application_test import run_notebook

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOK = os.path.join(ROOT, "applications", "speech_to_text.ipynb")
FSDD = os.path.join(os.path.dirname(ROOT), "shared", "data", "speech", "fsdd")


def test_notebook_runs_in_quick_mode():
    if not os.path.isdir(FSDD):
        pytest.skip(f"the notebook trains on FSDD, read from {FSDD} (absent here); elsewhere it downloads it")
    outputs, images = run_notebook(NOTEBOOK, os.path.join(ROOT, "applications"))
    assert "held-out speaker" in outputs and "WER" in outputs
    assert "TFLite agrees" in outputs
    assert images >= 2  # the posteriogram and the attention alignment are shown, not only drawn
    assert "with the language model: WER" in outputs and "without it (greedy): WER" in outputs
