"""Sentence-level examples from IMDB's own reviews: negated and affirmed twins, and plain anchors.

A review's label says little about what "not" does to a sentence: the reviews that say "not bad"
are mostly negative. English grammar says more: negating the auxiliary or copula of a simple
sentence ("the acting was superb" -> "the acting was not superb") reverses what it asserts. So
the recipe makes pairs of a sentence of the training and unlabelled reviews and its twin, and
labels the pair's plain member (no negation, contrast or question) with the distillation teacher's
probability and the other with one minus it:

- ``TrainConfig.negation_counterfactuals``: a plain sentence and its negated twin (:func:`negate`);
- ``TrainConfig.affirmation_counterfactuals``: a sentence with one negation and its affirmed twin
  (:func:`affirm`), so that negations as reviewers write them are learnt too;
- ``TrainConfig.sentence_anchors``: plain sentences alone (:func:`anchor_sentences`), with the
  teacher's probability, so that the twins are not the only short texts the student sees;
- ``TrainConfig.contrast_counterfactuals``: two of those labelled sentences of opposite sides joined
  by a contrast frame, once each way round (:func:`contrast_examples`): "Although x, y." takes y's
  label, so a conceded clause, negated or not, does not decide the sentence.

Only pairs whose plain member the teacher is confident about are used, so the other's label is the
reverse of a clear one. The rules know English function words only (auxiliaries, copulas,
negators, contrast conjunctions): no sentiment word list.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from .config import SENTENCE_OPTIONS

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
_UNCONTRACTED = {**{v: k for k, v in _CONTRACTED.items()}, "can't": "can", "cannot": "can"}
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


# affirm() takes one-clause sentences only: a second clause may carry the sentiment outside the negation's
# scope ("I wasn't expecting much and I was blown away"). It leaves emphatic and idiomatic negations alone,
# where removing "not" does not give the opposite ("never seen such a bad film", "can't recommend it
# enough", "not only funny"), and polarity items that need the negation ("any", "at all", "either").
_CLAUSE_MARKS = re.compile(r"[,;:()\"]|\s-|-\s|--|\.\.")
_CLAUSE_WORDS = {"and", "or", "so", "which", "who", "that", "when", "because", "how", "until", "since", "as",
                 "than", "where", "what", "why", "whether"}
_EMPHATIC = {"only", "just", "merely", "simply", "even", "enough", "such", "too", "more", "less", "better",
             "worse", "best", "worst", "ever", "either", "any", "anything", "anyone", "anybody", "anymore",
             "anywhere", "believe", "wait", "stress", "help", "imagine", "stop", "overstate", "overstated"}
_APOSTROPHE_VARIANTS = re.compile(r"[\u2018\u2019\u00b4`]|\b(?:is|was|are|were|do|does|did|can|could|would|should|"
                                  r"has|have|had|wo)nt\b", re.IGNORECASE)
_SUBJECTS = r"(?:it|that|this|he|she|they|we|you|i|there)\b"


def affirm(sentence: str) -> str | None:
    """The sentence with its one negation removed ("was not good" -> "was good", "isn't" -> "is"), or None
    unless it is a one-clause sentence of 3-25 words whose only negator comes directly after an auxiliary or
    copula (or is contracted into it), with a word after it, and holds no contrast, question, emphatic or
    idiomatic negation (see ``_EMPHATIC``). Do-support ("didn't like") is left alone: undoing it needs the
    verb's inflection."""
    tokens = _TOKEN.findall(sentence.lower())
    words = [t for t in tokens if t[0].isalnum()]
    if not 3 <= len(words) <= 25 or _CLAUSE_MARKS.search(sentence) or _APOSTROPHE_VARIANTS.search(sentence):
        return None
    if any(t in CONTRASTS or t in _CLAUSE_WORDS or t in _EMPHATIC or t.endswith("est") for t in tokens):
        return None
    if sum(t in NEGATORS or t.endswith("n't") for t in tokens) != 1 or "at all" in sentence.lower():
        return None
    contracted = re.search(r"\b(\w+n't|cannot)\b(?=\s+\w)", sentence, re.IGNORECASE)
    negated = re.search(r"\b(\w+)('s|'re|'m)?\s+(not|never)\b(?=\s+\w)", sentence, re.IGNORECASE)
    match = contracted or negated
    if match is None or re.match(r"\s+" + _SUBJECTS, sentence[match.end():], re.IGNORECASE):
        return None
    if match.start() == 0 and not (negated and negated.group(2)):  # "Isn't it great.", "Will not recommend."
        return None
    if contracted:
        full = _UNCONTRACTED.get(contracted.group(1).lower())
        if full is None:  # don't, doesn't, didn't, ain't
            return None
        found = contracted.group(1)
        full = full.upper() if found.isupper() else full[0].upper() + full[1:] if found[0].isupper() else full
        return sentence[: contracted.start()] + full + sentence[contracted.end():]
    word, clitic, negator = negated.group(1).lower(), negated.group(2), negated.group(3).lower()
    if negator == "never" and word in PERFECT:  # "I have never seen a better film": experiential, emphatic
        return None
    if (word in _CLITIC_HOSTS) if clitic else (word in AUXILIARIES or word in PERFECT):
        return sentence[: negated.end(2) if clitic else negated.end(1)] + sentence[negated.end(3):]
    return None


def affirmed_sentences(texts: list[str], count: int, seed: int) -> tuple[list[str], list[str]]:
    """Up to ``count`` seeded ``(negated sentence, affirmed twin)`` pairs (:func:`affirm`), one a review."""
    return _pairs(texts, count, seed, lambda sentence, rng: affirm(sentence))


def candidate_sentences(texts: list[str], count: int, seed: int) -> tuple[list[str], list[str]]:
    """Up to ``count`` seeded ``(sentence, negated twin)`` pairs (:func:`negate`), one a review."""
    return _pairs(texts, count, seed, negate)


def _pairs(texts, count, seed, make_twin) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    originals, twins = [], []
    for index in rng.permutation(len(texts)) if count > 0 else []:
        for sentence in split_sentences(texts[int(index)]):
            twin = make_twin(sentence, rng)
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
    for index in rng.permutation(len(texts)) if count > 0 else []:
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


# contrast_examples() joins one-clause sentences: a comma, an inner stop or a subordinate clause would blur
# which clause the frame concedes. Each frame concedes its first clause and asserts its second.
CONTRAST_TEMPLATES = ("{X}, but {y}.", "Although {x}, {y}.", "Even though {x}, {y}.", "While {x}, {y}.",
                      "{X}; however, {y}.", "{X}, yet {y}.")
# Connectives and discourse adverbs that tie a sentence to its neighbours or give the review's verdict
# ("Unfortunately this is not the case"): a frame around them reads wrong.
_OPENERS = {"and", "but", "so", "or", "also", "then", "well", "oh", "yes", "plus", "anyway", "still", "however",
            "unfortunately", "fortunately", "sadly", "thankfully", "luckily", "overall", "finally", "basically",
            "honestly", "furthermore", "moreover", "besides", "instead", "otherwise", "especially", "again", "just",
            "even", "now", "therefore", "thus", "hence", "nevertheless", "nonetheless", "anyhow", "meanwhile"}
_SUBORDINATORS = {"because", "although", "though", "when", "while", "if", "since", "unless", "whereas", "until",
                  "which", "who", "whose", "that", "than", "as", "before", "after"}
_I = {"i", "i'm", "i've", "i'd", "i'll"}


def is_simple(sentence: str, min_words: int = 3, max_words: int = 12) -> bool:
    """Whether the sentence is one short clause (``min_words``-``max_words`` words; no comma, semicolon, colon,
    quote, bracket, dash, inner stop, question, contrast or subordinator, and not opened by a connective such
    as "And"), so that a contrast frame around it has one clause on each side."""
    body = sentence.strip().rstrip(".!").strip()
    tokens = _TOKEN.findall(body.lower())
    words = [t for t in tokens if t[0].isalnum()]
    if not words or not min_words <= len(words) <= max_words or re.search(r"[,;:()\"?!.]|\s-|-\s|--", body):
        return False
    return words[0] not in _OPENERS and not any(t in _SUBORDINATORS or t in CONTRASTS for t in tokens)


def _clause(sentence: str, lowercase: bool) -> str:
    """The sentence without its final stop; its first word lowercased when ``lowercase`` (inside a frame), unless
    it is "I", all capitals or the first of two capitalized words (a name such as "Frank Capra"). The model
    lowercases what it reads, so this is for the people who read the examples."""
    body = sentence.strip().rstrip(".!").strip()
    words = body.split(" ")
    if not lowercase:
        return body[0].upper() + body[1:]
    keep = words[0].lower() in _I or words[0].isupper() or (len(words) > 1 and words[1][:1].isupper())
    return body if keep else words[0][0].lower() + body[1:]


def contrast(conceded: str, asserted: str, template: str) -> str:
    """``template`` of CONTRAST_TEMPLATES filled with the two sentences: "Although x, y."."""
    return template.format(X=_clause(conceded, lowercase=False), x=_clause(conceded, lowercase=True),
                           y=_clause(asserted, lowercase=True))


def _negated(text: str) -> bool:
    return any(t in NEGATORS or t.endswith("n't") for t in _TOKEN.findall(text.lower()))


def contrast_examples(texts: list[str], targets, count: int, seed: int,
                      confidence: float = 0.3) -> tuple[list[str], np.ndarray]:
    """Up to ``count`` seeded pairs of contrasts made of ``texts`` (each used once) and their targets.

    A simple (:func:`is_simple`), confidently positive text x and a confidently negative one y
    (``|t - 0.5| > confidence``) give "frame(y, x)" with x's target and "frame(x, y)" with y's, in one frame
    drawn for the pair: the same words, once each way round, each member labelled by the clause it asserts.
    Each text that holds a negation is paired first, with one of the other side that holds none, so that
    one member of those pairs concedes a negation and the other asserts it; the rest pair plain texts.
    """
    t = np.asarray(targets, dtype=np.float32).reshape(-1)
    rng = np.random.default_rng(seed)
    simple = [i for i in rng.permutation(len(texts)).tolist() if is_simple(texts[i]) and abs(t[i] - 0.5) > confidence]
    plain = {True: [i for i in simple if t[i] > 0.5 and not _negated(texts[i])],
             False: [i for i in simple if t[i] < 0.5 and not _negated(texts[i])]}
    pairs = []  # (positive, negative)
    for i in (i for i in simple if _negated(texts[i])):
        partners = plain[not t[i] > 0.5]
        if partners:
            partner = partners.pop()
            pairs.append((i, partner) if t[i] > 0.5 else (partner, i))
    pairs += list(zip(plain[True], plain[False]))
    made, labels = [], []
    for x, y in pairs[:count]:
        template = CONTRAST_TEMPLATES[int(rng.integers(len(CONTRAST_TEMPLATES)))]
        made += [contrast(texts[y], texts[x], template), contrast(texts[x], texts[y], template)]
        labels += [t[x], t[y]]
    return made, np.asarray(labels, dtype=np.float32)


@dataclasses.dataclass
class SentenceExamples:
    """The sentences a run adds to the student's training (``TrainConfig``'s three options), sampled from its
    reviews; the teacher labels :meth:`to_label` and :meth:`examples` turns its probabilities into targets."""

    negation: tuple[list[str], list[str]]  # (plain sentence, its negated twin)
    affirmation: tuple[list[str], list[str]]  # (affirmed twin, the negated sentence): the plain one first
    anchors: list[str]
    counts: dict[str, int]  # the options' N, for those that are on
    seed: int = 0  # contrast_examples draws its pairs and frames with it

    @classmethod
    def sample(cls, reviews: list[str], train, seed: int) -> "SentenceExamples":
        negated, affirmed = affirmed_sentences(reviews, 2 * train.affirmation_counterfactuals, seed=seed + 2)
        return cls(negation=candidate_sentences(reviews, 2 * train.negation_counterfactuals, seed=seed),
                   affirmation=(affirmed, negated),
                   anchors=anchor_sentences(reviews, train.sentence_anchors, seed=seed + 1),
                   counts={key: getattr(train, key) for key in SENTENCE_OPTIONS if getattr(train, key)}, seed=seed + 3)

    def to_label(self) -> list[str]:
        """The texts the teacher labels: each pair's plain member, then the anchors."""
        return [*self.negation[0], *self.affirmation[0], *self.anchors]

    def examples(self, probabilities) -> tuple[list[str], np.ndarray, dict[str, int]]:
        """The training texts and targets from the teacher's probabilities of :meth:`to_label`, and how many
        sentences or pairs each option that is on gave: anchors first, then negation, affirmation and contrast
        pairs; the contrasts are made of the texts before them, with their targets."""
        p = np.asarray(probabilities, dtype=np.float32).reshape(-1)
        ends = np.cumsum([len(self.negation[0]), len(self.affirmation[0])])
        negation_p, affirmation_p, anchor_p = np.split(p, ends)
        parts = [(list(self.anchors), anchor_p)]
        made = {"sentence_anchors": len(self.anchors)}
        for key, (plain, other), labels in [("negation_counterfactuals", self.negation, negation_p),
                                            ("affirmation_counterfactuals", self.affirmation, affirmation_p)]:
            texts, targets = counterfactual_examples(plain, other, labels, self.counts.get(key, 0))
            parts.append((texts, targets))
            made[key] = len(texts) // 2
        texts = [t for part, _ in parts for t in part]
        targets = np.concatenate([np.asarray(t, dtype=np.float32) for _, t in parts])
        contrasts, contrast_targets = contrast_examples(texts, targets, self.counts.get("contrast_counterfactuals", 0),
                                                        seed=self.seed)
        made["contrast_counterfactuals"] = len(contrasts) // 2
        texts, targets = texts + contrasts, np.concatenate([targets, contrast_targets])
        return texts, targets, {key: made[key] for key in self.counts}
