"""Train a classifier from a :class:`~sentiment.config.Config` and write its model folder.

The recipe: prepare -> [distill] -> fit -> evaluate -> save. Resumable: the vocabulary, a
per-epoch backup, the best weights, the soft labels and the logs live in the run's work folder
(:mod:`sentiment.runs`), so rerunning the same command after a kill continues from the last
completed epoch. The model folder is written atomically (:mod:`sentiment.model_folder`).
"""

from __future__ import annotations

import datetime
import functools
import sys
from pathlib import Path

import numpy as np

from . import model_folder
from .config import Config
from .runs import RunFolder, TrainingError, check_writable, default_work_dir, fingerprint

__all__ = ["train", "TrainingError"]


def train(config: Config, data: str, out: str | Path, *, work_dir: str | Path | None = None, evaluate_test: bool = True,
          tfds_data_dir: str | None = None, download: bool = True, command: str | None = None, verbose: int = 1,
          strategy: str = "default", restart: bool = False) -> dict:
    """Train, evaluate (validation, then the test split once) and save to ``out``; return the metrics.

    ``strategy``: ``default``, ``mirrored`` or ``multi_worker`` (:class:`sentiment.distributed.Devices`).
    ``restart``: discard an interrupted run of a different command found in the work folder.
    """
    import keras

    from .distill import distill
    from .distributed import Devices
    from .model import build_model, end_to_end
    from .prepare import prepare

    log = functools.partial(_log, verbose)
    devices = Devices(strategy, config)
    out = Path(out)
    run = _start_run(config, data, out, work_dir, devices, log, restart)
    keras.utils.set_random_seed(config.data.seed)
    prepared = prepare(config, data, vocabulary_file=run.path("vocabulary.txt"), tfds_data_dir=tfds_data_dir,
                       download=download, log=log)
    vectors = functools.partial(word_vectors, run, prepared, log)
    teacher = distill(run, prepared, devices, word_vectors=vectors, verbose=verbose, log=log) \
        if config.train.teacher != "none" else None

    keras.utils.set_random_seed(config.data.seed)
    model = devices.build(prepared.vocabulary_size, config.model, config.train)
    history = devices.fit(run, "", model, config.train, prepared, word_vectors=vectors, probe=_probe(prepared),
                          verbose=verbose, log=lambda message: _log(verbose or 1, message))
    inference = build_model(prepared.vocabulary_size, config.model)  # uncompiled: no optimizer state is saved
    inference.set_weights(model.get_weights())
    classifier = end_to_end(prepared.vectorizer, inference, config.data.max_length, typo_corrector(prepared, log),
                            hidden_identity_words(prepared))

    metrics = evaluate(classifier, prepared, history, teacher, test=evaluate_test and devices.chief, log=log)
    if not devices.chief:  # the chief writes the model folder; the other workers only helped train it
        run.finish()
        log(f"worker done; the chief worker saves {out}")
        return metrics
    save(out, classifier, prepared, metrics, history, run, command)
    log(f"saved {out}")
    return metrics


def _start_run(config: Config, data: str, out: Path, work_dir, devices, log, restart: bool) -> RunFolder:
    """Check the output and the work folder before any work, and open (or resume) the run."""
    model_folder.check_replaceable(out)
    check_writable(out.parent if out.parent != Path("") else Path("."), "output folder")
    work = devices.work_dir(Path(work_dir) if work_dir else default_work_dir(out))
    run = RunFolder(work)
    check_writable(work, "work folder")
    log(f"work folder (backup, logs, vocabulary): {work}")
    if devices.description:
        log(devices.description)
    source = str(Path(data).resolve()) if Path(data).exists() else str(data)  # ../x and /abs/x: one run
    description = {"config": config.to_dict(), "data": source}
    if run.start(fingerprint(config.to_json(), source, devices.name), description, restart=restart):
        log("resuming the interrupted run found in the work folder")
    return run


def word_vectors(run: RunFolder, prepared, log) -> np.ndarray:
    """word2vec vectors of the vocabulary, trained on the training and unlabelled reviews once per run."""
    path = run.path("word_vectors.npy")
    if not path.exists():
        from .word_vectors import train_word_vectors

        log("training word2vec on the training and unlabelled reviews")
        config = prepared.config
        matrix = train_word_vectors(prepared.train_texts + prepared.unlabelled_to_learn(),
                                    prepared.vectorizer.get_vocabulary(), config.model.embedding_dim,
                                    epochs=config.train.word_vector_epochs, seed=config.data.seed)
        with model_folder.replacing(path) as tmp:
            np.save(tmp, matrix)
    return np.load(path)


def hidden_identity_words(prepared):
    """The identity-words layer when ``config.data.identity_words`` asks for it (:mod:`sentiment.identity_words`), or None."""
    if not prepared.config.data.identity_words:
        return None
    from .identity_words import identity_words

    return identity_words(prepared.vectorizer.get_vocabulary())


def typo_corrector(prepared, log):
    """The typo corrector of ``config.data.typo_rarer_than`` (:mod:`sentiment.spelling`), or None when it is 0."""
    rarer_than = prepared.config.data.typo_rarer_than
    if not rarer_than:
        return None
    from .spelling import corrector

    layer = corrector(prepared.vectorizer.get_vocabulary(), prepared.train.texts + prepared.unlabelled(), rarer_than)
    log(f"typo corrector: {len(layer.known)} words outside the vocabulary seen at least {rarer_than} times are kept")
    return layer


def _probe(prepared):
    """The reviews whose per-step gradients ``--log-gradients`` records (validation, never test)."""
    if not prepared.config.train.log_gradients:
        return None
    from .gradients import gradient_probe

    return gradient_probe(prepared.validation_ids, prepared.validation.labels)


def evaluate(model, prepared, history: list[dict], teacher: dict | None, *, test: bool, log) -> dict:
    """Validation metrics of the raw-strings ``model``, the test split's once (``test``), and what the run
    was, for ``metrics.json``."""
    import time

    import keras
    import tensorflow as tf

    from .classifier import Classifier
    from .history import summarize
    from .metrics import binary_metrics

    classifier = Classifier(model, prepared.config.to_dict())
    metrics: dict = {"validation": binary_metrics(prepared.validation.labels,
                                                  classifier.predict(prepared.validation.texts)), "test": None}
    log(f"validation accuracy {metrics['validation']['accuracy']:.4f}")
    if test:
        reviews = prepared.test()
        started = time.perf_counter()
        metrics["test"] = binary_metrics(reviews.labels, classifier.predict(reviews.texts))
        metrics["test"]["seconds"] = round(time.perf_counter() - started, 2)
        log(f"test accuracy {metrics['test']['accuracy']:.4f} on {len(reviews)} reviews")
    if teacher is not None:  # its time (fit, NBSVM, labelling) is teacher["seconds"], not training_seconds
        metrics["teacher"] = teacher
        metrics["unlabelled_reviews"] = teacher["unlabelled_reviews"]
    summary = summarize(history)
    metrics.update({
        "epochs": summary["epochs"], "best_epoch": summary["best_epoch"], "training_seconds": summary["training_seconds"],
        "parameters": int(model.count_params()), "vocabulary_size": int(prepared.vocabulary_size),
        "train_reviews": len(prepared.train), "validation_reviews": len(prepared.validation),
        "data": str(prepared.data),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "tensorflow": tf.__version__, "keras": keras.__version__,
    })
    return metrics


def save(out: Path, model, prepared, metrics: dict, history: list[dict], run: RunFolder, command: str | None) -> None:
    """Write the model folder of the raw-strings ``model`` atomically (model, config, metrics, history,
    curves, card), then close the run: nothing is left to resume."""
    import json

    from .distill import teacher_history
    from .fitting import copy_gradient_logs
    from .history import plot_history, write_history

    config = prepared.config
    rows = history
    if config.train.teacher != "none":  # the teacher's epochs first, then the student's
        rows = [{**r, "member": "teacher"} for r in teacher_history(run)] + [{**r, "member": "student"} for r in history]

    def write(folder: Path) -> None:
        model.save(folder / model_folder.MODEL_FILE)
        (folder / model_folder.CONFIG_FILE).write_text(config.to_json() + "\n")
        (folder / model_folder.METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n")
        (folder / model_folder.COMMAND_FILE).write_text((command or "") + "\n")
        write_history(rows, folder / model_folder.HISTORY_FILE)
        plot_history(rows, folder / model_folder.CURVES_FILE)
        if config.train.log_gradients:
            copy_gradient_logs(run, folder)
        model_folder.write_card(folder, config.to_dict(), metrics, command or "")

    try:
        model_folder.save_folder(out, write)
    except FileExistsError:
        raise
    except OSError as err:  # e.g. the disk filled up while saving
        raise TrainingError(
            f"could not save the model to {out}: {err.strerror or err}. Nothing was replaced: a model folder "
            f"that was there is unchanged. The trained run is kept in {run.folder}; free some space and rerun the "
            "same command to save it without training again."
        ) from None
    run.finish()


def _log(verbose: int, message: str) -> None:
    if verbose:
        print(f"[sentiment] {message}", file=sys.stderr, flush=True)
