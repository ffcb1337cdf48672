"""Architecture search with keras-tuner over the project's own builder.

:class:`SentimentHyperModel` is a thin adapter: it maps ``hp`` values onto
:func:`sentiment.model.build_model`, with every default equal to the default config. The
vectorizer is adapted once per search (not per trial) and the datasets are built once.
Searches are resumable (rerunning keeps finished trials) and can run as a keras-tuner
chief/worker cluster (``KERASTUNER_TUNER_ID``, ``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT``).
"""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

import keras
import keras_tuner as kt

from .config import POOLINGS, Config, ModelConfig
from .model import build_model

ALGORITHMS = ("hyperband", "bayesian", "random")
SEARCHED = ("cell", "num_layers", "units", "bidirectional", "residual", "pooling", "dropout",
            "embedding_dim", "learning_rate", "clipnorm")


def _save_json_atomically(path, obj):
    """keras-tuner's ``utils.save_json``, but a kill mid-write leaves the previous file, not half a JSON.

    keras-tuner writes ``trial.json`` and ``oracle.json`` in place; a search killed while writing
    one could not be resumed (the rerun fails to parse it). Remote paths (``gs://``) keep the original.
    """
    text = json.dumps(obj)
    if "://" in str(path):
        return _original_save_json(path, obj)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return text


from keras_tuner.src import utils as _kt_utils  # noqa: E402 - patched once, on import

_original_save_json = getattr(_kt_utils.save_json, "__wrapped_original__", _kt_utils.save_json)
_save_json_atomically.__wrapped_original__ = _original_save_json
_kt_utils.save_json = _save_json_atomically


def _choices(default, options):
    return sorted(set(options) | {default}, key=str)


class SentimentHyperModel(kt.HyperModel):
    """Maps a search space onto ``build_model``; fixed structure in ``__init__``, tunables in ``build``."""

    def __init__(self, vocabulary_size: int, defaults: ModelConfig | None = None, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.defaults = defaults or ModelConfig()

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        d = self.defaults
        clip = hp.Choice("clipnorm", _choices(d.clipnorm or 0.0, [0.0, 1.0, 5.0]), default=d.clipnorm or 0.0)
        return build_model(
            self.vocabulary_size,
            cell=hp.Choice("cell", _choices(d.cell, ["lstm", "gru"]), default=d.cell),
            num_layers=hp.Int("num_layers", 1, max(4, d.num_layers), default=d.num_layers),
            units=hp.Choice("units", _choices(d.units, [32, 64, 128]), default=d.units),
            bidirectional=hp.Boolean("bidirectional", default=d.bidirectional),
            residual=hp.Boolean("residual", default=d.residual),
            pooling=hp.Choice("pooling", list(POOLINGS), default=d.pooling),
            dropout=hp.Float("dropout", 0.0, 0.5, step=0.1, default=round(d.dropout, 1)),
            embedding_dim=hp.Choice("embedding_dim", _choices(d.embedding_dim, [64, 128, 256]), default=d.embedding_dim),
            learning_rate=hp.Float("learning_rate", 1e-4, 1e-2, sampling="log", default=d.learning_rate),
            clipnorm=clip or None,
            # Not searched: kept from the defaults (clipping is searched as clipnorm alone).
            merge_mode=d.merge_mode, embedding_dropout=d.embedding_dropout,
            recurrent_dropout=d.recurrent_dropout, weight_decay=d.weight_decay, optimizer=d.optimizer,
        )


def model_config_from_hp(values: dict, defaults: ModelConfig) -> ModelConfig:
    """The :class:`ModelConfig` a trial's hyperparameters stand for (used to retrain the best)."""
    fields = {k: values[k] for k in SEARCHED if k in values}
    clip = fields.pop("clipnorm", 0.0) or None
    base = {k: v for k, v in defaults.__dict__.items() if k not in ("clipnorm", "global_clipnorm", "clipvalue")}
    base["ensemble"] = ""  # the search is over single models
    return ModelConfig(**{**base, **fields, "clipnorm": clip})


class TimedTrials:
    """Mixin: records each trial's wall time, parameter count and the tuner that ran it."""

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
    queue = [tid for tid in oracle._retry_queue if oracle.trials[tid].status not in finished]
    settled = [tid for tid in oracle._retry_queue if tid not in queue]
    for tid in settled:
        if tid not in oracle.end_order:
            oracle.end_order.append(tid)
    unrecorded = [tid for tid in oracle.trials if tid not in oracle.start_order]
    for tid in unrecorded:
        del oracle.trials[tid]
    if settled or unrecorded:
        oracle._retry_queue = queue
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
    """The base config with the best trial's model settings (data and training settings stay as given)."""
    best = tuner.oracle.get_best_trials(1)
    if not best:
        raise RuntimeError("the search has no completed trial")
    return Config(data=base.data, model=model_config_from_hp(best[0].hyperparameters.values, base.model), train=base.train)
