"""Text cleaning and vectorization that live inside the saved model.

The standardizer is a registered Keras serializable, so ``model.keras`` carries it and the
training pipeline (``tf.data``) and the served model (raw strings in) clean text the same way.
"""

from __future__ import annotations

import keras
import tensorflow as tf

PAD_ID = 0
OOV_ID = 1


@keras.saving.register_keras_serializable(package="sentiment")
def standardize_review(text):
    """Lower-case, turn HTML breaks/tags into spaces, keep ``!``/``?`` as tokens, drop other punctuation.

    IMDB reviews are full of ``<br /><br />``; leaving them in makes ``br`` the most frequent token.
    Web addresses (``http://...``, ``www....``) and ``@handles`` are dropped: they say nothing about
    sentiment, yet split into tokens such as ``http``, ``co`` or a handle's words, they moved the
    shipped default by up to 0.35 (``benchmarks/sentence_suite.tsv``, ``invariance_noise``).
    Letters of every script (``\\p{L}``), digits and apostrophes inside words are kept.
    """
    text = tf.strings.lower(text, encoding="utf-8")
    text = tf.strings.regex_replace(text, r"<br\s*/?>", " ")
    text = tf.strings.regex_replace(text, r"<[^>]{0,100}>", " ")
    text = tf.strings.regex_replace(text, r"(https?://|www\.)\S*", " ")
    text = tf.strings.regex_replace(text, r"(^|\s)@\w+", " ")
    text = tf.strings.regex_replace(text, r"([!?])", r" \1 ")
    text = tf.strings.regex_replace(text, r"[^\p{L}\p{N}'!?]+", " ")
    text = tf.strings.regex_replace(text, r"(^|\s)'+|'+(\s|$)", " ")
    return text


def make_vectorizer(max_tokens: int, vocabulary=None) -> keras.layers.TextVectorization:
    """A ``TextVectorization`` layer: raw review -> int ids, variable length (0 = padding, 1 = OOV)."""
    return keras.layers.TextVectorization(
        max_tokens=max_tokens,
        standardize=standardize_review,
        split="whitespace",
        output_mode="int",
        output_sequence_length=None,
        vocabulary=vocabulary,
        name="vectorizer",
    )


def adapt_vectorizer(texts, max_tokens: int, batch_size: int = 1024) -> keras.layers.TextVectorization:
    """Learn the vocabulary (most frequent tokens) from ``texts``."""
    vectorizer = make_vectorizer(max_tokens)
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(list(texts)).batch(batch_size))
    return vectorizer
