"""Architecture search with keras-tuner over the project's own builder.

:func:`search_space` maps ``hp`` values onto a :class:`~sentiment.config.Config`, every default
equal to the base config's; :class:`SentimentHyperModel` is a thin adapter that builds and
compiles each trial from it, and the best trial is retrained from the same function. The
vectorizer is adapted once per search (not per trial) and the datasets are built once.
Searches are resumable (rerunning keeps finished trials) and can run as a keras-tuner
chief/worker cluster (``KERASTUNER_TUNER_ID``, ``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT``).
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import os
import time
from pathlib import Path

import keras
import keras_tuner as kt

from . import model_folder
from .config import CONNECTIONS, POOLINGS, Config
from .fitting import compile_model
from .model import build_model

ALGORITHMS = ("hyperband", "bayesian", "random")
SEARCHED = ("cell", "num_layers", "units", "bidirectional", "connection", "pooling", "dropout", "embedding_dim",
            "learning_rate", "clipnorm")
"""The hyperparameters of :func:`search_space`, in the leaderboard's column order."""


def _choices(default, options):
    return sorted(set(options) | {default}, key=str)


def search_space(hp: kt.HyperParameters, base: Config) -> Config:
    """The config a trial's hyperparameters stand for: ``base`` with the searched values set.

    The one search space: :class:`SentimentHyperModel` builds each trial from it, and
    :func:`best_config` reads the best trial through it. Every default is ``base``'s own value
    (dropout rounded to the search's 0.1 steps). Clipping is searched as ``clipnorm`` alone
    (0 = none): a trial never uses ``global_clipnorm`` or ``clipvalue``, even where ``base`` does.
    """
    m, t = base.model, base.train
    # keras-tuner seeds each draw by the order the hyperparameters are registered: this order is part of a search.
    clip = hp.Choice("clipnorm", _choices(t.clipnorm or 0.0, [0.0, 1.0, 5.0]), default=t.clipnorm or 0.0)
    model = dataclasses.replace(
        m,
        cell=hp.Choice("cell", _choices(m.cell, ["lstm", "gru"]), default=m.cell),
        num_layers=hp.Int("num_layers", 1, max(4, m.num_layers), default=m.num_layers),
        units=hp.Choice("units", _choices(m.units, [32, 64, 128]), default=m.units),
        bidirectional=hp.Boolean("bidirectional", default=m.bidirectional),
        connection=hp.Choice("connection", list(CONNECTIONS), default=m.connection),
        pooling=hp.Choice("pooling", list(POOLINGS), default=m.pooling),
        dropout=hp.Float("dropout", 0.0, 0.5, step=0.1, default=round(m.dropout, 1)),
        embedding_dim=hp.Choice("embedding_dim", _choices(m.embedding_dim, [64, 128, 256]), default=m.embedding_dim),
    )
    train = dataclasses.replace(
        t, learning_rate=hp.Float("learning_rate", 1e-4, 1e-2, sampling="log", default=t.learning_rate),
        clipnorm=clip or None, global_clipnorm=None, clipvalue=None,
    )
    return Config(data=base.data, model=model, train=train)


class SentimentHyperModel(kt.HyperModel):
    """A thin adapter: each trial is ``build_model`` + ``compile_model`` of :func:`search_space`'s config."""

    def __init__(self, vocabulary_size: int, base: Config | None = None, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.base = base or Config()

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        config = search_space(hp, self.base)
        return compile_model(build_model(self.vocabulary_size, config.model), config.train)


@contextlib.contextmanager
def atomic_tuner_files():
    """While active, keras-tuner writes ``trial.json``, ``oracle.json`` and its tuner file atomically.

    keras-tuner writes those files in place, so a search killed mid-write could not be resumed
    (the rerun fails to parse half a JSON). It offers no public hook: ``Trial``, ``Oracle`` and
    ``Tuner`` all save through ``keras_tuner.src.utils.save_json``. This is the project's one use
    of a keras-tuner internal for writing: that function is swapped, only for the duration of a
    search or save of a tuner made by :func:`make_tuner` (see ``TimedTrials``), for one that
    writes a temporary file and renames it. Remote paths (``gs://``) keep the original.
    """
    from keras_tuner.src import utils as kt_utils

    original = kt_utils.save_json

    def save_json(path, obj):
        if "://" in str(path):
            return original(path, obj)
        text = json.dumps(obj)
        model_folder.write_atomically(path, text)
        return text

    kt_utils.save_json = save_json
    try:
        yield
    finally:
        kt_utils.save_json = original


class TimedTrials:
    """Mixin: records each trial's wall time, parameter count and the tuner that ran it; saves atomically."""

    def search(self, *args, **kwargs):
        with atomic_tuner_files():
            return super().search(*args, **kwargs)

    def save(self):
        with atomic_tuner_files():
            return super().save()

    def run_trial(self, trial, *args, **kwargs):
        started = time.perf_counter()
        result = super().run_trial(trial, *args, **kwargs)
        info = {"seconds": round(time.perf_counter() - started, 1),
                "tuner_id": os.environ.get("KERASTUNER_TUNER_ID", "local"),
                "parameters": int(self.hypermodel.build(trial.hyperparameters).count_params())}
        keras.backend.clear_session()
        Path(self.get_trial_dir(trial.trial_id)).mkdir(parents=True, exist_ok=True)
        (Path(self.get_trial_dir(trial.trial_id)) / "run.json").write_text(json.dumps(info))
        return result


def make_tuner(algorithm: str, hypermodel: SentimentHyperModel, *, max_trials: int, max_epochs: int,
               directory: str, project_name: str, overwrite: bool, seed: int = 1337):
    """A keras-tuner tuner maximizing ``val_accuracy``; resumes an existing project unless ``overwrite``."""
    common = dict(objective=kt.Objective("val_accuracy", direction="max"), directory=directory, project_name=project_name,
                  overwrite=overwrite, seed=seed, max_consecutive_failed_trials=3)
    if algorithm == "hyperband":
        klass = type("Hyperband", (TimedTrials, kt.Hyperband), {})
        # Hyperband's budget is epochs, not trials; max_iterations caps its brackets.
        tuner = klass(hypermodel, max_epochs=max_epochs, factor=3, hyperband_iterations=1, **common)
    elif algorithm == "bayesian":
        klass = type("BayesianOptimization", (TimedTrials, kt.BayesianOptimization), {})
        tuner = klass(hypermodel, max_trials=max_trials, **common)
    elif algorithm == "random":
        klass = type("RandomSearch", (TimedTrials, kt.RandomSearch), {})
        tuner = klass(hypermodel, max_trials=max_trials, **common)
    else:
        raise ValueError(f"algorithm={algorithm!r} is invalid: expected one of {ALGORITHMS}")
    if isinstance(tuner.oracle, kt.Oracle):  # the local or chief oracle, not a worker's client
        project = Path(tuner.project_dir)
        if not overwrite and (project / "oracle.json").exists() and not (project / f"{tuner.tuner_id}.json").exists():
            # keras-tuner reloads only when its tuner file exists, and first writes that file after
            # the first trial ends: a search killed before then would start over on top of its trials.
            tuner.oracle.reload()
        with atomic_tuner_files():
            settle_reloaded_trials(tuner.oracle)
        tuner.save()
    return tuner


def settle_reloaded_trials(oracle: kt.Oracle) -> None:
    """Make a reloaded oracle agree with its ``trial.json`` files, which keras-tuner writes first.

    keras-tuner saves a trial's own file, then ``oracle.json``. A kill between the two leaves
    either a finished trial still listed as ongoing (its reload would run it again and overwrite
    its score) or a new trial the oracle never recorded (it would count towards ``max_trials``
    but never run). Finished trials are taken off the retry queue; unrecorded ones are forgotten,
    so the oracle creates them again under the same id, from the same saved random state (and, for
    Hyperband, the same bracket entry), and their stale ``trial.json`` is overwritten.
    """
    finished = {"COMPLETED", "FAILED"}
    state = oracle.get_state()  # public API; its keys are keras-tuner's own (Oracle.get_state in 1.4)
    queue = [tid for tid in state["retry_queue"] if oracle.trials[tid].status not in finished]
    settled = [tid for tid in state["retry_queue"] if tid not in queue]
    unrecorded = [tid for tid in oracle.trials if tid not in state["start_order"]]
    if not settled and not unrecorded:
        return
    state["end_order"] += [tid for tid in settled if tid not in state["end_order"]]
    state["retry_queue"] = queue
    for tid in unrecorded:
        del oracle.trials[tid]
    oracle.set_state(state)
    oracle.save()


def leaderboard(tuner) -> list[dict]:
    """One row per finished trial, best first: trial, hyperparameters, validation accuracy, best epoch, seconds, parameters."""
    rows = []
    for trial in tuner.oracle.trials.values():
        if trial.status != "COMPLETED" or trial.score is None:
            continue
        info_file = Path(tuner.get_trial_dir(trial.trial_id)) / "run.json"
        info = json.loads(info_file.read_text()) if info_file.exists() else {}
        values = trial.hyperparameters.values
        best_epoch = trial.best_step + 1 if trial.best_step is not None else None
        rows.append({
            "trial": trial.trial_id,
            **{k: values[k] for k in SEARCHED if k in values},
            "val_accuracy": round(float(trial.score), 4),
            "best_epoch": best_epoch,
            "seconds": info.get("seconds"),
            "parameters": info.get("parameters"),
            "tuner": info.get("tuner_id"),
        })
    return sorted(rows, key=lambda r: -r["val_accuracy"])


def write_leaderboard(rows: list[dict], folder: Path) -> tuple[Path, Path]:
    """``leaderboard.csv`` and ``leaderboard.md`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    columns = list(rows[0]) if rows else ["trial"]
    csv_path, md_path = folder / "leaderboard.csv", folder / "leaderboard.md"
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(c)) for c in columns) + " |")
    md_path.write_text("\n".join(lines) + "\n")
    return csv_path, md_path


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 0.01 and value else f"{value:.4g}"
    return "" if value is None else str(value)


def best_config(tuner, base: Config) -> Config:
    """The config of the best trial (data and the unsearched settings stay as ``base`` has them)."""
    best = tuner.oracle.get_best_trials(1)
    if not best:
        raise RuntimeError("the search has no completed trial")
    return search_space(best[0].hyperparameters.copy(), base)
