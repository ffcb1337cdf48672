"""Compile a model for training and fit it, resumably, in a run folder.

``compile_model`` is where the training config's optimizer, learning rate, weight decay and
clipping meet the model (the builder takes architecture only). ``fit`` trains one model of a
run (the saved model or the distillation teacher): rerun after a kill, it continues from the
last completed epoch and keeps counting early stopping and best weights across the kill.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import keras

from .callbacks import BestWeights, EpochTimer, NanGuard, ResumableEarlyStopping, SafeBackup
from .config import TrainConfig
from .history import read_history
from .optimizers import make_optimizer
from .runs import RunFolder, TrainingError


@keras.saving.register_keras_serializable(package="sentiment")
def side_accuracy(y_true, y_pred):
    """Binary accuracy with the target rounded to 0 or 1 too (hard 0/1 labels are unchanged)."""
    y_true = keras.ops.cast(keras.ops.greater(keras.ops.reshape(y_true, (-1,)), 0.5), "float32")
    y_pred = keras.ops.cast(keras.ops.greater(keras.ops.reshape(y_pred, (-1,)), 0.5), "float32")
    return keras.ops.cast(keras.ops.equal(y_true, y_pred), "float32")


def compile_model(model: keras.Model, train: TrainConfig) -> keras.Model:
    """Compile ``model`` for training with the optimizer of ``train``; binary cross-entropy and accuracy."""
    model.compile(
        optimizer=make_optimizer(train),
        loss="binary_crossentropy",
        # Targets may be soft (a teacher's probabilities, see TrainConfig.teacher): count each by its side of 0.5.
        metrics=[keras.metrics.MeanMetricWrapper(side_accuracy, name="accuracy")],
        # LazyAdam's tf.unique has a data-dependent shape, which XLA (Keras' "auto" on a GPU) cannot compile.
        jit_compile=False if train.optimizer == "lazy_adam" else "auto",
    )
    return model


def initialize(model: keras.Model, train: TrainConfig, word_vectors: Callable) -> None:
    """A new model's embedding from word2vec when the config asks for it (``word_vectors()`` gives the matrix)."""
    if train.word_vectors == "word2vec":
        model.get_layer("embedding").set_weights([word_vectors()])


def fit(run: RunFolder, member: str, model: keras.Model, train: TrainConfig, train_ds, val_ds, *,
        word_vectors: Callable, probe=None, verbose: int = 1) -> list[dict]:
    """Fit one compiled model of the run (resuming its backup), load its best weights, return its history rows."""
    history_file, best_file = run.path("history.csv", member), run.path("best.weights.h5", member)
    done_file, backup = run.path("fit_done", member), run.path("backup", member)
    if not done_file.exists():
        if not backup.exists():
            initialize(model, train, word_vectors)
        nan_guard = NanGuard()
        callbacks = _callbacks(run, member, train, nan_guard, probe)
        try:
            model.fit(train_ds, validation_data=val_ds, epochs=train.epochs, callbacks=callbacks, verbose=verbose)
        except OSError as err:  # e.g. a backup file cut short by a crash of the previous run
            raise TrainingError(f"could not read or write the run's files in {run.folder}: {err}. "
                                f"Delete {run.folder} to start this run over.") from None
        if nan_guard.diverged:
            raise TrainingError(
                "training diverged: the loss became NaN or infinite, so no model was saved. "
                "Lower --learning-rate or set --global-clipnorm (e.g. 1.0). "
                f"The backup of the last good epoch and the logs are kept in {run.folder}"
                + ("; a rerun with other options needs --restart to discard them." if run.has_trained() else ".")
            )
        done_file.write_text("fit finished\n")
    if not best_file.exists():
        raise TrainingError(f"no best weights in {run.folder}: the run did not complete an epoch")
    model.load_weights(str(best_file))
    return read_history(history_file)


def _callbacks(run: RunFolder, member: str, train: TrainConfig, nan_guard: NanGuard, probe) -> list:
    """Timer, NaN guard, best weights, early stopping, logs, gradients; the backup last."""
    from .gradients import GradientMonitor

    previous = read_history(run.path("history.csv", member))
    monitor = ([GradientMonitor(run.path("gradients.csv", member), every=train.log_gradients, probe=probe,
                                time_csv_path=run.path("gradient_steps.csv", member), append=True)]
               if train.log_gradients else [])
    return [
        EpochTimer(),
        nan_guard,
        BestWeights(previous, run.path("best.weights.h5", member), monitor="val_accuracy"),
        ResumableEarlyStopping(previous, monitor="val_accuracy", mode="max", patience=train.patience),
        keras.callbacks.CSVLogger(str(run.path("history.csv", member)), append=True),
        keras.callbacks.TensorBoard(str(run.path("logs", member))),
        *monitor,
        # Last, so an epoch is backed up only once its row and best weights are on disk.
        SafeBackup(nan_guard, str(run.path("backup", member)), delete_checkpoint=False, double_checkpoint=True),
    ]


def copy_gradient_logs(run: RunFolder, folder: Path) -> None:
    """The saved model's ``gradients.csv`` and ``gradient_steps.csv`` into its model folder, with a plot."""
    import csv
    import shutil

    from .gradients import plot_gradients

    for name in ("gradients.csv", "gradient_steps.csv"):
        if run.path(name).exists():
            shutil.copy(run.path(name), folder / name)
    if not run.path("gradients.csv").exists():  # fewer steps than --log-gradients: nothing logged
        return
    with open(run.path("gradients.csv"), newline="") as handle:
        rows = [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(handle)]
    if rows:
        plot_gradients(rows, folder / "gradients.png", title="gradient norms during training")
