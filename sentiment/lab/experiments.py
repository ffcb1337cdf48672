"""The lab's experiments: small models trained on a fixed, seeded IMDB subset, their gradients measured.

``run_lecture7(data, out)`` prepares the reviews with the project's :func:`sentiment.prepare.prepare`
(training reviews from the train split, validation reviews from the held-out part of train,
never the test split), runs the five experiments (one function each), and writes
``results.json``, ``report.md``, the PNG plots and each run's gradient logs (``raw/``) into ``out``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .claims import SEED_SENTENCES, decay
from .report import plot_depth, plot_explode, plot_time_steps, write_report


@dataclass(frozen=True)
class LabConfig:
    train_samples: int = 6000
    validation_samples: int = 1000
    max_tokens: int = 10000
    max_length: int = 200  # reviews are cut to this many tokens; the gradient probe uses the longest validation reviews
    units: int = 32
    embedding_dim: int = 32
    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 1e-3
    explode_learning_rate: float = 0.1
    explode_radius: float = 1.5  # W_hh's spectral radius in the exploding experiment (the regime where it can explode)
    clip: float = 1.0
    depths: tuple = (1, 2, 4, 8)
    radii: tuple = (0.5, 0.9, 1.0, 1.1, 1.5)  # spectral radii of the plain RNN's W_hh (experiment 5)
    probe_reviews: int = 32
    monitor_every: int = 20
    seed: int = 1337


class LabData(NamedTuple):
    """What every run of the lab trains and measures on."""

    vectorizer: Any
    train_ds: Any
    val_ds: Any
    probe: tuple  # (ids [probe_reviews, width], labels): the longest validation reviews, cut to the same width
    sizes: dict


def prepare_lab(data: str, config: LabConfig) -> LabData:
    """The lab's reviews, vocabulary, batches and gradient probe, from the project's one data preparation."""
    from ..config import Config, DataConfig, TrainConfig
    from ..gradients import gradient_probe
    from ..prepare import prepare

    run = Config(data=DataConfig(max_tokens=config.max_tokens, max_length=config.max_length, seed=config.seed),
                 train=TrainConfig(max_train_samples=config.train_samples, batch_size=config.batch_size))
    prepared = prepare(run, data, max_validation_samples=config.validation_samples)
    probe = gradient_probe(prepared.validation_ids, prepared.validation.labels, config.probe_reviews)
    sizes = {"train": len(prepared.train), "validation": len(prepared.validation), "probe": len(probe[1]),
             "probe_length": int(probe[0].shape[1])}
    return LabData(prepared.vectorizer, prepared.train_dataset(), prepared.validation_dataset(), probe, sizes)


def _train(name: str, out: Path, lab: LabData, config: LabConfig, *, learning_rate: float | None = None,
           clipping: dict | None = None, recurrent_radius: float | None = None, **architecture) -> dict:
    """Build, record gradients at initialization, train with the monitor, record again; a result row."""
    import keras

    from ..callbacks import EpochTimer
    from ..config import TrainConfig
    from ..fitting import compile_model
    from ..gradients import GradientMonitor, layer_gradient_norms, set_recurrent_spectral_radius, time_step_gradient_norms
    from ..model import build_model

    keras.utils.set_random_seed(config.seed)
    learning_rate, clipping = learning_rate or config.learning_rate, clipping or {}
    model = build_model(config.max_tokens, units=config.units, embedding_dim=config.embedding_dim, dropout=0.0,
                        **architecture)
    compile_model(model, TrainConfig(learning_rate=learning_rate, **clipping))
    if recurrent_radius is not None:
        set_recurrent_spectral_radius(model, "rnn_1", recurrent_radius)
    probe = lab.probe
    init_steps = time_step_gradient_norms(model, *probe)
    init_layers = layer_gradient_norms(model, *probe)
    monitor = GradientMonitor(out / f"{name}-gradients.csv", every=config.monitor_every, probe=probe,
                              time_csv_path=out / f"{name}-time-steps.csv")
    timer = EpochTimer(exclude=monitor)
    history = model.fit(lab.train_ds, validation_data=lab.val_ds, epochs=config.epochs, callbacks=[monitor, timer],
                        verbose=0)
    trained_steps = time_step_gradient_norms(model, *probe)
    val_accuracy = [float(v) for v in history.history.get("val_accuracy", [])]
    losses = [float(v) for v in history.history.get("loss", [])]
    return {
        "name": name, "learning_rate": learning_rate, **architecture, **clipping,
        "parameters": int(model.count_params()),
        "epochs_run": len(losses),
        # Median epoch wall time, validation included, the monitor's own measurements left out.
        "seconds_per_epoch": float(np.median(timer.seconds)) if timer.seconds else float("nan"),
        "best_val_accuracy": max(val_accuracy) if val_accuracy else float("nan"),
        "final_val_accuracy": val_accuracy[-1] if val_accuracy else float("nan"),
        "final_loss": losses[-1] if losses else float("nan"),
        "nan_steps": int(sum(r["nan"] for r in monitor.rows)),
        "clipped_fraction": monitor.rows[-1]["clipped_fraction"] if monitor.rows else 0.0,
        "max_global_norm": max((r["global_norm"] for r in monitor.rows if np.isfinite(r["global_norm"])), default=float("nan")),
        "init_time_steps": [float(x) for x in init_steps],
        "trained_time_steps": [float(x) for x in trained_steps],
        "init_layer_norms": init_layers,
        "trained_layer_norms": layer_gradient_norms(model, *probe),
        "monitor_rows": monitor.rows,
        "_model": model,
    }


def run_lecture7(data: str, out: str | Path, config: LabConfig | None = None, log=print) -> dict:
    """Run the five experiments and write ``report.md``, plots and ``results.json`` into ``out``."""
    from ..gradients import plot_gradients

    config = config or LabConfig()
    out = Path(out)
    raw = out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    lab = prepare_lab(data, config)
    log(f"lab data: {lab.sizes}")
    results: dict = {"config": asdict(config), "sizes": lab.sizes, "data": str(data)}
    groups = {
        "cells": _cells(raw, lab, config, log),
        "radii": _radii(raw, lab, config, log),
        "exploding": _exploding(raw, lab, config, log),
        "depth": _depth(raw, lab, config, log),
        "direction": _direction(raw, lab, config, log),
    }
    plot_time_steps(groups["cells"], out / "cells-time-steps.png")
    plot_time_steps(groups["radii"], out / "radius.png", label=lambda name: name)
    plot_explode(groups["exploding"], out / "exploding.png")
    plot_depth(groups["depth"], config.depths, out / "depth.png")
    for name in ("cells", "exploding", "depth", "direction", "radii"):
        for row in groups[name].values():
            plot_gradients(row["monitor_rows"], raw / f"{row['name']}-gradients.png", title=row["name"])
        results[name] = _strip(groups[name])
    results["minutes"] = (time.perf_counter() - started) / 60
    (out / "results.json").write_text(json.dumps(results, indent=1, default=float) + "\n")  # before judging
    write_report(out, results)
    log(f"lab done in {results['minutes']:.1f} min: {out / 'report.md'}")
    return results


def _strip(rows: dict) -> dict:
    return {k: {key: value for key, value in row.items() if key not in ("_model", "monitor_rows")} for k, row in rows.items()}


def _cells(raw: Path, lab: LabData, config: LabConfig, log) -> dict:
    """1. Plain RNN vs LSTM vs GRU, one unidirectional layer of the same width, last-state head."""
    import keras

    from ..gradients import recurrent_spectral_radius
    from ..model import build_model

    cells = {}
    for cell in ("rnn", "lstm", "gru"):
        if cell == "rnn":  # the radius of Keras' own initialization: a fresh model, seeded as _train seeds
            keras.utils.set_random_seed(config.seed)
            fresh = build_model(config.max_tokens, cell="rnn", bidirectional=False, units=config.units,
                                embedding_dim=config.embedding_dim)
            init_radius = recurrent_spectral_radius(fresh, "rnn_1")
        row = _train(f"cell-{cell}", raw, lab, config, cell=cell, bidirectional=False, pooling="last")
        if cell == "rnn":
            row["spectral_radius_init"] = init_radius
            row["spectral_radius_trained"] = recurrent_spectral_radius(row["_model"], "rnn_1")
        cells[cell] = row
        log(f"cells: {cell} val {row['best_val_accuracy']:.4f}, {row['seconds_per_epoch']:.1f} s/epoch, "
            f"first/last step gradient {decay(row['trained_time_steps']):.2e}")
    return cells


def _radii(raw: Path, lab: LabData, config: LabConfig, log) -> dict:
    """5. The plain RNN with its recurrent weights rescaled to a given spectral radius (Keras' orthogonal init = 1)."""
    from ..gradients import recurrent_spectral_radius

    radii = {}
    for radius in config.radii:
        row = _train(f"radius-{radius:g}", raw, lab, config, cell="rnn", bidirectional=False, pooling="last",
                     recurrent_radius=radius)
        row["radius"] = radius
        row["spectral_radius_trained"] = recurrent_spectral_radius(row["_model"], "rnn_1")
        radii[f"radius {radius:g}"] = row
        log(f"radius: {radius} init decay {decay(row['init_time_steps']):.2e}, val {row['best_val_accuracy']:.4f}")
    return radii


def _exploding(raw: Path, lab: LabData, config: LabConfig, log) -> dict:
    """2. Exploding: a high learning rate without clipping, with clipnorm, with global_clipnorm (plain RNN)."""
    explode = {}
    for label, clipping in (("no clipping", {}), ("clipnorm", {"clipnorm": config.clip}),
                            ("global_clipnorm", {"global_clipnorm": config.clip})):
        row = _train(f"explode-{label.replace(' ', '-')}", raw, lab, config, cell="rnn", bidirectional=False,
                     pooling="last", learning_rate=config.explode_learning_rate, clipping=clipping,
                     recurrent_radius=config.explode_radius)
        explode[label] = row
        log(f"exploding: {label} val {row['best_val_accuracy']:.4f}, NaN steps {row['nan_steps']}, "
            f"max norm {row['max_global_norm']:.3g}, clipped {row['clipped_fraction']:.2f}")
    return explode


def _depth(raw: Path, lab: LabData, config: LabConfig, log) -> dict:
    """3. Depth 1, 2, 4, 8 with and without residual connections (GRU, unidirectional)."""
    depth = {}
    for residual in (False, True):
        for layers in config.depths:
            if layers == 1 and residual:
                continue  # one layer has nothing to skip
            name = f"depth-{layers}{'-residual' if residual else ''}"
            row = _train(name, raw, lab, config, cell="gru", bidirectional=False, num_layers=layers, residual=residual)
            row["bottom_norm_init"] = row["init_layer_norms"].get("gru_1", float("nan"))
            row["bottom_norm_trained"] = row["trained_layer_norms"].get("gru_1", float("nan"))
            row["embedding_norm_init"] = row["init_layer_norms"].get("embedding", float("nan"))
            depth[name] = row
            log(f"depth: {name} val {row['best_val_accuracy']:.4f}, bottom-layer gradient {row['bottom_norm_init']:.3g}")
    return depth


def _direction(raw: Path, lab: LabData, config: LabConfig, log) -> dict:
    """4. Bidirectional vs unidirectional GRU: accuracy and word attributions on contrast sentences."""
    from ..classifier import Classifier
    from ..explain import explain
    from ..model import end_to_end

    direction = {}
    for bidirectional in (False, True):
        name = "bidirectional" if bidirectional else "unidirectional"
        row = _train(f"direction-{name}", raw, lab, config, cell="gru", bidirectional=bidirectional)
        classifier = Classifier(end_to_end(lab.vectorizer, row["_model"], config.max_length))
        row["attributions"] = {s: explain(classifier, s).as_rows() for s in SEED_SENTENCES}
        row["probabilities"] = {s: float(p) for s, p in zip(SEED_SENTENCES, classifier.predict(SEED_SENTENCES))}
        direction[name] = row
        log(f"direction: {name} val {row['best_val_accuracy']:.4f}")
    return direction
