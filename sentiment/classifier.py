"""Classify raw texts with a loaded model, fast for a single sentence.

Load a model folder with :func:`sentiment.model_folder.load_classifier`.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .labels import label_name


class Classifier:
    """A loaded sentiment model: ``predict(texts)`` gives the probability that each text is positive.

    By default every call runs the whole model as one ``tf.function`` graph (traced once for a
    ``[None]`` string batch, so a single sentence costs about a millisecond, not ``model.predict``'s
    set-up), over texts sorted by length and cut into calls by :func:`plan_batches`.

    ``compiled=True`` is for long-lived processes (the server uses it): the model runs through XLA,
    shape by shape, compiled in the background (:mod:`sentiment.compiled`); a model without a
    ``token_window`` layer always runs as a graph. Call ``close()`` when done, or the process waits
    at exit for the compilations still queued.

    Every call runs on the classifier's own long-lived worker thread (:meth:`submit` queues one).
    """

    def __init__(self, model, config: dict | None = None, metrics: dict | None = None, path: Path | None = None,
                 compiled: bool = False):
        import tensorflow as tf

        self.model = model
        self.config = config or {}
        self.metrics = metrics or {}
        self.path = path
        self._call = tf.function(
            lambda texts: model(texts, training=False),
            input_signature=[tf.TensorSpec([None], tf.string)],
            reduce_retracing=True,
        )
        # Every model call runs on this one long-lived thread. TensorFlow's CPU kernels keep
        # per-thread caches, so callers that come from a new thread each time (Streamlit runs every
        # page rerun on a new thread) would otherwise pay ~200 ms of set-up per call; it also
        # serializes calls, so one Classifier is safe to share between threads.
        self._on_worker = threading.local()  # .yes is set on the worker thread only
        mark = self._on_worker  # not self: the thread must not keep the classifier alive
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="classifier",
                                          initializer=lambda: setattr(mark, "yes", True))
        self._compiled = None
        if compiled:
            from .compiled import CompiledCore

            self._compiled = CompiledCore.of(model)

    @property
    def compiled(self) -> bool:
        """Whether calls go through the XLA-compiled path (see the class docstring)."""
        return self._compiled is not None and not self._compiled.broken

    @property
    def compiling(self) -> int:
        """Shapes seen but not compiled yet (their calls run as a graph meanwhile)."""
        return self._compiled.compiling if self.compiled else 0

    def wait_until_compiled(self) -> None:
        """Block until every shape seen so far is compiled (benchmarks time the steady state)."""
        if self._compiled is not None:
            self._compiled.wait()

    def close(self) -> None:
        """Drop the compilations not started yet, so that the process exits without waiting for them."""
        if self._compiled is not None:
            self._compiled.close()

    @property
    def max_length(self) -> int | None:
        return self.config.get("data", {}).get("max_length")

    def predict(self, texts, batch_size: int | None = None) -> np.ndarray:
        """Positive-class probabilities, shape ``[len(texts)]``. A single string counts as one text.

        ``batch_size`` fixes the size of each model call (whole-model graph calls over the texts sorted
        by length, instead of the planned or compiled calls).
        """
        return self.submit(texts, batch_size).result()

    def submit(self, texts, batch_size: int | None = None) -> Future:
        """Queue :meth:`predict` on the classifier's thread; the future's result is its array.

        For callers that must not block (the server awaits ``asyncio.wrap_future`` of it). Bad
        arguments raise here, at once. Called on the worker thread itself, it runs there and then.
        """
        if isinstance(texts, (str, bytes)):
            texts = [texts]
        texts = [_utf8(text, index) for index, text in enumerate(texts)]
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size={batch_size} is invalid: expected an integer >= 1")
        if getattr(self._on_worker, "yes", False):  # already on the worker thread: queueing would deadlock
            done = Future()
            try:
                done.set_result(self._predict_on_thread(texts, batch_size))
            except Exception as err:  # noqa: BLE001 - handed to the caller through the future, as the queue does
                done.set_exception(err)
            return done
        return self._thread.submit(self._predict_on_thread, texts, batch_size)

    def _predict_on_thread(self, texts: list[bytes], batch_size: int | None) -> np.ndarray:
        if batch_size is None and self.compiled:
            return self._compiled.predict(texts)
        return self._predict_planned(texts, batch_size)

    def _predict_planned(self, texts: list[bytes], batch_size: int | None) -> np.ndarray:
        import tensorflow as tf

        scores = np.empty(len(texts), dtype=np.float32)
        # Words approximate tokens (the model's standardizer splits words from punctuation).
        lengths = np.asarray([max(1, len(_WORD.findall(t))) for t in texts], dtype=np.int64)
        if self.max_length:
            lengths = np.minimum(lengths, self.max_length)
        order = np.argsort(lengths, kind="stable")
        if batch_size is None:
            sizes = plan_batches(lengths[order])
        else:
            sizes = [min(batch_size, len(texts) - start) for start in range(0, len(texts), batch_size)]
        start = 0
        for size in sizes:
            index = order[start : start + size]
            batch = tf.constant([texts[i] for i in index], dtype=tf.string)
            scores[index] = self._call(batch).numpy().reshape(-1)
            start += size
        return scores

    def classify(self, texts, batch_size: int | None = None) -> list[dict]:
        """``[{"text", "label", "score"}]`` with ``label`` ``positive``/``negative`` and ``score`` = P(positive)."""
        if isinstance(texts, (str, bytes)):
            texts = [texts]
        texts = list(texts)
        scores = self.predict(texts, batch_size=batch_size)
        shown = [_utf8(t, i).decode("utf-8", errors="replace") for i, t in enumerate(texts)]  # what the model read
        return [{"text": t, "label": label_name(float(s)), "score": float(s)} for t, s in zip(shown, scores)]


_WORD = re.compile(rb"\w+|[^\w\s]")

# Cost of one model call over ``n`` texts padded to ``L`` tokens, in units of one text-step:
# CALL_COST + L * (STEP_COST + n). Fitted (least squares, 20 batch shapes) on the shipped bidirectional 64-unit LSTM
# on a 2-core CPU (about 4 us per text-step, 57 us per step, 0.6 ms per call): a step has a fixed
# cost worth about 13 texts, so tiny calls waste steps and big calls waste padding.
CALL_COST, STEP_COST = 150.0, 13.5


def plan_batches(sorted_lengths, max_batch: int = 256) -> list[int]:
    """Sizes of consecutive model calls over texts sorted by length, minimizing the cost above.

    Exact dynamic programming over where to cut (each call is padded to its longest text). For 64
    typical IMDB reviews it makes three or four calls; for one sentence, one.
    """
    lengths = np.asarray(sorted_lengths, dtype=np.float64)
    n = len(lengths)
    best = np.zeros(n + 1)  # best[j]: cheapest plan for the first j texts
    cut = np.zeros(n + 1, dtype=np.int64)
    for j in range(1, n + 1):
        starts = np.arange(max(0, j - max_batch), j)  # the last call covers texts starts..j-1
        costs = best[starts] + CALL_COST + lengths[j - 1] * (STEP_COST + (j - starts))
        k = int(np.argmin(costs))
        best[j], cut[j] = costs[k], starts[k]
    sizes = []
    j = n
    while j > 0:
        sizes.append(j - int(cut[j]))
        j = int(cut[j])
    return sizes[::-1]


def _utf8(text, index: int) -> bytes:
    """UTF-8 bytes for the model; lone surrogates (undecodable command-line bytes) become U+FFFD."""
    if isinstance(text, bytes):
        return text
    if not isinstance(text, str):
        raise TypeError(f"texts[{index}] is {type(text).__name__}, expected str")
    return text.encode("utf-8", errors="replace")
