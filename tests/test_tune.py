"""keras-tuner search: the HyperModel adapter, resume after a kill, chief + workers on loopback."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras_tuner as kt
import pytest

from conftest import FIXTURE, ROOT, free_port, tiny_overrides
from sentiment.config import Config
from sentiment.fitting import compile_model
from sentiment.model import build_model
from sentiment.tuning import SentimentHyperModel, make_tuner, search_space

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}


def tune_command(tmp_path, project, *extra):
    return [sys.executable, "-m", "training.tune", "--data", str(FIXTURE), "--project", project,
            "--dir", str(tmp_path / "tuner"), "--report-dir", str(tmp_path / "reports"),
            "--models-dir", str(tmp_path / "models"), "--quiet", *tiny_overrides(), *extra]


def completed_trials(tuner_dir: Path) -> dict:
    trials = {}
    for path in tuner_dir.glob("*/trial_*/trial.json"):
        trial = json.loads(path.read_text())  # written atomically (tmp + rename), so never half a file
        if trial["status"] == "COMPLETED":
            trials[trial["trial_id"]] = trial["score"]
    return trials


def test_keras_tuner_json_files_are_written_atomically_during_a_search_only(tmp_path, monkeypatch):
    from keras_tuner.src import utils

    from sentiment import model_folder, tuning

    original = utils.save_json
    with tuning.atomic_tuner_files():  # what Stateful.save (trial, oracle, tuner files) calls meanwhile
        assert utils.save_json is not original
        target = tmp_path / "trial.json"
        utils.save_json(str(target), {"status": "COMPLETED"})
        assert json.loads(target.read_text()) == {"status": "COMPLETED"}

        def crash(src, dst):  # the process dies after writing the new content, before the rename
            raise OSError("killed")

        monkeypatch.setattr(model_folder.os, "replace", crash)
        with pytest.raises(OSError):
            utils.save_json(str(target), {"status": "RUNNING", "pad": "x" * 100000})
        monkeypatch.undo()
        assert json.loads(target.read_text()) == {"status": "COMPLETED"}  # the old file is whole
        assert [p.name for p in tmp_path.iterdir()] == ["trial.json"]  # and no temporary file is left
    assert utils.save_json is original  # nothing is patched at import time or after the search


def test_defaults_of_the_search_space_are_the_default_config():
    base = Config().replace(units=8, embedding_dim=8, clipnorm=1.0)
    hp = kt.HyperParameters()
    searched = SentimentHyperModel(100, base).build(hp)
    assert search_space(hp, base) == base
    assert searched.count_params() == build_model(100, base.model).count_params()
    assert searched.optimizer.clipnorm == compile_model(build_model(100, base.model), base.train).optimizer.clipnorm == 1.0


def test_one_search_space_builds_the_trial_and_names_the_retrained_config():
    base = Config().replace(units=8, embedding_dim=8, global_clipnorm=1.0)
    hp = kt.HyperParameters()
    hp.Fixed("cell", "lstm"), hp.Fixed("units", 32), hp.Fixed("learning_rate", 0.01), hp.Fixed("clipnorm", 5.0)
    config = search_space(hp, base)
    assert (config.model.cell, config.model.units, config.train.learning_rate) == ("lstm", 32, 0.01)
    assert config.train.clipping() == {"clipnorm": 5.0}  # clipping is searched as clipnorm alone
    trial = SentimentHyperModel(100, base).build(hp)
    assert trial.count_params() == build_model(100, config.model).count_params()
    assert trial.optimizer.clipnorm == 5.0 and trial.optimizer.learning_rate.numpy() == pytest.approx(0.01)


def test_search_writes_leaderboard_and_retrains_the_best(tmp_path):
    result = subprocess.run(tune_command(tmp_path, "small", "--algorithm", "random", "--max-trials", "3", "--max-epochs", "1"),
                            cwd=ROOT, env=ENV, capture_output=True, timeout=600)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    summary = json.loads(result.stdout.decode().strip().splitlines()[-1])
    assert summary["trials"] == 3 and summary["test_accuracy"] is not None
    board = (tmp_path / "reports" / "small" / "leaderboard.csv").read_text().splitlines()
    assert len(board) == 4 and board[0].startswith("trial,cell,num_layers")
    assert "| val_accuracy |" in (tmp_path / "reports" / "small" / "leaderboard.md").read_text()
    model_dir = tmp_path / "models" / "tuned-small"
    assert {"model.keras", "config.json", "metrics.json"} <= {p.name for p in model_dir.iterdir()}
    assert json.loads((model_dir / "metrics.json").read_text())["test"]["n"] == 16


@pytest.mark.parametrize("tuner_file", [True, False], ids=["later-trial", "first-trial"])
def test_reload_settles_trials_a_kill_left_between_two_files(tmp_path, tuner_file):
    # keras-tuner writes trial.json, then oracle.json, then (after a trial ends) its tuner file:
    # kill between the first two, on both kinds of write, before or after the tuner file exists.
    hypermodel = SentimentHyperModel(100, Config().replace(units=8, embedding_dim=8))
    def reload():
        return make_tuner("random", hypermodel, max_trials=5, max_epochs=1, directory=str(tmp_path),
                          project_name="p", overwrite=False).oracle
    oracle = reload()
    finished = oracle.create_trial("tuner0")
    finished.status, finished.score = "COMPLETED", 0.75
    oracle._save_trial(finished)  # its trial.json says finished; oracle.json still lists it as running
    oracle_file = tmp_path / "p" / "oracle.json"
    before = oracle_file.read_text()
    unrecorded = oracle.create_trial("tuner1")
    oracle_file.write_text(before)  # a new trial whose trial.json was written, oracle.json not
    if not tuner_file:
        (tmp_path / "p" / "tuner0.json").unlink()

    oracle = reload()
    assert oracle._retry_queue == [] and unrecorded.trial_id not in oracle.trials
    assert oracle.trials[finished.trial_id].status == "COMPLETED" and oracle.trials[finished.trial_id].score == 0.75
    assert finished.trial_id in oracle.end_order
    again = oracle.create_trial("tuner0")  # the one that never ran, made again as it was the first time
    assert again.trial_id == unrecorded.trial_id and again.hyperparameters.values == unrecorded.hyperparameters.values
    assert oracle.create_trial("tuner1").trial_id not in (finished.trial_id, unrecorded.trial_id)


KILL_AFTER_TRIAL = """
import os, signal, sys
import keras_tuner as kt

on_trial_end = kt.Tuner.on_trial_end

def kill_after_the_first(self, trial):  # once trial.json, oracle.json and the tuner file are written: SIGKILL
    on_trial_end(self, trial)
    os.kill(os.getpid(), signal.SIGKILL)

kt.Tuner.on_trial_end = kill_after_the_first
from training import tune
sys.exit(tune.main(sys.argv[1:]))
"""


def test_rerun_after_kill_keeps_finished_trials(tmp_path):
    command = tune_command(tmp_path, "resume", "--algorithm", "random", "--max-trials", "4", "--max-epochs", "2", "--no-export")
    killed = subprocess.run([sys.executable, "-c", KILL_AFTER_TRIAL, *command[3:]], cwd=ROOT, env=ENV,
                            capture_output=True, timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-3000:]
    before = completed_trials(tmp_path / "tuner")
    assert len(before) == 1  # killed right after its first trial
    stamps = {tid: (tmp_path / "tuner" / "resume" / f"trial_{tid}" / "run.json").stat().st_mtime_ns for tid in before}

    result = subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, timeout=600)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    after = completed_trials(tmp_path / "tuner")
    assert len(after) == 4
    for tid, score in before.items():  # finished trials kept as they were, not rerun
        assert after[tid] == score
        assert (tmp_path / "tuner" / "resume" / f"trial_{tid}" / "run.json").stat().st_mtime_ns == stamps[tid]

    changed = list(command)
    changed[changed.index("--max-trials") + 1] = "5"  # a different search under the same name
    refused = subprocess.run(changed, cwd=ROOT, env=ENV, capture_output=True, timeout=600)
    assert refused.returncode == 2 and b"other data or settings" in refused.stderr


def test_chief_and_two_workers_on_loopback(tmp_path):
    port = free_port()
    command = tune_command(tmp_path, "cluster", "--algorithm", "random", "--max-trials", "4", "--max-epochs", "1", "--no-export")
    def start(tuner_id):
        env = {**ENV, "KERASTUNER_TUNER_ID": tuner_id, "KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(port)}
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    chief = start("chief")
    time.sleep(3)
    workers = [start("tuner0"), start("tuner1")]
    try:
        for process in workers + [chief]:
            output = process.communicate(timeout=600)[0].decode()
            assert process.returncode == 0, output[-3000:]
    finally:
        for process in workers + [chief]:
            if process.poll() is None:
                process.kill()
    ran_by = [json.loads(p.read_text())["tuner_id"] for p in (tmp_path / "tuner" / "cluster").glob("trial_*/run.json")]
    assert len(ran_by) == 4
    assert set(ran_by) == {"tuner0", "tuner1"}, ran_by
    board = (tmp_path / "reports" / "cluster" / "leaderboard.csv").read_text().splitlines()
    assert len(board) == 5
