"""Adam for models with an Embedding: exact (``DenseAdam``) or row-sparse (``LazyAdam``).

An Embedding's gradient is a ``tf.IndexedSlices``: one row per token of the batch, so a word
that occurs 12 times in a batch has 12 rows. Keras 3.15's Adam applies such a gradient with
scatter updates row by row, so a repeated word gets one moment update and one step per
repeat instead of one for the summed gradient, and ``clipnorm``/``clipvalue`` measure the
unsummed rows (measured in ``tests/test_optimizers.py``: weights far from Adam's after a few
steps). ``global_clipnorm`` mostly hides it: Keras' global clipping turns the gradient dense
before Adam (its norm is still taken over the unsummed rows). Both optimizers here give the
Adam update for every clipping mode:

- ``DenseAdam`` makes sparse gradients dense before clipping: exactly Adam, as in the
  textbook.
- ``LazyAdam`` (the algorithm of TensorFlow Addons' ``LazyAdam`` and PyTorch's
  ``SparseAdam``) sums repeated rows, clips, and then updates the moments and weights of the
  rows in the batch only; dense gradients (every other layer) get exact Adam. The one
  difference from Adam: a row absent from a batch is left as it is at that step (its moments
  are not decayed and it takes no momentum step; ``weight_decay`` still decays every row),
  which spares the dense update of the whole ``vocabulary x embedding_dim`` matrix and its two
  moments at every step (on this project's 2-core CPU that update is a small part of a step:
  ``python -m benchmarks.optimizers``).

They are training-time objects: saved models hold no optimizer.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def _deduplicate(gradient: tf.IndexedSlices) -> tf.IndexedSlices:
    """Sum the values of repeated rows, so each row appears once (as in the dense gradient)."""
    rows, positions = tf.unique(gradient.indices)
    values = tf.math.unsorted_segment_sum(gradient.values, positions, tf.shape(rows)[0])
    return tf.IndexedSlices(values, rows, gradient.dense_shape)


def _scale(gradient, factor):
    if isinstance(gradient, tf.IndexedSlices):
        return tf.IndexedSlices(gradient.values * factor, gradient.indices, gradient.dense_shape)
    return gradient * factor


def _values(gradient):
    return gradient.values if isinstance(gradient, tf.IndexedSlices) else gradient


@keras.saving.register_keras_serializable(package="sentiment")
class DenseAdam(keras.optimizers.Adam):
    """Adam that applies sparse gradients as the dense gradients they stand for; arguments as Adam."""

    def apply(self, grads, trainable_variables=None):
        grads = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]
        return super().apply(grads, trainable_variables)


@keras.saving.register_keras_serializable(package="sentiment")
class LazyAdam(keras.optimizers.Adam):
    """Adam with row-sparse updates for sparse gradients; arguments as ``keras.optimizers.Adam``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.amsgrad:
            raise ValueError("LazyAdam does not implement amsgrad=True; use keras.optimizers.Adam for AMSGrad.")

    def _clip_gradients(self, grads):
        grads = [_deduplicate(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]
        if self.clipnorm and self.clipnorm > 0:
            clipped = []
            for g in grads:
                if g is None:
                    clipped.append(g)
                    continue
                norm = tf.norm(_values(g))
                clipped.append(_scale(g, self.clipnorm / tf.maximum(norm, self.clipnorm)))
            return clipped
        if self.global_clipnorm and self.global_clipnorm > 0:
            norm = tf.linalg.global_norm([_values(g) for g in grads if g is not None])
            # Same rule as keras' clip_by_global_norm (a NaN/inf norm gives NaN gradients).
            factor = self.global_clipnorm * tf.minimum(1.0 / norm, 1.0 / self.global_clipnorm) + (norm - norm)
            return [None if g is None else _scale(g, factor) for g in grads]
        if self.clipvalue and self.clipvalue > 0:
            v = self.clipvalue
            return [
                None if g is None
                else tf.IndexedSlices(tf.clip_by_value(g.values, -v, v), g.indices, g.dense_shape)
                if isinstance(g, tf.IndexedSlices) else tf.clip_by_value(g, -v, v)
                for g in grads
            ]
        return grads

    def update_step(self, gradient, variable, learning_rate):
        if not isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        lr = tf.cast(learning_rate, dtype)
        step = tf.cast(self.iterations + 1, dtype)
        beta_1 = tf.cast(self.beta_1, dtype)
        beta_2 = tf.cast(self.beta_2, dtype)
        alpha = lr * tf.sqrt(1 - tf.pow(beta_2, step)) / (1 - tf.pow(beta_1, step))

        index = self._get_variable_index(variable)
        m = self._momentums[index].value
        v = self._velocities[index].value
        rows = gradient.indices
        values = tf.cast(gradient.values, dtype)
        m_rows = beta_1 * tf.gather(m, rows) + (1 - beta_1) * values
        v_rows = beta_2 * tf.gather(v, rows) + (1 - beta_2) * tf.square(values)
        m.scatter_update(tf.IndexedSlices(m_rows, rows))
        v.scatter_update(tf.IndexedSlices(v_rows, rows))
        update = alpha * m_rows / (tf.sqrt(v_rows) + self.epsilon)
        target = variable.value if isinstance(variable, keras.Variable) else variable
        target.scatter_sub(tf.IndexedSlices(update, rows))


def make_optimizer(train) -> keras.optimizers.Optimizer:
    """The optimizer of a :class:`~sentiment.config.TrainConfig`: ``DenseAdam`` or ``LazyAdam`` at its
    learning rate, with decoupled weight decay (as AdamW) when ``weight_decay`` > 0 and at most one
    of Keras' three clipping modes."""
    optimizer = LazyAdam if train.optimizer == "lazy_adam" else DenseAdam
    return optimizer(learning_rate=train.learning_rate, weight_decay=train.weight_decay or None, **train.clipping())
