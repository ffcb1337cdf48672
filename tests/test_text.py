import numpy as np
import tensorflow as tf

from sentiment.layers import MaskedGlobalMaxPooling1D, TokenWindow
from sentiment.text import adapt_vectorizer, standardize_review


def clean(text):
    return standardize_review(tf.constant([text])).numpy()[0].decode().split()


def test_html_breaks_and_tags_are_removed():
    assert clean("Great!<br /><br />Loved it.<i>Really</i>") == ["great", "!", "loved", "it", "really"]


def test_keeps_apostrophes_inside_words_and_accents():
    assert clean("Don't miss 'this' CAFÉ scene?") == ["don't", "miss", "this", "café", "scene", "?"]


def test_web_addresses_and_handles_are_dropped():
    assert clean("Great film http://t.co/x1 via @sam_k") == ["great", "film", "via"]
    assert clean("see www.imdb.com/title/tt01 now! https://bit.ly/3kQz9") == ["see", "now", "!"]
    # An address inside a word or an e-mail is not a handle; "#tags" keep their word.
    assert clean("mail me@home.org #fail") == ["mail", "me", "home", "org", "fail"]


def test_vectorizer_learns_frequent_words():
    vectorizer = adapt_vectorizer(["good good movie", "bad movie"], max_tokens=10)
    vocabulary = vectorizer.get_vocabulary()
    assert vocabulary[:2] == ["", "[UNK]"] and set(vocabulary[2:]) == {"good", "movie", "bad"}


def test_token_window_cuts_and_never_leaves_a_row_empty():
    window = TokenWindow(3)
    ids = tf.constant([[5, 6, 7, 8], [0, 0, 0, 0]], dtype=tf.int64)
    np.testing.assert_array_equal(window(ids).numpy(), [[5, 6, 7], [1, 0, 0]])
    assert window(tf.zeros((2, 0), dtype=tf.int64)).numpy().tolist() == [[1], [1]]


def test_masked_max_ignores_padding():
    values = tf.constant([[[1.0], [-5.0], [9.0]]])
    mask = tf.constant([[True, True, False]])
    assert MaskedGlobalMaxPooling1D()(values, mask=mask).numpy().tolist() == [[1.0]]
