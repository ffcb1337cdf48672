"""Keras callbacks of a resumable training run: epoch timing, NaN guard, best weights, backup, early stopping.

The last three count the epochs a killed run finished before it was resumed, so a resumed run
stops, keeps and backs up exactly as an uninterrupted one would.
"""

from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np

from . import model_folder


class EpochTimer(keras.callbacks.Callback):
    """Adds ``seconds`` (wall time of the epoch) to the logs, so ``history.csv`` records it."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)
        if logs is not None:
            logs["seconds"] = round(self.seconds[-1], 2)


class NanGuard(keras.callbacks.Callback):
    """Stops training at the first batch whose loss is NaN or infinite, and remembers that it did."""

    diverged = False

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(float(loss)):
            self.diverged = True
            self.model.stop_training = True


class BestWeights(keras.callbacks.Callback):
    """Keeps the weights of the best epoch so far, written atomically, counting epochs before a resume."""

    def __init__(self, previous: list[dict], path: Path, monitor: str = "val_accuracy"):
        super().__init__()
        self.path, self.monitor = Path(path), monitor
        scores = [float(r[monitor]) for r in previous if r.get(monitor)]
        self.best = max(scores) if scores and self.path.exists() else -np.inf

    def on_epoch_end(self, epoch, logs=None):
        score = (logs or {}).get(self.monitor)
        if score is not None and np.isfinite(score) and score > self.best:
            self.best = float(score)
            with model_folder.replacing(self.path) as tmp:
                self.model.save_weights(str(tmp))


class SafeBackup(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` that does not back up an epoch whose loss went NaN (the good backup is kept)."""

    def __init__(self, nan_guard: NanGuard, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._nan_guard = nan_guard

    def on_epoch_end(self, epoch, logs=None):
        if not self._nan_guard.diverged:
            super().on_epoch_end(epoch, logs)

    def on_train_batch_end(self, batch, logs=None):
        if not self._nan_guard.diverged:
            super().on_train_batch_end(batch, logs)


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """``EarlyStopping`` whose patience counts the epochs before a resume too."""

    def __init__(self, previous: list[dict], **kwargs):
        super().__init__(**kwargs)
        self._previous = [float(r[self.monitor]) for r in previous if r.get(self.monitor)]

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self._previous:
            best_index = int(np.argmax(self._previous))
            self.best = self._previous[best_index]
            self.wait = len(self._previous) - 1 - best_index
