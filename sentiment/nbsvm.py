"""NBSVM-style linear classifier: logistic regression on naive-Bayes-weighted binary n-grams.

Wang & Manning (2012), "Baselines and Bigrams": binary 1-3-gram features scaled by the log-count
ratio ``r = log((p / |p|) / (q / |q|))`` of each n-gram in positive (``p``) and negative (``q``)
reviews, then a linear classifier. On IMDB it scores 91.3-91.6% (C = 1 to 4), more than most recurrent
models trained on the labelled reviews alone, and it errs on different reviews than they do, which makes
the pair a good teacher (see ``TrainConfig.teacher``). Built on scikit-learn; texts are cleaned by
the same standardizer as the models (:func:`sentiment.text.standardize_review`).
"""

from __future__ import annotations

import numpy as np


class NBSVM:
    """``fit(texts, labels)`` then ``predict_proba(texts)`` -> probability of positive, shape ``[n]``."""

    def __init__(self, ngram_range: tuple[int, int] = (1, 3), c: float = 1.0, min_df: int = 2):
        self.ngram_range, self.c, self.min_df = tuple(ngram_range), c, min_df

    def fit(self, texts, labels) -> "NBSVM":
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.linear_model import LogisticRegression

        labels = np.asarray(labels)
        if set(np.unique(labels)) != {0, 1}:
            raise ValueError("NBSVM needs labels 0 and 1, both present")
        self.vectorizer = CountVectorizer(ngram_range=self.ngram_range, min_df=self.min_df, binary=True,
                                          token_pattern=r"\S+", dtype=np.float32)
        counts = self.vectorizer.fit_transform(clean_texts(texts))
        p = np.asarray(counts[labels == 1].sum(axis=0)).ravel() + 1.0
        q = np.asarray(counts[labels == 0].sum(axis=0)).ravel() + 1.0
        self.ratio = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
        self.model = LogisticRegression(C=self.c, max_iter=2000, solver="liblinear")
        self.model.fit(counts.multiply(self.ratio).tocsr(), labels)
        return self

    def predict_proba(self, texts, batch_size: int = 5000) -> np.ndarray:
        out = []
        for start in range(0, len(texts), batch_size):
            features = self.vectorizer.transform(clean_texts(texts[start : start + batch_size])).multiply(self.ratio).tocsr()
            out.append(self.model.predict_proba(features)[:, 1])
        return np.concatenate(out).astype(np.float32) if out else np.zeros(0, dtype=np.float32)


def clean_texts(texts) -> list[str]:
    """Texts as the models see them (:func:`sentiment.text.standardize_review`), as Python strings."""
    import tensorflow as tf

    from .text import standardize_review

    cleaned = []
    for start in range(0, len(texts), 2048):
        batch = standardize_review(tf.constant(list(texts[start : start + 2048]))).numpy()
        cleaned.extend(t.decode("utf-8", errors="replace") for t in batch)
    return cleaned
