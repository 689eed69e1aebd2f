"""`import kzoo` alone registers every public layer, metric and model for `.keras` loading."""

import subprocess
import sys

CHECK = """
import inspect, keras, kzoo
missing = []
for package in (kzoo.layers, kzoo.metrics, kzoo.applications, kzoo.audio, kzoo.text):
    for name in package.__all__:
        obj = getattr(package, name)
        if inspect.isclass(obj) and issubclass(obj, (keras.layers.Layer, keras.metrics.Metric)):
            if keras.saving.get_registered_object(f"kzoo>{name}") is not obj:
                missing.append(name)
print("MISSING", missing)
"""


def test_import_kzoo_registers_every_public_class():
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "MISSING []" in result.stdout, result.stdout
