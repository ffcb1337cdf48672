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
