"""applications/document_classifier.ipynb runs end to end in quick mode."""

import os
import re

import pytest

from kzoo.testing.application_test import run_notebook

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOK = os.path.join(ROOT, "applications", "document_classifier.ipynb")
SHARED = os.path.join(ROOT, "..", "shared", "data", "docclass", "movie_reviews")


@pytest.mark.skipif(not os.path.isdir(SHARED), reason="needs ../shared/data movie reviews (no network in tests)")
def test_notebook_runs_in_quick_mode():
    outputs, images = run_notebook(NOTEBOOK, ROOT)
    assert "| macro |" in outputs and "ROC-AUC" in outputs
    assert images >= 2  # the ROC / PR / confusion figure and the attention figure
    saved, tflite = map(float, re.search(r"SavedModel max \|difference\|: (\S+)\nTFLite max \|difference\|: (\S+)", outputs).groups())
    assert saved <= 1e-5 and tflite <= 1e-5
