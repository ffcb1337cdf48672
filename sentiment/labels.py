"""The label names, declared once. Every loader and every output agrees with them."""

LABELS = ("neg", "pos")
"""Index = class id: ``neg`` is 0, ``pos`` is 1 (as in tensorflow-datasets ``imdb_reviews``)."""

UNLABELLED = -1
"""Label id of the 50,000 unlabelled reviews (tensorflow-datasets uses -1 too)."""

LABEL_NAMES = {"neg": 0, "pos": 1, "negative": 0, "positive": 1, "0": 0, "1": 1}
"""Spellings accepted in users' labelled files (case-insensitive)."""


def label_name(score: float, threshold: float = 0.5) -> str:
    """Full label word for a positive-class probability: ``positive`` or ``negative``."""
    return "positive" if score >= threshold else "negative"


def parse_label(value: str) -> int:
    """Map a user-written label (``0``/``1``, ``neg``/``pos``, ``negative``/``positive``) to 0/1.

    Raises ``ValueError`` naming the accepted spellings.
    """
    key = str(value).strip().lower()
    if key not in LABEL_NAMES:
        raise ValueError(
            f"unknown label {value!r}: expected one of 0, 1, neg, pos, negative, positive"
        )
    return LABEL_NAMES[key]
