"""Words that carry no sentiment, read as their class: people's names, places and identity words.

A model learns whatever a word co-occurs with in IMDB's labels, so "Tom" and "Priya", "Chicago"
and "Lagos", "Christian" and "Protestant" pull a sentence in different directions though none of
them says how good a film is. :class:`NeutralWords` sits in front of the vectorizer and replaces
each word of the three classes by its class token (``xxname``, ``xxplace``, ``xxidentity``; a
possessive "'s" is kept: "Jake's" -> "xxname's"), in training text and at serving time alike, so a
swap within a class cannot change a prediction: the model never sees which member it was.

The classes (``sentiment/neutral_words.json``: identity words and places; names when it is built
with them) are built by ``python -m training.neutral_words`` from general-purpose word lists, not
from labels: first names and surnames of Faker's person providers, places of GeoNames (countries, US states, cities of at least 100,000 people), and
WordNet's nationality, people and religion words. A listed word that is also a common word ("Joy",
"Will", "Nice", "Mobile") is left out unless the IMDB reviews capitalize it after a sentence's first
word at least 90% of the time (50% for identity words); see that script for the rule.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import keras
import tensorflow as tf

from .text import standardize_review

TOKENS = {"identity": "xxidentity", "name": "xxname", "place": "xxplace"}
WORDS_FILE = Path(__file__).with_name("neutral_words.json")
_CLASS_TOKEN = re.compile(r"(?<!\S)(?:" + "|".join(TOKENS.values()) + r")(?:'s)?(?!\S)")


def load_word_classes(path: str | Path = WORDS_FILE) -> dict[str, list[str]]:
    """``{"identity": [...], "name": [...], "place": [...]}``, lower-case words."""
    classes = json.loads(Path(path).read_text(encoding="utf-8"))["classes"]
    unknown = set(classes) - set(TOKENS)
    if unknown:
        raise ValueError(f"{path}: unknown word classes {sorted(unknown)}; expected some of {sorted(TOKENS)}")
    return classes


def neutral_words(path: str | Path = WORDS_FILE) -> "NeutralWords":
    """The layer of the committed word classes, named as it is saved inside a model."""
    return NeutralWords(load_word_classes(path), name="neutral_words")


def count_class_tokens(text: str) -> int:
    """How many words of ``text`` (as the layer wrote it) are class tokens."""
    return len(_CLASS_TOKEN.findall(text))


def read_as_classes(layer: "NeutralWords", texts: list[str], batch_size: int = 2000) -> list[str]:
    """``texts`` as the layer reads them (standardized, class words replaced), in batches."""
    out: list[str] = []
    for start in range(0, len(texts), batch_size):
        batch = layer(tf.constant(list(texts[start : start + batch_size]), dtype=tf.string)).numpy()
        out.extend(text.decode("utf-8") for text in batch)
    return out


@keras.saving.register_keras_serializable(package="sentiment")
class NeutralWords(keras.layers.Layer):
    """Raw texts ``[batch]`` -> the texts standardized, each word of ``words``' classes replaced by its class token.

    ``words``: ``{class: [lower-case words]}`` with classes among ``TOKENS``; a word listed in two
    classes takes the first in ``TOKENS``' order (identity, then name, then place).
    """

    def __init__(self, words: dict, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        unknown = set(words) - set(TOKENS)
        if unknown:
            raise ValueError(f"unknown word classes {sorted(unknown)}; expected some of {sorted(TOKENS)}")
        self.words = {kind: sorted({str(w).lower() for w in words[kind]}) for kind in TOKENS if kind in words}
        token_of: dict[str, str] = {}
        for kind, listed in self.words.items():
            for word in listed:
                token_of.setdefault(word, TOKENS[kind])
        self._table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(list(token_of) or [""], tf.string),
                                                tf.constant(list(token_of.values()) or [""], tf.string)),
            default_value="")

    def call(self, texts):
        tokens = tf.strings.split(standardize_review(texts))
        flat = tokens.flat_values
        base = tf.strings.regex_replace(flat, "'s$", "")
        token = self._table.lookup(base)
        suffix = tf.where(tf.equal(base, flat), "", "'s")
        flat = tf.where(tf.equal(token, ""), flat, token + suffix)
        return tf.strings.reduce_join(tokens.with_flat_values(flat), axis=1, separator=" ")

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, texts):
        return keras.KerasTensor(texts.shape, dtype="string")

    def get_config(self):
        return {**super().get_config(), "words": self.words}
