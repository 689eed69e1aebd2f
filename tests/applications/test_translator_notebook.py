import os

import pytest

from kzoo.testing.application_test import run_notebook

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOK = os.path.join(ROOT, "applications", "translator.ipynb")
SHARED = os.path.join(ROOT, "..", "shared", "data", "translation", "spa-eng", "train.tsv")


@pytest.mark.skipif(not os.path.isfile(SHARED), reason="needs ../shared/data Spanish-English pairs (no network in tests)")
def test_notebook_runs_in_quick_mode():
    outputs, images = run_notebook(NOTEBOOK, ROOT)
    assert "BLEU greedy:" in outputs and "BLEU beam 4:" in outputs and "TFLite" in outputs
    assert images >= 1  # the attention map is shown, not only drawn
