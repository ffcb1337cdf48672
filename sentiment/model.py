"""The model builder: stacked (bidirectional) LSTM/GRU/SimpleRNN classifiers.

``build_model`` takes flat, spelled-out arguments (the fields of
:class:`sentiment.config.ModelConfig`) and returns a compiled Keras model from token ids to
the probability of ``pos``. ``end_to_end`` puts the vectorizer in front, giving the
raw-strings-in model that is saved and served.
"""

from __future__ import annotations

import keras

from .config import CELLS, MERGE_MODES, POOLINGS, ModelConfig
from .layers import MaskedGlobalMaxPooling1D, TokenWindow
from .optimizers import DenseAdam, LazyAdam

_CELL_LAYERS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "rnn": keras.layers.SimpleRNN}


def build_model(
    vocabulary_size: int,
    cell: str = "gru",
    num_layers: int = 1,
    units: int = 64,
    bidirectional: bool = True,
    merge_mode: str = "concat",
    residual: bool = False,
    embedding_dim: int = 128,
    embedding_dropout: float = 0.0,
    dropout: float = 0.2,
    recurrent_dropout: float = 0.0,
    pooling: str = "max_mean",
    optimizer: str = "adam",
    learning_rate: float = 1e-3,
    weight_decay: float = 0.0,
    clipnorm: float | None = None,
    global_clipnorm: float | None = None,
    clipvalue: float | None = None,
    compile: bool = True,  # noqa: A002 - Keras word
    name: str | None = None,
) -> keras.Model:
    """Build (and by default compile) a recurrent classifier over token ids.

    Architecture: ``Embedding(mask_zero)`` -> [SpatialDropout1D] -> ``num_layers`` recurrent
    layers (each optionally ``Bidirectional``, optionally residual) -> pooling over time ->
    Dropout -> ``Dense(1, sigmoid)``.

    With ``pooling="last"`` the top layer returns its final state(s) instead of a sequence,
    so it has no residual connection around it.
    """
    # Validate through the dataclass so the builder and the config files share one set of rules.
    params = ModelConfig(
        cell=cell, num_layers=num_layers, units=units, bidirectional=bidirectional,
        merge_mode=merge_mode, residual=residual, embedding_dim=embedding_dim,
        embedding_dropout=embedding_dropout, dropout=dropout, recurrent_dropout=recurrent_dropout,
        pooling=pooling, optimizer=optimizer, learning_rate=learning_rate, weight_decay=weight_decay,
        clipnorm=clipnorm, global_clipnorm=global_clipnorm, clipvalue=clipvalue,
    )
    if vocabulary_size < 3:
        raise ValueError(f"vocabulary_size={vocabulary_size} is invalid: expected an integer >= 3")
    assert cell in CELLS and pooling in POOLINGS and merge_mode in MERGE_MODES

    ids = keras.Input(shape=(None,), dtype="int64", name="token_ids")
    x = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True, name="embedding")(ids)
    if embedding_dropout:
        x = keras.layers.SpatialDropout1D(embedding_dropout, name="embedding_dropout")(x)

    for index in range(1, num_layers + 1):
        is_top = index == num_layers
        sequences = not (is_top and pooling == "last")
        layer = _CELL_LAYERS[cell](
            units, return_sequences=sequences, recurrent_dropout=recurrent_dropout,
            name=f"{cell}_{index}",
        )
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, merge_mode=merge_mode, name=f"bidirectional_{index}")
        y = layer(x)
        if residual and sequences:
            width = y.shape[-1]
            if x.shape[-1] != width:
                x = keras.layers.Dense(width, use_bias=False, name=f"projection_{index}")(x)
            y = keras.layers.Add(name=f"residual_{index}")([x, y])
        x = y
        if dropout and not is_top:
            x = keras.layers.Dropout(dropout, name=f"dropout_{index}")(x)

    if pooling == "max":
        x = MaskedGlobalMaxPooling1D(name="max_pool")(x)
    elif pooling == "mean":
        x = keras.layers.GlobalAveragePooling1D(name="mean_pool")(x)
    elif pooling == "max_mean":
        x = keras.layers.Concatenate(name="max_mean_pool")([
            MaskedGlobalMaxPooling1D(name="max_pool")(x),
            keras.layers.GlobalAveragePooling1D(name="mean_pool")(x),
        ])
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    probability = keras.layers.Dense(1, activation="sigmoid", name="probability")(x)
    model = keras.Model(ids, probability, name=name or f"{'bi' if bidirectional else ''}{cell}_classifier")
    if compile:
        model.compile(
            optimizer=make_optimizer(params),
            loss="binary_crossentropy",
            # Targets may be soft (a teacher's probabilities, see TrainConfig.teacher): count each by its side of 0.5.
            metrics=[keras.metrics.MeanMetricWrapper(side_accuracy, name="accuracy")],
            # LazyAdam's tf.unique has a data-dependent shape, which XLA (Keras' "auto" on a GPU) cannot compile.
            jit_compile=False if params.optimizer == "lazy_adam" else "auto",
        )
    return model


def make_optimizer(params: ModelConfig) -> keras.optimizers.Optimizer:
    """Adam (decoupled weight decay, as AdamW, when ``weight_decay`` > 0) with at most one of the three
    clipping modes: ``DenseAdam`` or ``LazyAdam`` (see :mod:`sentiment.optimizers`)."""
    clip = {
        name: getattr(params, name)
        for name in ("clipnorm", "global_clipnorm", "clipvalue")
        if getattr(params, name) is not None
    }
    optimizer = LazyAdam if params.optimizer == "lazy_adam" else DenseAdam
    return optimizer(learning_rate=params.learning_rate, weight_decay=params.weight_decay or None, **clip)


@keras.saving.register_keras_serializable(package="sentiment")
def side_accuracy(y_true, y_pred):
    """Binary accuracy with the target rounded to 0 or 1 too (hard 0/1 labels are unchanged)."""
    y_true = keras.ops.cast(keras.ops.greater(keras.ops.reshape(y_true, (-1,)), 0.5), "float32")
    y_pred = keras.ops.cast(keras.ops.greater(keras.ops.reshape(y_pred, (-1,)), 0.5), "float32")
    return keras.ops.cast(keras.ops.equal(y_true, y_pred), "float32")


def end_to_end(vectorizer: keras.layers.TextVectorization, classifier: keras.Model | list[keras.Model],
               max_length: int) -> keras.Model:
    """Raw strings ``[batch]`` -> probability of ``pos`` ``[batch, 1]``: the model that is saved and served.

    ``classifier`` may be a list of models over the same token ids (an ensemble): their
    probabilities are averaged. It is not compiled, so the saved file holds no optimizer state.
    """
    text = keras.Input(shape=(), dtype="string", name="text")
    ids = vectorizer(text)
    ids = TokenWindow(max_length, name="token_window")(ids)
    members = classifier if isinstance(classifier, (list, tuple)) else [classifier]
    if len({m.name for m in members}) != len(members):
        raise ValueError(f"ensemble members need distinct names, got {[m.name for m in members]}")
    outputs = [member(ids) for member in members]
    probability = outputs[0] if len(outputs) == 1 else keras.layers.Average(name="average")(outputs)
    return keras.Model(text, probability, name="sentiment")
