"""Typo correction inside the saved model: a misspelt word is read as the vocabulary word it misspells.

A word the vectorizer does not know is one out-of-vocabulary id, so "it was fantstic" reads as "it
was [UNK]" and the model answers near 0.5. :class:`SpellingCorrector` sits in front of the
vectorizer and replaces such a word by the most frequent vocabulary word one typo away (one letter
left out, added, changed, or two neighbours swapped: Damerau's four errors), found with the
symmetric-delete index of SymSpell (Garbe, 2012): every vocabulary word and each of its one-letter
deletions point to the word, so a typo is looked up by itself and by its own deletions. It runs in
TensorFlow ops, so the app, ``sentiment.predict`` and TF Serving read text the same way.

A rare word is not always a typo: "tasted" is one letter from "wasted", "Keisha" from "geisha". So
a word is corrected only when the IMDB reviews the model learnt from (the training and unlabelled
ones) hold it fewer than ``rarer_than`` times; the rarer words they do hold are kept as ``known``.
Only lower-case ASCII words of ``min_length`` to ``max_length`` letters are corrected.
"""

from __future__ import annotations

import collections

import keras
import tensorflow as tf

from .text import standardize_review

_NONE = 2**62  # "no candidate" in the minimum over candidate ids


def deletions(word: str) -> set[str]:
    """The word with one letter left out, each way."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def known_words(texts, vocabulary: list[str], rarer_than: int) -> list[str]:
    """Words of ``texts`` outside ``vocabulary`` seen at least ``rarer_than`` times: never corrected."""
    from .word_vectors import tokenize

    counts = collections.Counter()
    for tokens in tokenize(list(texts)):
        counts.update(tokens)
    inside = set(vocabulary)
    return sorted(word for word, count in counts.items() if count >= rarer_than and word not in inside)


def corrector(vocabulary: list[str], texts, rarer_than: int) -> "SpellingCorrector":
    """The corrector of a model with this vocabulary, trained on ``texts`` (training and unlabelled reviews)."""
    return SpellingCorrector(vocabulary, known_words(texts, vocabulary, rarer_than), name="typo_corrector")


@keras.saving.register_keras_serializable(package="sentiment")
class SpellingCorrector(keras.layers.Layer):
    """Raw texts ``[batch]`` -> the texts standardized, each typo replaced by the word it misspells.

    ``vocabulary``: the vectorizer's ``get_vocabulary()``, most frequent first (padding and OOV at
    0 and 1). ``known``: words outside it that are never corrected (:func:`known_words`).
    """

    def __init__(self, vocabulary, known=(), min_length: int = 4, max_length: int = 20, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.vocabulary, self.known = [str(w) for w in vocabulary], [str(w) for w in known]
        self.min_length, self.max_length = int(min_length), int(max_length)
        if not 1 <= self.min_length <= self.max_length:
            raise ValueError(f"min_length={min_length}, max_length={max_length}: expected 1 <= min_length <= max_length")
        keys = self.vocabulary[2:] + self.known
        self._words = tf.constant(self.vocabulary or ["", "[UNK]"])
        self._known = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(keys or [""], tf.string), tf.ones(max(len(keys), 1), tf.int64)),
            default_value=0)
        best: dict[str, int] = {}
        for index, word in enumerate(self.vocabulary[2:], start=2):
            for key in deletions(word) | {word}:
                best.setdefault(key, index)  # the vocabulary is most frequent first: the first word wins
        self._index = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(list(best) or [""], tf.string),
                                                tf.constant(list(best.values()) or [-1], tf.int64)),
            default_value=-1)

    def call(self, texts):
        tokens = tf.strings.split(standardize_review(texts))
        flat = tokens.flat_values
        length = tf.strings.length(flat)
        todo = ((self._known.lookup(flat) == 0) & (length >= self.min_length) & (length <= self.max_length)
                & tf.strings.regex_full_match(flat, "[a-z]+"))
        where = tf.where(todo)
        fixed = self._correct(tf.gather_nd(flat, where), tf.gather_nd(length, where))
        flat = tf.tensor_scatter_nd_update(flat, where, fixed)
        return tf.strings.reduce_join(tokens.with_flat_values(flat), axis=1, separator=" ")

    def _correct(self, words, length):
        """``words`` [k] (ASCII, ``length`` letters each) -> each one's correction, or the word itself."""
        width = self.max_length
        cut = tf.tile(tf.range(width, dtype=length.dtype)[None, :], [tf.shape(words)[0], 1])  # [k, width]
        tiled = tf.tile(words[:, None], [1, width])
        rest = tf.minimum(cut + 1, length[:, None])
        dropped = tf.strings.substr(tiled, tf.zeros_like(cut), cut) + tf.strings.substr(tiled, rest, tf.fill(tf.shape(cut), width))
        keys = tf.concat([words[:, None], dropped], axis=1)  # the word itself, then its deletions
        valid = tf.concat([tf.ones_like(length[:, None], tf.bool), cut < length[:, None]], axis=1)
        found = tf.where(valid, self._index.lookup(keys), tf.constant(-1, tf.int64))
        candidate = tf.gather(self._words, tf.maximum(found, 0))
        one_typo = (found >= 2) & self._one_typo(tf.tile(words[:, None], [1, width + 1]), candidate, length[:, None])
        best = tf.reduce_min(tf.where(one_typo, found, tf.constant(_NONE, tf.int64)), axis=1)
        return tf.where(best < _NONE, tf.gather(self._words, tf.minimum(best, tf.cast(tf.size(self._words) - 1, tf.int64))), words)

    def _one_typo(self, words, candidates, length):
        """Whether each candidate is one typo from its word (the index also finds some two away)."""
        other = tf.strings.length(candidates)
        # A candidate one letter longer or shorter came from the word's own key or equals one of its
        # deletions: one letter left out or added, by construction.
        shape = tf.shape(words)
        size = self.max_length + 2
        a = tf.io.decode_raw(tf.reshape(words, [-1]), tf.uint8, fixed_length=size)
        b = tf.io.decode_raw(tf.reshape(tf.where(other == length, candidates, ""), [-1]), tf.uint8, fixed_length=size)
        differ = tf.not_equal(a, b)
        count = tf.reduce_sum(tf.cast(differ, tf.int32), axis=1)
        swapped = tf.reduce_any(differ[:, :-1] & differ[:, 1:] & tf.equal(a[:, :-1], b[:, 1:])
                                & tf.equal(a[:, 1:], b[:, :-1]), axis=1)
        same_length = tf.reshape((count == 1) | ((count == 2) & swapped), shape)
        return (tf.abs(other - length) == 1) | ((other == length) & same_length)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, texts):
        return keras.KerasTensor(texts.shape, dtype="string")

    def get_config(self):
        return {**super().get_config(), "vocabulary": self.vocabulary, "known": self.known,
                "min_length": self.min_length, "max_length": self.max_length}
