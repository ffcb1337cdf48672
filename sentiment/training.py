"""Train a classifier from a :class:`~sentiment.config.Config` and write its model folder.

Resumable: the vocabulary, a per-epoch backup (``BackupAndRestore``), the best weights and
the logs live in a work folder outside the repository, so rerunning the same command after a
kill continues from the last completed epoch. The model folder is written atomically.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import functools
import hashlib
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from . import artifact
from .config import Config
from .data import cache_dir, load_split

MIN_FREE_BYTES = 200 * 1024 * 1024


class TrainingError(RuntimeError):
    """Training could not start or did not produce a usable model."""


def default_work_dir(out: str | Path) -> Path:
    """``$SENTIMENT_CACHE/runs/<name>-<hash of the absolute output path>``."""
    out = Path(out).resolve()
    return cache_dir() / "runs" / f"{out.name}-{hashlib.sha1(str(out).encode()).hexdigest()[:8]}"


class RunFolder:
    """The work folder of one run: only the files listed here are ever created or deleted in it."""

    FILES = ("run.json", "vocabulary.txt", "word_vectors.npy", "history.csv", "best.weights.h5", "fit_done", "backup", "logs",
             "gradients.csv", "gradient_steps.csv", "soft_labels.npy", "teacher.json")

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        if self.folder.is_dir() and any(self.folder.iterdir()) and not (self.folder / "run.json").exists():
            raise TrainingError(
                f"work folder {self.folder} is not empty and holds no run.json, so it is not a run of this "
                "project; choose an empty or new --work-dir (nothing was deleted)"
            )

    def path(self, name: str, member: int | str = 0) -> Path:
        """A file of the run; ``member`` > 0 names the files of an ensemble's later models (``history-2.csv``),
        a string those of a helper model (``history-teacher.csv``)."""
        assert name in self.FILES, name
        if member:
            stem, dot, rest = name.partition(".")
            suffix = member if isinstance(member, str) else member + 1
            name = f"{stem}-{suffix}{dot}{rest}"
        return self.folder / name

    def start(self, fingerprint: str, description: dict) -> bool:
        """True when an interrupted run of the same config and data is there to resume."""
        run_file = self.folder / "run.json"
        try:
            same = json.loads(run_file.read_text()).get("fingerprint") == fingerprint
        except (OSError, ValueError, AttributeError):
            same = False
        resuming = same and any((self.folder / name).exists() for name in self.FILES[1:])
        if not same:
            self.clear()
        self.folder.mkdir(parents=True, exist_ok=True)
        artifact.write_text_atomically(run_file, json.dumps({"fingerprint": fingerprint, **description}))
        return resuming

    def clear(self) -> None:
        for name in self.FILES:
            stem, dot, rest = name.partition(".")
            helpers = [*self.folder.glob(f"{stem}-[0-9]*{dot}{rest}"), *self.folder.glob(f"{stem}-teacher{dot}{rest}"),
                       *self.folder.glob(f"{stem}-teacher-*{dot}{rest}")]
            # ... and temporary files a kill left mid-write (``.tmp-PID-name``, ``.name.tmp-PID``)
            leftovers = [*self.folder.glob(f".tmp-*-{stem}*{dot}{rest}"), *self.folder.glob(f".{stem}*{dot}{rest}.tmp-*")]
            for target in [self.folder / name, *helpers, *leftovers]:
                self._remove(target)

    @staticmethod
    def _remove(target: Path) -> None:
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()

    def finish(self) -> None:
        self.clear()
        try:
            self.folder.rmdir()
        except OSError:
            pass


def check_output(out: Path) -> None:
    """Refuse an output that exists and is not a model folder (``--out saved_models`` must not wipe every model)."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / artifact.MODEL_FILE).exists())):
        raise TrainingError(
            f"{out} exists and is not a model folder (no {artifact.MODEL_FILE}); it would be replaced. "
            "Choose a new folder such as saved_models/NAME."
        )


def check_writable(folder: Path, what: str) -> None:
    """Fail before training if ``folder`` cannot be created or written, or its disk is nearly full."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{id(folder)}"
        probe.write_bytes(b"x")
        probe.unlink()
    except OSError as err:
        raise TrainingError(f"cannot write the {what} {folder}: {err.strerror or err}. Choose a writable folder.") from None
    free = shutil.disk_usage(folder).free
    if free < MIN_FREE_BYTES:
        raise TrainingError(
            f"only {free // 2**20} MB free on the disk of the {what} {folder}; "
            f"training needs at least {MIN_FREE_BYTES // 2**20} MB. Free some space or choose another folder."
        )


def train(
    config: Config,
    data: str,
    out: str | Path,
    *,
    work_dir: str | Path | None = None,
    evaluate_test: bool = True,
    tfds_data_dir: str | None = None,
    download: bool = True,
    command: str | None = None,
    verbose: int = 1,
    strategy: str = "default",
) -> dict:
    """Train, evaluate (validation, then the test split once) and save to ``out``; return the metrics.

    ``strategy``: ``default`` (one device) or ``mirrored`` (``MirroredStrategy``: synchronous
    data parallelism over all local GPUs, or the CPU when there is none).
    """
    import keras
    import tensorflow as tf

    from .classifier import Classifier
    from .intensifiers import swap_intensifiers
    from .metrics import binary_metrics
    from .model import build_model, end_to_end
    from .pipeline import add_crops, make_dataset, vectorize
    from .text import adapt_vectorizer, make_vectorizer

    if config.train.teacher != "none" and strategy == "multi_worker":
        raise TrainingError("--teacher works with the default or mirrored strategy, not multi_worker")
    if config.train.lr_schedule != "constant" and strategy == "multi_worker":
        raise TrainingError("--lr-schedule cosine works with the default or mirrored strategy, not multi_worker")
    distribution = make_strategy(strategy)
    out = Path(out)
    work = Path(work_dir) if work_dir else default_work_dir(out)
    if strategy == "multi_worker":
        from .distributed import cluster_spec

        worker = cluster_spec()[1]
        if worker:  # workers on one machine must not share a work folder
            work = work.with_name(f"{work.name}-worker{worker}")
    check_output(out)
    check_writable(out.parent if out.parent != Path("") else Path("."), "output folder")
    run = RunFolder(work)
    check_writable(work, "work folder")
    _log(verbose, f"work folder (backup, logs, vocabulary): {work}")
    # The strategy is part of a run: a multi-worker run's files do not resume as a single-device run.
    fingerprint = hashlib.sha256((config.to_json() + "\n" + str(data) + "\n" + strategy).encode()).hexdigest()
    if run.start(fingerprint, {"config": config.to_dict(), "data": str(data)}):
        _log(verbose, "resuming the interrupted run found in the work folder")

    keras.utils.set_random_seed(config.data.seed)
    load = dict(validation_fraction=config.data.validation_fraction, seed=config.data.seed,
                tfds_data_dir=tfds_data_dir, download=download)
    train_reviews = load_split(data, "train", max_samples=config.train.max_train_samples, **load)
    val_reviews = load_split(data, "validation", **load)
    _log(verbose, f"{len(train_reviews)} training and {len(val_reviews)} validation reviews from {data}")

    def augment(texts: list[str], what: str, offset: int = 0) -> list[str]:
        if not config.train.intensifier_swap:
            return texts
        texts, swapped = swap_intensifiers(texts, config.train.intensifier_swap, seed=config.data.seed + offset)
        _log(verbose, f"intensifier swap: {swapped} words of the {what} reviews changed")
        return texts

    # What the models learn from (vocabulary, word2vec, recurrent models); the NBSVM teacher and the
    # teacher's labelling read the reviews as they are.
    train_texts = augment(train_reviews.texts, "training")
    vocab_file = run.path("vocabulary.txt")
    if vocab_file.exists():
        vectorizer = make_vectorizer(config.data.max_tokens, vocabulary=vocab_file.read_text().split("\n"))
    else:
        vectorizer = adapt_vectorizer(train_texts, config.data.max_tokens)
        artifact.write_text_atomically(vocab_file, "\n".join(vectorizer.get_vocabulary()[2:]))
    vocabulary_size = vectorizer.vocabulary_size()

    max_length = config.data.max_length
    batching = dict(batch_size=config.train.batch_size, batching=config.train.batching, max_length=max_length)
    train_ids, train_labels = add_crops(vectorize(train_texts, vectorizer, max_length), train_reviews.labels,
                                        config.train.short_crops, seed=config.data.seed)
    train_ds = make_dataset(train_ids, train_labels, shuffle=True, seed=config.data.seed, **batching)
    val_ids = vectorize(val_reviews.texts, vectorizer, max_length)
    val_ds = make_dataset(val_ids, val_reviews.labels, **batching)
    probe = _gradient_probe(val_ids, val_reviews.labels) if config.train.log_gradients else None

    chief = True
    if strategy == "multi_worker":
        from . import distributed

        if config.train.log_gradients:
            raise TrainingError("--log-gradients is not available with --strategy multi_worker; "
                                "log gradients in a single-device run")

        workers, index = distributed.cluster_spec()
        chief = index == 0
        _log(verbose, f"multi_worker strategy: worker {index} of {workers}{' (chief: writes the model)' if chief else ''}")

        def make_train_dataset():
            return make_dataset(train_ids, train_labels, shuffle=True, seed=config.data.seed, **batching)

        multi_worker = dict(make_train_dataset=make_train_dataset, batches=int(train_ds.cardinality()),
                            log=lambda message: _log(verbose or 1, message))
    elif distribution.num_replicas_in_sync > 1 or strategy != "default":
        _log(verbose, f"{strategy} strategy: {distribution.num_replicas_in_sync} replica(s) in sync")
        train_ds, val_ds = _shard_by_data(train_ds), _shard_by_data(val_ds)

    unlabelled_texts: list[str] = []
    augmented_unlabelled: list[str] = []

    def unlabelled() -> list[str]:
        if not unlabelled_texts:
            unlabelled_texts.extend(load_split(data, "unsupervised", **load).texts)
        return unlabelled_texts

    def unlabelled_to_learn() -> list[str]:
        if not config.train.intensifier_swap:  # no copy of 50,000 reviews when nothing is swapped
            return unlabelled()
        if not augmented_unlabelled:
            augmented_unlabelled.extend(augment(unlabelled(), "unlabelled", offset=1))
        return augmented_unlabelled

    def word_vectors() -> np.ndarray:
        vectors_file = run.path("word_vectors.npy")
        if not vectors_file.exists():
            from .word_vectors import train_word_vectors

            _log(verbose, "training word2vec on the training and unlabelled reviews")
            matrix = train_word_vectors(train_texts + unlabelled_to_learn(), vectorizer.get_vocabulary(),
                                        config.model.embedding_dim, epochs=config.train.word_vector_epochs,
                                        seed=config.data.seed)
            artifact.save_array_atomically(vectors_file, matrix)
        return np.load(vectors_file)

    cells = config.model.member_cells()
    teacher = None
    if config.train.teacher != "none":
        teacher_model = dataclasses.replace(config.model, units=config.train.teacher_units or config.model.units)

        def inference_copy(model, cell):
            copy = build_model(vocabulary_size, **teacher_model.builder_arguments(cell), compile=False)
            copy.set_weights(model.get_weights())
            return Classifier(end_to_end(vectorizer, copy, max_length), config.to_dict())

        def fit_teacher(index: int, part: str):
            cell = config.model.cell if part == "rnn" else part
            keras.utils.set_random_seed(config.data.seed + 1000 + index)
            with distribution.scope():
                model = build_model(vocabulary_size, **teacher_model.builder_arguments(cell))
            _fit_member(run, teacher_member(part), model, config, train_ds, val_ds, word_vectors, verbose)
            return inference_copy(model, cell)

        fit_teachers = {part: functools.partial(fit_teacher, index, part)
                        for index, part in enumerate(recurrent_teachers(config.train.teacher))}
        teacher = distillation_labels(run, config, fit_teachers, train_reviews, val_reviews, unlabelled, verbose)
        soft_ids = vectorize(unlabelled_to_learn(), vectorizer, max_length)
        train_ids = tf.concat([train_ids, soft_ids], axis=0)
        train_labels = np.concatenate([np.asarray(train_labels, dtype=np.float32), teacher.pop("soft_labels")])
        train_ds = make_dataset(train_ids, train_labels, shuffle=True, seed=config.data.seed, **batching)
        if distribution.num_replicas_in_sync > 1 or strategy != "default":
            train_ds = _shard_by_data(train_ds)
        student = "the recurrent teacher, trained on" if config.train.student_init == "teacher" else "a fresh model on"
        _log(verbose, f"student: {student} {len(train_labels)} reviews "
                      f"({len(unlabelled())} of them unlabelled, with the teacher's probabilities as targets)")
    names = [None] if len(cells) == 1 else [f"member_{i + 1}_{cell}" for i, cell in enumerate(cells)]
    members, histories = [], []
    for index, (cell, name) in enumerate(zip(cells, names)):
        if len(cells) > 1:
            _log(verbose, f"ensemble member {index + 1} of {len(cells)}: {cell}")
        keras.utils.set_random_seed(config.data.seed + index)
        with distribution.scope():
            model = build_model(vocabulary_size, **config.model.builder_arguments(cell), name=name)
        if strategy == "multi_worker":
            history = _fit_member_multi_worker(run, index, model, config, val_ds, word_vectors, distribution,
                                               **multi_worker)
        else:
            start = (run.path("best.weights.h5", teacher_member("rnn"))
                     if teacher is not None and config.train.student_init == "teacher" else None)
            history = _fit_member(run, index, model, config, train_ds, val_ds, word_vectors, verbose, probe,
                                  initial_weights=start)
        # A fresh, uncompiled copy, so the saved file holds no optimizer state.
        inference = build_model(vocabulary_size, **config.model.builder_arguments(cell), name=name, compile=False)
        inference.set_weights(model.get_weights())
        members.append(inference)
        histories.append(history)
        del model
    classifier_model = end_to_end(vectorizer, members, max_length)
    classifier = Classifier(classifier_model, config.to_dict())
    metrics: dict = {
        "validation": binary_metrics(val_reviews.labels, classifier.predict(val_reviews.texts)),
        "test": None,
    }
    _log(verbose, f"validation accuracy {metrics['validation']['accuracy']:.4f}")
    if evaluate_test and chief:
        test = load_split(data, "test", **load)
        started = time.perf_counter()
        metrics["test"] = binary_metrics(test.labels, classifier.predict(test.texts))
        metrics["test"]["seconds"] = round(time.perf_counter() - started, 2)
        _log(verbose, f"test accuracy {metrics['test']['accuracy']:.4f} on {len(test)} reviews")
    summaries = [_summarize(history) for history in histories]
    if len(cells) > 1:
        metrics["members"] = [{"cell": cell, **summary} for cell, summary in zip(cells, summaries)]
    if teacher is not None:  # its time (fit, NBSVM, labelling) is teacher["seconds"], not training_seconds
        metrics["teacher"] = teacher
        metrics["unlabelled_reviews"] = teacher["unlabelled_reviews"]
    metrics.update({
        "epochs": sum(s["epochs"] for s in summaries),
        "best_epoch": summaries[0]["best_epoch"] if len(cells) == 1 else None,
        "training_seconds": round(sum(s["training_seconds"] for s in summaries), 1),
        "parameters": int(sum(m.count_params() for m in members)),
        "vocabulary_size": int(vocabulary_size),
        "train_reviews": len(train_reviews),
        "validation_reviews": len(val_reviews),
        "data": str(data),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    })

    def write(folder: Path) -> None:
        classifier_model.save(folder / artifact.MODEL_FILE)
        (folder / artifact.CONFIG_FILE).write_text(config.to_json() + "\n")
        (folder / artifact.METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n")
        write_history(rows, folder / artifact.HISTORY_FILE)
        if config.train.log_gradients:
            _copy_gradient_logs(run, len(cells), folder)
        (folder / artifact.COMMAND_FILE).write_text((command or "") + "\n")
        plot_history(rows, folder / artifact.CURVES_FILE)

    rows = [{**row, "member": cell} if len(cells) > 1 else row for cell, history in zip(cells, histories) for row in history]
    if teacher is not None:  # the teacher's epochs first, then the student's
        rows = ([{**row, "member": teacher_member(part)} for part in recurrent_teachers(config.train.teacher)
                 for row in read_history(run.path("history.csv", teacher_member(part)))]
                + [{**row, "member": "student"} for row in rows])

    if not chief:  # the chief writes the model folder; the other workers only helped train it
        run.finish()
        _log(verbose, f"worker done; the chief worker saves {out}")
        return metrics
    try:
        artifact.write_folder(out, write)
    except FileExistsError:
        raise
    except OSError as err:  # e.g. the disk filled up while saving
        raise TrainingError(
            f"could not save the model to {out}: {err.strerror or err}. Nothing was replaced: a model folder "
            f"that was there is unchanged. The trained run is kept in {work}; free some space and rerun the "
            "same command to save it without training again."
        ) from None
    run.finish()  # the run is complete: nothing left to resume
    _log(verbose, f"saved {out}")
    return metrics


def recurrent_teachers(kind: str) -> list[str]:
    """The recurrent parts of a teacher kind: ``rnn`` (a model of the config's own cell) or cell names."""
    return [part for part in kind.split("+") if part not in ("none", "nbsvm")]


def teacher_member(part: str) -> str:
    """Name of a recurrent teacher's files and history rows: ``teacher`` or ``teacher-gru``."""
    return "teacher" if part == "rnn" else f"teacher-{part}"


def distillation_labels(run: "RunFolder", config: Config, fit_teachers: dict, train_reviews, val_reviews, unlabelled,
                        verbose: int) -> dict:
    """Soft labels of the unlabelled reviews from the teacher, and the teacher's validation scores.

    ``fit_teachers`` maps each recurrent part of the teacher (``rnn``, or ``lstm`` and ``gru``) to a
    function that trains (or resumes) it and returns it as a :class:`~sentiment.classifier.Classifier`;
    an NBSVM joins them and the soft label is the plain average of their probabilities. The labels
    and scores are kept in the run folder, so a rerun after a kill during the student's training
    does not train the teacher again.
    """
    from .metrics import binary_metrics
    from .nbsvm import NBSVM

    labels_file, info_file = run.path("soft_labels.npy"), run.path("teacher.json")
    texts = unlabelled()
    if not texts:
        raise TrainingError("--teacher needs unlabelled reviews (aclImdb/train/unsup) to label; the data has none")
    digest = hashlib.sha256("\0".join(texts).encode("utf-8", errors="replace")).hexdigest()
    if labels_file.exists() and info_file.exists():
        info = json.loads(info_file.read_text())
        soft = np.load(labels_file)
        if info.get("unlabelled_sha256") == digest and len(soft) == len(texts):
            _log(verbose, "teacher: reusing the soft labels of the interrupted run")
            return {**info, "soft_labels": soft}
        _log(verbose, "teacher: the unlabelled reviews changed since the soft labels were made; labelling again")
    parts = len(fit_teachers) + 1
    recurrent = {}
    for number, (part, fit) in enumerate(fit_teachers.items(), start=1):
        width = f", {config.train.teacher_units} units" if config.train.teacher_units else ""
        _log(verbose, f"teacher {number} of {parts}: a recurrent model of this config ({part}{width}) on the training reviews")
        recurrent[part] = fit()
    started = time.perf_counter()
    _log(verbose, f"teacher {parts} of {parts}: NBSVM (naive-Bayes-weighted 1-3-gram logistic regression) "
                  "on the training reviews")
    linear = NBSVM().fit(train_reviews.texts, train_reviews.labels)

    def teach(batch):
        scores = {part: np.asarray(model.predict(batch)).reshape(-1) for part, model in recurrent.items()}
        scores["nbsvm"] = linear.predict_proba(batch)
        return {**scores, "average": np.mean(list(scores.values()), axis=0).astype(np.float32)}

    validation = {name: round(binary_metrics(val_reviews.labels, p)["accuracy"], 4)
                  for name, p in teach(val_reviews.texts).items()}
    _log(verbose, "teacher validation accuracy: " + ", ".join(f"{k} {v}" for k, v in validation.items())
         + f"; labelling {len(texts)} unlabelled reviews")
    soft = teach(texts)["average"]
    histories = [read_history(run.path("history.csv", teacher_member(part))) for part in fit_teachers]
    info = {
        "kind": config.train.teacher,
        "validation_accuracy": validation,
        "rnn_epochs": sum(len(history) for history in histories),
        "rnn_units": config.train.teacher_units or config.model.units,
        "rnn_parameters": {part: int(model.model.count_params()) for part, model in recurrent.items()
                           if hasattr(model, "model")},
        "unlabelled_reviews": len(texts),
        "unlabelled_sha256": digest,
        "confident_fraction": round(float(np.mean(np.abs(soft - 0.5) > 0.4)), 4),
        "seconds": round(sum(float(r.get("seconds", 0) or 0) for history in histories for r in history)
                         + time.perf_counter() - started, 1),
    }
    artifact.save_array_atomically(labels_file, soft)
    artifact.write_text_atomically(info_file, json.dumps(info))
    return {**info, "soft_labels": soft}


def _gradient_probe(ids, labels, count: int = 16):
    """The ``count`` longest validation reviews cut to the shortest of them: equal lengths, no padding."""
    lengths = ids.row_lengths().numpy()
    chosen = np.argsort(-lengths, kind="stable")[:count]
    width = int(lengths[chosen].min())
    return (np.stack([ids[int(i)].numpy()[:width] for i in chosen]).astype("int64"),
            np.asarray(labels)[chosen].astype("float32"))


def _fit_member(run: "RunFolder", index: int, model, config: Config, train_ds, val_ds, word_vectors, verbose: int,
                probe=None, initial_weights: Path | None = None):
    """Fit one model (resuming its backup), load its best weights, return its history rows.

    A new fit starts from ``initial_weights`` (a ``.weights.h5`` file of the same architecture) when given,
    else from the word vectors when the config asks for them, else from Keras's initialization.
    """
    import keras

    from .gradients import GradientMonitor

    history_file, best_file = run.path("history.csv", index), run.path("best.weights.h5", index)
    done_file, backup = run.path("fit_done", index), run.path("backup", index)
    starting = not done_file.exists() and not backup.exists()
    if starting and initial_weights is not None:
        if not initial_weights.exists():
            raise TrainingError(f"the student starts from {initial_weights}, which is missing; delete {run.folder} "
                                "to start this run over")
        model.load_weights(str(initial_weights))
    elif starting and config.train.word_vectors == "word2vec":
        model.get_layer("embedding").set_weights([word_vectors()])
    if not done_file.exists():
        previous = read_history(history_file)
        nan_guard = NanGuard()
        callbacks = [
            EpochTimer(),
            nan_guard,
            BestWeights(previous, best_file, monitor="val_accuracy"),
            ResumableEarlyStopping(previous, monitor="val_accuracy", mode="max", patience=config.train.patience),
            *([CosineDecay(config.model.learning_rate, config.train.epochs * int(train_ds.cardinality()))]
              if config.train.lr_schedule == "cosine" else []),
            keras.callbacks.CSVLogger(str(history_file), append=True),
            keras.callbacks.TensorBoard(str(run.path("logs", index))),
            *([GradientMonitor(run.path("gradients.csv", index), every=config.train.log_gradients, probe=probe,
                               time_csv_path=run.path("gradient_steps.csv", index), append=True)]
              if config.train.log_gradients else []),
            # Last, so an epoch is backed up only once its row and best weights are on disk.
            SafeBackup(nan_guard, str(backup), delete_checkpoint=False, double_checkpoint=True),
        ]
        try:
            model.fit(train_ds, validation_data=val_ds, epochs=config.train.epochs, callbacks=callbacks, verbose=verbose)
        except OSError as err:  # e.g. a backup file cut short by a crash of the previous run
            raise TrainingError(
                f"could not read or write the run's files in {run.folder}: {err}. "
                f"Delete {run.folder} to start this run over."
            ) from None
        if nan_guard.diverged:
            raise TrainingError(
                "training diverged: the loss became NaN or infinite, so no model was saved. "
                "Lower --learning-rate or set --global-clipnorm (e.g. 1.0). "
                f"The backup of the last good epoch and the logs are kept in {run.folder}."
            )
        done_file.write_text("fit finished\n")
    if not best_file.exists():
        raise TrainingError(f"no best weights in {run.folder}: the run did not complete an epoch")
    model.load_weights(str(best_file))
    return read_history(history_file)


def _fit_member_multi_worker(run: "RunFolder", index: int, model, config: Config, val_ds, word_vectors, strategy,
                             make_train_dataset, batches: int, log) -> list[dict]:
    """Fit one model with the multi-worker loop of :mod:`sentiment.distributed` (no resume: a rerun starts over)."""
    from . import distributed

    if config.train.word_vectors == "word2vec":
        model.get_layer("embedding").set_weights([word_vectors()])
    history_file, best_file = run.path("history.csv", index), run.path("best.weights.h5", index)
    try:
        rows = distributed.fit(strategy, model, model.optimizer, make_train_dataset, batches, val_ds,
                               epochs=config.train.epochs, patience=config.train.patience,
                               history_file=history_file, best_file=best_file, log=log)
    except distributed.Diverged as err:
        raise TrainingError(
            f"training diverged: {err}, so no model was saved. "
            "Lower --learning-rate or set --global-clipnorm (e.g. 1.0)."
        ) from None
    model.load_weights(str(best_file))
    log(f"best weights digest {distributed.weights_digest(model)} (the same on every worker of one training)")
    return read_history(history_file) or rows


def _copy_gradient_logs(run: "RunFolder", members: int, folder: Path) -> None:
    """``gradients.csv`` (+ ``gradient_steps.csv``) of each model into the model folder, and a plot."""
    from .gradients import plot_gradients

    for index in range(members):
        suffix = f"-{index + 1}" if members > 1 else ""
        for name in ("gradients.csv", "gradient_steps.csv"):
            source = run.path(name, index)
            if source.exists():
                stem, _, ext = name.partition(".")
                shutil.copy(source, folder / f"{stem}{suffix}.{ext}")
        if not run.path("gradients.csv", index).exists():  # fewer steps than --log-gradients: nothing logged
            continue
        with open(run.path("gradients.csv", index), newline="") as handle:
            rows = [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(handle)]
        if rows:
            plot_gradients(rows, folder / f"gradients{suffix}.png", title="gradient norms during training")


def _summarize(history: list[dict]) -> dict:
    best = max(history, key=lambda row: float(row["val_accuracy"]))
    return {
        "epochs": len(history),
        "best_epoch": int(best["epoch"]) + 1,
        "validation_accuracy": round(float(best["val_accuracy"]), 4),
        "training_seconds": round(sum(float(row.get("seconds", 0) or 0) for row in history), 1),
    }


STRATEGIES = ("default", "mirrored", "multi_worker")


def make_strategy(name: str):
    """The ``tf.distribute`` strategy for a ``--strategy`` name."""
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        from .distributed import cluster_spec

        try:
            cluster_spec()
        except ValueError as err:
            raise TrainingError(str(err)) from None
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise TrainingError(f"unknown strategy {name!r}: expected one of {STRATEGIES}")


def _shard_by_data(dataset):
    """Shard by batches, not files (the data is in memory)."""
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def read_history(path: Path) -> list[dict]:
    """Rows of a ``CSVLogger`` file, one per epoch (a row repeated by a resumed run counts once).

    A model folder's ``history.csv`` of an ensemble has a ``member`` column: one row per member and epoch.
    """
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        rows = {(row.get("member") or "", int(row["epoch"])): row
                for row in csv.DictReader(handle) if row.get("epoch", "").isdigit()}
    return list(rows.values())


def write_history(rows: list[dict], path: Path) -> None:
    """History rows as CSV (an ensemble's rows carry a ``member`` column)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def plot_history(history: list[dict], path: Path) -> None:
    """Accuracy and loss per epoch (train and validation) as a PNG; one line pair per ensemble member."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    groups = {}
    for row in history:
        groups.setdefault(row.get("member") or "", []).append(row)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, key in zip(axes, ("accuracy", "loss")):
        for member, rows in groups.items():
            for prefix, style in (("", "-o"), ("val_", "--s")):
                values = [(int(r["epoch"]) + 1, float(r[prefix + key])) for r in rows if r.get(prefix + key)]
                if values:
                    label = f"{member + ' ' if member else ''}{'validation' if prefix else 'train'} {key}"
                    ax.plot(*zip(*values), style, label=label)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _log(verbose: int, message: str) -> None:
    if verbose:
        print(f"[sentiment] {message}", file=sys.stderr, flush=True)


def _callbacks():
    import keras

    return keras.callbacks


class EpochTimer(_callbacks().Callback):
    """Adds ``seconds`` (wall time of the epoch) to the logs, so ``history.csv`` records it."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["seconds"] = round(time.perf_counter() - self._start, 2)


class CosineDecay(_callbacks().Callback):
    """Sets the learning rate before each step: ``base * (1 + cos(pi * step / total)) / 2``.

    The step is read from the optimizer's own counter, so a resumed run (``BackupAndRestore``
    restores the optimizer) continues the schedule where the killed one stopped.
    """

    def __init__(self, base: float, total_steps: int):
        super().__init__()
        if total_steps < 1:
            raise ValueError(f"total_steps={total_steps} is invalid: expected an integer >= 1")
        self.base, self.total = float(base), int(total_steps)

    def rate(self, step: int) -> float:
        return self.base * 0.5 * (1.0 + math.cos(math.pi * min(step, self.total) / self.total))

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate.assign(self.rate(int(self.model.optimizer.iterations)))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class NanGuard(_callbacks().Callback):
    """Stops training at the first batch whose loss is NaN or infinite, and remembers that it did."""

    diverged = False

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(float(loss)):
            self.diverged = True
            self.model.stop_training = True


class BestWeights(_callbacks().Callback):
    """Keeps the weights of the best epoch so far, written atomically, counting epochs before a resume."""

    def __init__(self, previous: list[dict], path: Path, monitor: str = "val_accuracy"):
        super().__init__()
        self.path, self.monitor = Path(path), monitor
        scores = [float(r[monitor]) for r in previous if r.get(monitor)]
        self.best = max(scores) if scores and self.path.exists() else -np.inf

    def on_epoch_end(self, epoch, logs=None):
        score = (logs or {}).get(self.monitor)
        if score is not None and np.isfinite(score) and score > self.best:
            self.best = float(score)
            tmp = self.path.with_name(f".tmp-{os.getpid()}-{self.path.name}")
            self.model.save_weights(str(tmp))
            os.replace(tmp, self.path)


class SafeBackup(_callbacks().BackupAndRestore):
    """``BackupAndRestore`` that does not back up an epoch whose loss went NaN (the good backup is kept)."""

    def __init__(self, nan_guard: "NanGuard", *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._nan_guard = nan_guard

    def on_epoch_end(self, epoch, logs=None):
        if not self._nan_guard.diverged:
            super().on_epoch_end(epoch, logs)

    def on_train_batch_end(self, batch, logs=None):
        if not self._nan_guard.diverged:
            super().on_train_batch_end(batch, logs)


class ResumableEarlyStopping(_callbacks().EarlyStopping):
    """``EarlyStopping`` whose patience counts the epochs before a resume too."""

    def __init__(self, previous: list[dict], **kwargs):
        super().__init__(**kwargs)
        self._previous = [float(r[self.monitor]) for r in previous if r.get(self.monitor)]

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self._previous:
            best_index = int(np.argmax(self._previous))
            self.best = self._previous[best_index]
            self.wait = len(self._previous) - 1 - best_index
