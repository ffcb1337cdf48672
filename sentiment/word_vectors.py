"""Word vectors pretrained with gensim's word2vec on IMDB's own reviews, to initialize the embedding.

Only IMDB text is used (the training part of the train split and the 50,000 unlabelled
reviews; never validation or test), tokenized by the model's own standardizer, so every
vector belongs to a token the model will see.
"""

from __future__ import annotations

import numpy as np

from .text import standardize_review


def tokenize(texts, batch_size: int = 1000) -> list[list[str]]:
    """Token lists exactly as the model's ``TextVectorization`` splits them."""
    import tensorflow as tf

    tokens = []
    for start in range(0, len(texts), batch_size):
        cleaned = standardize_review(tf.constant(list(texts[start : start + batch_size]))).numpy()
        tokens.extend(line.decode("utf-8").split() for line in cleaned)
    return tokens


def train_word_vectors(texts, vocabulary: list[str], dim: int, *, epochs: int = 5, window: int = 5,
                       seed: int = 1337, workers: int = 2) -> np.ndarray:
    """An embedding matrix ``[len(vocabulary), dim]`` aligned with the vectorizer's vocabulary.

    ``vocabulary`` is ``TextVectorization.get_vocabulary()`` (padding at 0, OOV at 1). Padding
    gets zeros; tokens word2vec did not keep get small random vectors of the same scale.
    """
    from gensim.models import Word2Vec

    model = Word2Vec(tokenize(texts), vector_size=dim, window=window, min_count=2, sg=0,
                     epochs=epochs, seed=seed, workers=workers)
    scale = float(np.std(model.wv.vectors))
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0, scale, size=(len(vocabulary), dim)).astype(np.float32)
    matrix[0] = 0.0
    found = 0
    for index, token in enumerate(vocabulary[2:], start=2):
        if token in model.wv.key_to_index:
            matrix[index] = model.wv[token]
            found += 1
    return matrix
