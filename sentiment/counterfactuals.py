"""Negation counterfactuals: IMDB's own sentences, negated, with the opposite label.

A review's label says little about what "not" does to a sentence: the reviews that say "not bad"
are mostly negative. English grammar says more: negating the auxiliary or copula of a simple
sentence ("the acting was superb" -> "the acting was not superb") reverses what it asserts. So
from the sentences of the training and unlabelled reviews that hold no negation and no contrast,
:func:`negate` makes the negated twin, and the recipe (``TrainConfig.negation_counterfactuals``)
trains on both: the sentence with the distillation teacher's probability of it, the twin with one
minus that probability. Only sentences the teacher is confident about are used, so the twin's
label is the reverse of a clear one.

The rule knows English function words only (auxiliaries, copulas, negators, contrast
conjunctions): no sentiment word list.
"""

from __future__ import annotations

import re

import numpy as np

# Auxiliaries and copulas after which "not" negates the clause ("was good" -> "was not good").
# ("has", "have", "had" only before "been": "has great music" is not an auxiliary; "do", "did" are left out alike.)
AUXILIARIES = ("is", "was", "are", "were", "am", "will", "would", "can", "could", "should", "might", "must")
PERFECT = ("has", "have", "had")
_CONTRACTED = {"is": "isn't", "was": "wasn't", "are": "aren't", "were": "weren't", "will": "won't",
               "would": "wouldn't", "can": "can't", "could": "couldn't", "should": "shouldn't", "has": "hasn't",
               "have": "haven't", "had": "hadn't", "must": "mustn't"}
# Pronouns whose clitic is a copula or auxiliary ("it's", "they're", "I'm"); a noun's "'s" may be a possessive.
_CLITIC_HOSTS = ("it", "that", "he", "she", "there", "here", "what", "this", "who", "you", "they", "we", "i")
# A sentence that already holds one of these is left alone: its negation or contrast decides its meaning.
NEGATORS = ("not", "never", "no", "nothing", "nobody", "none", "neither", "nor", "hardly", "barely", "scarcely",
            "without", "cannot", "nowhere")
CONTRASTS = ("but", "however", "although", "though", "yet", "despite", "except", "while", "whereas", "if", "?")
_TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def split_sentences(text: str) -> list[str]:
    """The sentences of a review (HTML line breaks removed), split after ``.``, ``!`` or ``?``."""
    return [s for s in _SENTENCE_END.split(re.sub(r"<br\s*/?>", " ", text).strip()) if s]


def is_plain(sentence: str, min_words: int = 3, max_words: int = 25) -> bool:
    """Whether the sentence is ``min_words``-``max_words`` words long and holds no negation, contrast or question:
    one whose words mean what they say, so that a teacher reading it word by word reads it right."""
    tokens = _TOKEN.findall(sentence.lower())
    words = [t for t in tokens if t[0].isalnum()]
    if not min_words <= len(words) <= max_words:
        return False
    return not any(t in NEGATORS or t in CONTRASTS or t.endswith("n't") for t in tokens)


def negate(sentence: str, rng: np.random.Generator) -> str | None:
    """The sentence with its first auxiliary or copula negated (``not``, a contraction or ``never``), or None
    when it has no auxiliary, already holds a negation or a contrast, or is not 3-25 words long."""
    if not is_plain(sentence):
        return None
    matches = list(re.finditer(r"\b(\w+)('s|'re|'m)?\b", sentence))
    for match, following in zip(matches, [*matches[1:], None]):
        word, clitic = match.group(1).lower(), match.group(2)
        if clitic and word in _CLITIC_HOSTS:  # it's good -> it's not good
            return sentence[: match.end()] + " not" + sentence[match.end():]
        if clitic:
            continue
        perfect = word in PERFECT and following is not None and following.group(1).lower() == "been"
        if word in AUXILIARIES or perfect:
            choice = rng.random()
            if choice < 0.35 and word in _CONTRACTED:
                replacement = _CONTRACTED[word]
                replacement = replacement[0].upper() + replacement[1:] if match.group(1)[0].isupper() else replacement
                return sentence[: match.start()] + replacement + sentence[match.end():]
            negator = "never" if choice > 0.85 and word in ("is", "was", "are", "were") else "not"
            return sentence[: match.end()] + f" {negator}" + sentence[match.end():]
    return None


def candidate_sentences(texts: list[str], count: int, seed: int) -> tuple[list[str], list[str]]:
    """Up to ``count`` seeded ``(sentence, negated twin)`` pairs from the sentences of ``texts``."""
    rng = np.random.default_rng(seed)
    originals, twins = [], []
    for index in rng.permutation(len(texts)):
        for sentence in split_sentences(texts[int(index)]):
            twin = negate(sentence, rng)
            if twin is not None:
                originals.append(sentence)
                twins.append(twin)
                break  # one sentence a review: many reviews rather than many sentences of few
        if len(originals) >= count:
            break
    return originals, twins


def anchor_sentences(texts: list[str], count: int, seed: int, per_review: int = 2) -> list[str]:
    """Up to ``count`` seeded plain sentences (:func:`is_plain`, 3-30 words), at most ``per_review`` of a review.

    The distillation teacher labels them, so that the student also sees short texts whose words decide
    them; with none, the negated twins would be nearly the only short texts it sees, and a sentiment word
    that comes in both labels of a pair would drift to 0.5 in short texts (run 25 of training/attempts.md).
    """
    rng = np.random.default_rng(seed)
    chosen: list[str] = []
    for index in rng.permutation(len(texts)):
        plain = [s for s in split_sentences(texts[int(index)]) if is_plain(s, max_words=30)]
        for i in sorted(rng.permutation(len(plain))[:per_review]):
            chosen.append(plain[int(i)])
        if len(chosen) >= count:
            break
    return chosen[:count]


def counterfactual_examples(originals: list[str], twins: list[str], probabilities, count: int,
                            confidence: float = 0.3) -> tuple[list[str], np.ndarray]:
    """The first ``count`` pairs whose original the teacher is confident about (``|p - 0.5| > confidence``):
    each original with ``p`` and its twin with ``1 - p``."""
    p = np.asarray(probabilities, dtype=np.float32).reshape(-1)
    chosen = np.flatnonzero(np.abs(p - 0.5) > confidence)[:count]
    texts = [originals[i] for i in chosen] + [twins[i] for i in chosen]
    return texts, np.concatenate([p[chosen], 1.0 - p[chosen]]).astype(np.float32)
