"""`kzoo demo`: attention pooling learns to look at the marked position."""

import re

from kzoo import cli


def test_demo_learns_where_to_look(tmp_path, capsys):
    assert cli.main(["demo", "--epochs", "10", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    hit = float(re.search(r"marked position in ([\d.]+)% of test", printed).group(1))
    mse, baseline = map(float, re.search(r"test MSE ([\d.]+) \(mean pooling of the same feature: ([\d.]+)\)", printed).groups())
    assert hit >= 90.0 and mse < 0.2 * baseline
    assert (tmp_path / "attention_demo.png").stat().st_size > 1000
