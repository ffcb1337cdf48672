"""Semi-supervised distillation (``--teacher rnn+nbsvm``): a teacher labels the 50,000 unlabelled reviews.

The teacher is the average of two models trained on the labelled training reviews: a recurrent
model of the run's own config (``teacher_units`` wide) and an NBSVM (naive-Bayes-weighted n-gram
logistic regression, :mod:`sentiment.nbsvm`), which errs differently. Their averaged probability
of each unlabelled review becomes its soft target; the student, a fresh model of the config,
then learns from the labelled reviews plus the soft-labelled ones. The soft labels are kept in
the run folder, so a rerun after a kill during the student's training does not train the teacher
again.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import time

import numpy as np

from . import model_folder
from .history import read_history
from .runs import TrainingError

TEACHER_SEED_OFFSET = 1000  # the teacher's initialization differs from the student's


def distill(run, prepared, devices, *, word_vectors, verbose: int = 1, log=print) -> dict:
    """Label the unlabelled reviews (or reuse the labels a killed run made), add them to ``prepared``'s
    training examples, and return the teacher's record for ``metrics.json``."""
    fit_teacher = functools.partial(_fit_recurrent_teacher, run, prepared, devices, word_vectors, verbose, log)
    info = soft_labels(run, prepared.config, fit_teacher, prepared.train, prepared.validation, prepared.unlabelled(),
                       log=log)
    prepared.add_soft_labelled(prepared.unlabelled_to_learn(), info.pop("soft_labels"))
    log(f"student: a fresh model on {len(prepared.train_labels)} reviews "
        f"({info['unlabelled_reviews']} of them unlabelled, with the teacher's probabilities as targets)")
    return info


def soft_labels(run, config, fit_teacher, train, validation, texts: list[str], log=print) -> dict:
    """The teacher's probability of each of ``texts``, and its record, kept in (and reused from) the run folder.

    ``fit_teacher()`` trains (or resumes) the recurrent teacher and returns it as something with
    ``predict(texts)`` (a :class:`~sentiment.classifier.Classifier`); an NBSVM fitted on ``train``
    joins it and the soft label is the plain average of the two probabilities.
    """
    from .metrics import binary_metrics
    from .nbsvm import NBSVM

    if not texts:
        raise TrainingError("--teacher needs unlabelled reviews (aclImdb/train/unsup) to label; the data has none")
    reused = _reuse(run, texts, log)
    if reused is not None:
        return reused
    width = f", {config.train.teacher_units} units" if config.train.teacher_units else ""
    log(f"teacher 1 of 2: a recurrent model of this config ({config.model.cell}{width}) on the training reviews")
    recurrent = fit_teacher()
    started = time.perf_counter()
    log("teacher 2 of 2: NBSVM (naive-Bayes-weighted 1-3-gram logistic regression) on the training reviews")
    linear = NBSVM().fit(train.texts, train.labels)

    def teach(batch):
        scores = {"rnn": np.asarray(recurrent.predict(batch)).reshape(-1), "nbsvm": linear.predict_proba(batch)}
        return {**scores, "average": np.mean(list(scores.values()), axis=0).astype(np.float32)}

    validation_accuracy = {name: round(binary_metrics(validation.labels, p)["accuracy"], 4)
                           for name, p in teach(validation.texts).items()}
    log("teacher validation accuracy: " + ", ".join(f"{k} {v}" for k, v in validation_accuracy.items())
        + f"; labelling {len(texts)} unlabelled reviews")
    soft = teach(texts)["average"]
    history = teacher_history(run)
    info = {
        "kind": config.train.teacher,
        "validation_accuracy": validation_accuracy,
        "rnn_epochs": len(history),
        "rnn_units": config.train.teacher_units or config.model.units,
        "rnn_parameters": {"rnn": int(recurrent.model.count_params())} if hasattr(recurrent, "model") else {},
        "unlabelled_reviews": len(texts),
        "unlabelled_sha256": _digest(texts),
        "confident_fraction": round(float(np.mean(np.abs(soft - 0.5) > 0.4)), 4),
        "seconds": round(sum(float(r.get("seconds", 0) or 0) for r in history) + time.perf_counter() - started, 1),
    }
    with model_folder.replacing(run.path("soft_labels.npy")) as tmp:
        np.save(tmp, soft)
    model_folder.write_atomically(run.path("teacher.json"), json.dumps(info))
    return {**info, "soft_labels": soft}


def _digest(texts: list[str]) -> str:
    return hashlib.sha256("\0".join(texts).encode("utf-8", errors="replace")).hexdigest()


def _reuse(run, texts: list[str], log) -> dict | None:
    """The soft labels and record of an interrupted run, if they label these very reviews."""
    labels_file, info_file = run.path("soft_labels.npy"), run.path("teacher.json")
    if not (labels_file.exists() and info_file.exists()):
        return None
    info, soft = json.loads(info_file.read_text()), np.load(labels_file)
    if info.get("unlabelled_sha256") == _digest(texts) and len(soft) == len(texts):
        log("teacher: reusing the soft labels of the interrupted run")
        return {**info, "soft_labels": soft}
    log("teacher: the unlabelled reviews changed since the soft labels were made; labelling again")
    return None


def _fit_recurrent_teacher(run, prepared, devices, word_vectors, verbose: int, log):
    """Train (or resume) the recurrent teacher on the training reviews; it comes back as a Classifier."""
    import keras

    from .classifier import Classifier
    from .model import build_model, end_to_end

    config = prepared.config
    teacher_model = dataclasses.replace(config.model, units=config.train.teacher_units or config.model.units)
    keras.utils.set_random_seed(config.data.seed + TEACHER_SEED_OFFSET)
    model = devices.build(prepared.vocabulary_size, teacher_model, config.train)
    devices.fit(run, "teacher", model, config.train, prepared, word_vectors=word_vectors, verbose=verbose, log=log)
    inference = build_model(prepared.vocabulary_size, teacher_model)
    inference.set_weights(model.get_weights())
    return Classifier(end_to_end(prepared.vectorizer, inference, config.data.max_length), config.to_dict())


def teacher_history(run) -> list[dict]:
    """The teacher's epochs, for the model folder's ``history.csv``."""
    return read_history(run.path("history.csv", "teacher"))
