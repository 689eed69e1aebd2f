import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOK = os.path.join(ROOT, "applications", "translator.ipynb")
SHARED = os.path.join(ROOT, "..", "shared", "data", "translation", "spa-eng", "train.tsv")


@pytest.mark.skipif(not os.path.isfile(SHARED), reason="needs ../shared/data Spanish-English pairs (no network in tests)")
def test_notebook_runs_in_quick_mode(monkeypatch):
    import nbclient
    import nbformat

    monkeypatch.setenv("KZOO_QUICK", "1")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": ROOT}}).execute()
    outputs = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert "BLEU greedy:" in outputs and "BLEU beam 4:" in outputs and "TFLite" in outputs
