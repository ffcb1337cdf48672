"""The side-by-side throughput benchmark, on the fixture and a tiny model (figures are not checked, the table is)."""

import json
import shutil

import pytest

from benchmarks import throughput
from conftest import FIXTURE


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
    cells = [c.strip() for c in rows[1].split("|")[1:-1]]
    assert cells[1] == "4" and float(cells[2]) == accuracy
    assert len(cells[4].split(", ")) == 3 and float(cells[3]) > 0


def test_bad_arguments_are_refused(trained_model):
    for arguments in ([str(trained_model), "--passes", "0"], [str(trained_model), str(trained_model)]):
        with pytest.raises(SystemExit) as exit_info:
            throughput.main(arguments)
        assert exit_info.value.code == 2
