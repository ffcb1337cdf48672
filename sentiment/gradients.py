"""Gradient measurements for the vanishing/exploding-gradient lab: per-layer norms and how much
the loss "hears" each time step of the input.
"""

from __future__ import annotations

import numpy as np


def _loss(model, ids, labels, training=False):
    import keras

    predictions = model(ids, training=training)
    return keras.losses.binary_crossentropy(keras.ops.reshape(labels, (-1, 1)), predictions)


def layer_gradient_norms(model, ids, labels) -> dict[str, float]:
    """L2 norm of the loss gradient for each layer's trainable weights (all weights of a layer together)."""
    import tensorflow as tf

    ids = tf.convert_to_tensor(ids)
    labels = tf.cast(tf.convert_to_tensor(labels), "float32")
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(_loss(model, ids, labels))
    variables = model.trainable_variables
    grads = tape.gradient(loss, variables)
    norms: dict[str, float] = {}
    for variable, grad in zip(variables, grads):
        layer = variable.path.split("/")[0]
        value = 0.0 if grad is None else float(tf.reduce_sum(tf.square(tf.convert_to_tensor(grad))))
        norms[layer] = norms.get(layer, 0.0) + value
    return {layer: float(np.sqrt(total)) for layer, total in norms.items()}


def time_step_gradient_norms(model, ids, labels) -> np.ndarray:
    """``[time]``: mean over the batch of ``||d loss / d embedding(x_t)||`` for each input step ``t``.

    How much the prediction depends on each step of the input: the quantity that vanishes with
    distance for a plain RNN. Padded steps (masked) get zero.
    """
    import tensorflow as tf

    embedding = model.get_layer("embedding")
    ids = tf.convert_to_tensor(ids)
    labels = tf.cast(tf.convert_to_tensor(labels), "float32")
    captured = {}
    original = embedding.call

    with tf.GradientTape() as tape:
        def watched_call(inputs, *args, **kwargs):  # record the embedding output inside the forward pass
            vectors = original(inputs, *args, **kwargs)
            tape.watch(vectors)
            captured["vectors"] = vectors
            return vectors

        embedding.call = watched_call
        try:
            loss = tf.reduce_mean(_loss(model, ids, labels))
        finally:
            del embedding.call  # back to the class method
    grad = tape.gradient(loss, captured["vectors"])  # [batch, time, dim]
    return tf.reduce_mean(tf.norm(grad, axis=-1), axis=0).numpy()
