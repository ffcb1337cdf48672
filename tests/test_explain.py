import pytest

from sentiment.explain import explain, highlight_html, token_count
from sentiment.model_folder import load_classifier


@pytest.fixture(scope="module")
def classifier(trained_model):
    return load_classifier(trained_model)


def test_occlusion_is_the_drop_in_probability(classifier):
    text = "wonderful  plot <b>awful</b>"
    result = explain(classifier, text)
    assert result.words == ["wonderful", "plot", "<b>awful</b>"]
    assert result.score == pytest.approx(float(classifier.predict([text])[0]), abs=1e-6)
    without_first = float(classifier.predict(["  plot <b>awful</b>"])[0])
    assert result.attributions[0] == pytest.approx(result.score - without_first, abs=1e-6)
    assert result.attributions[0] > 0 > result.attributions[2]  # the fixture's positive and negative words


def test_highlight_escapes_html_and_keeps_every_character(classifier):
    text = "great <script>alert(1)</script> & dull"
    html = highlight_html(explain(classifier, text))
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp;" in html


def test_empty_text_explains_nothing(classifier):
    result = explain(classifier, "   ")
    assert result.words == [] and 0 <= result.score <= 1


def test_token_count_uses_the_models_vectorizer(classifier):
    assert token_count(classifier, "Great!<br /><br />Loved it.") == 4  # great ! loved it
