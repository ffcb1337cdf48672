"""Language-model pretraining of the recurrent encoder on IMDB's own reviews (Dai & Le, 2015).

``--language-model-epochs N`` trains the classifier's embedding and its (bidirectional) recurrent
layer as a language model before any classifier sees a label: the forward cell predicts each next
token from the words before it, the backward cell each previous token from the words after it
(ELMo's two directions, Peters et al., 2018). It reads the training reviews and the 50,000
unlabelled ones (never validation or test) in windows of ``WINDOW`` tokens. Predicting words
teaches what labels do not: that a word after "not" or "but" reads differently. The learnt
embedding and recurrent weights then initialize the teacher and the student, which fine-tune them.

The softmax over the vocabulary is sampled (``tf.nn.sampled_softmax_loss``, Jean et al., 2015;
the vocabulary is sorted by frequency, which the log-uniform sampler assumes), so an epoch costs
about as much as an epoch of the classifier. Only the encoder is kept: the softmax weights are
dropped after pretraining.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .model import _CELL_LAYERS

WINDOW = 100  # tokens per training window
NUM_SAMPLED = 512  # negative words per sampled-softmax step
BATCH_SIZE = 128  # windows per step
ENCODER = ("embedding", "bidirectional_1")  # the classifier's layers the language model trains


def windows(ids, length: int = WINDOW) -> np.ndarray:
    """The token ids of each review (a ``tf.RaggedTensor``) cut into consecutive windows of at most ``length``
    tokens, zero-padded: ``[windows, length]``. Windows of fewer than two tokens predict nothing and are dropped."""
    flat, lengths = ids.flat_values.numpy(), ids.row_lengths().numpy()
    rows, offset = [], 0
    for n in lengths:
        for start in range(0, int(n), length):
            piece = flat[offset + start : offset + min(start + length, int(n))]
            if len(piece) >= 2:
                rows.append(piece)
        offset += int(n)
    out = np.zeros((len(rows), length), dtype=np.int64)
    for index, row in enumerate(rows):
        out[index, : len(row)] = row
    return out


def build_language_model(vocabulary_size: int, config, *, num_sampled: int = NUM_SAMPLED):
    """A :class:`LanguageModel` whose encoder has the classifier's layer names and shapes (``ENCODER``)."""
    if config.num_layers != 1:
        raise ValueError(f"language-model pretraining trains one recurrent layer, but num_layers={config.num_layers}; "
                         "set --num-layers 1 or --language-model-epochs 0")
    return LanguageModel(vocabulary_size, config.embedding_dim, config.cell, config.units, config.bidirectional,
                         num_sampled=num_sampled)


def pretrain(ids, validation_ids, vocabulary_size: int, config, *, embedding: np.ndarray | None, epochs: int,
             learning_rate: float, backup_dir: str, history_file: str, seed: int, batch_size: int = BATCH_SIZE,
             verbose: int = 1) -> dict[str, list[np.ndarray]]:
    """Train the language model on ``ids`` (resuming ``backup_dir``) and return the encoder's weights by layer
    name. ``history_file`` gets a row an epoch: the sampled training loss, the exact validation loss, seconds."""
    from .callbacks import EpochTimer

    keras.utils.set_random_seed(seed)
    model = build_language_model(vocabulary_size, config)
    train = windows(ids)
    validation = windows(validation_ids)[:1000]
    model(train[:2])  # build
    if embedding is not None:
        model.get_layer("embedding").set_weights([embedding])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, global_clipnorm=1.0))
    dataset = (tf.data.Dataset.from_tensor_slices(train).shuffle(len(train), seed=seed, reshuffle_each_iteration=True)
               .batch(batch_size).prefetch(tf.data.AUTOTUNE))
    model.fit(dataset, validation_data=tf.data.Dataset.from_tensor_slices(validation).batch(batch_size),
              epochs=epochs, verbose=verbose,
              callbacks=[EpochTimer(), keras.callbacks.CSVLogger(history_file, append=True),
                         # Last, so an epoch is backed up only once its row is written.
                         keras.callbacks.BackupAndRestore(backup_dir, delete_checkpoint=False)])
    return {name: model.get_layer(name).get_weights() for name in ENCODER}


def summary(rows: list[dict]) -> dict:
    """The record of ``metrics.json``: epochs, the last exact validation loss and perplexity, minutes."""
    last = rows[-1]
    return {"epochs": len(rows), "validation_loss": round(float(last["val_loss"]), 4),
            "validation_perplexity": round(float(np.exp(float(last["val_loss"]))), 1),
            "seconds": round(sum(float(r.get("seconds", 0) or 0) for r in rows), 1)}


class LanguageModel(keras.Model):
    """Embedding -> recurrent layer (both directions) -> a sampled softmax per direction."""

    def __init__(self, vocabulary_size, embedding_dim, cell, units, bidirectional, *, num_sampled, **kwargs):
        super().__init__(**kwargs)
        # The sampler draws distinct words, so a tiny vocabulary (the test fixture's) samples fewer.
        self.vocabulary_size, self.num_sampled = vocabulary_size, min(num_sampled, vocabulary_size // 2)
        self.bidirectional = bidirectional
        self.embedding = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True, name="embedding")
        layer = _CELL_LAYERS[cell](units, return_sequences=True, name=f"{cell}_1")
        self.encoder = (keras.layers.Bidirectional(layer, merge_mode=None, name="bidirectional_1")
                        if bidirectional else layer)
        directions = ("forward", "backward") if bidirectional else ("forward",)
        self.softmax = {d: (self.add_weight(shape=(vocabulary_size, units), initializer="glorot_uniform",
                                            name=f"{d}_softmax_kernel"),
                            self.add_weight(shape=(vocabulary_size,), initializer="zeros", name=f"{d}_softmax_bias"))
                        for d in directions}
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def call(self, ids, training=False):
        states = self.encoder(self.embedding(ids), mask=tf.not_equal(ids, 0), training=training)
        return states if self.bidirectional else [states]

    def _loss(self, ids, training):
        states = self(ids, training=training)
        pairs = [(states[0][:, :-1], ids[:, 1:])]  # the forward state at t predicts token t + 1
        if self.bidirectional:
            pairs.append((states[1][:, 1:], ids[:, :-1]))  # the backward state at t predicts token t - 1
        total = 0.0
        for (kernel, bias), (state, target) in zip(self.softmax.values(), pairs):
            keep = tf.not_equal(target, 0)
            state, target = tf.boolean_mask(state, keep), tf.boolean_mask(target, keep)
            if training:
                losses = tf.nn.sampled_softmax_loss(kernel, bias, target[:, None], state, self.num_sampled,
                                                    self.vocabulary_size, remove_accidental_hits=True)
            else:  # the exact loss, for validation
                logits = tf.matmul(state, kernel, transpose_b=True) + bias
                losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=logits)
            total += tf.reduce_mean(losses)
        return total / len(pairs)

    def train_step(self, ids):
        with tf.GradientTape() as tape:
            loss = self._loss(ids, training=True)
        variables = self.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, ids):
        self.loss_tracker.update_state(self._loss(ids, training=False))
        return {"loss": self.loss_tracker.result()}

    @property
    def metrics(self):
        return [self.loss_tracker]
