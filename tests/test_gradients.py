"""Gradient measurements on tiny synthetic problems (seconds, real assertions)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

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
    model = build_model(20, cell="lstm", num_layers=2, units=8, embedding_dim=8, residual=True, compile=False)
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
        model = build_model(20, cell=cell, bidirectional=False, units=16, embedding_dim=8, pooling="last",
                            dropout=0.0, compile=False)
        steps = time_step_gradient_norms(model, ids, labels)
        ratios[cell] = steps[0] / steps[-1]
    assert ratios["rnn"] > 100 * ratios["lstm"], ratios


def test_padded_steps_get_no_gradient():
    keras.utils.set_random_seed(0)
    model = build_model(20, units=4, embedding_dim=4, compile=False)
    steps = time_step_gradient_norms(model, np.array([[5, 6, 7, 0, 0]]), np.array([1.0]))
    assert np.all(steps[:3] > 0) and np.all(steps[3:] == 0)


def test_clipping_bounds_the_applied_update():
    """With global_clipnorm the gradient that reaches Adam has norm at most the threshold,
    even for a loss scaled to explode."""
    keras.utils.set_random_seed(0)
    model = build_model(20, cell="rnn", units=8, embedding_dim=8, global_clipnorm=0.5)
    ids, labels = long_range_task(8)
    with tf.GradientTape() as tape:
        loss = 1e6 * tf.reduce_mean(keras.losses.binary_crossentropy(labels.reshape(-1, 1), model(ids, training=True)))
    grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, model.trainable_variables)]
    assert float(tf.linalg.global_norm(grads)) > 1e3
    clipped = model.optimizer._clip_gradients(grads)
    assert float(tf.linalg.global_norm(clipped)) == pytest.approx(0.5, rel=1e-4)
