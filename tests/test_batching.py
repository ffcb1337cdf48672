"""Inference batching: texts sorted by length and cut into model calls by a cost model."""

import itertools

import numpy as np
import pytest

from sentiment.classifier import CALL_COST, STEP_COST, load_classifier, plan_batches


def cost(sorted_lengths, sizes):
    total, start = 0.0, 0
    for size in sizes:
        total += CALL_COST + sorted_lengths[start + size - 1] * (STEP_COST + size)
        start += size
    return total


def compositions(n):
    """Every way to cut n sorted texts into consecutive calls."""
    for cuts in itertools.product([False, True], repeat=n - 1):
        sizes, size = [], 1
        for cut in cuts:
            if cut:
                sizes.append(size)
                size = 0
            size += 1
        yield sizes + [size]


@pytest.mark.parametrize("seed", range(20))
def test_plan_is_the_cheapest_way_to_cut(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 11))
    lengths = np.sort(rng.choice([3, 10, 40, 200, 800], size=n) + rng.integers(0, 5, n))
    sizes = plan_batches(lengths)
    assert sum(sizes) == n and all(s >= 1 for s in sizes)
    assert cost(lengths, sizes) == pytest.approx(min(cost(lengths, c) for c in compositions(n)))


def test_plan_shapes():
    assert plan_batches([7]) == [1]
    assert plan_batches([]) == []
    assert plan_batches([100] * 64) == [64]  # equal lengths: one call, no padding to save
    # Many short texts and a few long ones: the long ones get their own call.
    assert plan_batches([5] * 60 + [800] * 4) == [60, 4]
    assert all(s <= 16 for s in plan_batches(list(range(1, 300)), max_batch=16))


def test_planned_and_fixed_batches_give_the_same_probabilities(trained_model):
    classifier = load_classifier(trained_model)
    rng = np.random.default_rng(0)
    words = ["great", "awful", "film", "plot", "the", "acting", "boring", "fun"]
    texts = [" ".join(rng.choice(words, int(n))) for n in rng.integers(1, 60, 100)]
    planned = classifier.predict(texts)
    for size in (1, 7, 32, 100):
        np.testing.assert_allclose(classifier.predict(texts, batch_size=size), planned, atol=1e-5)
    with pytest.raises(ValueError, match="batch_size"):
        classifier.predict(texts, batch_size=0)
