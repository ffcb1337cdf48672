import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import FIXTURE
from sentiment.config import CELLS, CONNECTIONS, POOLINGS, ModelConfig, TrainConfig
from sentiment.fitting import compile_model
from sentiment.layers import TokenWindow
from sentiment.data import read_official_split
from sentiment.model import build_model, end_to_end
from sentiment.text import adapt_vectorizer

MAX_LENGTH = 24


@pytest.fixture(scope="module")
def fixture_reviews():
    return read_official_split(FIXTURE, "train")


@pytest.fixture(scope="module")
def vectorizer(fixture_reviews):
    return adapt_vectorizer(fixture_reviews.texts, max_tokens=60)


VARIANTS = [(CELLS[i % len(CELLS)], *rest)
            for i, rest in enumerate(itertools.product([False, True], CONNECTIONS, POOLINGS))]
"""Every connection x pooling x direction, the cells taking turns (each cell meets every connection)."""


@pytest.mark.parametrize("cell, bidirectional, connection, pooling", VARIANTS)
def test_every_variant_trains_a_step_and_round_trips(cell, bidirectional, connection, pooling, vectorizer, fixture_reviews, tmp_path):
    keras.utils.set_random_seed(0)
    model = build_model(vectorizer.vocabulary_size(), cell=cell, num_layers=2, units=3, embedding_dim=4,
                        bidirectional=bidirectional, connection=connection, pooling=pooling, dropout=0.1)
    compile_model(model, TrainConfig(global_clipnorm=1.0))
    texts = fixture_reviews.texts[:8]
    ids = TokenWindow(MAX_LENGTH)(vectorizer(tf.constant(texts)))
    before = [w.numpy().copy() for w in model.trainable_weights]
    loss, _ = model.train_on_batch(ids, fixture_reviews.labels[:8].astype("float32"))
    assert np.isfinite(loss)
    assert any(not np.allclose(b, w.numpy()) for b, w in zip(before, model.trainable_weights))

    full = end_to_end(vectorizer, model, MAX_LENGTH)
    path = tmp_path / "model.keras"
    full.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    probe = tf.constant(texts + ["", "never seen words only"])
    expected = full(probe).numpy()
    np.testing.assert_allclose(loaded(probe).numpy(), expected, atol=1e-6)
    assert np.all((expected >= 0) & (expected <= 1))


@pytest.mark.parametrize("connection", ["residual", "highway"])
def test_residual_and_highway_project_where_widths_differ(connection):
    model = build_model(50, num_layers=3, units=5, embedding_dim=7, bidirectional=True, connection=connection)
    names = [layer.name for layer in model.layers]
    assert "projection_1" in names  # embedding (7) -> 2 x 5
    assert "projection_2" not in names and f"{connection}_3" in names  # 10 -> 10: identity skip


def test_dense_connections_feed_each_layer_everything_below_it():
    model = build_model(50, num_layers=3, units=5, embedding_dim=7, bidirectional=True, connection="dense",
                        pooling="last")
    assert model.get_layer("dense_input_2").output.shape[-1] == 7 + 10
    assert model.get_layer("dense_input_3").output.shape[-1] == 7 + 10 + 10
    assert "dense_input_1" not in [layer.name for layer in model.layers]


def test_a_highway_gate_starts_mostly_closed_and_mixes_input_and_output():
    from sentiment.layers import Highway

    x, y = np.zeros((1, 2, 3), "float32"), np.ones((1, 2, 3), "float32")
    layer = Highway(gate_bias=-2.0)
    mixed = layer([x, y]).numpy()  # gate = sigmoid(0 W - 2) everywhere when x = 0
    np.testing.assert_allclose(mixed, 1 / (1 + np.exp(2.0)), rtol=1e-5)
    assert Highway.from_config(layer.get_config()).gate_bias == -2.0


def test_the_connection_is_checked_and_named_in_the_error():
    with pytest.raises(ValueError, match="connection"):
        build_model(50, connection="skip")


def test_padding_does_not_change_a_prediction(vectorizer):
    """Masking works: a short review scores the same alone and batched next to a long one."""
    for cell, pooling, connection in [("lstm", "max_mean", "residual"), ("gru", "last", "dense"), ("rnn", "mean", "highway")]:
        model = end_to_end(vectorizer, build_model(vectorizer.vocabulary_size(), cell=cell, pooling=pooling,
                                                   units=3, embedding_dim=4, num_layers=3, connection=connection), MAX_LENGTH)
        short, long = "great movie", " ".join(["dull plot"] * 10)
        alone = model(tf.constant([short])).numpy()[0, 0]
        batched = model(tf.constant([short, long])).numpy()[0, 0]
        assert alone == pytest.approx(batched, abs=1e-6), (cell, pooling, connection)


def test_too_long_reviews_are_cut_to_max_length(vectorizer):
    model = end_to_end(vectorizer, build_model(vectorizer.vocabulary_size(), units=3, embedding_dim=4), 5)
    head = "wonderful great loved superb moving"
    np.testing.assert_allclose(model(tf.constant([head])).numpy(), model(tf.constant([head + " awful" * 50])).numpy(), atol=1e-6)


def test_clipping_options_reach_the_optimizer_where_the_model_is_compiled():
    assert compile_model(build_model(50), TrainConfig(global_clipnorm=0.5)).optimizer.global_clipnorm == 0.5
    assert compile_model(build_model(50), TrainConfig(clipvalue=0.1)).optimizer.clipvalue == 0.1
    with pytest.raises(ValueError, match="at most one of"):
        TrainConfig(clipnorm=1.0, global_clipnorm=1.0)


def test_the_builder_takes_architecture_only_and_never_compiles():
    model = build_model(50, units=3, embedding_dim=4)
    assert not model.compiled and getattr(model, "optimizer", None) is None
    for training_argument in ("learning_rate", "global_clipnorm", "optimizer", "compile"):
        with pytest.raises(TypeError, match="fields of ModelConfig"):
            build_model(50, **{training_argument: 1})


def test_the_dataclass_holds_the_defaults_and_a_config_or_keywords_build_the_same_model():
    config = ModelConfig(cell="lstm", units=3, embedding_dim=4, num_layers=2)
    by_config, by_keywords = build_model(50, config), build_model(50, cell="lstm", units=3, embedding_dim=4, num_layers=2)
    assert [layer.name for layer in by_config.layers] == [layer.name for layer in by_keywords.layers]
    assert by_config.count_params() == by_keywords.count_params()
    assert build_model(50, config, units=5).count_params() != by_config.count_params()  # keywords override
    with pytest.raises(ValueError, match="cell"):
        build_model(50, cell="transformer")


def test_deep_stack_builds():
    model = build_model(50, num_layers=8, units=2, embedding_dim=4, connection="residual", cell="lstm")
    assert sum("bidirectional" in layer.name for layer in model.layers) == 8
