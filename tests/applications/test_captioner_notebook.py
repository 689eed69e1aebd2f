import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOK = os.path.join(ROOT, "applications", "captioner.ipynb")


def test_notebook_runs_in_quick_mode(monkeypatch):
    import nbclient
    import nbformat

    monkeypatch.setenv("KZOO_QUICK", "1")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": os.path.join(ROOT, "applications")}}
    ).execute()
    outputs = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert "seen compositions: BLEU-4" in outputs and "novel compositions: BLEU-4" in outputs
    assert "TFLite agrees" in outputs
