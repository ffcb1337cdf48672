"""A saved model folder: its file names, what counts as one, atomic saves, loading, listing, its card.

A model folder holds ``model.keras`` (raw strings in, vocabulary inside), ``config.json``,
``metrics.json``, ``history.csv``, ``curves.png``, ``command.txt`` and ``README.md`` (the model
card). It is saved as a whole: written into a temporary sibling folder, then renamed into place,
so a crash or kill leaves the previous folder intact. Loading never changes the disk; the next
save cleans up what a killed save left.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

if TYPE_CHECKING:
    from .classifier import Classifier

MODEL_FILE = "model.keras"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.csv"
CURVES_FILE = "curves.png"
COMMAND_FILE = "command.txt"
CARD_FILE = "README.md"

MARKERS = (MODEL_FILE, "saved_model.pb")
"""A folder holding one of these (a Keras model, or its TensorFlow Serving export) is a model folder."""


class ModelLoadError(RuntimeError):
    """A model folder could not be loaded; the message names the file and why."""


def is_model_folder(path: str | Path) -> bool:
    """Whether ``path`` is a model folder: a folder holding ``model.keras`` or ``saved_model.pb``."""
    path = Path(path)
    return path.is_dir() and any((path / marker).is_file() for marker in MARKERS)


def check_replaceable(out: str | Path) -> None:
    """Raise FileExistsError unless a save may replace ``out``: missing, an empty folder or a model folder.

    ``--out saved_models`` must not wipe every model, nor ``--out notes`` someone's notes.
    """
    out = Path(out)
    if not out.exists() or is_model_folder(out) or (out.is_dir() and not any(out.iterdir())):
        return
    what = "a folder that holds other files" if out.is_dir() else "a file"
    raise FileExistsError(f"{out} exists and is not a model folder ({what}, no {' or '.join(MARKERS)}); "
                          "refusing to replace it. Choose a new folder, or remove it yourself first.")


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write; on success it atomically becomes ``path``.

    The temporary file is ``.tmp-PID-NAME``, so suffixes that writers insist on (``.npy``,
    ``.weights.h5``) survive. Readers of ``path`` see the old content or the new, never half; an
    exception removes the temporary file and leaves ``path`` as it was.
    """
    path = Path(path)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        yield tmp
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomically(path: str | Path, data: str | bytes) -> None:
    """Write a small file through :func:`replacing` (text is written as UTF-8)."""
    with replacing(path) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def save_folder(out: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_folder)``, then atomically make ``tmp_folder`` become ``out``; return ``out``.

    First finishes what a killed save of ``out`` left (see :func:`recover`); an existing ``out``
    is replaced only after the new folder is complete, and only if :func:`check_replaceable` allows.
    """
    out = Path(out)
    recover(out)
    check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; a model folder is meant to be shared
        write(tmp)
        for file in tmp.rglob("*"):
            if file.is_file():
                with open(file, "rb") as handle:
                    os.fsync(handle.fileno())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}-{tmp.name.rsplit('-', 1)[-1]}"
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)
    return out


def recover(out: str | Path) -> None:
    """Finish or undo an interrupted save of ``out`` by a process that is gone (called by :func:`save_folder`).

    If ``out`` is missing but its previous version was set aside (``.NAME.old-PID-*``), put it
    back; then remove half-written temporary folders and set-aside copies. Folders of a save still
    in progress (its process is alive) are left alone.
    """
    out = Path(out)
    if not out.parent.is_dir():
        return
    old = _leftovers(out, "old")
    if not out.exists() and old:
        os.replace(old.pop(), out)
    for path in _leftovers(out, "tmp") + old:
        shutil.rmtree(path, ignore_errors=True)


def _leftovers(out: Path, kind: str) -> list[Path]:
    """``.NAME.KIND-PID-*`` folders of saves whose process is gone, oldest first."""
    found = [p for p in out.parent.glob(f".{out.name}.{kind}-*") if not _owner_alive(p)]
    return sorted(found, key=lambda p: p.stat().st_mtime_ns)


def _owner_alive(path: Path) -> bool:
    """Whether the process that made ``.NAME.KIND-PID-...`` is still running (then it is not a leftover)."""
    try:
        pid = int(path.name.rsplit(".", 1)[-1].split("-")[1])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def load_classifier(path: str | Path, compiled: bool = False) -> Classifier:
    """Load a model folder written by ``python -m training.train`` (``safe_mode=True``, no pickles).

    ``compiled=True``: XLA-compiled calls for a long-lived process (see :class:`~sentiment.classifier.Classifier`).
    If ``path`` is missing because a save was killed after setting the previous model aside, that
    complete copy is loaded where it lies, with a warning; nothing on disk is renamed or removed.
    """
    import keras

    from . import identity_words, layers, spelling, text  # noqa: F401 - registers the serializable layers and the standardizer
    from .classifier import Classifier

    path = Path(path)
    hint = "expected a folder written by `python -m training.train` holding model.keras and config.json"
    if not path.exists():
        copy = next((p for p in reversed(_leftovers(path, "old")) if is_model_folder(p)), None)
        if copy is None:
            raise ModelLoadError(f"model folder not found: {path}; {hint}")
        warnings.warn(f"{path} is missing: a save to it was killed after setting the previous model aside; "
                      f"loading that copy, {copy}, where it lies (the next save to {path} puts it back)",
                      RuntimeWarning, stacklevel=2)
        path = copy
    if not path.is_dir():
        raise ModelLoadError(f"{path} is not a folder; {hint}")
    model_file = path / MODEL_FILE
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
    return Classifier(model, _read_json(path / CONFIG_FILE), _read_json(path / METRICS_FILE), path, compiled=compiled)


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


def list_model_dirs(root: str | Path) -> list[Path]:
    """Model folders under ``root`` (see :func:`is_model_folder`), ``default`` first, then by name."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if not p.name.startswith(".") and is_model_folder(p)]
    return sorted(found, key=lambda p: (p.name != "default", p.name))


def describe(classifier: Classifier) -> dict:
    """The app's model card: architecture, clipping, accuracy and size, from the folder's config and metrics."""
    model = classifier.config.get("model", {})
    return {
        "cell": model.get("cell"),
        "layers": model.get("num_layers"),
        "units": model.get("units"),
        "bidirectional": model.get("bidirectional"),
        "connection": _connection(model),
        "pooling": model.get("pooling"),
        "clipping": _clipping(classifier.config),
        "max_length": classifier.max_length,
        "test_accuracy": (classifier.metrics.get("test") or {}).get("accuracy"),
        "parameters": classifier.metrics.get("parameters"),
        "trained_on": _trained_on(classifier.metrics),
    }


def _connection(model: dict) -> str:
    """The ``connection`` of a model section, also from files that say ``residual: true/false``."""
    return model.get("connection") or ("residual" if model.get("residual") else "none")


def _training_setting(config: dict, key: str):
    """A training setting from the ``train`` section, or from ``model`` where older folders kept it."""
    train, model = config.get("train", {}), config.get("model", {})
    return train[key] if key in train else model.get(key)


def _clipping(config: dict) -> str:
    return next((f"{key}={value}" for key in ("clipnorm", "global_clipnorm", "clipvalue")
                 if (value := _training_setting(config, key))), "none")


def _trained_on(metrics: dict) -> str | None:
    """The training data in words: labelled reviews, plus unlabelled ones with a teacher's soft labels."""
    labelled = metrics.get("train_reviews")
    teacher = metrics.get("teacher")
    if not labelled:
        return None
    if not teacher:
        return f"{labelled:,} labelled reviews"
    return (f"{labelled:,} labelled + {teacher['unlabelled_reviews']:,} unlabelled reviews soft-labelled by "
            f"{_teacher_words(teacher['kind'])} (validation {_teacher_accuracy(teacher):.2%})")


def _teacher_words(kind: str) -> str:
    """``rnn+nbsvm`` -> ``a recurrent + NBSVM teacher``."""
    names = {"rnn": "recurrent", "nbsvm": "NBSVM", "lstm": "LSTM", "gru": "GRU"}
    return "a " + " + ".join(names.get(part, part) for part in kind.split("+")) + " teacher"


def _teacher_accuracy(teacher: dict) -> float:
    accuracy = teacher["validation_accuracy"]
    return accuracy["average"] if isinstance(accuracy, dict) else accuracy


def _teacher_figures(teacher: dict) -> str:
    """``rnn 0.9172, nbsvm 0.9132, average 0.9300``: each part of the teacher and their average."""
    accuracy = teacher.get("validation_accuracy")
    if isinstance(accuracy, dict):
        return ", ".join(f"{part} {value:.4f}" for part, value in accuracy.items())
    return _number(accuracy)


def write_card(folder: str | Path, config: dict, metrics: dict, command: str) -> Path:
    """Write the model card ``README.md`` into a model folder: the recipe, its figures and its limits."""
    model, max_length = config.get("model", {}), config.get("data", {}).get("max_length")
    cell = f"{'bidirectional ' if model.get('bidirectional') else ''}{str(model.get('cell', '?')).upper()}"
    lines = [
        f"# IMDB sentiment classifier: {cell}",
        "",
        "Raw English text in, the probability that it is a positive movie review out. "
        "Load it with `sentiment.model_folder.load_classifier(FOLDER)`.",
        "",
        "## Recipe",
        "",
        *_recipe(config, cell),
        f"- Command: `{command.strip()}`",
        "",
        "## Figures",
        "",
        *_figures(metrics),
        "",
        "## Limits",
        "",
        "- English movie reviews (IMDB); other languages and other kinds of text are not measured.",
        f"- Reads at most the first {max_length} tokens; the rest of a longer text does not count.",
        "- Trained on whole reviews: short sentences, above all with negation or contrast "
        "(\"not bad\", \"I expected to hate it, but...\"), are read less reliably.",
        "- Labels are IMDB's only: a review of 7-10 stars is positive, 1-4 negative; there is no neutral class.",
    ]
    card = Path(folder) / CARD_FILE
    card.write_text("\n".join(lines) + "\n")
    return card


def _recipe(config: dict, cell: str) -> list[str]:
    model, data, train = config.get("model", {}), config.get("data", {}), config.get("train", {})
    teacher = train.get("teacher", "none")
    if train.get("teacher_units"):
        teacher += f" ({train['teacher_units']} units)"
    return [
        f"- Architecture: {cell}, {model.get('num_layers')} layer(s) of {model.get('units')} units"
        f"{'' if _connection(model) == 'none' else ', ' + _connection(model) + ' connections'}, embedding {model.get('embedding_dim')}, "
        f"{model.get('pooling')} pooling, dropout {model.get('dropout')} (embedding {model.get('embedding_dropout')}); "
        f"vocabulary {_number(data.get('max_tokens'), ',')} tokens, the first {data.get('max_length')} tokens read.",
        f"- Training: {_training_setting(config, 'optimizer')}, learning rate {_training_setting(config, 'learning_rate')}, "
        f"clipping {_clipping(config)}, at most {train.get('epochs')} epochs (patience {train.get('patience')}), "
        f"batches of {train.get('batch_size')}, teacher {teacher}, word vectors {train.get('word_vectors', 'none')}, "
        f"intensifier swap {train.get('intensifier_swap', 0.0)}.",
    ]


def _figures(metrics: dict) -> list[str]:
    rows = [f"| {split} ({m['n']:,} reviews) | {m['accuracy']:.4f} | {_number(m.get('f1'))} | {_number(m.get('roc_auc'))} |"
            for split in ("validation", "test") if (m := metrics.get(split))]
    teacher = metrics.get("teacher")
    return [
        *(["| split | accuracy | F1 | ROC AUC |", "|---|---|---|---|", *rows, ""] if rows else []),
        f"- Parameters: {_number(metrics.get('parameters'), ',')}; best epoch {metrics.get('best_epoch', '-')} "
        f"of {metrics.get('epochs', '-')}; {_number(metrics.get('training_seconds'), ',.0f')} s of training.",
        *([f"- Trained on {_trained_on(metrics)}."] if metrics.get("train_reviews") else []),
        *([f"- Teacher validation accuracy: {_teacher_figures(teacher)}."] if teacher else []),
    ]


def _number(value, spec: str = ".4f") -> str:
    return "-" if value is None else format(value, spec)
