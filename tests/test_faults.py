"""Faults injected for real: SIGKILL while a model folder is being saved.

The training command runs in a child process whose ``sentiment.model_folder`` is wrapped so
that the process kills itself (SIGKILL, no cleanup) at a precise point of the save: after the
new ``model.keras`` is written into the temporary folder, or between setting the old folder
aside and moving the new one in. The previous model must load afterwards without the load
changing the disk, and rerunning the same command must finish the save (putting back the
set-aside folder first) and leave no leftovers.
"""

import json
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

from conftest import ENV, FIXTURE, ROOT, tiny_overrides
from sentiment.model_folder import load_classifier

KILLER = r"""
import os, signal, sys
import sentiment.model_folder as model_folder
point = sys.argv[1]
original_save_folder, original_replace = model_folder.save_folder, os.replace

def save_folder(out, write):
    def killing_write(folder):
        write(folder)
        if point == "after-write":
            os.kill(os.getpid(), signal.SIGKILL)
    return original_save_folder(out, killing_write)

def replace(src, dst):
    if point == "between-renames" and ".old-" in str(dst):  # the old folder was just set aside
        original_replace(src, dst)
        os.kill(os.getpid(), signal.SIGKILL)
    return original_replace(src, dst)

model_folder.save_folder = save_folder
model_folder.os.replace = replace
sys.argv = ["training.train"] + sys.argv[2:]
from training import train
sys.exit(train.main(sys.argv[1:]))
"""


TEXTS = ["a wonderful film", "dull and boring"]


def place_previous_model(trained_model, out):
    """Put a trained model at ``out``; return its predictions on TEXTS, to compare after the fault."""
    shutil.copytree(trained_model, out)
    return load_classifier(out).predict(TEXTS)


def snapshot(folder) -> list[tuple[str, int]]:
    """Every path under ``folder`` with its size: what must not change when a model is only loaded."""
    return sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*"))


def retrain_arguments(out, tmp_path) -> list[str]:
    """A tiny training run that replaces ``out`` (seed 7 marks the new model's config)."""
    return ["--data", str(FIXTURE), "--out", str(out), "--work-dir", str(tmp_path / "work"), "--quiet",
            "--no-test", *tiny_overrides(epochs=1, seed=7)]


@pytest.mark.slow
@pytest.mark.parametrize("point", ["after-write", "between-renames"])
def test_kill_while_saving_keeps_the_previous_model(trained_model, tmp_path, point):
    models = tmp_path / "saved_models"
    out = models / "tiny"
    before = place_previous_model(trained_model, out)
    command = retrain_arguments(out, tmp_path)
    killed = subprocess.run([sys.executable, "-c", KILLER, point, *command], cwd=ROOT, env=ENV,
                            capture_output=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    leftovers = [p.name for p in models.iterdir() if p.name != "tiny"]
    assert leftovers, "the kill should leave a half-done save behind"

    # The previous model is intact and loads: in place, or where the killed save set it aside,
    # read there without renaming anything (loading never changes the disk).
    disk = snapshot(models)
    if point == "between-renames":
        assert not out.exists()
        with pytest.warns(RuntimeWarning, match="set(ting)? the previous model aside"):
            after_kill = load_classifier(out)
        assert after_kill.path.name.startswith(".tiny.old-")
    else:
        after_kill = load_classifier(out)
    np.testing.assert_allclose(after_kill.predict(TEXTS), before, atol=1e-6)
    assert snapshot(models) == disk

    # The same command again finishes the save (training resumes from the run folder) and cleans up.
    rerun = subprocess.run([sys.executable, "-m", "training.train", *command], cwd=ROOT, env=ENV,
                           capture_output=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
    assert [p.name for p in models.iterdir()] == ["tiny"]
    assert json.loads((out / "config.json").read_text())["data"]["seed"] == 7  # the new model
    assert load_classifier(out).predict(TEXTS).shape == (2,)


@pytest.fixture
def small_disk(tmp_path):
    """Mount a real tmpfs of a given size (needs root, as on this project's machines and CI)."""
    mounted = []

    def mount(size_kb: int, options: str = ""):
        folder = tmp_path / f"disk{len(mounted)}"
        folder.mkdir()
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k{options}", "tmpfs", str(folder)],
                                capture_output=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs to fill a disk for real: {result.stderr.decode().strip()}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", str(folder)], capture_output=True)


def test_nearly_full_disk_is_refused_before_training(small_disk, tmp_path, capsys):
    from training import train

    disk = small_disk(1024)
    code = train.main(["--data", str(FIXTURE), "--out", str(disk / "model"), "--work-dir", str(tmp_path / "w"),
                       "--quiet", "--no-test", *tiny_overrides(epochs=1)])
    err = capsys.readouterr().err
    assert code == 2 and "MB free on the disk of the output folder" in err and "Free some space" in err
    assert list(disk.iterdir()) == []  # refused before anything was written


SAVE_ON_A_FULL_DISK = r"""
import sys
import sentiment.runs
sentiment.runs.MIN_FREE_BYTES = 0  # let it start; the disk fills up while saving
from training import train
sys.exit(train.main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_disk_full_while_saving_keeps_the_previous_model(small_disk, trained_model, tmp_path):
    size_kb = sum(p.stat().st_size for p in trained_model.iterdir()) // 1024
    disk = small_disk(size_kb + size_kb // 2)  # room for the old model, not for a second copy
    out = disk / "tiny"
    before = place_previous_model(trained_model, out)
    command = retrain_arguments(out, tmp_path)
    result = subprocess.run([sys.executable, "-c", SAVE_ON_A_FULL_DISK, *command], cwd=ROOT, env=ENV,
                            capture_output=True, timeout=300)
    err = result.stderr.decode()
    assert result.returncode == 2, err[-2000:]
    assert "could not save the model" in err and "No space left on device" in err and "rerun" in err
    assert [p.name for p in disk.iterdir()] == ["tiny"]  # no half-written folder left
    np.testing.assert_allclose(load_classifier(out).predict(TEXTS), before, atol=1e-6)
    assert (tmp_path / "work" / "fit_done").exists()  # the trained run is kept for the rerun


def test_read_only_output_folder_is_refused_before_training(small_disk, tmp_path, capsys):
    from training import train

    disk = small_disk(1024, ",ro")
    code = train.main(["--data", str(FIXTURE), "--out", str(disk / "model"), "--work-dir", str(tmp_path / "w"),
                       "--quiet", "--no-test", *tiny_overrides(epochs=1)])
    err = capsys.readouterr().err
    assert code == 2 and "cannot write the output folder" in err and "Read-only file system" in err
    assert not (tmp_path / "w" / "history.csv").exists()  # no training happened
