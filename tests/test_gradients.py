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
    model = build_model(20, cell="lstm", num_layers=2, units=8, embedding_dim=8, connection="residual")
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
