import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOK = os.path.join(ROOT, "applications", "speech_to_text.ipynb")
FSDD = os.path.join(os.path.dirname(ROOT), "shared", "data", "speech", "fsdd")


def test_notebook_runs_in_quick_mode(monkeypatch):
    if not os.path.isdir(FSDD):
        pytest.skip(f"the notebook trains on FSDD, read from {FSDD} (absent here); elsewhere it downloads it")
    import nbclient
    import nbformat

    monkeypatch.setenv("KZOO_QUICK", "1")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": os.path.join(ROOT, "applications")}}
    ).execute()
    outputs = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert "held-out speaker" in outputs and "WER" in outputs
    assert "TFLite agrees" in outputs
