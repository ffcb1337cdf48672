"""Each command end to end on the fixture: train, evaluate, predict, resume after a kill."""

import json
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

from conftest import FIXTURE, ROOT, tiny_overrides
from sentiment.model_folder import load_classifier
from sentiment.data import load_split
from sentiment.history import read_history
from training import evaluate, train

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}


def run(*args, input=None, timeout=300):
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=ENV, input=input, capture_output=True, timeout=timeout)


def test_train_writes_a_complete_model_folder(trained_model):
    names = {p.name for p in trained_model.iterdir()}
    assert names == {"model.keras", "config.json", "metrics.json", "history.csv", "curves.png", "command.txt", "README.md"}
    card = (trained_model / "README.md").read_text()  # the model card: recipe, figures, limits
    assert "training.train" in card and "Limits" in card
    metrics = json.loads((trained_model / "metrics.json").read_text())
    for key in ("epochs", "training_seconds", "parameters", "vocabulary_size"):
        assert metrics[key] > 0
    for split in ("validation", "test"):
        assert {"accuracy", "loss", "roc_auc", "f1"} <= set(metrics[split])
    assert metrics["test"]["n"] == 16
    assert "training.train" in (trained_model / "command.txt").read_text()
    assert json.loads((trained_model / "config.json").read_text())["model"]["units"] == 4
    assert not list(trained_model.parent.glob(".tiny.*"))  # no temporary leftovers


def test_tiny_model_learns_the_fixture(trained_model):
    metrics = json.loads((trained_model / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] >= 0.75, metrics["test"]


def test_training_path_and_serving_path_agree(trained_model):
    """Vectorizing in tf.data (training) and raw strings into the saved model (serving) give the same scores."""
    from sentiment.pipeline import make_dataset, vectorize

    classifier = load_classifier(trained_model)
    full = classifier.model
    vectorizer, core = full.get_layer("vectorizer"), full.layers[-1]
    reviews = load_split(FIXTURE, "test")
    max_length = classifier.max_length
    dataset = make_dataset(vectorize(reviews.texts, vectorizer, max_length), reviews.labels,
                           batch_size=4, batching="longest", max_length=max_length)
    training_path = np.concatenate([core(ids, training=False).numpy().reshape(-1) for ids, _ in dataset])
    np.testing.assert_allclose(classifier.predict(reviews.texts), training_path, atol=1e-5)


def test_evaluate_on_split_and_on_files(trained_model, tmp_path, capsys):
    assert evaluate.main(["--model", str(trained_model), "--data", str(FIXTURE)]) == 0
    on_split = json.loads(capsys.readouterr().out)
    metrics = json.loads((trained_model / "metrics.json").read_text())
    assert on_split["n"] == 16 and on_split["accuracy"] == pytest.approx(metrics["test"]["accuracy"])
    assert {"precision", "recall", "f1", "roc_auc", "confusion_matrix", "seconds"} <= set(on_split)

    tsv = tmp_path / "mine.tsv"
    tsv.write_text("pos\twonderful superb film\nneg\tawful dull waste\n")
    assert evaluate.main(["--model", str(trained_model), "--file", str(tsv)]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 2

    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nfine,1\nbad,7\n")
    assert evaluate.main(["--model", str(trained_model), "--file", str(bad)]) == 2
    assert "line 3" in capsys.readouterr().err


def test_predict_command_arguments_and_stdin(trained_model):
    result = run("-m", "sentiment.predict", "--model", str(trained_model), "wonderful superb film", "awful dull waste")
    assert result.returncode == 0, result.stderr.decode()
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r["text"] for r in rows] == ["wonderful superb film", "awful dull waste"]
    assert all(0 <= r["score"] <= 1 and r["label"] in ("positive", "negative") for r in rows)
    assert rows[0]["score"] > rows[1]["score"]

    piped = run("-m", "sentiment.predict", "--model", str(trained_model), input=b"great film\n\xff\xfe broken\x85bytes\n\n")
    assert piped.returncode == 0, piped.stderr.decode()
    assert len(piped.stdout.decode().splitlines()) == 2  # \x85 (NEL) does not split a text

    undecodable = run("-m", "sentiment.predict", "--model", str(trained_model), b"caf\xe9 \xff")
    assert undecodable.returncode == 0, undecodable.stderr.decode()
    assert 0 <= json.loads(undecodable.stdout)["score"] <= 1


def test_predict_with_a_missing_model_says_so(tmp_path):
    result = run("-m", "sentiment.predict", "--model", str(tmp_path / "nope"), "text")
    assert result.returncode == 2
    assert "model folder not found" in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()


def test_single_sentence_skips_model_predict(trained_model, monkeypatch):
    classifier = load_classifier(trained_model)

    def forbidden(*args, **kwargs):
        raise AssertionError("model.predict was called")

    monkeypatch.setattr(classifier.model, "predict", forbidden)
    assert classifier.predict("wonderful").shape == (1,)


def test_unknown_config_key_is_rejected(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--data", str(FIXTURE), "--out", str(tmp_path / "m"), "--unitz", "3"])
    assert exit_info.value.code == 2
    assert "--unitz" in capsys.readouterr().err

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"model": {"unitz": 3}}))
    with pytest.raises(SystemExit):
        train.main(["--data", str(FIXTURE), "--out", str(tmp_path / "m"), "--config", str(bad)])
    assert "unknown key(s) ['unitz']" in capsys.readouterr().err


def test_bad_data_path_fails_before_training(tmp_path, capsys):
    assert train.main(["--data", str(tmp_path / "missing"), "--out", str(tmp_path / "m"), "--quiet"]) == 2
    assert "data path not found" in capsys.readouterr().err


KILL_AFTER_EPOCH = """
import os, signal, sys
import keras
import sentiment.fitting as fitting

class KillAfter(keras.callbacks.Callback):  # runs after the backup callback: epoch {n} is on disk, then SIGKILL
    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == {n}:
            os.kill(os.getpid(), signal.SIGKILL)

callbacks = fitting._callbacks
fitting._callbacks = lambda *args, **kwargs: [*callbacks(*args, **kwargs), KillAfter()]
from training import train
sys.exit(train.main(sys.argv[1:]))
"""


def test_rerun_after_sigkill_resumes(tmp_path):
    """Kill training for real (SIGKILL) right after its second epoch is backed up; the same command continues."""
    EPOCHS, KILLED_AFTER = 5, 2  # noqa: N806
    out, work = tmp_path / "model", tmp_path / "work"
    arguments = ["--data", str(FIXTURE), "--out", str(out), "--work-dir", str(work),
                 "--no-test", *tiny_overrides(epochs=EPOCHS, patience=EPOCHS, max_length=200)]
    killed = run("-c", KILL_AFTER_EPOCH.replace("{n}", str(KILLED_AFTER)), *arguments)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    assert len(read_history(work / "history.csv")) == KILLED_AFTER
    assert not out.exists()

    result = run("-m", "training.train", *arguments)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    history = read_history(out / "history.csv")
    assert [int(row["epoch"]) for row in history] == list(range(EPOCHS))
    # The resumed run started after the last backed-up epoch.
    logged = result.stdout.decode() + result.stderr.decode()
    assert int(re.search(rf"Epoch (\d+)/{EPOCHS}", logged).group(1)) == KILLED_AFTER + 1
    assert json.loads((out / "metrics.json").read_text())["epochs"] == EPOCHS


def test_builder_and_data_on_the_same_labels(trained_model):
    classifier = load_classifier(trained_model)
    scores = classifier.predict(["wonderful superb loved", "awful dull hated"])
    assert scores[0] > 0.5 > scores[1]


def test_nan_loss_stops_with_advice_and_saves_nothing(tmp_path, capsys):
    out = tmp_path / "model"
    code = train.main(["--data", str(FIXTURE), "--out", str(out), "--work-dir", str(tmp_path / "work"), "--quiet",
                       *tiny_overrides(learning_rate=1e38, epochs=2, cell="rnn")])
    assert code == 2
    message = capsys.readouterr().err
    assert "diverged" in message and "--global-clipnorm" in message
    assert not out.exists()
    # Following the advice with the same --out: the diverged epoch is not progress to keep, so no --restart.
    assert train.main(["--data", str(FIXTURE), "--out", str(out), "--work-dir", str(tmp_path / "work"), "--quiet",
                       "--no-test", *tiny_overrides(learning_rate=1e-2, epochs=1, cell="rnn")]) == 0


def test_out_that_is_not_a_model_folder_is_refused(tmp_path, capsys):
    precious = tmp_path / "saved_models"
    (precious / "default").mkdir(parents=True)
    (precious / "default" / "model.keras").write_text("x")
    assert train.main(["--data", str(FIXTURE), "--out", str(precious), "--quiet", *tiny_overrides()]) == 2
    assert "not a model folder" in capsys.readouterr().err
    assert (precious / "default" / "model.keras").exists()


def test_work_dir_that_is_not_a_run_is_never_wiped(tmp_path, capsys):
    work = tmp_path / "mine"
    work.mkdir()
    (work / "notes.txt").write_text("keep me")
    assert train.main(["--data", str(FIXTURE), "--out", str(tmp_path / "m"), "--work-dir", str(work), "--quiet",
                       *tiny_overrides()]) == 2
    assert "not a run of this project" in capsys.readouterr().err
    assert (work / "notes.txt").read_text() == "keep me"


def test_interrupted_run_of_another_command_is_kept_until_restart(tmp_path, capsys):
    from sentiment.cli import config_from_args
    from sentiment.runs import RunFolder

    work = tmp_path / "work"
    arguments = ["--data", str(FIXTURE), "--out", str(tmp_path / "m"), "--work-dir", str(work), "--quiet", "--no-test",
                 *tiny_overrides(epochs=1)]
    older = config_from_args(train.build_parser().parse_args(arguments), train.build_parser()).to_dict()
    older["train"]["epochs"] = 9
    interrupted = RunFolder(work)
    interrupted.start("an older command", {"config": older, "data": str(FIXTURE)})
    interrupted.path("history.csv").write_text("epoch,loss\n0,0.5\n")
    assert train.main(arguments) == 2
    message = capsys.readouterr().err
    assert "interrupted run of a different command (config.train.epochs: 9 -> 1)" in message
    assert "--restart" in message and interrupted.path("history.csv").exists()
    assert train.main([*arguments, "--restart"]) == 0
    assert load_classifier(tmp_path / "m").predict(["wonderful"]).shape == (1,)


def test_none_for_a_required_key_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        train.main(["--data", str(FIXTURE), "--out", str(tmp_path / "m"), "--units", "none"])
    assert "units cannot be none" in capsys.readouterr().err


def test_mirrored_strategy_trains(tmp_path):
    out = tmp_path / "mirrored"
    assert train.main(["--data", str(FIXTURE), "--out", str(out), "--work-dir", str(tmp_path / "w"), "--quiet",
                       "--strategy", "mirrored", "--no-test", *tiny_overrides(epochs=1)]) == 0
    assert load_classifier(out).predict(["wonderful"]).shape == (1,)


def test_none_is_a_name_for_name_fields_and_clears_numbers():
    from sentiment.cli import config_from_args

    parser = train.build_parser()
    args = parser.parse_args(["--out", "m", "--config", str(ROOT / "training/configs/default.json"), "--teacher", "none",
                              "--global-clipnorm", "none", "--word-vectors", "none"])
    config = config_from_args(args, parser)
    assert config.train.teacher == "none" and config.train.word_vectors == "none"
    assert config.train.global_clipnorm is None
