"""MultiWorkerMirroredStrategy: two CPU worker processes on 127.0.0.1 train one model together."""

import json
import re
import subprocess
import sys

import pytest

from conftest import FIXTURE, ROOT, free_port, tiny_overrides
from sentiment.model_folder import load_classifier
from sentiment.distributed import cluster_spec, weights_digest
from test_commands import ENV


@pytest.mark.slow
def test_two_workers_train_one_model(tmp_path):
    ports = [free_port()]
    while len(ports) < 2:
        port = free_port()
        if port not in ports:
            ports.append(port)
    out = tmp_path / "model"
    command = [sys.executable, "-m", "training.train", "--data", str(FIXTURE), "--out", str(out),
               "--work-dir", str(tmp_path / "work"), "--strategy", "multi_worker", "--quiet",
               *tiny_overrides(epochs=2, patience=2, batch_size=4)]
    workers = []
    for index in range(2):
        tf_config = {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]}, "task": {"type": "worker", "index": index}}
        workers.append(subprocess.Popen(command, cwd=ROOT, env={**ENV, "TF_CONFIG": json.dumps(tf_config)},
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    logs = []
    try:
        for process in workers:
            logs.append(process.communicate(timeout=400)[0].decode())
    finally:
        for process in workers:
            process.kill()
    for process, log in zip(workers, logs):
        assert process.returncode == 0, log[-3000:]

    # Each worker ran half of the batches (the fixture's 24 training reviews in batches of 4 make 6)...
    for log in logs:
        assert re.findall(r"epoch \d/2 on 2 worker\(s\): (\d+) steps", log) == ["3", "3"]
    # ...and they hold bit-identical weights at the end: one model, trained together.
    digests = [re.search(r"best weights digest (\w+)", log).group(1) for log in logs]
    assert digests[0] == digests[1]
    # The chief (worker 0) saved it; the saved weights are the ones the workers trained.
    classifier = load_classifier(out)
    assert weights_digest(classifier.model.layers[-1]) == digests[0]
    assert json.loads((out / "metrics.json").read_text())["test"] is not None


def test_bad_tf_config_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {}}')
    with pytest.raises(ValueError, match="TF_CONFIG is not valid"):
        cluster_spec()
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}')
    with pytest.raises(ValueError, match="does not name one of the 1 workers"):
        cluster_spec()
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"chief": ["a:1"], "worker": ["b:1"]}, "task": {"type": "worker", "index": 0}}')
    with pytest.raises(ValueError, match="uses only a 'worker' job"):
        cluster_spec()
    monkeypatch.delenv("TF_CONFIG")
    assert cluster_spec() == (1, 0)
