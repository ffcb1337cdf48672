"""Ensembles: models of several cells trained in turn and averaged into one saved model."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import FIXTURE, ROOT, tiny_overrides
from sentiment.classifier import describe, load_classifier
from sentiment.config import ModelConfig
from sentiment.training import read_history
from test_commands import ENV


def test_ensemble_setting_is_validated():
    assert ModelConfig(ensemble="lstm, gru").member_cells() == ["lstm", "gru"]
    assert ModelConfig(cell="lstm").member_cells() == ["lstm"]
    assert "ensemble" not in ModelConfig(ensemble="lstm,gru").builder_arguments()
    for bad in ("lstm", "lstm,transformer", "lstm,,gru"):
        with pytest.raises(ValueError, match="ensemble"):
            ModelConfig(ensemble=bad)


@pytest.mark.slow
def test_ensemble_trains_each_member_averages_them_and_resumes_after_a_kill(tmp_path):
    out, work = tmp_path / "ensemble", tmp_path / "work"
    command = ["-m", "training.train", "--data", str(FIXTURE), "--out", str(out), "--work-dir", str(work),
               *tiny_overrides(ensemble="lstm,gru", epochs=3, patience=3, max_length=200)]
    process = subprocess.Popen([sys.executable, *command], cwd=ROOT, env=ENV,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first_done = work / "fit_done"  # the first member finished
    deadline = time.time() + 240
    while time.time() < deadline and not first_done.exists():
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert first_done.exists() and not out.exists()

    # One stream, unbuffered, so the progress bar's lines and the log lines keep their order.
    result = subprocess.run([sys.executable, *command], cwd=ROOT, env={**ENV, "PYTHONUNBUFFERED": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    logged = result.stdout.decode()
    assert result.returncode == 0, logged[-2000:]
    # The rerun did not train the finished first member again.
    before_second = logged.split("ensemble member 2 of 2")[0]
    assert "ensemble member 1 of 2" in before_second and "Epoch 1/3" not in before_second
    assert "Epoch 1/3" in logged.split("ensemble member 2 of 2")[1]

    metrics = json.loads((out / "metrics.json").read_text())
    assert [m["cell"] for m in metrics["members"]] == ["lstm", "gru"]
    assert metrics["epochs"] == sum(m["epochs"] for m in metrics["members"])
    assert {row["member"] for row in read_history(out / "history.csv")} == {"lstm", "gru"}

    classifier = load_classifier(out)
    assert describe(classifier)["cell"] == "lstm+gru (averaged)"
    model = classifier.model
    members = [layer for layer in model.layers if layer.name.startswith("member_")]
    assert [m.name for m in members] == ["member_1_lstm", "member_2_gru"]
    texts = ["a wonderful film", "dull and boring", "not bad at all, I liked the actors"]
    ids = model.get_layer("token_window")(model.get_layer("vectorizer")(np.array(texts)))
    by_member = np.stack([m(ids, training=False).numpy().reshape(-1) for m in members])
    np.testing.assert_allclose(classifier.predict(texts), by_member.mean(axis=0), atol=1e-6)
    assert not np.allclose(by_member[0], by_member[1])  # two different models, not one copied
