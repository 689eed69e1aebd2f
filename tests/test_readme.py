"""The README's code that runs in seconds runs as written, and says what it claims."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_readme_layers_and_metrics_example_runs_and_prints_what_it_says(capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layers and metrics", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert float(namespace["auc"].result()) == 0.75  # the value the README's comment gives
    assert tuple(namespace["pooled"].shape) == (2, 16)  # "(2, 16), a learned query"
    assert len(readme.encode("utf-8")) < 10_000, "the README should stay under 10 KB"
