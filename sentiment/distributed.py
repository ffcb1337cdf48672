"""Where training runs: one device, ``MirroredStrategy``, or ``MultiWorkerMirroredStrategy`` with a custom loop.

:class:`Devices` is the seam the training recipe sees: it builds and fits models under the chosen
strategy. The rest of this module is the multi-worker part.

Keras 3's ``fit`` fails under ``MultiWorkerMirroredStrategy`` on TensorFlow 2.21 (its symbolic
build receives ``PerReplica`` values; keras-team/keras#20585), so workers train with the loop
TensorFlow documents for this strategy (``strategy.run`` over a distributed dataset). The Keras
optimizer all-reduces (sums) the gradients of the replicas; each replica's loss is divided by the
global batch, so the update equals one over the global batch.

Every worker runs the same ``python -m training.train --strategy multi_worker`` command with its
own ``TF_CONFIG`` (``{"cluster": {"worker": [...]}, "task": {"type": "worker", "index": i}}``).
Worker 0 is the chief: it writes the model folder; the others write nothing there. Only a
``worker`` job is used (no separate ``chief`` job). Each worker
reads the whole data and takes every n-th batch of the same seeded order, the same number of
steps each (collectives hang if one worker runs a step the others do not).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from . import model_folder


def cluster_spec() -> tuple[int, int]:
    """``(number of workers, this worker's index)`` from ``TF_CONFIG``; ``(1, 0)`` without one."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return 1, 0
    try:
        config = json.loads(raw)
        workers = config["cluster"]["worker"]
        index = int(config["task"]["index"])
        kind = config["task"]["type"]
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(
            f"TF_CONFIG is not valid ({err!r}): expected "
            '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}'
        ) from None
    others = sorted(set(config["cluster"]) - {"worker"})
    if others:
        raise ValueError(
            f"TF_CONFIG names job(s) {others}: this project's multi-worker training uses only a 'worker' job "
            "(worker 0 acts as the chief). List every machine under cluster.worker."
        )
    if kind != "worker" or not 0 <= index < len(workers):
        raise ValueError(f"TF_CONFIG task {config['task']} does not name one of the {len(workers)} workers")
    return len(workers), index


class Diverged(RuntimeError):
    """The loss became NaN or infinite (every worker sees the same reduced loss, so all stop together)."""


def is_chief() -> bool:
    return cluster_spec()[1] == 0


STRATEGIES = ("default", "mirrored", "multi_worker")


class Devices:
    """Where a run trains: the one seam between the training recipe and ``tf.distribute``.

    ``default`` (one device), ``mirrored`` (``MirroredStrategy``: synchronous data parallelism
    over the local GPUs, or the CPU when there is none) or ``multi_worker``
    (``MultiWorkerMirroredStrategy`` with this module's custom loop). The recipe builds its
    models with :meth:`build` and fits them with :meth:`fit`; only the chief saves.
    """

    def __init__(self, name: str, config):
        import tensorflow as tf

        from .runs import TrainingError

        if name not in STRATEGIES:
            raise TrainingError(f"unknown strategy {name!r}: expected one of {STRATEGIES}")
        self._refuse_unsupported(name, config)  # before any strategy (and its cluster) is set up
        self.name, self.workers, self.index = name, 1, 0
        if name == "multi_worker":
            try:
                self.workers, self.index = cluster_spec()
            except ValueError as err:
                raise TrainingError(str(err)) from None
            self.strategy = tf.distribute.MultiWorkerMirroredStrategy()
        else:
            self.strategy = tf.distribute.MirroredStrategy() if name == "mirrored" else tf.distribute.get_strategy()

    @property
    def chief(self) -> bool:
        """Whether this process writes the model folder (worker 0 of a multi-worker run)."""
        return self.index == 0

    @property
    def description(self) -> str | None:
        if self.name == "multi_worker":
            return f"multi_worker strategy: worker {self.index} of {self.workers}{' (chief: writes the model)' if self.chief else ''}"
        if self.name == "mirrored" or self.strategy.num_replicas_in_sync > 1:
            return f"{self.name} strategy: {self.strategy.num_replicas_in_sync} replica(s) in sync"
        return None

    @staticmethod
    def _refuse_unsupported(name: str, config) -> None:
        """Refuse what the multi-worker loop does not do, before anything is set up or written."""
        from .runs import TrainingError

        if name != "multi_worker":
            return
        if config.train.teacher != "none":
            raise TrainingError("--teacher works with the default or mirrored strategy, not multi_worker")
        if config.train.log_gradients:
            raise TrainingError("--log-gradients is not available with --strategy multi_worker; "
                                "log gradients in a single-device run")

    def work_dir(self, work: Path) -> Path:
        """Workers on one machine must not share a work folder."""
        return work.with_name(f"{work.name}-worker{self.index}") if self.index else work

    def build(self, vocabulary_size: int, model_config, train_config):
        """A model of ``model_config`` compiled for ``train_config``, its variables placed by the strategy."""
        from .fitting import compile_model
        from .model import build_model

        with self.strategy.scope():
            return compile_model(build_model(vocabulary_size, model_config), train_config)

    def fit(self, run, member: str, model, train_config, prepared, *, word_vectors, probe=None, verbose: int = 1,
            log=print) -> list[dict]:
        """Fit ``model`` on ``prepared``'s batches; a multi-worker fit does not resume (a rerun starts over)."""
        from . import fitting

        if self.name != "multi_worker":
            train_ds, val_ds = prepared.train_dataset(), prepared.validation_dataset()
            if self.name != "default" or self.strategy.num_replicas_in_sync > 1:
                train_ds, val_ds = _shard_by_data(train_ds), _shard_by_data(val_ds)
            return fitting.fit(run, member, model, train_config, train_ds, val_ds, word_vectors=word_vectors,
                               probe=probe, verbose=verbose)
        from .runs import TrainingError

        fitting.initialize(model, train_config, word_vectors)
        history_file, best_file = run.path("history.csv", member), run.path("best.weights.h5", member)
        try:
            fit(self.strategy, model, model.optimizer, prepared.train_dataset,
                int(prepared.train_dataset().cardinality()), prepared.validation_dataset(),
                epochs=train_config.epochs, patience=train_config.patience,
                history_file=history_file, best_file=best_file, log=log)
        except Diverged as err:
            raise TrainingError(f"training diverged: {err}, so no model was saved. "
                                "Lower --learning-rate or set --global-clipnorm (e.g. 1.0).") from None
        model.load_weights(str(best_file))
        log(f"best weights digest {weights_digest(model)} (the same on every worker of one training)")
        from .history import read_history

        return read_history(history_file)


def _shard_by_data(dataset):
    """Shard by batches, not files (the data is in memory)."""
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def fit(strategy, model, optimizer, make_train_dataset, batches: int, val_ds, *, epochs: int, patience: int,
        history_file: Path, best_file: Path, log=print) -> list[dict]:
    """Train ``model`` (built under ``strategy.scope()``) and keep the weights of the best validation epoch.

    ``make_train_dataset()`` gives the full, seeded, batched training set (``batches`` batches);
    worker i takes batches i, i + n, ... and ``batches // n`` of them. Every worker evaluates the
    whole validation set; the accuracies are averaged across workers, so early stopping decides
    the same way everywhere. Returns the history rows (also written to ``history_file``).
    """
    import tensorflow as tf

    workers = cluster_spec()[0]
    replicas = strategy.num_replicas_in_sync  # every local device of every worker takes one batch per step
    steps = batches // replicas
    if steps < 1:
        raise ValueError(f"{batches} batches cannot be shared by {replicas} replicas: use more data or smaller batches")

    def dataset_fn(context: tf.distribute.InputContext):
        dataset = make_train_dataset()
        local = replicas // context.num_input_pipelines
        return dataset.shard(context.num_input_pipelines, context.input_pipeline_id).take(steps * local)

    options = tf.distribute.InputOptions(experimental_fetch_to_device=False)
    distributed = strategy.distribute_datasets_from_function(dataset_fn, options)

    train_step = _train_step(strategy, model, optimizer)

    @tf.function
    def mean_across_workers(value):
        return strategy.reduce(tf.distribute.ReduceOp.MEAN, strategy.run(lambda: tf.identity(value)), axis=None)

    with strategy.scope():
        optimizer.build(model.trainable_variables)  # its slots are created here, not inside a replica step
    _copy_from_chief(strategy, model)
    for stale in (history_file, best_file):  # a multi-worker fit starts over; it does not resume
        stale.unlink(missing_ok=True)
    rows, best, wait = [], -np.inf, 0
    for epoch in range(epochs):
        started = time.perf_counter()
        loss_sum = correct = count = 0.0
        iterator = iter(distributed)
        for _ in range(steps):
            batch_loss, batch_correct, batch_count = train_step(iterator)
            if not np.isfinite(float(batch_loss)):
                raise Diverged(f"the loss became {float(batch_loss)} in epoch {epoch + 1}")
            loss_sum, correct, count = loss_sum + float(batch_loss), correct + float(batch_correct), count + float(batch_count)
        val_loss, val_accuracy = _evaluate(model, val_ds)
        val_accuracy = float(mean_across_workers(tf.constant(val_accuracy, tf.float32)))
        row = {"epoch": epoch, "accuracy": correct / max(count, 1), "loss": loss_sum / max(count, 1),
               "val_accuracy": val_accuracy, "val_loss": val_loss, "seconds": round(time.perf_counter() - started, 2)}
        rows.append(row)
        _append_row(history_file, row)
        log(f"epoch {epoch + 1}/{epochs} on {workers} worker(s): {steps} steps, loss {row['loss']:.4f}, "
            f"accuracy {row['accuracy']:.4f}, validation accuracy {val_accuracy:.4f}, {row['seconds']:.1f} s")
        if val_accuracy > best:
            best, wait = val_accuracy, 0
            with model_folder.replacing(best_file) as tmp:
                model.save_weights(str(tmp))
        else:
            wait += 1
            if wait >= patience:  # as keras.callbacks.EarlyStopping
                log(f"early stopping: no validation gain for {wait} epoch(s)")
                break
    return rows


def _train_step(strategy, model, optimizer):
    """One synchronous step over every replica: the summed loss, correct count and examples of the step."""
    import keras
    import tensorflow as tf

    from .fitting import side_accuracy

    @tf.function
    def train_step(iterator):
        def step(ids, labels):
            with tf.GradientTape() as tape:
                probability = model(ids, training=True)
                per_example = keras.losses.binary_crossentropy(tf.reshape(labels, [-1, 1]), probability)
                # Divide by the global number of examples of this step (batches differ in size across replicas),
                # so the summed gradients are those of the global mean loss.
                count = tf.distribute.get_replica_context().all_reduce(
                    tf.distribute.ReduceOp.SUM, tf.cast(tf.size(labels), tf.float32))
                loss = tf.reduce_sum(per_example) / count
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            correct = tf.reduce_sum(side_accuracy(labels, probability))
            return tf.reduce_sum(per_example), correct, tf.cast(tf.size(labels), tf.float32)

        results = strategy.run(step, args=next(iterator))
        return [strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None) for value in results]

    return train_step


def weights_digest(model) -> str:
    """A short hash of the model's weights, to check that workers hold one model."""
    import hashlib

    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()[:16]


def _copy_from_chief(strategy, model) -> None:
    """Give every worker the chief's weights (e.g. word vectors that each worker's word2vec drew differently)."""
    import tensorflow as tf

    weight = 1.0 if is_chief() else 0.0
    variables = model.trainable_variables

    @tf.function
    def chief_values():
        def replica():
            return [tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, v * weight)
                    for v in variables]
        return strategy.experimental_local_results(strategy.run(replica))[0]

    for variable, value in zip(variables, chief_values()):
        variable.assign(value)


def _evaluate(model, dataset) -> tuple[float, float]:
    """Mean loss and accuracy over a dataset, by the same loss and accuracy functions as training."""
    import keras

    from .fitting import side_accuracy

    losses, correct, count = 0.0, 0.0, 0
    for ids, labels in dataset:
        probability = model(ids, training=False)
        losses += float(keras.ops.sum(keras.losses.binary_crossentropy(keras.ops.reshape(labels, (-1, 1)), probability)))
        correct += float(keras.ops.sum(side_accuracy(labels, probability)))
        count += int(labels.shape[0])
    return losses / max(count, 1), correct / max(count, 1)


def _append_row(path: Path, row: dict) -> None:
    new = not path.exists()
    with path.open("a") as handle:
        if new:
            handle.write(",".join(row) + "\n")
        handle.write(",".join(str(v) for v in row.values()) + "\n")
