"""Gradient measurements on tiny synthetic problems (seconds, real assertions)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from sentiment.config import TrainConfig
from sentiment.fitting import compile_model
from sentiment.gradients import layer_gradient_norms, time_step_gradient_norms
from sentiment.model import build_model

LENGTH = 60


def long_range_task(n=64, seed=0):
    """The label is the first token (2 = neg, 3 = pos); the remaining steps are noise tokens 4-19."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    ids = rng.integers(4, 20, size=(n, LENGTH))
    ids[:, 0] = labels + 2
    return ids.astype("int64"), labels.astype("float32")


def test_norms_are_finite_and_non_zero():
    keras.utils.set_random_seed(0)
    model = build_model(20, cell="lstm", num_layers=2, units=8, embedding_dim=8, residual=True)
    ids, labels = long_range_task()
    norms = layer_gradient_norms(model, ids, labels)
    assert {"embedding", "bidirectional_1", "bidirectional_2", "probability"} <= set(norms)
    assert all(np.isfinite(v) and v > 0 for v in norms.values())
    steps = time_step_gradient_norms(model, ids, labels)
    assert steps.shape == (LENGTH,) and np.all(np.isfinite(steps)) and np.all(steps > 0)


def test_first_step_gradient_relative_to_last_step_is_measured_per_cell():
    """At initialization, with Keras' defaults (orthogonal recurrent weights, forget-gate bias 1),
    the first step's gradient relative to the last one is larger through a SimpleRNN than through an
    LSTM: 0.73 vs 3e-5 over 60 steps when this was written. The lecture's claim is about trained
    networks; the lab (issue 7) measures that. This pins the measurement itself."""
    ids, labels = long_range_task()
    ratios = {}
    for cell in ("rnn", "lstm"):
        keras.utils.set_random_seed(1)
        model = build_model(20, cell=cell, bidirectional=False, units=16, embedding_dim=8, pooling="last", dropout=0.0)
        steps = time_step_gradient_norms(model, ids, labels)
        ratios[cell] = steps[0] / steps[-1]
    assert ratios["rnn"] > 100 * ratios["lstm"], ratios


def test_padded_steps_get_no_gradient():
    keras.utils.set_random_seed(0)
    model = build_model(20, units=4, embedding_dim=4)
    steps = time_step_gradient_norms(model, np.array([[5, 6, 7, 0, 0]]), np.array([1.0]))
    assert np.all(steps[:3] > 0) and np.all(steps[3:] == 0)


def test_clipping_bounds_the_applied_update():
    """With global_clipnorm the gradient that reaches Adam has norm at most the threshold,
    even for a loss scaled to explode."""
    keras.utils.set_random_seed(0)
    model = compile_model(build_model(20, cell="rnn", units=8, embedding_dim=8), TrainConfig(global_clipnorm=0.5))
    ids, labels = long_range_task(8)
    with tf.GradientTape() as tape:
        loss = 1e6 * tf.reduce_mean(keras.losses.binary_crossentropy(labels.reshape(-1, 1), model(ids, training=True)))
    grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, model.trainable_variables)]
    assert float(tf.linalg.global_norm(grads)) > 1e3
    clipped = model.optimizer._clip_gradients(grads)
    assert float(tf.linalg.global_norm(clipped)) == pytest.approx(0.5, rel=1e-4)


def test_plain_rnn_vanishes_below_radius_one_and_gated_cells_do_not_vanish_as_fast():
    """The textbook regime: W_hh with spectral radius 0.5 makes the plain RNN's gradient from 59 steps
    back orders of magnitude smaller than the LSTM's (Keras defaults) and than its own at radius 1."""
    from sentiment.gradients import set_recurrent_spectral_radius, spectral_radius

    ids, labels = long_range_task()
    ratios = {}
    for name, cell, radius in (("rnn 0.5", "rnn", 0.5), ("rnn 1.0", "rnn", 1.0), ("lstm", "lstm", None)):
        keras.utils.set_random_seed(1)
        model = build_model(20, cell=cell, bidirectional=False, units=16, embedding_dim=8, pooling="last", dropout=0.0)
        if radius is not None:
            set_recurrent_spectral_radius(model, "rnn_1", radius)
            assert spectral_radius(model.get_layer("rnn_1").cell.recurrent_kernel.numpy()) == pytest.approx(radius)
        steps = time_step_gradient_norms(model, ids, labels)
        ratios[name] = steps[0] / steps[-1]
    assert ratios["rnn 0.5"] < 1e-6, ratios
    assert ratios["rnn 0.5"] * 1e3 < ratios["lstm"], ratios
    assert ratios["rnn 0.5"] * 1e3 < ratios["rnn 1.0"], ratios


def test_gradient_monitor_records_real_steps_and_clipping(tmp_path):
    from sentiment.gradients import GradientMonitor, plot_gradients

    keras.utils.set_random_seed(0)
    model = compile_model(build_model(20, cell="rnn", bidirectional=False, units=8, embedding_dim=8),
                          TrainConfig(global_clipnorm=1e-3))
    ids, labels = long_range_task(64)
    monitor = GradientMonitor(tmp_path / "g.csv", every=2, probe=(ids[:4], labels[:4]), time_csv_path=tmp_path / "t.csv")
    model.fit(ids, labels, batch_size=8, epochs=1, callbacks=[monitor], verbose=0)
    assert [r["step"] for r in monitor.rows] == [2, 4, 6, 8]
    for row in monitor.rows:
        assert row["global_norm"] > 1e-3 and row["clipped"] == 1 and row["nan"] == 0
        assert row["clipped_norm"] <= 1.05e-3
        assert row["norm/rnn_1"] > 0 and row["norm/probability"] > 0
    assert monitor.rows[-1]["clipped_fraction"] == 1.0
    assert len(monitor.time_rows) == 4 * LENGTH
    assert (tmp_path / "g.csv").read_text().startswith("step,epoch,loss,global_norm")
    plot_gradients(monitor.rows, tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 1000

    keras.utils.set_random_seed(0)  # without clipping nothing is clipped
    model = compile_model(build_model(20, cell="rnn", bidirectional=False, units=8, embedding_dim=8), TrainConfig())
    monitor = GradientMonitor(tmp_path / "g2.csv", every=4)
    model.fit(ids, labels, batch_size=8, epochs=1, callbacks=[monitor], verbose=0)
    assert monitor.rows[-1]["clipped_fraction"] == 0.0


@pytest.mark.slow
def test_lecture7_lab_runs_on_the_fixture_and_judges_every_claim(tmp_path):
    import json

    from conftest import FIXTURE
    from sentiment.lab import LabConfig, run_lecture7

    config = LabConfig(train_samples=24, validation_samples=8, max_tokens=200, max_length=30, units=4,
                       embedding_dim=4, epochs=1, batch_size=8, monitor_every=2, probe_reviews=4, depths=(1, 2),
                       radii=(0.5, 1.5))
    results = run_lecture7(str(FIXTURE), tmp_path, config, log=lambda m: None)
    report = (tmp_path / "report.md").read_text()
    assert len(results["claims"]) == 6
    for claim in results["claims"]:
        assert claim["verdict"] in ("confirmed", "refuted", "unclear")
        assert claim["claim"] in report and claim["figures"] in report
    for image in ("cells-time-steps.png", "radius.png", "exploding.png", "depth.png"):
        assert (tmp_path / image).stat().st_size > 1000 and f"({image})" in report
    saved = json.loads((tmp_path / "results.json").read_text())
    assert set(saved["cells"]) == {"rnn", "lstm", "gru"} and "depth-2-residual" in saved["depth"]
    assert (tmp_path / "raw" / "cell-rnn-gradients.csv").exists()
    # The report can be judged and written again from results.json alone.
    from training import experiments

    (tmp_path / "report.md").unlink()
    assert experiments.main(["lecture7", "--report-only", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "report.md").read_text() == report


def test_log_gradients_training_option_writes_csv_and_plot(tmp_path):
    import csv

    from conftest import FIXTURE, tiny_overrides
    from training import train

    out = tmp_path / "model"
    assert train.main(["--data", str(FIXTURE), "--out", str(out), "--work-dir", str(tmp_path / "w"), "--quiet",
                       "--no-test", "--log-gradients", "2", "--global-clipnorm", "0.01", *tiny_overrides()]) == 0
    rows = list(csv.DictReader((out / "gradients.csv").open()))
    assert len(rows) >= 4 and {r["epoch"] for r in rows} == {"0", "1"}
    assert all(float(r["global_norm"]) > 0.01 and r["clipped"] == "1" for r in rows)
    steps = list(csv.DictReader((out / "gradient_steps.csv").open()))
    assert steps and all(float(r["norm"]) >= 0 for r in steps)
    assert (out / "gradients.png").stat().st_size > 1000


def _lab_results(**changes):
    """Synthetic lab figures for judge(): a textbook outcome unless changed."""
    steps = lambda ratio: [ratio, 1.0]  # noqa: E731 - first/last step norms
    cell = lambda ratio, acc, sec: {"trained_time_steps": steps(ratio), "init_time_steps": steps(ratio),  # noqa: E731
                                    "best_val_accuracy": acc, "seconds_per_epoch": sec, "parameters": 100}
    results = {
        "sizes": {"probe_length": 200},
        "config": {"explode_radius": 1.5, "explode_learning_rate": 0.1, "clip": 1.0, "depths": [1, 2, 4, 8]},
        "cells": {"rnn": {**cell(1e-9, 0.70, 5.0), "spectral_radius_init": 1.0, "spectral_radius_trained": 0.8},
                  "lstm": cell(1e-3, 0.85, 10.0), "gru": cell(1e-3, 0.85, 8.0)},
        "radii": {f"radius {r}": {"radius": r, "init_time_steps": steps(d)} for r, d in ((0.5, 1e-20), (1.0, 1.0), (1.5, 1e5))},
        "exploding": {"no clipping": {"nan_steps": 5, "best_val_accuracy": 0.5, "max_global_norm": 1e9, "clipped_fraction": 0.0},
                      "clipnorm": {"nan_steps": 0, "best_val_accuracy": 0.7, "max_global_norm": 10.0, "clipped_fraction": 0.3},
                      "global_clipnorm": {"nan_steps": 0, "best_val_accuracy": 0.7, "max_global_norm": 10.0, "clipped_fraction": 0.3}},
        "depth": {name: {"best_val_accuracy": acc, "bottom_norm_init": 1.0} for name, acc in (
            ("depth-1", 0.80), ("depth-2", 0.82), ("depth-4", 0.82), ("depth-8", 0.70),
            ("depth-2-residual", 0.82), ("depth-4-residual", 0.82), ("depth-8-residual", 0.81))},
        "direction": {name: {"best_val_accuracy": acc, "probabilities": {"the movie was terribly exciting": 0.5},
                             "attributions": {"the movie was terribly exciting": [{"word": "terribly", "attribution": 0.1}]}}
                      for name, acc in (("unidirectional", 0.80), ("bidirectional", 0.83))},
    }
    for key, value in changes.items():
        section, _, name = key.partition("__")
        results[section][name] = value
    return results


def test_lab_judge_rules():
    from sentiment.lab import judge

    verdicts = [c["verdict"] for c in judge(_lab_results())]
    assert verdicts == ["confirmed"] * 6, judge(_lab_results())
    # The plain RNN hearing far steps better than the gated cells refutes the first claim.
    rnn = {**_lab_results()["cells"]["rnn"], "trained_time_steps": [0.5, 1.0]}
    assert judge(_lab_results(cells__rnn=rnn))[0]["verdict"] == "refuted"
    # A NaN figure or a missing experiment gives "unclear", never a crash or a confident verdict.
    nan_gru = {**_lab_results()["cells"]["gru"], "trained_time_steps": [float("nan"), 1.0]}
    assert judge(_lab_results(cells__gru=nan_gru))[0]["verdict"] == "unclear"
    broken = _lab_results()
    del broken["depth"]["depth-8-residual"]
    last = judge(broken)[-1]
    assert last["verdict"] == "unclear" and "not judged" in last["figures"]
    # Clipping that changes nothing refutes "clipping fixes exploding".
    calm = _lab_results()
    calm["exploding"]["no clipping"] = {"nan_steps": 0, "best_val_accuracy": 0.72, "max_global_norm": 2.0,
                                        "clipped_fraction": 0.0}
    assert judge(calm)[2]["verdict"] == "refuted"
