"""The model builder: stacked (bidirectional) LSTM/GRU/SimpleRNN classifiers.

``build_model`` takes the architecture only (the fields of :class:`sentiment.config.ModelConfig`,
flat, in Keras words) and returns an uncompiled Keras model from token ids to the probability of
``pos``. ``end_to_end`` puts the vectorizer in front, giving the
raw-strings-in model that is saved and served.
"""

from __future__ import annotations

import dataclasses

import keras

from .config import ModelConfig
from .layers import Highway, MaskedGlobalMaxPooling1D, TokenWindow

_CELL_LAYERS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "rnn": keras.layers.SimpleRNN}


def build_model(vocabulary_size: int, config: ModelConfig | None = None, *, name: str | None = None,
                **architecture) -> keras.Model:
    """An uncompiled recurrent classifier from token ids ``[batch, time]`` to P(pos) ``[batch, 1]``.

    The architecture is a :class:`~sentiment.config.ModelConfig` (``config``) and/or its fields as
    keywords (``cell="lstm", num_layers=2``), which override it; :class:`ModelConfig` holds every
    default and validates every value. Training compiles the model with its optimizer
    (:func:`sentiment.fitting.compile_model`); the builder never does.

    Architecture: ``Embedding(mask_zero)`` -> [SpatialDropout1D] -> ``num_layers`` recurrent
    layers (each optionally ``Bidirectional``) joined by ``connection`` -> pooling over time ->
    Dropout -> ``Dense(1, sigmoid)``. Connections, for the deep stacks of the lecture:
    ``residual`` adds each layer's input to its output (He et al., 2016); ``dense`` feeds each layer
    the concatenation of the embedding and all earlier layers' outputs (Huang et al., 2017);
    ``highway`` mixes input and output with a learnt gate (:class:`~sentiment.layers.Highway`,
    Srivastava et al., 2015). With ``pooling="last"`` the top layer returns its final state(s)
    instead of a sequence, so no residual or highway connection is put around it.
    """
    try:
        params = dataclasses.replace(config or ModelConfig(), **architecture)
    except TypeError as err:  # an unknown keyword
        raise TypeError(f"build_model: {err}; architecture arguments are the fields of ModelConfig: "
                        f"{[f.name for f in dataclasses.fields(ModelConfig)]}") from None
    if vocabulary_size < 3:
        raise ValueError(f"vocabulary_size={vocabulary_size} is invalid: expected an integer >= 3")
    cell, pooling, dropout = params.cell, params.pooling, params.dropout

    ids = keras.Input(shape=(None,), dtype="int64", name="token_ids")
    x = keras.layers.Embedding(vocabulary_size, params.embedding_dim, mask_zero=True, name="embedding")(ids)
    if params.embedding_dropout:
        x = keras.layers.SpatialDropout1D(params.embedding_dropout, name="embedding_dropout")(x)

    outputs = [x]  # the embedding, then each recurrent layer's output: what a dense connection concatenates
    for index in range(1, params.num_layers + 1):
        is_top = index == params.num_layers
        sequences = not (is_top and pooling == "last")
        layer = _CELL_LAYERS[cell](
            params.units, return_sequences=sequences, recurrent_dropout=params.recurrent_dropout,
            name=f"{cell}_{index}",
        )
        if params.bidirectional:
            layer = keras.layers.Bidirectional(layer, merge_mode=params.merge_mode, name=f"bidirectional_{index}")
        if params.connection == "dense" and index > 1:
            x = keras.layers.Concatenate(name=f"dense_input_{index}")(outputs)
        y = layer(x)
        if params.connection in ("residual", "highway") and sequences:
            y = _connect(params.connection, x, y, index)
        outputs.append(y)
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
    return keras.Model(ids, probability, name=name or f"{'bi' if params.bidirectional else ''}{cell}_classifier")


def _connect(connection: str, x, y, index: int):
    """``y`` joined with the layer's input ``x``: ``x + y`` (residual) or the gated mix (highway)."""
    width = y.shape[-1]
    if x.shape[-1] != width:
        x = keras.layers.Dense(width, use_bias=False, name=f"projection_{index}")(x)
    if connection == "residual":
        return keras.layers.Add(name=f"residual_{index}")([x, y])
    return Highway(name=f"highway_{index}")([x, y])


def end_to_end(vectorizer: keras.layers.TextVectorization, classifier: keras.Model, max_length: int,
               corrector: keras.layers.Layer | None = None, identity: keras.layers.Layer | None = None) -> keras.Model:
    """Raw strings ``[batch]`` -> probability of ``pos`` ``[batch, 1]``: the model that is saved and served.

    ``corrector`` (a :class:`sentiment.spelling.SpellingCorrector`), when given, reads the text
    before the vectorizer, and ``identity`` (a :class:`sentiment.identity_words.IdentityWords`)
    reads the token ids after it, so that a misspelt identity word is corrected before it is hidden.
    The model is not compiled, so the saved file holds no optimizer state.
    """
    text = keras.Input(shape=(), dtype="string", name="text")
    ids = TokenWindow(max_length, name="token_window")(vectorizer(corrector(text) if corrector else text))
    return keras.Model(text, classifier(identity(ids) if identity else ids), name="sentiment")
