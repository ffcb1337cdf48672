"""The side-by-side throughput benchmark, on the fixture and a tiny model (figures are not checked, the table is)."""

import json
import shutil

import pytest

from benchmarks import throughput
from conftest import FIXTURE
from sentiment.model_folder import load_classifier


def test_models_take_turns_and_the_table_gives_medians_and_ratios(trained_model, tmp_path, capsys):
    out, other = tmp_path / "throughput.md", tmp_path / "other"
    shutil.copytree(trained_model, other)
    assert throughput.main([str(trained_model), str(other), "--data", str(FIXTURE), "--batches", "1",
                            "--passes", "3", "--out", str(out)]) == 0
    text = out.read_text()
    assert text in capsys.readouterr().out
    rows = [line for line in text.splitlines() if line.startswith(("| `" + str(trained_model), "| `" + str(other)))]
    assert len(rows) == 2 and rows[0].startswith(f"| `{trained_model}`") and rows[0].endswith("| 1.00x |")
    accuracy = json.loads((trained_model / "metrics.json").read_text())["test"]["accuracy"]
    first, second = ([c.strip() for c in row.split("|")[1:-1]] for row in rows)
    compiled = load_classifier(trained_model, compiled=True).compiled
    assert second[1] == "4" and float(second[2]) == accuracy and second[3] == ("yes" if compiled else "no (graph)")
    for cells in (first, second):
        passes = cells[5].split(", ")
        assert len(passes) == 3 and cells[4] == sorted(passes, key=float)[1]  # the median of three passes
    ratio = float(second[6].rstrip("x"))
    assert ratio == pytest.approx(float(second[4]) / float(first[4]), abs=0.01 + 0.01 * ratio)


def test_bad_arguments_are_refused(trained_model, capsys):
    for arguments in ([str(trained_model), "--passes", "0"], [str(trained_model), "--batches", "0"],
                      [str(trained_model), str(trained_model) + "/"], [str(trained_model), "/nonexistent"],
                      [str(trained_model), "--data", "/nonexistent/aclImdb_v1.tar.gz"]):
        with pytest.raises(SystemExit) as exit_info:
            throughput.main(arguments)
        assert exit_info.value.code == 2
    assert "data path not found: /nonexistent/aclImdb_v1.tar.gz" in capsys.readouterr().err
