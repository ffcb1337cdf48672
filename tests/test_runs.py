"""Resume bookkeeping (the run folder, the resumable callbacks) and atomic saving, without training a real model."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from sentiment import model_folder
from sentiment.callbacks import BestWeights, ResumableEarlyStopping
from sentiment.runs import RunFolder, TrainingError


def history(*scores):
    return [{"epoch": str(i), "val_accuracy": str(s)} for i, s in enumerate(scores)]


def test_early_stopping_counts_epochs_before_the_resume():
    stopper = ResumableEarlyStopping(history(0.80, 0.85, 0.84), monitor="val_accuracy", mode="max", patience=2)
    stopper.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    stopper.on_train_begin()
    assert stopper.best == 0.85 and stopper.wait == 1
    stopper.on_epoch_end(3, {"val_accuracy": 0.83})
    assert stopper.model.stop_training  # two epochs without gain, one of them before the kill


def test_best_weights_remember_the_score_before_the_resume(tmp_path):
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    path = tmp_path / "best.weights.h5"
    model.save_weights(str(path))
    saved = [w.copy() for w in model.get_weights()]
    keeper = BestWeights(history(0.9), path)
    keeper.set_model(model)
    model.layers[0].kernel.assign(np.full((1, 1), 7.0))
    keeper.on_epoch_end(1, {"val_accuracy": 0.8})  # worse than before the kill: keep the old file
    model.load_weights(str(path))
    np.testing.assert_array_equal(model.get_weights()[0], saved[0])
    model.layers[0].kernel.assign(np.full((1, 1), 7.0))
    keeper.on_epoch_end(2, {"val_accuracy": 0.95})
    model.load_weights(str(path))
    assert model.get_weights()[0][0, 0] == 7.0
    assert not list(tmp_path.glob(".tmp-*"))


def test_run_folder_only_deletes_its_own_files(tmp_path):
    run = RunFolder(tmp_path / "run")
    run.start("a", {})
    run.path("vocabulary.txt").write_text("x")
    (tmp_path / "run" / "mine.txt").write_text("keep")
    assert run.start("a", {}) is True
    assert run.start("b", {}) is False and not run.path("vocabulary.txt").exists()  # no epoch: nothing to keep
    run.finish()
    assert (tmp_path / "run" / "mine.txt").read_text() == "keep"
    other = tmp_path / "other"
    other.mkdir()
    (other / "x").write_text("x")
    with pytest.raises(TrainingError, match="not a run of this project"):
        RunFolder(other)


def test_a_different_command_never_discards_completed_epochs_silently(tmp_path):
    run = RunFolder(tmp_path / "run")
    old = {"config": {"train": {"learning_rate": 0.001, "epochs": 4}}, "data": "a.tar.gz"}
    run.start("a", old)
    run.path("history.csv", "teacher").write_text("epoch,loss\n0,0.5\n")
    new = {"config": {"train": {"learning_rate": 0.002, "epochs": 4}}, "data": "a.tar.gz"}
    with pytest.raises(TrainingError, match=r"train.learning_rate: 0.001 -> 0.002\). Rerun that command.*--restart"):
        run.start("b", new)
    assert run.path("history.csv", "teacher").exists()
    assert run.start("a", old) is True  # the recorded command still resumes
    assert run.start("b", new, restart=True) is False and not run.path("history.csv", "teacher").exists()


def test_write_folder_replaces_only_model_folders(tmp_path):
    out = tmp_path / "m"
    model_folder.save_folder(out, lambda folder: (folder / "model.keras").write_text("v1"))
    model_folder.save_folder(out, lambda folder: (folder / "model.keras").write_text("v2"))
    assert (out / "model.keras").read_text() == "v2"
    assert [p.name for p in tmp_path.iterdir()] == ["m"]
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("a")
    with pytest.raises(FileExistsError, match="not a model folder"):
        model_folder.save_folder(tmp_path / "notes", lambda folder: None)


def test_a_failed_write_leaves_the_old_folder(tmp_path):
    out = tmp_path / "m"
    model_folder.save_folder(out, lambda folder: (folder / "model.keras").write_text("v1"))

    def broken(folder):
        (folder / "model.keras").write_text("half")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        model_folder.save_folder(out, broken)
    assert (out / "model.keras").read_text() == "v1"
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_recover_puts_back_a_set_aside_model_and_spares_live_saves(tmp_path):
    out = tmp_path / "m"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    (tmp_path / f".m.old-{dead_pid}-abc").mkdir()
    (tmp_path / f".m.old-{dead_pid}-abc" / "model.keras").write_text("previous")
    (tmp_path / f".m.tmp-{dead_pid}-def").mkdir()
    live = tmp_path / f".m.tmp-{os.getppid()}-ghi"  # a save in progress in a live process
    live.mkdir()
    model_folder.recover(out)
    assert (out / "model.keras").read_text() == "previous"
    assert not (tmp_path / f".m.tmp-{dead_pid}-def").exists()
    assert live.exists()


def test_one_dataset_named_by_two_paths_is_one_run(tmp_path, monkeypatch):
    """``../data/x.tar.gz`` and ``/abs/data/x.tar.gz`` are the same data: the rerun resumes."""
    from conftest import FIXTURE
    from sentiment.config import Config
    from sentiment.distributed import Devices
    from sentiment.training import _start_run

    config, logged = Config(), []
    devices = Devices("default", config)
    run = _start_run(config, str(FIXTURE.resolve()), tmp_path / "m", tmp_path / "w", devices, logged.append, False)
    run.path("history.csv").write_text("epoch,loss\n0,0.5\n")
    monkeypatch.chdir(FIXTURE.parent)
    _start_run(config, os.path.join(".", FIXTURE.name), tmp_path / "m", tmp_path / "w", devices, logged.append, False)
    assert "resuming the interrupted run found in the work folder" in logged
    assert run.path("history.csv").exists()
