"""The typo corrector: which words it changes, and that it travels inside the saved and exported model."""

import json

import numpy as np
import pytest
import tensorflow as tf

from conftest import FIXTURE, tiny_overrides
from sentiment.model_folder import load_classifier
from sentiment.spelling import SpellingCorrector, known_words
from training import export, retrofit, train

VOCABULARY = ["", "[UNK]", "the", "movie", "was", "worst", "awesome", "terrible", "fantastic", "wasted",
              "awful", "time", "garbage", "geisha", "wrist"]


def read(texts, known=("tasted",), **kwargs):
    layer = SpellingCorrector(VOCABULARY, known, **kwargs)
    return [row.decode() for row in layer(tf.constant(texts, tf.string)).numpy()]


def test_each_kind_of_typo_becomes_the_vocabulary_word():
    assert read(["it was fantstic", "the movie was awesomme", "total garbadge", "the wrost time", "so terrbile"]) == [
        "it was fantastic",  # a letter left out
        "the movie was awesome",  # a letter added
        "total garbage",  # a letter changed
        "the worst time",  # two neighbours swapped ("wrist" is one typo away too, but rarer)
        "so terrible",
    ]


def test_known_short_foreign_and_far_words_are_left_alone():
    assert read(["it tasted great", "teh moive", "fantástico", "zzzzzz", "wrsit", "Great! http://x.co @me"]) == [
        "it tasted great",  # seen often enough in the reviews: a real word, not "wasted"
        "teh movie",  # three letters: too short to guess ("moive" is one swap from "movie")
        "fantástico",  # not ASCII
        "zzzzzz",
        "wrist",
        "great !",  # the standardizer still runs: addresses and handles are dropped
    ]
    assert read(["keisha was wonderful"], known=()) == ["geisha was wonderful"]  # why ``known`` exists


def test_empty_texts_and_batches():
    assert read(["", "   ", "a"]) == ["", "", "a"]
    assert read([]) == []


def test_known_words_are_the_frequent_words_outside_the_vocabulary():
    texts = ["tasted tasted tasted keisha", "Tasted movie keisha fantstic"]
    assert known_words(texts, VOCABULARY, rarer_than=2) == ["keisha", "tasted"]
    assert known_words(texts, VOCABULARY, rarer_than=4) == ["tasted"]


def test_script_puts_the_corrector_in_the_saved_and_exported_model(trained_model, tmp_path, capsys):
    out = tmp_path / "typo"
    assert retrofit.main(["--model", str(trained_model), "--data", str(FIXTURE), "--out", str(out),
                          "--typo-rarer-than", "2"]) == 0
    corrected, original = load_classifier(out), load_classifier(trained_model)
    assert corrected.config["data"]["typo_rarer_than"] == 2
    assert json.loads((out / "metrics.json").read_text())["retrofits"][-1]["typo_rarer_than"] == 2
    vocabulary = corrected.model.get_layer("vectorizer").get_vocabulary()
    word = next(w for w in vocabulary[2:] if len(w) >= 6 and w.isalpha() and w.isascii())
    typo = word[0] + word[2] + word[1] + word[3:]  # two neighbours swapped
    assert typo not in vocabulary
    np.testing.assert_allclose(corrected.predict([f"a {typo} film"]), original.predict([f"a {word} film"]), atol=1e-6)

    served = tmp_path / "export" / "1"
    assert export.main(["--model", str(out), "--out", str(served)]) == 0
    signature = tf.saved_model.load(str(served)).signatures["serving_default"]
    texts = [f"a {typo} film", "", "the movie " * 30]
    (scores,) = signature(tf.constant(texts)).values()
    np.testing.assert_allclose(scores.numpy().reshape(-1), corrected.predict(texts), atol=1e-5)

    assert retrofit.main(["--model", str(out), "--data", str(FIXTURE), "--out", str(tmp_path / "again"),
                          "--typo-rarer-than", "2"]) == 2
    assert "already reads text so (typo_rarer_than=2" in capsys.readouterr().err
    assert not (tmp_path / "again").exists()

    assert retrofit.main(["--model", str(out), "--data", str(FIXTURE), "--out", str(tmp_path / "plain"),
                          "--typo-rarer-than", "0"]) == 0
    assert "typo_corrector" not in [layer.name for layer in load_classifier(tmp_path / "plain").model.layers]
    np.testing.assert_allclose(load_classifier(tmp_path / "plain").predict(["a good film"]),
                               original.predict(["a good film"]), atol=1e-6)


@pytest.mark.parametrize("bad", [["--typo-rarer-than", "-1"], ["--typo-rarer-than", "three"], ["--identity-words", "yes"]])
def test_script_rejects_a_bad_value(bad, trained_model, tmp_path, capsys):
    with pytest.raises(SystemExit):
        retrofit.main(["--model", str(trained_model), "--data", str(FIXTURE), "--out", str(tmp_path / "x"), *bad])
    assert bad[0] in capsys.readouterr().err


def test_training_with_typo_rarer_than_saves_the_corrector(tmp_path):
    out = tmp_path / "model"
    assert train.main(["--data", str(FIXTURE), "--out", str(out), "--work-dir", str(tmp_path / "work"), "--quiet",
                       "--no-test", *tiny_overrides(epochs=1, typo_rarer_than=2)]) == 0
    classifier = load_classifier(out)
    assert classifier.config["data"]["typo_rarer_than"] == 2
    assert "typo_corrector" in [layer.name for layer in classifier.model.layers]
