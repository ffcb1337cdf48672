"""Semi-supervised distillation: an RNN + NBSVM teacher labels the unlabelled reviews for a fresh student."""

import json

import numpy as np
import pytest

from conftest import FIXTURE, ROOT
from sentiment.config import Config, TrainConfig
from sentiment.data import load_split
from sentiment.distill import soft_labels
from sentiment.history import read_history
from sentiment.model_folder import load_classifier
from sentiment.nbsvm import NBSVM
from sentiment.runs import RunFolder, TrainingError
from sentiment.training import train

POSITIVE = ["a great film, wonderful acting", "wonderful story and great music", "great fun, loved it",
            "loved the wonderful cast", "a great and moving story"]
NEGATIVE = ["an awful film, boring acting", "boring story and awful music", "awful mess, hated it",
            "hated the boring cast", "an awful and dull story"]


def test_nbsvm_learns_which_ngrams_mark_each_class():
    model = NBSVM(min_df=1).fit(POSITIVE + NEGATIVE, [1] * 5 + [0] * 5)
    p = model.predict_proba(["great wonderful acting", "boring awful acting", "a <br />great<br /> story"])
    assert p.shape == (3,) and p.dtype == np.float32
    assert p[0] > 0.5 > p[1] and p[2] > 0.5  # <br /> is cleaned like the models clean it
    with pytest.raises(ValueError, match="labels 0 and 1"):
        NBSVM().fit(POSITIVE, [1] * 5)


def test_teacher_setting_is_validated():
    assert TrainConfig().teacher == "none"
    with pytest.raises(ValueError, match="teacher"):
        TrainConfig(teacher="bert")


def tiny_config(**train) -> Config:
    return Config.from_dict({
        "data": {"max_tokens": 100, "max_length": 40, "validation_fraction": 0.25},
        "model": {"units": 4, "embedding_dim": 8, "dropout": 0.0},
        "train": {"epochs": 2, "batch_size": 8, "teacher": "rnn+nbsvm", **train},
    })


def test_distilled_training_labels_the_unlabelled_reviews_and_trains_a_student(tmp_path):
    out = tmp_path / "student"
    metrics = train(tiny_config(), str(FIXTURE), out, work_dir=tmp_path / "work", verbose=0)
    unlabelled = len(load_split(str(FIXTURE), "unsupervised").texts)
    teacher = metrics["teacher"]
    assert teacher["kind"] == "rnn+nbsvm" and teacher["unlabelled_reviews"] == unlabelled == 6
    assert set(teacher["validation_accuracy"]) == {"rnn", "nbsvm", "average"}
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["teacher"] == teacher and saved["unlabelled_reviews"] == 6
    # The saved history holds the teacher's epochs, then the student's.
    members = [row["member"] for row in read_history(out / "history.csv")]
    assert members == ["teacher", "teacher", "student", "student"]
    assert json.loads((out / "config.json").read_text())["train"]["teacher"] == "rnn+nbsvm"
    p = load_classifier(out).predict(["a great film", "an awful film"])
    assert p.shape == (2,) and np.all((p >= 0) & (p <= 1))
    assert not (tmp_path / "work").exists()  # finished: the work folder is cleaned up


class CountingTeacher:
    """Stands in for a trained RNN teacher: a fixed rule, and a count of how often it was trained."""

    fits = 0

    def __init__(self, high: float = 0.9):
        self.high = high

    def predict(self, texts):
        return np.asarray([self.high if "great" in t else 1 - self.high for t in texts], dtype=np.float32)


def test_soft_labels_are_kept_so_a_rerun_does_not_train_the_teacher_again(tmp_path):
    run = RunFolder(tmp_path / "work")
    run.start("fingerprint", {})
    teacher = CountingTeacher()

    def fit_teacher():
        teacher.fits += 1
        return teacher

    train_set = load_split(str(FIXTURE), "train", validation_fraction=0.25)
    val_set = load_split(str(FIXTURE), "validation", validation_fraction=0.25)
    texts = POSITIVE + NEGATIVE

    first = soft_labels(run, tiny_config(), fit_teacher, train_set, val_set, texts)
    assert teacher.fits == 1
    soft = first.pop("soft_labels")
    assert soft.shape == (10,) and np.all((soft > 0) & (soft < 1))
    # The average of the RNN's and the NBSVM's probabilities, in the order of the texts.
    nbsvm = NBSVM().fit(train_set.texts, train_set.labels).predict_proba(texts)
    np.testing.assert_allclose(soft, (teacher.predict(texts) + nbsvm) / 2, atol=1e-6)

    again = soft_labels(run, tiny_config(), fit_teacher, train_set, val_set, texts)
    assert teacher.fits == 1  # reused, not trained again
    np.testing.assert_array_equal(again.pop("soft_labels"), soft)
    assert again == first

    # Other unlabelled reviews under the same run: the stored labels do not fit them, so label again.
    changed = texts[:-1] + ["a great film"]
    third = soft_labels(run, tiny_config(), fit_teacher, train_set, val_set, changed)
    assert teacher.fits == 2 and third["unlabelled_sha256"] != first["unlabelled_sha256"]
    assert third["soft_labels"][-1] > 0.5
    with pytest.raises(TrainingError, match="unlabelled"):
        soft_labels(run, tiny_config(), fit_teacher, train_set, val_set, [])
    (run.folder / ".tmp-123-soft_labels.npy").write_bytes(b"half")  # a kill mid-write leaves this
    run.finish()
    assert not (tmp_path / "work").exists()  # soft_labels.npy and teacher.json are the run's own files


def test_teacher_refuses_multi_worker_before_anything_is_written(tmp_path):
    with pytest.raises(TrainingError, match="multi_worker"):
        train(tiny_config(), str(FIXTURE), tmp_path / "m", work_dir=tmp_path / "work", verbose=0, strategy="multi_worker")
    assert not (tmp_path / "work").exists() and not (tmp_path / "m").exists()


def test_default_recipe_distils():
    config = Config.from_json(ROOT / "training" / "configs" / "default.json")
    assert config.train.teacher == "rnn+nbsvm" and config.model.bidirectional


def test_training_accuracy_counts_soft_targets_by_their_side_of_one_half():
    from sentiment.fitting import side_accuracy

    hits = side_accuracy(np.asarray([0.8, 0.2, 1.0, 0.0, 0.3]), np.asarray([[0.6], [0.7], [0.9], [0.4], [0.2]]))
    np.testing.assert_array_equal(np.asarray(hits), [1, 0, 1, 1, 1])


def test_a_wider_teacher_labels_for_a_narrower_student(tmp_path):
    out = tmp_path / "student"
    metrics = train(tiny_config(epochs=1, teacher_units=12), str(FIXTURE), out, work_dir=tmp_path / "work", verbose=0)
    student = load_classifier(out).model.count_params()
    same = train(tiny_config(epochs=1), str(FIXTURE), tmp_path / "same", work_dir=tmp_path / "work-same", verbose=0)
    assert metrics["teacher"]["rnn_units"] == 12 and same["teacher"]["rnn_units"] == 4
    assert same["teacher"]["rnn_parameters"]["rnn"] == student == metrics["parameters"]
    assert metrics["teacher"]["rnn_parameters"]["rnn"] > student  # the teacher was 12 units wide, the student 4
    assert json.loads((out / "config.json").read_text())["train"]["teacher_units"] == 12


def test_teacher_units_is_validated():
    assert TrainConfig().teacher_units == 0
    with pytest.raises(ValueError, match="teacher_units"):
        TrainConfig(teacher_units=-1)
    with pytest.raises(ValueError, match="--teacher rnn\\+nbsvm"):
        TrainConfig(teacher_units=64)
