"""Word-by-word explanations by occlusion: how much the probability moves when a word is removed."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

_WORD = re.compile(r"\S+")


@dataclass
class Explanation:
    """``score`` of the whole text and, per word, ``score - score without that word``.

    A positive attribution means the word pushed the prediction towards ``positive``.
    """

    text: str
    score: float
    words: list[str]
    attributions: list[float]
    spans: list[tuple[int, int]]

    def as_rows(self) -> list[dict]:
        return [{"word": w, "attribution": a} for w, a in zip(self.words, self.attributions)]


def explain(classifier, text: str, max_words: int = 400) -> Explanation:
    """Occlusion over whitespace-separated words: one batched model call of ``len(words) + 1`` texts.

    Only the first ``max_words`` words are explained (each costs one more text in the batch).
    """
    matches = list(_WORD.finditer(text))[:max_words]
    variants = [text] + [text[: m.start()] + text[m.end() :] for m in matches]
    scores = classifier.predict(variants)
    return Explanation(
        text=text,
        score=float(scores[0]),
        words=[m.group() for m in matches],
        attributions=[float(scores[0] - s) for s in scores[1:]],
        spans=[m.span() for m in matches],
    )


def token_count(classifier, text: str) -> int:
    """How many tokens the model's own vectorizer makes of ``text`` (before the cut to ``max_length``)."""
    import tensorflow as tf

    vectorizer = classifier.model.get_layer("vectorizer")
    return int(np.count_nonzero(vectorizer(tf.constant([text])).numpy()))


def highlight_html(explanation: Explanation, scale: float | None = None) -> str:
    """The text as HTML, each explained word on a green (towards positive) or red (towards negative) background."""
    import html

    scale = scale or max([abs(a) for a in explanation.attributions] + [1e-6])
    parts, cursor = [], 0
    for (start, end), value in zip(explanation.spans, explanation.attributions):
        parts.append(html.escape(explanation.text[cursor:start]))
        alpha = min(abs(value) / scale, 1.0) * 0.85
        color = f"rgba(22,163,74,{alpha:.2f})" if value >= 0 else f"rgba(220,38,38,{alpha:.2f})"
        parts.append(
            f'<span title="{value:+.3f}" style="background:{color};padding:1px 3px;border-radius:3px">'
            f"{html.escape(explanation.text[start:end])}</span>"
        )
        cursor = end
    parts.append(html.escape(explanation.text[cursor:]))
    return '<div style="line-height:2;font-size:1.1rem">' + "".join(parts) + "</div>"


LEGEND_HTML = (
    '<span style="background:rgba(22,163,74,0.7);padding:1px 6px;border-radius:3px">pushes towards positive</span> '
    '<span style="background:rgba(220,38,38,0.7);padding:1px 6px;border-radius:3px">pushes towards negative</span> '
    "&nbsp;Colour strength: how much the probability of <i>positive</i> changes when the word is removed "
    "(hover a word for the number)."
)
