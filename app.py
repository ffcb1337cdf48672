"""Streamlit app: classify a review, explain it word by word, compare models, classify files.

    streamlit run app.py

Thin over ``sentiment/``: models load once (``st.cache_resource``), nothing trains here.
"""

import io
import os
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from sentiment.model_folder import CURVES_FILE, ModelLoadError, describe, list_model_dirs, load_classifier
from sentiment.explain import LEGEND_HTML, explain, highlight_html, token_count
from sentiment.files import FileFormatError, parse_texts_bytes
from sentiment.lab import report_blocks
from sentiment.labels import label_name

MODELS_DIR = Path(os.environ.get("SENTIMENT_MODELS_DIR", Path(__file__).resolve().parent / "saved_models"))
LAB_DIR = Path(os.environ.get("SENTIMENT_LAB_DIR", Path(__file__).resolve().parent / "reports" / "lecture7"))
EXAMPLES = [
    "the movie was terribly exciting",
    "the movie was terribly boring",
    "not bad at all",
    "I expected to hate it, but the acting won me over and I loved every minute",
]
MAX_TEXT_CHARS = 100_000
MAX_UPLOAD_MB = 5
MAX_UPLOAD_TEXTS = 5_000


@st.cache_resource(show_spinner="Loading model…")
def _load(path: str):
    classifier = load_classifier(path)
    classifier.predict(["warm-up"])  # trace once, so the first click is fast
    return classifier


def get_model(path: Path):
    """(classifier, None) or (None, error message): a broken model never breaks the page."""
    try:
        return _load(str(path)), None
    except ModelLoadError as err:
        return None, str(err)


def model_card(path: Path, classifier) -> None:
    card = describe(classifier)
    st.sidebar.markdown(f"**{path.name}**: {'bi' if card['bidirectional'] else ''}{str(card['cell']).upper()}, "
                        f"{card['layers']} layer(s) of {card['units']} units")
    accuracy = f"{card['test_accuracy']:.2%}" if card["test_accuracy"] is not None else "not measured"
    st.sidebar.table(pd.DataFrame({"value": [str(card[k]) for k in card]}, index=list(card)).assign(
        value=lambda d: d["value"].where(d.index != "test_accuracy", accuracy)))
    curves = path / CURVES_FILE
    if curves.exists():
        st.sidebar.image(str(curves), caption="training curves")


def classify_tab(classifier) -> None:
    st.write("Try an example:")
    columns = st.columns(len(EXAMPLES))
    for column, example in zip(columns, EXAMPLES):
        if column.button(example, width="stretch"):
            st.session_state["text"] = example
            st.session_state["run"] = True
    with st.form("classify"):
        st.text_area("Review", key="text", height=140, max_chars=MAX_TEXT_CHARS,
                     placeholder="Type or paste a movie review…")
        submitted = st.form_submit_button("Classify", type="primary")
    if not (submitted or st.session_state.pop("run", False)):
        return
    text = st.session_state.get("text", "")
    if not text.strip():
        st.info("Type a review first, or click one of the examples above.")
        return
    started = time.perf_counter()
    explanation = explain(classifier, text)
    seconds = time.perf_counter() - started
    score = explanation.score
    left, right = st.columns([1, 2])
    left.metric("Prediction", label_name(score), f"P(positive) = {score:.3f}", delta_color="off", delta_arrow="off")
    right.write(f"Probability of **positive**: {score:.1%}")
    right.progress(float(score))
    right.caption(f"Prediction and explanation took {seconds * 1000:.0f} ms.")
    tokens, limit = token_count(classifier, text), classifier.max_length
    if limit and tokens > limit:
        st.warning(f"This review has {tokens} tokens; the model reads only the first {limit}, "
                   f"so the last {tokens - limit} do not affect the prediction.")
    st.subheader("Word by word")
    st.markdown(highlight_html(explanation), unsafe_allow_html=True)
    st.caption(LEGEND_HTML, unsafe_allow_html=True)
    with st.expander("Attributions as a table"):
        st.dataframe(pd.DataFrame(explanation.as_rows()), width="stretch")


def compare_tab(paths) -> None:
    with st.form("compare"):
        text = st.text_area("Review to compare across models", value=EXAMPLES[0], max_chars=MAX_TEXT_CHARS)
        submitted = st.form_submit_button("Compare all models")
    if not submitted:
        return
    if not text.strip():
        st.info("Type a review to compare.")
        return
    rows = []
    for path in paths:
        classifier, error = get_model(path)
        if error:
            st.error(f"{path.name}: {error}")
            continue
        started = time.perf_counter()
        score = float(classifier.predict([text])[0])
        card = describe(classifier)
        rows.append({"model": path.name, "cell": card["cell"], "bidirectional": card["bidirectional"],
                     "layers": card["layers"], "P(positive)": score, "label": label_name(score),
                     "ms": round((time.perf_counter() - started) * 1000, 1)})
    if rows:
        table = pd.DataFrame(rows)
        st.dataframe(table, width="stretch", hide_index=True)
        st.bar_chart(table.set_index("model")["P(positive)"])


def batch_tab(classifier) -> None:
    st.write(f"Upload a CSV with a `text` or `review` column, or a text file with one review per line. "
             f"Limits: {MAX_UPLOAD_MB} MB and {MAX_UPLOAD_TEXTS:,} reviews per file.")
    upload = st.file_uploader("File", type=["csv", "txt", "tsv"])
    if upload is None:
        return
    data = upload.getvalue()
    if len(data) > MAX_UPLOAD_MB * 2**20:
        st.error(f"{upload.name} is {len(data) / 2**20:.1f} MB; the limit is {MAX_UPLOAD_MB} MB. Split the file.")
        return
    try:
        texts = parse_texts_bytes(data, upload.name)
    except FileFormatError as err:
        st.error(str(err))
        return
    if len(texts) > MAX_UPLOAD_TEXTS:
        st.error(f"{upload.name} has {len(texts):,} reviews; the limit is {MAX_UPLOAD_TEXTS:,}. Split the file.")
        return
    progress = st.progress(0.0, text="Classifying…")
    scores, step = [], 64
    for start in range(0, len(texts), step):
        scores.extend(classifier.predict(texts[start : start + step]).tolist())
        progress.progress(min(1.0, (start + step) / len(texts)), text=f"{min(start + step, len(texts))} of {len(texts)}")
    table = pd.DataFrame({"text": texts, "label": [label_name(s) for s in scores], "P(positive)": scores})
    st.dataframe(table, width="stretch")
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    st.download_button("Download predictions (CSV)", buffer.getvalue(), file_name="predictions.csv", mime="text/csv")


def lab_tab() -> None:
    try:
        blocks = report_blocks(LAB_DIR)
    except (OSError, UnicodeDecodeError):
        st.info(f"No lab report in {LAB_DIR} yet. Make it (under an hour on a laptop CPU; add --quick for a toy "
                "run in minutes): python -m training.experiments lecture7 --data PATH/aclImdb_v1.tar.gz --out reports/lecture7")
        return
    for kind, content in blocks:
        if kind == "image":
            st.image(content)
        else:
            st.markdown(content)


def main() -> None:
    st.set_page_config(page_title="IMDB sentiment", page_icon="🎬", layout="wide")
    st.title("IMDB sentiment with recurrent networks")
    paths = list_model_dirs(MODELS_DIR)
    if not paths:
        st.error(f"No model folder found under {MODELS_DIR}. Train one: python -m training.train --out saved_models/NAME")
        return
    name = st.sidebar.selectbox("Model", [p.name for p in paths])
    path = MODELS_DIR / name
    classifier, error = get_model(path)
    if error:
        st.sidebar.error(error)
    else:
        model_card(path, classifier)
    classify, compare, batch, lab = st.tabs(["Classify", "Compare models", "Batch", "Lab"])
    with compare:
        compare_tab(paths)
    with lab:
        lab_tab()
    if classifier is None:
        for tab in (classify, batch):
            tab.error(f"The model {name!r} could not be loaded; pick another one in the sidebar.")
        return
    with classify:
        classify_tab(classifier)
    with batch:
        batch_tab(classifier)


main()
