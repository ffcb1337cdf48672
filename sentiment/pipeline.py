"""``tf.data`` input pipelines: vectorize once, then batch reviews of similar length together.

IMDB reviews are long-tailed (median ~174 words, 99th percentile ~900), so padding every
batch to ``max_length`` wastes most of the recurrent steps. ``batching="bucket"`` groups
reviews into length buckets and pads each batch only to its longest member.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .text import OOV_ID


def vectorize(texts, vectorizer, max_length: int, batch_size: int = 512) -> tf.RaggedTensor:
    """Token ids of each text, cut to ``max_length`` (an empty text becomes one OOV token).

    The same rule as :class:`sentiment.layers.TokenWindow`, so training and serving agree.
    """
    rows = []
    for start in range(0, len(texts), batch_size):
        ids = vectorizer(tf.constant(list(texts[start : start + batch_size]))).numpy()
        lengths = np.count_nonzero(ids, axis=1) if ids.shape[1] else np.zeros(len(ids), dtype=np.int64)
        for row, length in zip(ids, lengths):
            row = row[: min(int(length), max_length)]
            rows.append(row if len(row) else np.asarray([OOV_ID], dtype=np.int64))
    lengths = np.asarray([len(r) for r in rows], dtype=np.int64)
    flat = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    return tf.RaggedTensor.from_row_lengths(flat, lengths)


def add_crops(ids: tf.RaggedTensor, labels, per_review: float, *, min_length: int = 4, max_length: int = 40,
              seed: int = 1337) -> tuple[tf.RaggedTensor, np.ndarray]:
    """Append random windows of ``min_length``-``max_length`` tokens, each labelled as its review.

    IMDB reviews are long (median ~230 tokens) but users type single sentences; without short
    inputs in training a model learns that short means whatever its pooling makes of few steps.
    ``per_review`` windows are added per review on average (e.g. 0.5 adds half as many examples,
    which cost little: they are short). Seeded, so a resumed run sees the same windows.
    """
    labels = np.asarray(labels)
    count = int(round(len(labels) * per_review))
    if count <= 0:
        return ids, labels
    rng = np.random.default_rng(seed)
    source = rng.integers(0, len(labels), count)
    lengths = ids.row_lengths().numpy()
    starts = ids.row_starts().numpy()
    flat = ids.flat_values.numpy()
    windows = []
    for index in source:
        n = int(lengths[index])
        size = min(n, int(rng.integers(min_length, max_length + 1)))
        offset = int(starts[index]) + int(rng.integers(0, n - size + 1))
        windows.append(flat[offset : offset + size])
    crops = tf.RaggedTensor.from_row_lengths(np.concatenate(windows), [len(w) for w in windows])
    return tf.concat([ids, crops], axis=0), np.concatenate([labels, labels[source]])


def make_dataset(
    ids: tf.RaggedTensor,
    labels,
    *,
    batch_size: int,
    batching: str = "bucket",
    max_length: int,
    shuffle: bool = False,
    seed: int = 1337,
) -> tf.data.Dataset:
    """``(ids [batch, time], labels [batch])`` batches for ``model.fit`` / ``evaluate``."""
    labels = tf.constant(np.asarray(labels, dtype=np.float32))
    flat, starts, ends = ids.flat_values, ids.row_starts(), ids.row_limits()
    dataset = tf.data.Dataset.range(len(labels)).map(
        lambda i: (flat[starts[i] : ends[i]], labels[i]), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    if shuffle:
        dataset = dataset.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    lengths = ids.row_lengths().numpy()
    if batching == "bucket":
        boundaries = bucket_boundaries(max_length)
        per_bucket = np.bincount(np.searchsorted(boundaries, lengths, side="right"), minlength=len(boundaries) + 1)
        batches = int(np.sum(-(-per_bucket // batch_size)))
        dataset = dataset.bucket_by_sequence_length(
            element_length_func=lambda x, y: tf.shape(x)[0],
            bucket_boundaries=boundaries,
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        )
        if shuffle:  # interleave buckets so consecutive steps do not all come from one length
            dataset = dataset.shuffle(64, seed=seed + 1, reshuffle_each_iteration=True)
    elif batching in ("longest", "fixed"):
        batches = -(-len(lengths) // batch_size)
        width = None if batching == "longest" else max_length
        dataset = dataset.padded_batch(batch_size, padded_shapes=([width], []))
    else:
        raise ValueError(f"batching={batching!r} is invalid: expected bucket, longest or fixed")
    # Bucketing hides the number of batches from tf.data; it is known, so say it (progress bar).
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    return dataset.prefetch(tf.data.AUTOTUNE)


def bucket_boundaries(max_length: int, step: int = 32) -> list[int]:
    """Length-bucket edges: reviews of 1-32 tokens together, 33-64 together, and so on."""
    return list(range(step + 1, max_length + 1, step))
