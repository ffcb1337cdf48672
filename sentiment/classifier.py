"""Load a saved model folder and classify raw texts, fast for a single sentence."""

from __future__ import annotations

import json
import re
import threading
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from . import artifact
from .labels import label_name


class ModelLoadError(RuntimeError):
    """A model folder could not be loaded; the message names the file and why."""


class Classifier:
    """A loaded sentiment model: ``predict(texts)`` gives the probability that each text is positive.

    By default every call runs the whole model as one ``tf.function`` graph (traced once for a
    ``[None]`` string batch, so a single sentence costs about a millisecond, not ``model.predict``'s
    set-up), over texts sorted by length and cut into calls by :func:`plan_batches`.

    ``compiled=True`` is for long-lived processes (the server uses it): texts are turned into
    token ids by the model's vectorizer, sorted by length and run in groups of up to 16 through the
    rest of the model compiled by XLA (``jit_compile``), one executable per (rows, width) shape,
    widths rounded up to 4, 8, 16 or a multiple of 32 tokens. A shape is compiled on a background
    thread the first time it is seen (about a second); until it is ready its calls run as a graph,
    so no call waits for a compilation. Fused by XLA, a recurrent step has almost no fixed cost, so
    small groups of similar length waste little on padding (figures: ``python -m
    benchmarks.serving``). A model without a ``token_window`` layer always runs as a graph. Call
    ``close()`` when done, or the process waits at exit for the compilations still queued.
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
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="classifier")
        self._compiled = _CompiledCore.of(model) if compiled else None

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
        if isinstance(texts, (str, bytes)):
            texts = [texts]
        texts = [_utf8(text, index) for index, text in enumerate(texts)]
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size={batch_size} is invalid: expected an integer >= 1")
        if threading.current_thread().name.startswith("classifier"):  # already on the worker thread
            return self._predict_on_thread(texts, batch_size)
        return self._thread.submit(self._predict_on_thread, texts, batch_size).result()

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


class _CompiledCore:
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
    def of(cls, model) -> _CompiledCore | None:
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


def load_classifier(path: str | Path, compiled: bool = False) -> Classifier:
    """Load a model folder written by ``python -m training.train`` (``safe_mode=True``, no pickles).

    ``compiled=True``: XLA-compiled calls for a long-lived process (see :class:`Classifier`).
    """
    import keras

    from . import layers, text  # noqa: F401 - registers the serializable layers and the standardizer

    path = Path(path)
    try:
        artifact.recover(path)  # put back a model set aside by a save that was killed
    except OSError:
        pass  # a read-only folder: load what is there
    hint = "expected a folder written by `python -m training.train` holding model.keras and config.json"
    if not path.exists():
        raise ModelLoadError(f"model folder not found: {path}; {hint}")
    if not path.is_dir():
        raise ModelLoadError(f"{path} is not a folder; {hint}")
    model_file = path / artifact.MODEL_FILE
    if not model_file.is_file():
        raise ModelLoadError(f"{model_file} is missing; {hint}")
    if not zipfile.is_zipfile(model_file):
        raise ModelLoadError(f"{model_file} is not a .keras file (not a zip archive): it may be truncated or corrupt; retrain or restore it")
    try:
        model = keras.models.load_model(model_file, compile=False, safe_mode=True)
    except Exception as err:  # Keras raises ValueError, OSError, zipfile errors, ...
        raise ModelLoadError(f"{model_file} could not be loaded: {type(err).__name__}: {str(err)[:500]}") from None
    inputs = model.inputs
    if len(inputs) != 1 or inputs[0].dtype != "string" or tuple(model.outputs[0].shape[1:]) != (1,):
        raise ModelLoadError(
            f"{model_file} is not a sentiment model: expected one string input and one probability "
            f"output, got inputs {[(i.dtype, i.shape) for i in inputs]} and output shape {model.outputs[0].shape}"
        )
    return Classifier(model, _read_json(path / artifact.CONFIG_FILE), _read_json(path / artifact.METRICS_FILE), path,
                      compiled=compiled)


def list_model_dirs(root: str | Path) -> list[Path]:
    """Model folders under ``root`` (those holding a ``model.keras``), ``default`` first, then by name."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / artifact.MODEL_FILE).exists()]
    return sorted(found, key=lambda p: (p.name != "default", p.name))


def describe(classifier: "Classifier") -> dict:
    """A model card: architecture, clipping, accuracy and size, from the folder's config and metrics."""
    model = classifier.config.get("model", {})
    clip = next((f"{k}={model[k]}" for k in ("clipnorm", "global_clipnorm", "clipvalue") if model.get(k)), "none")
    test = (classifier.metrics.get("test") or {}).get("accuracy")
    return {
        "cell": "+".join(c.strip() for c in model["ensemble"].split(",")) + " (averaged)" if model.get("ensemble") else model.get("cell"),
        "layers": model.get("num_layers"),
        "units": model.get("units"),
        "bidirectional": model.get("bidirectional"),
        "residual": model.get("residual"),
        "pooling": model.get("pooling"),
        "clipping": clip,
        "max_length": classifier.max_length,
        "test_accuracy": test,
        "parameters": classifier.metrics.get("parameters"),
        "trained_on": _trained_on(classifier),
    }


def _trained_on(classifier: "Classifier") -> str | None:
    """The training data in words: labelled reviews, plus unlabelled ones with a teacher's soft labels."""
    labelled = classifier.metrics.get("train_reviews")
    teacher = classifier.metrics.get("teacher")
    if not labelled:
        return None
    if not teacher:
        return f"{labelled:,} labelled reviews"
    return (f"{labelled:,} labelled + {teacher['unlabelled_reviews']:,} unlabelled reviews soft-labelled by a "
            f"{teacher['kind']} teacher (validation {teacher['validation_accuracy']['average']:.2%})")


def _read_json(file: Path) -> dict:
    if not file.is_file():
        return {}
    try:
        content = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelLoadError(f"{file} could not be read: {err}") from None
    if not isinstance(content, dict):
        raise ModelLoadError(f"{file} is not a JSON object; it should hold the model's config or metrics")
    return content
