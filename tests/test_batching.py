"""Inference batching: the XLA-compiled path, and texts sorted by length and cut into graph calls by a cost model."""

import itertools

import numpy as np
import pytest

from sentiment.classifier import CALL_COST, STEP_COST, plan_batches
from sentiment.model_folder import load_classifier


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


def mixed_texts(count=60, seed=0):
    rng = np.random.default_rng(seed)
    words = ["great", "awful", "film", "plot", "the", "acting", "boring", "fun", "<br />", "!"]
    texts = [" ".join(rng.choice(words, int(n))) for n in rng.integers(1, 120, count)]
    return texts + ["", "   ", "great", "an awful film " * 200]  # empty, blank, one word, past max_length


def test_compiled_path_matches_the_graph_path_before_and_after_compilation(trained_model):
    compiled = load_classifier(trained_model, compiled=True)
    graph = load_classifier(trained_model)
    assert compiled.compiled and not graph.compiled
    texts = mixed_texts()
    expected = graph.predict(texts)
    np.testing.assert_allclose(compiled.predict(texts), expected, atol=1e-5)  # graph fallback while compiling
    compiled.wait_until_compiled()
    core = compiled._compiled
    assert core._ready and not core.broken and compiled.compiling == 0

    def no_graph(ids):
        raise AssertionError("a compiled shape ran as a graph")

    graph_call, core._graph = core._graph, no_graph  # every shape is compiled now: XLA must serve them all
    np.testing.assert_allclose(compiled.predict(texts), expected, atol=1e-5)
    core._graph = graph_call
    np.testing.assert_allclose(compiled.predict(texts[:1]), expected[:1], atol=1e-5)  # a new shape
    assert compiled.predict([]).shape == (0,)
    compiled.close()  # pending compilations dropped; calls go on as a graph
    assert not compiled.compiled
    compiled.wait_until_compiled()  # nothing to wait for once closed
    np.testing.assert_allclose(compiled.predict(texts), expected, atol=1e-5)


def test_compiled_shapes_are_few():
    from sentiment.compiled import CompiledCore

    assert [CompiledCore.width(n) for n in (1, 4, 5, 9, 17, 32, 33, 64, 65, 800)] == [4, 4, 8, 16, 32, 32, 64, 64, 96, 800]


def test_a_shape_that_does_not_compile_falls_back_to_the_graph_for_good(trained_model):
    classifier = load_classifier(trained_model, compiled=True)
    graph = load_classifier(trained_model)

    def fails(ids):
        raise RuntimeError("XLA cannot compile this")

    classifier._compiled._xla = fails
    texts = mixed_texts(20, seed=1)
    with pytest.warns(RuntimeWarning, match="XLA could not compile"):  # said once, not silently
        first = classifier.predict(texts)
        classifier.wait_until_compiled()
    assert not classifier.compiled
    np.testing.assert_allclose(first, graph.predict(texts), atol=1e-5)
    np.testing.assert_allclose(classifier.predict(texts), first, atol=1e-5)


def test_a_model_of_another_layout_runs_as_one_graph():
    import keras

    from sentiment.classifier import Classifier

    vectorizer = keras.layers.TextVectorization(max_tokens=20, output_sequence_length=8)
    vectorizer.adapt(["a great film", "an awful film"])
    text = keras.Input(shape=(), dtype="string")
    hidden = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(20, 4)(vectorizer(text)))
    model = keras.Model(text, keras.layers.Dense(1, activation="sigmoid")(hidden))
    classifier = Classifier(model, compiled=True)
    assert not classifier.compiled
    p = classifier.predict(["a great film", "an awful film", ""])
    assert p.shape == (3,) and np.all((p > 0) & (p < 1))


def test_submit_queues_on_the_classifier_thread_and_predict_there_does_not_wait_on_itself(trained_model):
    import threading

    classifier = load_classifier(trained_model)
    texts = mixed_texts(10)
    expected = classifier.predict(texts)
    future = classifier.submit(texts)
    np.testing.assert_allclose(future.result(timeout=600), expected, atol=1e-6)
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        classifier.submit(["fine", 3])  # bad arguments fail at once, not in the future

    def on_worker():  # a call made on the classifier's own thread runs there and then
        return threading.current_thread().name, classifier.predict(texts)

    name, scores = classifier._thread.submit(on_worker).result(timeout=600)
    assert name.startswith("classifier")
    np.testing.assert_allclose(scores, expected, atol=1e-6)
