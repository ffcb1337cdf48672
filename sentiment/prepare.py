"""From a config and a data source to what a run fits: splits, augmentation, vocabulary, token ids, batches.

``prepare(config, data)`` is the one data preparation of the project: training and the
architecture search both call it, so they read the same reviews the same way. The models learn
from the training reviews after the intensifier swap (when the config asks for it); the
distillation teacher's NBSVM reads them as they are (``Prepared.train``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from .config import Config
from .data import Reviews, load_split


class Prepared:
    """The reviews of one run as token ids, and the ``tf.data`` batches made from them."""

    def __init__(self, config: Config, data: str, load: dict, train: Reviews, validation: Reviews,
                 train_texts: list[str], vectorizer, log: Callable[[str], None]):
        from .pipeline import add_crops, vectorize

        self.config, self.data, self._load, self._log = config, data, load, log
        self.train, self.validation, self.train_texts, self.vectorizer = train, validation, train_texts, vectorizer
        max_length = config.data.max_length
        self.train_ids, self.train_labels = add_crops(vectorize(train_texts, vectorizer, max_length), train.labels,
                                                      config.train.short_crops, seed=config.data.seed)
        self.validation_ids = vectorize(validation.texts, vectorizer, max_length)
        self._unlabelled: list[str] | None = None
        self._unlabelled_to_learn: list[str] | None = None

    @property
    def vocabulary_size(self) -> int:
        return self.vectorizer.vocabulary_size()

    def _batches(self, ids, labels, shuffle: bool):
        from .pipeline import make_dataset

        c = self.config
        return make_dataset(ids, labels, shuffle=shuffle, seed=c.data.seed, batch_size=c.train.batch_size,
                            batching=c.train.batching, max_length=c.data.max_length)

    def train_dataset(self):
        """Shuffled, seeded training batches (the same order on every call and every worker)."""
        return self._batches(self.train_ids, self.train_labels, shuffle=True)

    def validation_dataset(self):
        return self._batches(self.validation_ids, self.validation.labels, shuffle=False)

    def unlabelled(self) -> list[str]:
        """The 50,000 unlabelled reviews as they are (read once, when first asked for)."""
        if self._unlabelled is None:
            self._unlabelled = load_split(self.data, "unsupervised", **self._load).texts
        return self._unlabelled

    def unlabelled_to_learn(self) -> list[str]:
        """The unlabelled reviews the models learn from: swapped like the training reviews."""
        if self._unlabelled_to_learn is None:
            self._unlabelled_to_learn = _swap(self.config, self.unlabelled(), "unlabelled", self._log, offset=1)
        return self._unlabelled_to_learn

    def add_soft_labelled(self, texts: list[str], probabilities: np.ndarray) -> None:
        """Learn also from ``texts`` with a teacher's probabilities as targets."""
        import tensorflow as tf

        from .pipeline import vectorize

        ids = vectorize(texts, self.vectorizer, self.config.data.max_length)
        self.train_ids = tf.concat([self.train_ids, ids], axis=0)
        self.train_labels = np.concatenate([np.asarray(self.train_labels, dtype=np.float32),
                                            np.asarray(probabilities, dtype=np.float32)])

    def test(self) -> Reviews:
        """The official test split: evaluated once, at the end of a run."""
        return load_split(self.data, "test", **self._load)


def prepare(config: Config, data: str, *, vocabulary_file: Path | None = None,
            tfds_data_dir: str | None = None, download: bool = True,
            log: Callable[[str], None] = lambda message: None) -> Prepared:
    """Load the splits, swap intensifiers, adapt (or read) the vocabulary and vectorize the reviews.

    ``vocabulary_file``: where the run keeps its vocabulary; read when it exists (a resumed run),
    written atomically otherwise.
    """
    from . import model_folder
    from .text import adapt_vectorizer, make_vectorizer

    load = dict(validation_fraction=config.data.validation_fraction, seed=config.data.seed,
                tfds_data_dir=tfds_data_dir, download=download)
    train = load_split(data, "train", max_samples=config.train.max_train_samples, **load)
    validation = load_split(data, "validation", **load)
    log(f"{len(train)} training and {len(validation)} validation reviews from {data}")
    train_texts = _swap(config, train.texts, "training", log)
    if vocabulary_file is not None and Path(vocabulary_file).exists():
        vectorizer = make_vectorizer(config.data.max_tokens, vocabulary=Path(vocabulary_file).read_text().split("\n"))
    else:
        vectorizer = adapt_vectorizer(train_texts, config.data.max_tokens)
        if vocabulary_file is not None:
            model_folder.write_atomically(vocabulary_file, "\n".join(vectorizer.get_vocabulary()[2:]))
    return Prepared(config, data, load, train, validation, train_texts, vectorizer, log)


def _swap(config: Config, texts: list[str], what: str, log, offset: int = 0) -> list[str]:
    """The intensifier swap of ``config.train.intensifier_swap`` (no copy when it is off)."""
    if not config.train.intensifier_swap:
        return texts
    from .intensifiers import swap_intensifiers

    texts, swapped = swap_intensifiers(texts, config.train.intensifier_swap, seed=config.data.seed + offset)
    log(f"intensifier swap: {swapped} words of the {what} reviews changed")
    return texts
