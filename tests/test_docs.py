"""The documentation site builds in strict mode and its API reference covers every public class and function."""

import importlib
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Every package whose `__all__` is the public API, and the page that documents it.
PACKAGES = {
    "kzoo.layers": "api/layers",
    "kzoo.layers.scores": "api/layers",
    "kzoo.metrics": "api/metrics",
    "kzoo.applications": "api/applications",
    "kzoo.seq2seq": "api/seq2seq",
    "kzoo.seq2seq.samplers": "api/seq2seq",
    "kzoo.seq2seq.schedules": "api/seq2seq",
    "kzoo.text": "api/text",
    "kzoo.audio": "api/audio",
    "kzoo.vision": "api/vision",
    "kzoo.data": "api/data",
    "kzoo.export": "api/export",
    "kzoo.training": "api/training",
    "kzoo.plot": "api/plot",
    "kzoo.testing.layer_test": "api/testing",
    "kzoo.testing.metric_test": "api/testing",
    "kzoo.testing.application_test": "api/testing",
    "kzoo.testing.distributed": "api/testing",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocstrings", reason="the docs tools are the `docs` extra: pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=600,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return out


def test_every_public_class_and_function_has_an_api_entry(site):
    missing = []
    for package, page in PACKAGES.items():
        html = (site / page / "index.html").read_text(encoding="utf-8")
        anchors = set(re.findall(r'id="([\w.]+)"', html))
        module = importlib.import_module(package)
        for name in module.__all__:
            public = getattr(module, name)
            # Classes and functions get an entry; modules get a section of their own, constants none.
            if callable(public) and f"{package}.{name}" not in anchors:
                missing.append(f"{package}.{name}")
    assert not missing, f"not in the API reference: {missing}"


def test_every_package_with_a_public_api_has_a_page():
    kzoo = ROOT / "kzoo"
    packages = {f"kzoo.{p.parent.name}" for p in kzoo.glob("*/__init__.py")}
    documented = {name.rsplit(".", 1)[0] if name.count(".") > 1 else name for name in PACKAGES}
    assert packages - {"kzoo.commands"} <= documented | {"kzoo.testing"}, packages - documented


def test_guides_and_readme_link_to_pages_that_exist():
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+\.(?:md|png))\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.relative_to(ROOT)} links to missing {target}"
