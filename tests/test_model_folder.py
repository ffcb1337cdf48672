"""The model folder: atomic writes, the one rule for what is a model folder, saving, loading, listing, the card."""

import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from sentiment import model_folder
from sentiment.model_folder import (
    ModelLoadError,
    check_replaceable,
    describe,
    is_model_folder,
    list_model_dirs,
    load_classifier,
    replacing,
    save_folder,
    write_atomically,
    write_card,
)


def dead_pid() -> int:
    """The id of a process that has exited (as a killed save's is)."""
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout)


def tiny_model_folder(folder):
    """A real, loadable model folder in well under a second: raw strings in, one probability out."""
    import keras

    vectorizer = keras.layers.TextVectorization(max_tokens=20, output_sequence_length=8)
    vectorizer.adapt(["a great film", "an awful film"])
    text = keras.Input(shape=(), dtype="string")
    hidden = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(20, 4)(vectorizer(text)))
    folder.mkdir()
    keras.Model(text, keras.layers.Dense(1, activation="sigmoid")(hidden)).save(folder / model_folder.MODEL_FILE)
    (folder / model_folder.CONFIG_FILE).write_text('{"data": {"max_length": 8}}')
    return folder


def test_write_atomically_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "run.json"
    write_atomically(path, "old")
    write_atomically(path, b"new \xe2\x9c\x93")
    assert path.read_text() == "new \u2713"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_replacing_keeps_the_suffix_and_a_failure_keeps_the_old_content(tmp_path):
    path = tmp_path / "best.weights.h5"
    path.write_text("old")
    with replacing(path) as tmp:
        assert tmp.parent == tmp_path and tmp.name == f".tmp-{os.getpid()}-best.weights.h5"
        tmp.write_text("new")
        assert path.read_text() == "old"  # nothing replaced until the block succeeds
    assert path.read_text() == "new"

    with pytest.raises(RuntimeError, match="disk on fire"):
        with replacing(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk on fire")
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["best.weights.h5"]

    array = tmp_path / "soft_labels.npy"
    with replacing(array) as tmp:
        np.save(tmp, np.arange(3))  # np.save adds no second .npy: the name ends with it already
    assert np.load(array).tolist() == [0, 1, 2] and sorted(p.name for p in tmp_path.iterdir()) == [
        "best.weights.h5", "soft_labels.npy"]


def test_one_rule_for_what_is_a_model_folder(tmp_path):
    keras_folder, export, empty, notes = (tmp_path / name for name in ("keras", "export", "empty", "notes"))
    for folder in (keras_folder, export, empty, notes):
        folder.mkdir()
    (keras_folder / "model.keras").write_text("x")
    (export / "saved_model.pb").write_text("x")
    (notes / "a.txt").write_text("a")
    (tmp_path / "file").write_text("f")
    assert is_model_folder(keras_folder) and is_model_folder(export)
    assert not any(is_model_folder(p) for p in (empty, notes, tmp_path / "file", tmp_path / "missing"))

    for replaceable in (keras_folder, export, empty, tmp_path / "missing"):
        check_replaceable(replaceable)
    for refused in (notes, tmp_path / "file"):
        with pytest.raises(FileExistsError, match="not a model folder.*refusing to replace it. Choose a new folder"):
            check_replaceable(refused)
        with pytest.raises(FileExistsError):
            save_folder(refused, lambda folder: (folder / "model.keras").write_text("v1"))
    assert (notes / "a.txt").read_text() == "a"


def test_save_folder_replaces_whole_folders_and_a_failed_write_keeps_the_old_one(tmp_path):
    out = tmp_path / "m"
    save_folder(out, lambda folder: (folder / "model.keras").write_text("v1"))
    assert save_folder(out, lambda folder: (folder / "model.keras").write_text("v2")) == out
    assert (out / "model.keras").read_text() == "v2"

    def broken(folder):
        (folder / "model.keras").write_text("half")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        save_folder(out, broken)
    assert (out / "model.keras").read_text() == "v2"
    assert [p.name for p in tmp_path.iterdir()] == ["m"]
    assert oct(out.stat().st_mode & 0o777) == oct(0o755)  # shared, not mkdtemp's private mode


def test_load_reads_a_set_aside_copy_without_changing_the_disk_and_the_next_save_puts_it_back(tmp_path):
    pid = dead_pid()
    aside = tiny_model_folder(tmp_path / f".m.old-{pid}-abc")  # a save was killed between its two renames
    (tmp_path / f".m.tmp-{pid}-def").mkdir()  # ... after writing half of the new folder
    live = tmp_path / f".m.tmp-{os.getppid()}-ghi"  # a save in progress in a live process
    live.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())

    with pytest.warns(RuntimeWarning, match="set(ting)? the previous model aside"):
        classifier = load_classifier(tmp_path / "m")
    assert classifier.path == aside and classifier.max_length == 8
    assert classifier.predict(["a great film"]).shape == (1,)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing renamed, nothing removed

    def fails(folder):
        raise RuntimeError("the new model is not written")

    with pytest.raises(RuntimeError):
        save_folder(tmp_path / "m", fails)  # even a failed save first puts the previous model back
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["m", live.name])
    assert load_classifier(tmp_path / "m").path == tmp_path / "m"


def test_a_copy_set_aside_by_a_live_save_is_not_loaded(tmp_path):
    (tmp_path / f".m.old-{os.getppid()}-abc").mkdir()  # its save is still running: it moves a new m in
    (tmp_path / f".m.old-{os.getppid()}-abc" / "model.keras").write_text("x")
    with pytest.raises(ModelLoadError, match="model folder not found"):
        load_classifier(tmp_path / "m")


def test_list_model_dirs_puts_default_first_and_skips_the_rest(tmp_path):
    for name in ("zeta", "default", "alpha", ".default.old-1-x"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "model.keras").write_text("x")
    (tmp_path / "notes").mkdir()
    assert [p.name for p in list_model_dirs(tmp_path)] == ["default", "alpha", "zeta"]
    assert list_model_dirs(tmp_path / "missing") == []


TEACHER = {"kind": "rnn+nbsvm", "unlabelled_reviews": 50000,
           "validation_accuracy": {"rnn": 0.9172, "nbsvm": 0.9132, "average": 0.93}}
CONFIG = {
    "data": {"max_tokens": 20000, "max_length": 800},
    "model": {"cell": "gru", "bidirectional": True, "num_layers": 1, "units": 128, "embedding_dim": 128,
              "pooling": "max_mean", "dropout": 0.4, "embedding_dropout": 0.3, "residual": False},
    "train": {"optimizer": "lazy_adam", "learning_rate": 0.0015, "global_clipnorm": 1.0, "clipnorm": None,
              "epochs": 4, "patience": 1, "batch_size": 64, "teacher": "rnn+nbsvm", "word_vectors": "word2vec",
              "intensifier_swap": 1.0},
}
METRICS = {
    "validation": {"n": 2500, "accuracy": 0.9164, "f1": 0.92146, "roc_auc": 0.97628},
    "test": {"n": 25000, "accuracy": 0.9212, "f1": 0.92308, "roc_auc": 0.97693},
    "parameters": 2758657, "best_epoch": 4, "epochs": 4, "training_seconds": 2044.1, "train_reviews": 22500,
    "teacher": TEACHER,
}


def test_describe_reads_clipping_from_train_and_from_the_model_section_of_older_folders():
    card = describe(SimpleNamespace(config=CONFIG, metrics=METRICS, max_length=800))
    assert card["cell"] == "gru" and card["layers"] == 1 and card["units"] == 128 and card["bidirectional"] is True
    assert card["clipping"] == "global_clipnorm=1.0" and card["test_accuracy"] == 0.9212
    assert card["trained_on"] == ("22,500 labelled + 50,000 unlabelled reviews soft-labelled by a recurrent + NBSVM "
                                  "teacher (validation 93.00%)")
    old = {"model": {"cell": "lstm", "clipnorm": 5.0, "global_clipnorm": None}}  # written before version 2
    card = describe(SimpleNamespace(config=old, metrics={"train_reviews": 100}, max_length=None))
    assert card["clipping"] == "clipnorm=5.0" and card["trained_on"] == "100 labelled reviews"
    assert describe(SimpleNamespace(config={}, metrics={}, max_length=None))["clipping"] == "none"


def test_write_card_gives_the_recipe_the_figures_and_the_limits(tmp_path):
    command = "python -m training.train --config training/configs/default.json --out saved_models/default"
    card = write_card(tmp_path, CONFIG, METRICS, command + "\n").read_text()
    assert card.startswith("# IMDB sentiment classifier: bidirectional GRU\n")
    assert "1 layer(s) of 128 units" in card and "max_mean pooling" in card and "first 800 tokens" in card
    assert ("lazy_adam, learning rate 0.0015, clipping global_clipnorm=1.0, at most 4 epochs (patience 1), "
            "batches of 64, teacher rnn+nbsvm, word vectors word2vec, intensifier swap 1.0") in card
    assert f"`{command}`" in card
    assert "| validation (2,500 reviews) | 0.9164 | 0.9215 | 0.9763 |" in card
    assert "| test (25,000 reviews) | 0.9212 | 0.9231 | 0.9769 |" in card
    assert "Parameters: 2,758,657; best epoch 4 of 4; 2,044 s of training" in card
    assert "Teacher validation accuracy: rnn 0.9172, nbsvm 0.9132, average 0.9300" in card
    assert "## Limits" in card and "English movie reviews" in card and "negation" in card
    assert "at most the first 800 tokens" in card and "IMDB's only" in card

    plain = write_card(tmp_path, {"model": {"cell": "lstm"}, "data": {"max_length": 40}}, {}, "x").read_text()
    assert "| split |" not in plain and "Teacher" not in plain and "GRU" not in plain
