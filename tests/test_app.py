"""The Streamlit app driven through AppTest: every control, good and bad input."""

import shutil

import pytest
from streamlit.testing.v1 import AppTest

import numpy as np

from conftest import ROOT
from sentiment.model_folder import load_classifier

TIMEOUT = 120  # TensorFlow's first call on 2 cores


@pytest.fixture
def models_dir(trained_model, tmp_path, monkeypatch):
    root = tmp_path / "saved_models"
    root.mkdir()
    shutil.copytree(trained_model, root / "default")
    shutil.copytree(trained_model, root / "other")
    broken = root / "broken"
    broken.mkdir()
    (broken / "model.keras").write_bytes(b"this is not a keras file")
    monkeypatch.setenv("SENTIMENT_MODELS_DIR", str(root))
    return root


def start():
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, app.exception
    return app


def texts_of(app):
    return " ".join(str(e.value) for e in [*app.markdown, *app.caption, *app.info, *app.warning, *app.error, *app.metric])


def test_submit_classifies_and_explains(models_dir):
    app = start()
    app.text_area(key="text").input("wonderful superb film")
    next(b for b in app.button if b.label == "Classify").click()
    app.run()
    assert not app.exception
    assert app.metric[0].value == "positive"
    page = texts_of(app)
    assert "Word by word" in " ".join(s.value for s in app.subheader)
    assert "wonderful" in page and "pushes towards positive" in page


def test_example_button_fills_and_classifies(models_dir):
    app = start()
    next(b for b in app.button if b.label == "the movie was terribly exciting").click()
    app.run()
    assert not app.exception
    assert app.text_area(key="text").value == "the movie was terribly exciting"
    expected = load_classifier(models_dir / "default").classify(["the movie was terribly exciting"])[0]["label"]
    assert app.metric[0].value == expected
    assert "terribly" in texts_of(app)


def test_empty_input_gets_a_hint(models_dir):
    app = start()
    app.text_area(key="text").input("   ")
    next(b for b in app.button if b.label == "Classify").click()
    app.run()
    assert not app.exception and not app.metric
    assert "Type a review first" in texts_of(app)


def test_long_review_says_the_tail_was_cut(models_dir):
    app = start()
    app.text_area(key="text").input("wonderful " * 60)  # the tiny model reads 40 tokens
    next(b for b in app.button if b.label == "Classify").click()
    app.run()
    assert "reads only the first 40" in texts_of(app)


def test_model_picker_lists_models_and_survives_a_broken_one(models_dir):
    app = start()
    picker = app.sidebar.selectbox[0]
    assert picker.options == ["default", "broken", "other"]
    picker.select("broken")
    app.run()
    assert not app.exception
    assert "not a .keras file" in texts_of(app)
    app.sidebar.selectbox[0].select("other")
    app.run()
    assert not app.exception and "could not be loaded" not in " ".join(e.value for e in app.error)


def test_compare_runs_every_model(models_dir):
    app = start()
    next(b for b in app.button if b.label == "Compare all models").click()
    app.run()
    assert not app.exception
    table = app.dataframe[0].value
    assert sorted(table["model"]) == ["default", "other"]
    assert "broken" in " ".join(e.value for e in app.error)


def test_models_folder_with_nothing_in_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SENTIMENT_MODELS_DIR", str(tmp_path))
    app = start()
    assert "No model folder found" in app.error[0].value


def test_batch_upload_csv_gives_table_and_download(models_dir):
    app = start()
    app.file_uploader[0].set_value(("reviews.csv", b'review,id\n"wonderful, superb film",1\nawful dull waste,2\n', "text/csv"))
    app.run()
    assert not app.exception
    table = app.dataframe[0].value
    assert list(table["text"]) == ["wonderful, superb film", "awful dull waste"]
    expected = load_classifier(models_dir / "default").predict(["wonderful, superb film", "awful dull waste"])
    np.testing.assert_allclose(table["P(positive)"], expected, atol=1e-6)
    assert list(table["label"]) == ["positive", "negative"]
    assert any(d.label == "Download predictions (CSV)" for d in app.get("download_button"))


def test_batch_upload_text_file_one_review_per_line(models_dir):
    app = start()
    app.file_uploader[0].set_value(("reviews.txt", b"great film\n\nawful film\nok\n", "text/plain"))
    app.run()
    assert not app.exception and len(app.dataframe[0].value) == 3


@pytest.mark.parametrize("name, data, message", [
    ("bad.csv", b"body,stars\nx,1\n", "need a text column"),
    ("bad.txt", b"fine\n\xff\xfe\n", "line 2: not valid UTF-8"),
    ("empty.txt", b"\n \n", "no texts found"),
])
def test_batch_upload_bad_files_name_the_problem(models_dir, name, data, message):
    app = start()
    app.file_uploader[0].set_value((name, data, "text/plain"))
    app.run()
    assert not app.exception
    assert message in " ".join(e.value for e in app.error)


def test_lab_tab_shows_the_report_or_says_how_to_make_it(models_dir, tmp_path, monkeypatch):
    lab = tmp_path / "lab"
    monkeypatch.setenv("SENTIMENT_LAB_DIR", str(lab))
    app = start()
    assert "No lab report" in " ".join(str(e.value) for e in app.info)
    images_without_report = len(app.get("image"))  # the sidebar's training curves

    lab.mkdir()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.plot([1, 2], [3, 4])
    plt.savefig(lab / "plot.png")
    (lab / "report.md").write_text("# Lecture 7 lab\n\n| claim | verdict |\n|---|---|\n| x | **confirmed** |\n\n![p](plot.png)\n\nafter\n")
    app = start()
    assert "Lecture 7 lab" in texts_of(app) and "confirmed" in texts_of(app) and "after" in texts_of(app)
    assert len(app.get("image")) == images_without_report + 1
