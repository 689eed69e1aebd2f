"""applications/document_classifier.ipynb runs end to end in quick mode."""

import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOK = os.path.join(ROOT, "applications", "document_classifier.ipynb")
SHARED = os.path.join(ROOT, "..", "shared", "data", "docclass", "movie_reviews")


@pytest.mark.skipif(not os.path.isdir(SHARED), reason="needs ../shared/data movie reviews (no network in tests)")
def test_notebook_runs_in_quick_mode(monkeypatch, tmp_path):
    import nbclient
    import nbformat

    monkeypatch.setenv("KZOO_QUICK", "1")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": ROOT}}).execute()
    outputs = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    images = sum("image/png" in o.get("data", {}) for c in notebook.cells for o in c.get("outputs", []))
    assert "| macro |" in outputs and "ROC-AUC" in outputs
    assert images >= 2  # the ROC / PR / confusion figure and the attention figure
    saved, tflite = map(float, re.search(r"SavedModel max \|difference\|: (\S+)\nTFLite max \|difference\|: (\S+)", outputs).groups())
    assert saved <= 1e-5 and tflite <= 1e-5
