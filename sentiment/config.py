"""Frozen dataclass configs (data, model, training) that round-trip through JSON.

Each trained model folder holds a ``config.json`` written by :meth:`Config.to_json`, so a
model can be rebuilt from its artifact alone. Field ``metadata["help"]`` is the ``--help``
text of the command-line flags made from these fields (see :mod:`sentiment.cli`).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CELLS = ("lstm", "gru", "rnn")
POOLINGS = ("last", "max", "mean", "max_mean")
MERGE_MODES = ("concat", "sum", "mul", "ave")
CONNECTIONS = ("none", "residual", "dense", "highway")
"""How stacked recurrent layers connect (:func:`sentiment.model.build_model`)."""
BATCHINGS = ("bucket", "longest", "fixed")
WORD_VECTORS = ("none", "word2vec")
TEACHERS = ("none", "rnn+nbsvm")
OPTIMIZERS = ("adam", "lazy_adam")
CLIPPING = ("clipnorm", "global_clipnorm", "clipvalue")
"""Keras' three gradient-clipping modes (optimizer arguments); a config sets at most one."""
TRAINING_KEYS = ("optimizer", "learning_rate", "weight_decay", *CLIPPING)
"""Keys that ``config.json`` files written before version 2 kept in the ``model`` section."""
RETIRED = {
    # key: (the value that meant "off", what to do instead). Measured and not adopted: training/attempts.md.
    "ensemble": ("", "train the models separately; averaging several models was retired"),
    "lr_schedule": ("constant", "drop it: the learning rate is constant (the cosine schedule was retired)"),
    "student_init": ("fresh", "drop it: the student of --teacher starts fresh (starting from the teacher was retired)"),
}


def _f(default, help):  # noqa: A002 - "help" mirrors argparse
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class DataConfig:
    """How reviews become token ids."""

    max_tokens: int = _f(20000, "vocabulary size, padding (0) and out-of-vocabulary (1) ids included")
    max_length: int = _f(400, "tokens kept from the start of each review; the tail of a longer review is cut")
    validation_fraction: float = _f(0.1, "fraction of the train split held out for validation (never the test split)")
    seed: int = _f(1337, "seed of the validation split and of subsampling")
    typo_rarer_than: int = _f(0, "read an out-of-vocabulary word seen fewer than this many times in the training and "
                              "unlabelled reviews as the vocabulary word one typo away (sentiment.spelling); 0: off")
    identity_words: bool = _f(False, "read nationality, religion and orientation words (sentiment/identity_words.json) "
                              "as the unknown word in the saved model, so that none of them carries sentiment; the "
                              "network trains on the reviews as they are (sentiment.identity_words)")

    def __post_init__(self):
        _check(self.max_tokens >= 3, "max_tokens", self.max_tokens, "an integer >= 3")
        _check(self.typo_rarer_than >= 0, "typo_rarer_than", self.typo_rarer_than, "an integer >= 0 (0: no correction)")
        _check(self.max_length >= 1, "max_length", self.max_length, "an integer >= 1")
        _check(0.0 < self.validation_fraction < 1.0, "validation_fraction",
               self.validation_fraction, "a fraction strictly between 0 and 1")


@dataclass(frozen=True)
class ModelConfig:
    """The architecture: arguments of :func:`sentiment.model.build_model` (flat, Keras words), nothing of training."""

    cell: str = _f("gru", f"recurrent cell: one of {', '.join(CELLS)} (rnn = plain SimpleRNN)")
    num_layers: int = _f(1, "number of stacked recurrent layers")
    units: int = _f(64, "units per recurrent layer (per direction when bidirectional)")
    bidirectional: bool = _f(True, "wrap each recurrent layer in Bidirectional")
    merge_mode: str = _f("concat", f"how the two directions combine: {', '.join(MERGE_MODES)}")
    connection: str = _f("none", "between stacked recurrent layers: none; residual (x + layer(x)); dense (each layer "
                         "reads the concatenation of the embedding and every earlier layer's output, as in DenseNet); "
                         "highway (g * layer(x) + (1 - g) * x with a learnt gate g = sigmoid(W x + b)); x is projected "
                         "where widths differ")
    embedding_dim: int = _f(128, "width of the word embedding")
    embedding_dropout: float = _f(0.0, "spatial dropout on the embedding (drops whole embedding channels)")
    dropout: float = _f(0.2, "dropout between recurrent layers and before the output layer")
    recurrent_dropout: float = _f(0.0, "dropout on the recurrent state (slow on CPU; 0 keeps the fast kernel)")
    pooling: str = _f("max_mean", f"how time steps become one vector: {', '.join(POOLINGS)}")
    def __post_init__(self):
        _check(self.cell in CELLS, "cell", self.cell, f"one of {CELLS}")
        _check(self.pooling in POOLINGS, "pooling", self.pooling, f"one of {POOLINGS}")
        _check(self.connection in CONNECTIONS, "connection", self.connection, f"one of {CONNECTIONS}")
        _check(self.merge_mode in MERGE_MODES, "merge_mode", self.merge_mode, f"one of {MERGE_MODES}")
        _check(self.num_layers >= 1, "num_layers", self.num_layers, "an integer >= 1")
        _check(self.units >= 1, "units", self.units, "an integer >= 1")
        _check(self.embedding_dim >= 1, "embedding_dim", self.embedding_dim, "an integer >= 1")
        for name in ("dropout", "recurrent_dropout", "embedding_dropout"):
            value = getattr(self, name)
            _check(0.0 <= value < 1.0, name, value, "a rate in [0, 1)")


@dataclass(frozen=True)
class TrainConfig:
    """How the model is fitted: the optimizer and its clipping, the schedule of epochs, the data it sees."""

    optimizer: str = _f("adam", f"{', '.join(OPTIMIZERS)} (adam: exact Adam, the embedding's sparse gradient applied "
                        "as dense; lazy_adam: only the embedding rows of the batch's words are updated)")
    learning_rate: float = _f(1e-3, "Adam learning rate (constant)")
    weight_decay: float = _f(0.0, "decoupled weight decay (AdamW) when > 0")
    clipnorm: float | None = _f(None, "clip each variable's gradient to this L2 norm")
    global_clipnorm: float | None = _f(None, "clip all gradients together to this global L2 norm")
    clipvalue: float | None = _f(None, "clip each gradient element to [-value, value]")
    epochs: int = _f(3, "maximum number of epochs (early stopping may end sooner)")
    batch_size: int = _f(32, "reviews per batch")
    patience: int = _f(1, "epochs without validation-accuracy gain before early stopping")
    max_train_samples: int | None = _f(None, "train on at most this many reviews (smoke runs)")
    word_vectors: str = _f("none", f"embedding initialization: {', '.join(WORD_VECTORS)} (word2vec: trained with gensim on the training reviews and the 50,000 unlabelled ones)")
    word_vector_epochs: int = _f(5, "word2vec epochs over the training + unlabelled reviews")
    short_crops: float = _f(0.0, "extra training examples per review: random 4-40-token windows labelled as their review, so that single sentences are in the training distribution")
    intensifier_swap: float = _f(0.0, "augmentation: the probability that each intensifier of a training review (WordNet's: awfully, frightfully, really, terribly; sentiment.intensifiers) is replaced by one of them drawn at random, so that 'terribly' is learnt as 'really' (the label stays); 0 = off")
    log_gradients: int = _f(0, "every N training steps, log gradient norms (per layer, before/after clipping, per input time step) to gradients.csv and gradients.png in the model folder; 0 = off")
    teacher: str = _f("none", f"semi-supervised distillation: {', '.join(TEACHERS)} (rnn+nbsvm: a model of this config and an NBSVM, both trained on the training reviews, label the 50,000 unlabelled reviews with their averaged probability; the saved model is a fresh model of this config trained on the training reviews plus those soft labels)")
    teacher_units: int = _f(0, "units of the recurrent teacher of --teacher; 0 = the config's own units (a wider teacher can label the unlabelled reviews for a narrower, faster student)")
    batching: str = _f("bucket", f"how batches are padded: {', '.join(BATCHINGS)} (bucket = reviews of similar length together; longest = pad to the longest review in the batch; fixed = pad every batch to max_length)")

    def __post_init__(self):
        _check(self.optimizer in OPTIMIZERS, "optimizer", self.optimizer, f"one of {OPTIMIZERS}")
        _check(self.learning_rate > 0, "learning_rate", self.learning_rate, "a number > 0")
        _check(self.weight_decay >= 0, "weight_decay", self.weight_decay, "a number >= 0")
        clips = list(self.clipping())
        if len(clips) > 1:
            raise ValueError(
                f"set at most one of {', '.join(CLIPPING)}; got {', '.join(clips)}. "
                "Keep one (global_clipnorm is the usual choice for RNNs) and drop the others."
            )
        for name in clips:
            _check(getattr(self, name) > 0, name, getattr(self, name), "a number > 0")
        _check(self.epochs >= 1, "epochs", self.epochs, "an integer >= 1")
        _check(self.batch_size >= 1, "batch_size", self.batch_size, "an integer >= 1")
        _check(self.batching in BATCHINGS, "batching", self.batching, f"one of {BATCHINGS}")
        _check(self.teacher in TEACHERS, "teacher", self.teacher, f"one of {TEACHERS}")
        _check(self.teacher_units >= 0, "teacher_units", self.teacher_units, "an integer >= 0 (0 = the model's units)")
        if self.teacher_units and self.teacher == "none":
            raise ValueError(f"teacher_units={self.teacher_units} sets the width of the teacher of --teacher, "
                             "but teacher='none'. Set --teacher rnn+nbsvm, or drop teacher_units.")
        _check(self.word_vectors in WORD_VECTORS, "word_vectors", self.word_vectors, f"one of {WORD_VECTORS}")
        _check(self.word_vector_epochs >= 1, "word_vector_epochs", self.word_vector_epochs, "an integer >= 1")
        _check(self.short_crops >= 0, "short_crops", self.short_crops, "a number >= 0")
        _check(0.0 <= self.intensifier_swap <= 1.0, "intensifier_swap", self.intensifier_swap, "a probability in [0, 1]")
        _check(self.patience >= 0, "patience", self.patience, "an integer >= 0")
        _check(self.log_gradients >= 0, "log_gradients", self.log_gradients, "an integer >= 0 (0 = off)")
        if self.max_train_samples is not None:
            _check(self.max_train_samples >= 2, "max_train_samples", self.max_train_samples, "an integer >= 2")

    def clipping(self) -> dict[str, float]:
        """The clipping argument of the optimizer, e.g. ``{"global_clipnorm": 1.0}``; empty when unclipped."""
        return {name: getattr(self, name) for name in CLIPPING if getattr(self, name) is not None}


SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


@dataclass(frozen=True)
class Config:
    """Everything that defines a training run; saved as ``config.json`` beside each model."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "config") -> "Config":
        """Build from ``{"data": {...}, "model": {...}, "train": {...}}``; unknown keys are errors."""
        raw = migrate(raw, source)
        unknown = set(raw) - set(SECTIONS)
        if unknown:
            raise ValueError(f"{source}: unknown section(s) {sorted(unknown)}; expected {sorted(SECTIONS)}")
        parts = {}
        for name, klass in SECTIONS.items():
            values = raw.get(name, {})
            if not isinstance(values, dict):
                raise ValueError(f"{source}: section {name!r} must be a JSON object")
            known = {f.name for f in dataclasses.fields(klass)}
            bad = set(values) - known
            if bad:
                raise ValueError(
                    f"{source}: unknown key(s) {sorted(bad)} in section {name!r}; known keys: {sorted(known)}"
                )
            parts[name] = klass(**{k: _coerce(klass, k, v, source) for k, v in values.items()})
        return cls(**parts)

    @classmethod
    def from_json(cls, path: str | Path) -> "Config":
        path = Path(path)
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raise FileNotFoundError(f"config file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as err:
            raise ValueError(f"{path}: cannot be read as a JSON config file ({err})") from None
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err})") from None
        return cls.from_dict(raw, source=str(path))

    def replace(self, **overrides: Any) -> "Config":
        """Return a copy with flat overrides such as ``units=32`` applied to whichever section owns them."""
        sections = {name: {} for name in SECTIONS}
        for key, value in overrides.items():
            owner = field_owner(key)
            sections[owner][key] = _coerce(SECTIONS[owner], key, value, "override")
        return Config(**{name: dataclasses.replace(getattr(self, name), **sections[name]) for name in SECTIONS})


def migrate(raw: Any, source: str = "config") -> dict[str, Any]:
    """A config dict in today's layout, from one written by any earlier version of the project.

    Earlier files kept the optimizer and its clipping in ``model`` (they now belong to ``train``),
    said ``residual: true/false`` where ``connection`` now names one of :data:`CONNECTIONS`, and held switches of retired modes; a retired mode left at its "off" value is dropped, one
    that is switched on is an error that says what to do instead.
    """
    if not isinstance(raw, dict):
        raise ValueError(f"{source}: expected a JSON object, got {type(raw).__name__}")
    raw = {name: dict(part) if isinstance(part, dict) else part for name, part in raw.items()}
    model, train = raw.get("model"), raw.setdefault("train", {})
    if isinstance(model, dict) and isinstance(train, dict):
        for key in TRAINING_KEYS:
            if key in model:
                value = model.pop(key)
                if key in train and train[key] != value:
                    raise ValueError(f"{source}: {key} is set in both the model ({value!r}) and the train section "
                                     f"({train[key]!r}); it belongs to train: drop it from model")
                train.setdefault(key, value)
    if isinstance(model, dict) and "residual" in model:  # older files: a residual on/off switch
        connection = "residual" if model.pop("residual") else "none"
        if model.get("connection", connection) != connection and connection == "residual":
            raise ValueError(f"{source}: residual=true and connection={model['connection']!r} disagree; "
                             "keep connection alone (residual=true is connection='residual')")
        model.setdefault("connection", connection)
    for part in (model, train):
        for key, (off, instead) in RETIRED.items():
            if isinstance(part, dict) and key in part:
                if part[key] != off:
                    raise ValueError(f"{source}: {key}={part[key]!r} is a retired mode; {instead}")
                del part[key]
    if isinstance(train, dict) and train.get("teacher") == "lstm+gru+nbsvm":
        raise ValueError(f"{source}: teacher='lstm+gru+nbsvm' is a retired mode; use teacher='rnn+nbsvm'")
    return raw


def field_owner(key: str) -> str:
    """Name of the section that owns a flat key, or ``ValueError`` listing the known keys."""
    for name, klass in SECTIONS.items():
        if key in {f.name for f in dataclasses.fields(klass)}:
            return name
    raise ValueError(f"unknown config key {key!r}; known keys: {sorted(all_fields())}")


def all_fields() -> dict[str, dataclasses.Field]:
    return {f.name: f for klass in SECTIONS.values() for f in dataclasses.fields(klass)}


def field_type(klass, key: str):
    hints = typing.get_type_hints(klass)
    kind = hints[key]
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    return args[0] if args else kind


def _optional(klass, key: str) -> bool:
    return type(None) in typing.get_args(typing.get_type_hints(klass)[key])


def _coerce(klass, key, value, source):
    kind = field_type(klass, key)
    if value is None:
        if _optional(klass, key):
            return None
        raise ValueError(f"{source}: {key} cannot be none; expected a {kind.__name__}")
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "1", "yes"):
                return True
            if text in ("false", "0", "no"):
                return False
            raise ValueError
        if kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if kind is float:
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{source}: {key}={value!r} is not a valid {kind.__name__}"
        ) from None


def _check(ok, name, value, expected):
    if not ok:
        raise ValueError(f"{name}={value!r} is invalid: expected {expected}")
