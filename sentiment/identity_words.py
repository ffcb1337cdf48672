"""Identity words hidden from the trained network: each reaches it as the unknown word.

A model learns whatever a word co-occurs with in IMDB's labels, so "Christian" and "Protestant",
"Pakistani" and "Iranian" pull a neutral sentence in different directions though neither says how
good a film is. :class:`IdentityWords` sits between the vectorizer and the network and replaces the
id of each listed word (and of its possessive, "american's") by the out-of-vocabulary id, the id a
rare word has in training, so a swap of one identity word for another cannot move a prediction: the
network never sees which one it was. The network is trained on the reviews as they are; the layer
only changes what the saved model reads (``data.identity_words``). It works on token ids, so it adds
no text processing to serving: a lookup per token.

The list (``sentiment/identity_words.json``, 1,138 words: nationalities, peoples, religions and
sexual orientations) is built by ``python -m training.identity_words`` from WordNet's nationality,
people and religion words, not from labels; a listed word that is also a common word is left out
unless the IMDB reviews capitalize it after a sentence's first word at least half the time.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
from keras import ops

from .text import OOV_ID

WORDS_FILE = Path(__file__).with_name("identity_words.json")


def load_words(path: str | Path = WORDS_FILE) -> list[str]:
    """The committed identity words, lower case."""
    return json.loads(Path(path).read_text(encoding="utf-8"))["words"]


def identity_words(vocabulary: list[str], path: str | Path = WORDS_FILE) -> "IdentityWords":
    """The layer that hides the listed words of ``vocabulary`` (the vectorizer's), named as it is saved."""
    listed = set(load_words(path))
    hidden = [i for i, token in enumerate(vocabulary)
              if i > OOV_ID and (token in listed or (token.endswith("'s") and token[:-2] in listed))]
    return IdentityWords(len(vocabulary), [vocabulary[i] for i in hidden], hidden, name="identity_words")


@keras.saving.register_keras_serializable(package="sentiment")
class IdentityWords(keras.layers.Layer):
    """Token ids ``[batch, time]`` -> the same ids, each of ``ids`` (the vocabulary's ``words``) replaced by the OOV id."""

    def __init__(self, vocabulary_size: int, words, ids, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.vocabulary_size, self.words, self.ids = int(vocabulary_size), [str(w) for w in words], [int(i) for i in ids]
        if len(self.words) != len(self.ids) or not all(OOV_ID < i < self.vocabulary_size for i in self.ids):
            raise ValueError(f"{len(self.words)} words and {len(self.ids)} ids: expected one id per word, "
                             f"each between {OOV_ID + 1} and {self.vocabulary_size - 1}")
        table = np.arange(self.vocabulary_size, dtype="int64")
        table[self.ids] = OOV_ID
        self._table = ops.convert_to_tensor(table)  # made once, not at each call

    def call(self, ids):
        return ops.take(self._table, ops.cast(ids, "int64"), axis=0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size, "words": self.words, "ids": self.ids}
