"""Registered, serializable layers used by the models (no Lambda layers anywhere)."""

from __future__ import annotations

import keras
from keras import ops

from .text import OOV_ID


@keras.saving.register_keras_serializable(package="sentiment")
class TokenWindow(keras.layers.Layer):
    """Keep the first ``max_length`` token ids of each row and make sure every row has a token.

    A review longer than ``max_length`` tokens loses its tail (as in training). An empty review
    (no token at all) becomes a single out-of-vocabulary token, so masking never leaves a row
    with nothing to pool over.
    """

    def __init__(self, max_length: int, **kwargs):
        super().__init__(**kwargs)
        self.max_length = int(max_length)

    def call(self, ids):
        ids = ids[:, : self.max_length]
        # Pad to at least one step (the vectorizer gives width 0 for a batch of empty texts).
        width = ops.shape(ids)[1]
        ids = ops.pad(ids, [[0, 0], [0, ops.maximum(1 - width, 0)]])
        empty = ops.all(ops.equal(ids, 0), axis=1, keepdims=True)
        first = ops.where(empty, ops.cast(OOV_ID, ids.dtype), ids[:, :1])
        return ops.concatenate([first, ids[:, 1:]], axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], None)

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length}


@keras.saving.register_keras_serializable(package="sentiment")
class MaskedGlobalMaxPooling1D(keras.layers.Layer):
    """Max over time that ignores padded (masked) steps; Keras' GlobalMaxPooling1D does not."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is not None:
            keep = ops.expand_dims(ops.cast(mask, "bool"), -1)
            inputs = ops.where(keep, inputs, ops.cast(-1e9, inputs.dtype))
        return ops.max(inputs, axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


@keras.saving.register_keras_serializable(package="sentiment")
class Highway(keras.layers.Layer):
    """``g * y + (1 - g) * x`` with ``g = sigmoid(x W + b)``: a highway connection around a layer.

    Called on ``[x, y]``: the layer's input ``x`` and its output ``y``, of the same width. The gate
    bias starts at ``gate_bias`` (negative: the gate starts mostly closed, so a deep stack first
    carries its input through, as Srivastava et al., 2015, recommend). The mask is ``x``'s.
    """

    def __init__(self, gate_bias: float = -1.0, **kwargs):
        super().__init__(**kwargs)
        self.gate_bias = float(gate_bias)
        self.supports_masking = True

    def build(self, input_shape):
        width = input_shape[0][-1]
        self.gate = keras.layers.Dense(width, activation="sigmoid", name="gate",
                                       bias_initializer=keras.initializers.Constant(self.gate_bias))
        self.gate.build(input_shape[0])

    def call(self, inputs, mask=None):
        x, y = inputs
        gate = self.gate(x)
        return gate * y + (1.0 - gate) * x

    def compute_mask(self, inputs, mask=None):
        return mask[0] if isinstance(mask, (list, tuple)) else mask

    def compute_output_shape(self, input_shape):
        return input_shape[1]

    def get_config(self):
        return {**super().get_config(), "gate_bias": self.gate_bias}
