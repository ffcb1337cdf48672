"""The XLA serving path of :class:`~sentiment.classifier.Classifier` (``compiled=True``), for long-lived processes.

Texts are turned into token ids by the model's vectorizer (a graph), sorted by length and run in
groups of up to 16 through the rest of the model compiled by XLA (``jit_compile``), one
executable per (rows, width) shape, widths rounded up to 4, 8, 16 or a multiple of 32 tokens. A
shape is compiled on a background thread the first time it is seen (about a second); until it is
ready its calls run as a graph, so no call waits for a compilation. Fused by XLA, a recurrent step
has almost no fixed cost, so small groups of similar length waste little on padding (figures:
``python -m benchmarks.serving``). The server loads its model this way.
"""

from __future__ import annotations

import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np


class CompiledCore:
    """Token ids by the model's vectorizer (a graph), the rest of the model by XLA, shape by shape."""

    GROUP = 16  # texts per call
    ROWS = (1, 2, 4, 8, 16)  # calls are padded to one of these row counts ...
    WIDTH = 32  # ... and to a multiple of this many tokens (short ones: 4, 8, 16), so few shapes are compiled
    CHUNK = 1024  # texts vectorized per call

    def __init__(self, to_ids, core):
        import tensorflow as tf

        spec = [tf.TensorSpec([None, None], tf.int64)]

        def call(ids):
            return core(ids, training=False)

        self._to_ids = tf.function(to_ids, input_signature=[tf.TensorSpec([None], tf.string)])
        self._graph = tf.function(call, input_signature=spec)  # the same function, two ways: plain graph ...
        self._xla = tf.function(call, input_signature=spec, jit_compile=True)  # ... and compiled by XLA
        self._ready: set[tuple[int, int]] = set()
        self._pending: set[tuple[int, int]] = set()
        self._lock = threading.Lock()  # the shape sets are read from other threads (``compiling``)
        self._compiler = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xla-compile")
        self.broken = False

    @classmethod
    def of(cls, model) -> CompiledCore | None:
        """The compiled path for a model made by :func:`sentiment.model.end_to_end`, else None."""
        import keras

        try:
            window = model.get_layer("token_window")
            return cls(keras.Model(model.inputs[0], window.output), keras.Model(window.output, model.outputs[0]))
        except (ValueError, TypeError, AttributeError):  # not our layout: the whole-model graph path
            return None

    def predict(self, texts: list[bytes]) -> np.ndarray:
        import tensorflow as tf

        scores = np.empty(len(texts), dtype=np.float32)
        for first in range(0, len(texts), self.CHUNK):
            ids = self._to_ids(tf.constant(texts[first : first + self.CHUNK], dtype=tf.string)).numpy()
            lengths = np.count_nonzero(ids, axis=1)
            order = np.argsort(lengths, kind="stable")
            for start in range(0, len(order), self.GROUP):
                chosen = order[start : start + self.GROUP]
                rows = next(r for r in self.ROWS if r >= len(chosen))
                width = self.width(int(lengths[chosen].max()))
                batch = np.zeros((rows, width), dtype=np.int64)
                batch[:, 0] = 1  # padding rows: one OOV token, as TokenWindow gives an empty text
                batch[: len(chosen), : min(width, ids.shape[1])] = ids[chosen, :width]
                scores[first + chosen] = self._run(batch)[: len(chosen)]
        return scores

    @classmethod
    def width(cls, length: int) -> int:
        """Tokens a call over texts of up to ``length`` tokens is padded to: 4, 8, 16, then multiples of 32."""
        if length <= cls.WIDTH:
            return next(w for w in (4, 8, 16, cls.WIDTH) if w >= length)
        return -(-length // cls.WIDTH) * cls.WIDTH

    def _run(self, batch: np.ndarray) -> np.ndarray:
        shape = batch.shape
        if shape in self._ready and not self.broken:
            return self._xla(batch).numpy().reshape(-1)
        if shape not in self._pending and not self.broken:
            with self._lock:
                self._pending.add(shape)
            try:
                self._compiler.submit(self._compile, shape)
            except RuntimeError:  # closed meanwhile
                pass
        return self._graph(batch).numpy().reshape(-1)

    def _compile(self, shape: tuple[int, int]) -> None:
        ids = np.zeros(shape, dtype=np.int64)
        ids[:, 0] = 1
        try:
            self._xla(ids)
        except Exception as err:  # noqa: BLE001 - an op XLA cannot compile: keep the graph path for good
            if not self.broken:
                warnings.warn(f"XLA could not compile the model for shape {shape} ({type(err).__name__}: "
                              f"{str(err)[:200]}); every call runs as a graph from now on", RuntimeWarning, stacklevel=1)
            self.broken = True
            return
        with self._lock:
            self._ready.add(shape)

    @property
    def compiling(self) -> int:
        with self._lock:
            return len(self._pending - self._ready)

    def wait(self) -> None:
        try:
            self._compiler.submit(lambda: None).result()
        except RuntimeError:  # closed: nothing left to wait for
            pass

    def close(self) -> None:
        self.broken = True  # later calls run as a graph
        self._compiler.shutdown(wait=False, cancel_futures=True)
