"""The lab's tasks: the distance between the evidence and the read-out is a knob.

- :func:`long_range`: a sentiment-bearing IMDB sentence followed (or preceded) by exactly ``distance``
  neutral filler tokens; the label is the sentence's. The filler is drawn independently of the
  label, so everything a model can learn sits ``distance`` steps away from the last token.
- :func:`adding_problem`: Hochreiter & Schmidhuber's (1997) adding problem: a sequence of
  ``(value, marker)`` pairs, the target is the sum of the two marked values (one marked in the
  first half): predicting the mean gives a mean squared error of 1/6.

The sentences come from :func:`sentence_bank`: sentences of IMDB's training reviews (never the
test split) that the shipped model reads confidently in the direction of their review's label
(the project's own model labels them), and frequent words it reads as neutral for filler.
The bank keeps that model's vocabulary and word vectors, which the lab's models use frozen: the
recurrent cell's only job is then to carry a sentence's sentiment across the filler.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class SentenceBank(NamedTuple):
    vectorizer: object  # the shipped model's TextVectorization
    embeddings: np.ndarray  # [vocabulary, dim]: the shipped model's word vectors
    polar: dict  # {"train"|"validation": ([ids of negative sentences], [ids of positive sentences])}
    filler: np.ndarray  # token ids of the neutral filler words
    sizes: dict


def sentence_bank(data: str, model_dir: str, *, reviews: int, confidence: float, max_words: int, seed: int,
                  filler_words: int = 1, log=print) -> SentenceBank:
    """Polar sentences of ``reviews`` IMDB training reviews and neutral filler words, as the shipped model's ids.

    A sentence (4 to ``max_words`` words) is polar when the model gives it at least ``confidence``
    in the direction of its review's label. Sentences of the first 80% of the (seeded, shuffled)
    reviews of each label are for training, the rest for validation. The filler is the ``filler_words`` most
    frequent words that the model, reading each alone, puts within 0.05 of 0.5 (with one word, the
    filler is that word repeated: the blank of the classic memory tasks). Neutral sentences as
    filler were tried first: the network must then learn which tokens are the sentence, and no
    cell learnt the task even 20 tokens away (``training/attempts.md``).
    """
    from ..data import read_official_split
    from ..model_folder import load_classifier

    classifier = load_classifier(model_dir)
    split = read_official_split(data, "train")
    order = np.random.default_rng(seed).permutation(len(split))[:reviews]
    rows = []  # (part, review label, sentence)
    seen = {0: 0, 1: 0}
    per_label = {label: int(np.sum(split.labels[order] == label)) for label in seen}
    for index in order:
        label = int(split.labels[int(index)])
        part = "train" if seen[label] < 0.8 * per_label[label] else "validation"  # 80/20 within each label
        seen[label] += 1
        text = re.sub(r"<br\s*/?>", " ", split.texts[int(index)])
        rows += [(part, label, s) for s in _SENTENCE_END.split(text)
                 if 4 <= len(s.split()) <= max_words]
    if not rows:
        raise ValueError(f"no sentence of 4-{max_words} words in {len(order)} reviews of {data}")
    scores = classifier.predict([s for _, _, s in rows])
    ids = classifier.model.get_layer("vectorizer")(np.asarray([s for _, _, s in rows])).numpy()
    polar = {part: ([], []) for part in ("train", "validation")}
    for (part, label, _), score, row in zip(rows, scores, ids):
        if (score if label == 1 else 1.0 - score) >= confidence:
            polar[part][label].append(row[row > 0])
    vocabulary = classifier.model.get_layer("vectorizer").get_vocabulary()[:300]
    alone = classifier.predict(vocabulary[2:])
    filler = (np.flatnonzero(np.abs(alone - 0.5) <= 0.05) + 2)[:filler_words]
    embeddings = next(layer for layer in classifier.model.layers if hasattr(layer, "get_layer")) \
        .get_layer("embedding").embeddings.numpy()
    sizes = {"reviews": int(len(order)), "sentences": len(rows),
             **{f"{part}_{name}": len(polar[part][label]) for part in polar for label, name in ((0, "negative"), (1, "positive"))},
             "filler": [str(vocabulary[i]) for i in filler]}
    log(f"sentence bank: {sizes}")
    for part in polar:
        if min(len(polar[part][0]), len(polar[part][1])) < 1:
            raise ValueError(f"too few {part} sentences for the long-range task ({sizes}): use more reviews, "
                             "or a lower --confidence")
    return SentenceBank(classifier.model.get_layer("vectorizer"), embeddings, polar, filler, sizes)


def long_range(bank: SentenceBank, distance: int, n: int, seed: int, *, part: str = "train",
               where: str = "start", sentence_length: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """``(ids [n, sentence_length + distance], labels [n])``: a polar sentence and ``distance`` filler tokens.

    ``where="start"``: padding, the sentence, then the filler: the sentence ends exactly
    ``distance`` steps before the last token in every row. ``where="end"``: padding, the filler,
    then the sentence: it ends at the last token. Padding (id 0) is masked by the models.
    """
    rng = np.random.default_rng(seed)
    negative, positive = bank.polar[part]
    rows = np.zeros((n, sentence_length + distance), dtype="int64")
    labels = rng.integers(0, 2, size=n)
    for i, label in enumerate(labels):
        pool = positive if label else negative
        sentence = pool[rng.integers(len(pool))][-sentence_length:]
        fill = rng.choice(bank.filler, distance)
        block = np.concatenate([sentence, fill]) if where == "start" else np.concatenate([fill, sentence])
        rows[i, rows.shape[1] - len(block):] = block
    return rows, labels.astype("float32")


def adding_problem(length: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(inputs [n, length, 2], targets [n])``: values in [0, 1) and two markers; the target is their sum.

    One marker falls in the first half and one in the second, so the first marked value is at
    least ``length / 2`` steps from the end (the variant of Le et al., 2015).
    """
    rng = np.random.default_rng(seed)
    values = rng.random((n, length)).astype("float32")
    markers = np.zeros((n, length), dtype="float32")
    half = length // 2
    first, second = rng.integers(0, half, size=n), rng.integers(half, length, size=n)
    markers[np.arange(n), first] = 1.0
    markers[np.arange(n), second] = 1.0
    targets = values[np.arange(n), first] + values[np.arange(n), second]
    return np.stack([values, markers], axis=-1), targets.astype("float32")
