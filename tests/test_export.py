"""The TensorFlow Serving export matches the .keras model."""

import numpy as np
import tensorflow as tf

from conftest import FIXTURE
from sentiment.data import read_official_split
from sentiment.model_folder import load_classifier
from training import export


def test_savedmodel_matches_keras_model_on_100_texts(trained_model, tmp_path):
    out = tmp_path / "export" / "sentiment" / "1"
    assert export.main(["--model", str(trained_model), "--out", str(out)]) == 0
    reloaded = tf.saved_model.load(str(out))
    signature = reloaded.signatures["serving_default"]
    (spec,) = signature.structured_input_signature[1].values()
    assert spec.dtype == tf.string and spec.shape.as_list() == [None]

    reviews = read_official_split(FIXTURE, "train").texts + read_official_split(FIXTURE, "test").texts
    texts = (reviews * 3)[:98] + ["", "wonderful " * 100]
    assert len(texts) == 100
    (served,) = signature(tf.constant(texts)).values()
    expected = load_classifier(trained_model).predict(texts)
    np.testing.assert_allclose(served.numpy().reshape(-1), expected, atol=1e-5)


def test_export_of_a_missing_model_fails_clearly(tmp_path, capsys):
    assert export.main(["--model", str(tmp_path / "nope"), "--out", str(tmp_path / "x")]) == 2
    assert "model folder not found" in capsys.readouterr().err
