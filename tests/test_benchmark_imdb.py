"""The IMDB benchmark command runs end to end on the fixture and writes its table."""

import json

import pytest

from benchmarks import imdb
from conftest import FIXTURE


@pytest.mark.slow
def test_benchmark_writes_table_with_every_part(tmp_path, capsys):
    out = tmp_path / "imdb.md"
    assert imdb.main(["--data", str(FIXTURE), "--skip", "default", "--out", str(out), "--work", str(tmp_path / "w"),
                      "--set", "units=4", "--set", "embedding_dim=8", "--set", "epochs=1", "--set", "max_tokens=100"]) == 0
    table = out.read_text()
    figures = json.loads(out.with_suffix(".json").read_text())
    systems = [r["system"] for r in figures["systems"]]
    assert systems[0].startswith("TF-IDF") and systems[1].startswith("NBSVM") and systems[2].startswith("Keras example")
    for row in figures["systems"]:
        assert 0.0 <= row["test_accuracy"] <= 1.0 and row["reviews_per_second"] > 0
        assert row["system"] in table
    assert [r["batching"] for r in figures["throughput"]] == ["fixed", "bucket"]
    for row in figures["throughput"]:
        assert row["tokens_per_epoch"] > 0 and row["tokens_per_second"] > 0
    assert "faster than padding every batch to 800 tokens" in table
    assert "Keras example" in capsys.readouterr().out


def test_a_run_recorded_as_taking_no_time_gives_finite_rates():
    """metrics.json rounds seconds (test to 0.01 s, training to 0.1 s): a 16-review evaluation can read 0.0."""
    metrics = {"test": {"accuracy": 0.5, "n": 16, "seconds": 0.0}, "validation": {"accuracy": 0.5},
               "training_seconds": 0.0, "epochs": 1}
    row = imdb.figures(metrics)
    assert row["reviews_per_second"] == 16 / 0.005  # at least this many: the run took under 0.005 s
    assert row["seconds_per_epoch"] == 0.05 and row["training_seconds"] == 0.0  # the recorded figure, unchanged
    assert imdb.figures({**metrics, "test": {**metrics["test"], "seconds": 2.0}})["reviews_per_second"] == 8.0
