import os

from kzoo.testing.application_test import run_notebook

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOK = os.path.join(ROOT, "applications", "captioner.ipynb")


def test_notebook_runs_in_quick_mode():
    outputs, images = run_notebook(NOTEBOOK, os.path.join(ROOT, "applications"))
    assert "seen compositions: BLEU-4" in outputs and "novel compositions: BLEU-4" in outputs
    assert "TFLite agrees" in outputs
    assert images >= 1  # the attention over the photo is shown, not only drawn
