"""The builder's optimizers give Adam's update for an Embedding's sparse gradient with repeated words.

Reference: Keras' Adam fed the same gradients made dense (what the textbook Adam does).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from sentiment.config import TrainConfig
from sentiment.fitting import compile_model
from sentiment.model import build_model
from sentiment.optimizers import DenseAdam, LazyAdam

CLIPS = [{}, {"clipnorm": 0.01}, {"clipvalue": 1e-4}, {"global_clipnorm": 0.01}]
# Every row of the 10-word vocabulary appears in every batch; words 3 and 9 repeat within a review.
ALL_ROWS = np.array([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 3]] * 4)


def _train(optimizer, ids, steps=5, dense=False):
    keras.utils.set_random_seed(0)
    ids_in = keras.Input((None,), dtype="int64")
    x = keras.layers.Embedding(10, 4)(ids_in)
    x = keras.layers.GlobalAveragePooling1D()(x)
    model = keras.Model(ids_in, keras.layers.Dense(1)(x))
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(1.0 - model(ids)))
        grads = tape.gradient(loss, model.trainable_variables)
        assert isinstance(grads[0], tf.IndexedSlices)
        if dense:
            grads = [tf.convert_to_tensor(g) for g in grads]
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return [w.numpy() for w in model.weights]


def _gap(a, b):
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


@pytest.mark.parametrize("clip", CLIPS, ids=lambda c: next(iter(c), "none"))
def test_dense_adam_and_lazy_adam_match_adam_when_every_row_is_in_the_batch(clip):
    reference = _train(keras.optimizers.Adam(0.1, **clip), ALL_ROWS, dense=True)
    assert _gap(_train(DenseAdam(0.1, **clip), ALL_ROWS), reference) < 1e-5
    assert _gap(_train(LazyAdam(0.1, **clip), ALL_ROWS), reference) < 1e-3  # float sums in another order


def test_keras_adam_mishandles_repeated_rows_without_global_clipnorm():
    """Why DenseAdam exists: with the pinned Keras, plain Adam is far from Adam on repeated words.
    If this starts failing after a Keras upgrade, Keras fixed it and DenseAdam can go."""
    reference = _train(keras.optimizers.Adam(0.1), ALL_ROWS, dense=True)
    assert _gap(_train(keras.optimizers.Adam(0.1), ALL_ROWS), reference) > 0.1


def test_lazy_adam_leaves_rows_of_absent_words_alone_and_dense_adam_moves_them():
    first, second = np.array([[1, 2, 2, 3]]), np.array([[4, 5, 5, 6]])
    for optimizer, absent_moves in ((LazyAdam(0.1), False), (DenseAdam(0.1), True)):
        keras.utils.set_random_seed(0)
        embedding = keras.layers.Embedding(10, 4)
        embedding.build()
        for ids in (first, second):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(embedding(ids))
            grads = tape.gradient(loss, embedding.trainable_variables)
            optimizer.apply_gradients(zip(grads, embedding.trainable_variables))
            if ids is first:
                after_first = embedding.embeddings.numpy().copy()
        rows_1_to_3 = np.abs(embedding.embeddings.numpy()[1:4] - after_first[1:4]).max()
        assert (rows_1_to_3 > 1e-3) == absent_moves, type(optimizer).__name__
        untouched = embedding.embeddings.numpy()[7:]
        assert np.abs(untouched - after_first[7:]).max() == 0.0  # never in a batch: no gradient, no moment


def test_training_config_picks_the_optimizer_and_rejects_unknown_names():
    assert type(compile_model(build_model(50), TrainConfig()).optimizer) is DenseAdam
    lazy = compile_model(build_model(50), TrainConfig(optimizer="lazy_adam", clipnorm=2.0, weight_decay=0.01))
    assert type(lazy.optimizer) is LazyAdam
    assert lazy.optimizer.clipnorm == 2.0 and lazy.optimizer.weight_decay == 0.01
    assert lazy.jit_compile is False  # tf.unique cannot be XLA-compiled
    with pytest.raises(ValueError, match="optimizer.*one of"):
        TrainConfig(optimizer="sgd")


def test_lazy_adam_trains_the_builder_model():
    keras.utils.set_random_seed(0)
    model = compile_model(build_model(30, units=4, embedding_dim=8),
                          TrainConfig(optimizer="lazy_adam", global_clipnorm=1.0, learning_rate=0.05))
    ids = np.random.default_rng(0).integers(2, 30, size=(16, 12))
    labels = (ids[:, :1] % 2).astype("float32")  # label = parity of the first word
    first = model.evaluate(ids, labels, verbose=0)[0]
    model.fit(ids, labels, epochs=30, verbose=0)
    assert model.evaluate(ids, labels, verbose=0)[0] < 0.5 * first


def test_optimizer_benchmark_writes_a_row_per_variant(tmp_path, capsys):
    from benchmarks.optimizers import main

    out = tmp_path / "optimizers.md"
    main(["--batch-sizes", "2", "--units", "2", "--repeats", "2", "--out", str(out)])
    rows = [line for line in out.read_text().splitlines() if line.startswith("| 2 |")]
    assert [row.split("|")[3].strip() for row in rows] == ["adam", "lazy_adam"]
    assert rows[0].rstrip().endswith("| 1.00x |")
    assert all(float(row.split("|")[4]) > 0 for row in rows)
    assert out.read_text().strip() in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--repeats", "0", "--out", str(out)])


def test_tuner_trials_use_the_defaults_optimizer():
    """The search trains its trials with the optimizer that the best trial is retrained with."""
    import keras_tuner as kt

    from sentiment.config import Config
    from sentiment.tuning import SentimentHyperModel, search_space

    base = Config().replace(optimizer="lazy_adam", units=4, embedding_dim=4)
    hp = kt.HyperParameters()
    assert type(SentimentHyperModel(50, base).build(hp).optimizer) is LazyAdam
    assert search_space(hp, base).train.optimizer == "lazy_adam"
