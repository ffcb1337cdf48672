"""Language-model pretraining of the encoder (``--language-model-epochs``): windows, learning, transfer, resume."""

import numpy as np
import pytest
import tensorflow as tf

from conftest import FIXTURE
from sentiment.config import Config, ModelConfig
from sentiment.fitting import initialize
from sentiment.history import read_history
from sentiment.language_model import ENCODER, pretrain, summary, windows
from sentiment.model import build_model
from sentiment.runs import RunFolder
from sentiment.training import initial_weights


def test_reviews_are_cut_into_padded_windows_and_one_token_pieces_are_dropped():
    ids = tf.RaggedTensor.from_row_lengths(np.arange(1, 12), [5, 2, 4])  # [1..5], [6, 7], [8..11]
    out = windows(ids, length=2)
    # 5 tokens -> [1,2], [3,4] and [5] (dropped: it predicts nothing); [6,7]; [8,9], [10,11].
    np.testing.assert_array_equal(out, [[1, 2], [3, 4], [6, 7], [8, 9], [10, 11]])
    padded = windows(ids, length=4)
    np.testing.assert_array_equal(padded[0], [1, 2, 3, 4])
    np.testing.assert_array_equal(padded[1], [6, 7, 0, 0])


def cyclic_ids(reviews: int, length: int, vocabulary: int) -> tf.RaggedTensor:
    """Reviews that count 2, 3, ..., vocabulary-1, 2, ...: each token is fixed by the one before and after."""
    rng = np.random.default_rng(0)
    rows = [(np.arange(start, start + length) % (vocabulary - 2)) + 2 for start in rng.integers(0, vocabulary, reviews)]
    return tf.RaggedTensor.from_row_lengths(np.concatenate(rows), [length] * reviews)


def test_the_language_model_learns_next_and_previous_words_and_resumes(tmp_path):
    vocabulary = 40
    config = ModelConfig(cell="gru", units=16, embedding_dim=8)
    ids = cyclic_ids(200, 30, vocabulary)
    common = dict(embedding=None, learning_rate=0.01, seed=1, batch_size=16, verbose=0,
                  backup_dir=str(tmp_path / "backup"), history_file=str(tmp_path / "history.csv"))
    weights = pretrain(ids, cyclic_ids(20, 30, vocabulary), vocabulary, config, epochs=4, **common)
    rows = read_history(tmp_path / "history.csv")
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3]
    perplexity = [float(np.exp(float(r["val_loss"]))) for r in rows]
    # A uniform guess has perplexity 38; a deterministic sequence read in either direction is learnt.
    # (measured: 33.7, 15.1, 7.8, 4.7 by epoch)
    assert perplexity[-1] < 10 and perplexity[0] > 2 * perplexity[-1]
    record = summary(rows)
    assert record["epochs"] == 4 and record["validation_perplexity"] == pytest.approx(perplexity[-1], abs=0.1)
    assert set(weights) == set(ENCODER)
    # The encoder fits the classifier of the same architecture, layer by layer.
    classifier = build_model(vocabulary, config)
    initialize(classifier, lambda: weights)
    for name in ENCODER:
        for mine, learnt in zip(classifier.get_layer(name).get_weights(), weights[name]):
            np.testing.assert_array_equal(mine, learnt)
    # A wider model (a teacher of --teacher-units) keeps its own recurrent layer but takes the embedding.
    wider = build_model(vocabulary, config, units=32)
    before = wider.get_layer("bidirectional_1").get_weights()
    initialize(wider, lambda: weights)
    np.testing.assert_array_equal(wider.get_layer("embedding").get_weights()[0], weights["embedding"][0])
    np.testing.assert_array_equal(wider.get_layer("bidirectional_1").get_weights()[0], before[0])
    # A rerun with the same backup folder resumes after the last completed epoch instead of starting over.
    again = pretrain(ids, cyclic_ids(20, 30, vocabulary), vocabulary, config, epochs=4, **common)
    assert len(read_history(tmp_path / "history.csv")) == 4  # no epoch was trained again
    for name in ENCODER:
        np.testing.assert_array_equal(again[name][0], weights[name][0])


def test_the_language_model_pretrains_one_layer_only():
    with pytest.raises(ValueError, match="num-layers 1 or --language-model-epochs 0"):
        Config.from_dict({"model": {"num_layers": 2}, "train": {"language_model_epochs": 1}})
    with pytest.raises(ValueError, match="language_model_epochs"):
        Config.from_dict({"train": {"language_model_epochs": -1}})


def test_a_run_pretrains_once_and_starts_every_model_from_the_encoder(tmp_path):
    from sentiment.prepare import prepare

    config = Config.from_dict({
        "data": {"max_tokens": 100, "max_length": 40, "validation_fraction": 0.25},
        "model": {"units": 4, "embedding_dim": 8, "dropout": 0.0},
        "train": {"epochs": 1, "batch_size": 8, "word_vectors": "word2vec", "language_model_epochs": 1},
    })
    run = RunFolder(tmp_path / "work")
    run.start("fingerprint", {})
    prepared = prepare(config, str(FIXTURE))
    first = initial_weights(run, prepared, log=lambda m: None, verbose=0)
    assert set(first) == set(ENCODER) and run.path("pretrained.npz").exists()
    # word2vec's vectors were the language model's starting point, and it moved them.
    assert not np.allclose(first["embedding"][0], np.load(run.path("word_vectors.npy")))
    again = initial_weights(run, prepared, log=lambda m: None, verbose=0)  # a rerun reads it back
    for name in ENCODER:
        for a, b in zip(first[name], again[name]):
            np.testing.assert_array_equal(a, b)
    assert summary(read_history(run.path("history.csv", "language_model")))["epochs"] == 1
    run.finish()
    assert not (tmp_path / "work").exists()  # pretrained.npz, the history and the backup are the run's own files


def test_a_pretrained_run_records_the_language_model_in_its_metrics_and_card(tmp_path):
    import json

    from sentiment.training import train

    config = Config.from_dict({
        "data": {"max_tokens": 100, "max_length": 40, "validation_fraction": 0.25},
        "model": {"units": 4, "embedding_dim": 8, "dropout": 0.0},
        "train": {"epochs": 1, "batch_size": 8, "language_model_epochs": 1},
    })
    metrics = train(config, str(FIXTURE), tmp_path / "model", work_dir=tmp_path / "work", evaluate_test=False,
                    verbose=0)
    record = metrics["language_model"]
    assert record["epochs"] == 1 and record["validation_perplexity"] > 1 and record["seconds"] > 0
    assert json.loads((tmp_path / "model" / "metrics.json").read_text())["language_model"] == record
    assert "language-model pretraining 1 epoch(s)" in (tmp_path / "model" / "README.md").read_text()
