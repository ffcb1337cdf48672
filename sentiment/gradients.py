"""Gradient measurements for the vanishing/exploding-gradient lab: per-layer norms and how much
the loss "hears" each time step of the input.
"""

from __future__ import annotations

import time

import numpy as np


def _loss(model, ids, labels, training=False):
    import keras

    predictions = model(ids, training=training)
    return keras.losses.binary_crossentropy(keras.ops.reshape(labels, (-1, 1)), predictions)


def layer_gradient_norms(model, ids, labels) -> dict[str, float]:
    """L2 norm of the loss gradient for each layer's trainable weights (all weights of a layer together)."""
    import tensorflow as tf

    ids = tf.convert_to_tensor(ids)
    labels = tf.cast(tf.convert_to_tensor(labels), "float32")
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(_loss(model, ids, labels))
    variables = model.trainable_variables
    grads = tape.gradient(loss, variables)
    norms: dict[str, float] = {}
    for variable, grad in zip(variables, grads):
        layer = variable.path.split("/")[0]
        value = 0.0 if grad is None else float(tf.reduce_sum(tf.square(tf.convert_to_tensor(grad))))
        norms[layer] = norms.get(layer, 0.0) + value
    return {layer: float(np.sqrt(total)) for layer, total in norms.items()}


def time_step_gradient_norms(model, ids, labels) -> np.ndarray:
    """``[time]``: mean over the batch of ``||d loss / d embedding(x_t)||`` for each input step ``t``.

    How much the prediction depends on each step of the input: the quantity that vanishes with
    distance for a plain RNN. Padded steps (masked) get zero.
    """
    import tensorflow as tf

    embedding = model.get_layer("embedding")
    ids = tf.convert_to_tensor(ids)
    labels = tf.cast(tf.convert_to_tensor(labels), "float32")
    captured = {}
    original = embedding.call

    with tf.GradientTape() as tape:
        def watched_call(inputs, *args, **kwargs):  # record the embedding output inside the forward pass
            vectors = original(inputs, *args, **kwargs)
            tape.watch(vectors)
            captured["vectors"] = vectors
            return vectors

        embedding.call = watched_call
        try:
            loss = tf.reduce_mean(_loss(model, ids, labels))
        finally:
            del embedding.call  # back to the class method
    grad = tape.gradient(loss, captured["vectors"])  # [batch, time, dim]
    return tf.reduce_mean(tf.norm(grad, axis=-1), axis=0).numpy()


def gradient_probe(ids, labels, count: int = 16):
    """``(ids [count, width], labels [count])``: the ``count`` longest reviews of a ragged batch of token
    ids, cut to the shortest of them, so every row has the same length and no padding, and step
    ``t`` is the same distance from the end in each."""
    lengths = ids.row_lengths().numpy()
    chosen = np.argsort(-lengths, kind="stable")[:count]
    width = int(lengths[chosen].min())
    return (np.stack([ids[int(i)].numpy()[:width] for i in chosen]).astype("int64"),
            np.asarray(labels)[chosen].astype("float32"))


def spectral_radius(matrix) -> float:
    """Largest absolute eigenvalue of a square matrix (a recurrent weight ``W_hh``)."""
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(matrix, dtype=np.float64)))))


def set_recurrent_spectral_radius(model, layer_name: str, radius: float) -> None:
    """Rescale a SimpleRNN's recurrent kernel so that its spectral radius is ``radius`` (the lab's knob)."""
    layer = model.get_layer(layer_name)
    layer = getattr(layer, "forward_layer", layer)
    cell = getattr(layer, "cell", layer)
    kernel = cell.recurrent_kernel.numpy()
    cell.recurrent_kernel.assign(kernel * (radius / spectral_radius(kernel)))


def _callback_base():
    import keras

    return keras.callbacks.Callback


class GradientMonitor(_callback_base()):
    """Gradient norms of the real training steps, written to CSV (and plotted with :func:`plot_gradients`).

    Wraps the optimizer's clipping step (instance attribute, for this model only) so that every
    training step records the global gradient norm before and after clipping, and each
    variable's norm. Every ``every`` steps a row is written to ``csv_path``: step, loss, global
    norm before/after clipping, whether this step was clipped, the fraction of all steps so far
    that clipping changed, whether the loss was NaN, and the norm per layer. With ``probe``
    (``(ids, labels)``, ids of equal length), the norm of the loss gradient with respect to the
    input embedding at each time step is also written, to ``time_csv_path``.
    """

    def __init__(self, csv_path, every: int = 10, probe=None, time_csv_path=None, append: bool = False):
        super().__init__()
        self.csv_path, self.every, self.probe, self.time_csv_path = csv_path, max(1, int(every)), probe, time_csv_path
        self.append = append  # add to existing files (a resumed run), flushed at each epoch end
        self.rows: list[dict] = []
        self.time_rows: list[dict] = []
        self._step = 0
        self.seconds = 0.0  # time spent measuring (callers subtract it from training time)
        if append:  # a resumed run continues the step count
            import csv

            try:
                with open(csv_path, newline="") as handle:
                    self._step = max((int(float(r["step"])) for r in csv.DictReader(handle)), default=0)
            except (OSError, ValueError, KeyError):
                pass

    def set_model(self, model):
        super().set_model(model)
        import tensorflow as tf

        optimizer = model.optimizer
        variables = model.trainable_variables
        self._layers = [v.path.split("/")[0] for v in variables]
        self._before = tf.Variable(0.0, trainable=False)
        self._after = tf.Variable(0.0, trainable=False)
        self._per_variable = tf.Variable(tf.zeros([len(variables)]), trainable=False)
        self._steps = tf.Variable(0.0, trainable=False)
        self._clipped = tf.Variable(0.0, trainable=False)
        original = type(optimizer)._clip_gradients.__get__(optimizer)

        def recording_clip(grads):
            dense = [tf.zeros([]) if g is None else tf.convert_to_tensor(g) for g in grads]
            clipped = original(grads)
            before = tf.linalg.global_norm(dense)
            after = tf.linalg.global_norm([tf.zeros([]) if g is None else tf.convert_to_tensor(g) for g in clipped])
            self._before.assign(before)
            self._after.assign(after)
            if len(dense) == len(variables):  # Keras drops variables without a gradient; then skip per-layer norms
                self._per_variable.assign(tf.stack([tf.norm(g) for g in dense]))
            self._steps.assign_add(1.0)
            self._clipped.assign_add(tf.cast(after < before * (1.0 - 1e-6), tf.float32))
            return clipped

        optimizer._clip_gradients = recording_clip

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        loss = float((logs or {}).get("loss", np.nan))
        if self._step % self.every and np.isfinite(loss):
            return
        started = time.perf_counter()
        squares: dict[str, float] = {}
        for layer, norm in zip(self._layers, self._per_variable.numpy()):
            squares[layer] = squares.get(layer, 0.0) + float(norm) ** 2
        steps = max(float(self._steps.numpy()), 1.0)
        before, after = float(self._before.numpy()), float(self._after.numpy())
        row = {"step": self._step, "epoch": getattr(self, "_epoch", 0), "loss": loss, "global_norm": before, "clipped_norm": after,
               "clipped": int(after < before * (1 - 1e-6)), "clipped_fraction": float(self._clipped.numpy()) / steps,
               "nan": int(not np.isfinite(loss) or not np.isfinite(before))}
        row.update({f"norm/{layer}": float(np.sqrt(total)) for layer, total in squares.items()})
        self.rows.append(row)
        if self.probe is not None and self.time_csv_path is not None and not row["nan"]:
            norms = time_step_gradient_norms(self.model, *self.probe)
            self.time_rows.extend({"step": self._step, "epoch": getattr(self, "_epoch", 0), "t": t, "norm": float(n)}
                                  for t, n in enumerate(norms))
        self.seconds += time.perf_counter() - started

    def on_epoch_end(self, epoch, logs=None):
        if self.append:
            self._flush()

    def on_train_end(self, logs=None):
        self._flush()

    def _flush(self):
        _write_csv(self.csv_path, self.rows, self.append)
        if self.time_csv_path is not None:
            _write_csv(self.time_csv_path, self.time_rows, self.append)
        if self.append:
            self.rows, self.time_rows = [], []


def _write_csv(path, rows: list[dict], append: bool = False) -> None:
    import csv
    import os

    if append and not rows:
        return
    columns = list(dict.fromkeys(key for row in rows for key in row))
    adding = append and os.path.exists(path) and os.path.getsize(path) > 0
    with open(path, "a" if adding else "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        if not adding:
            writer.writeheader()
        writer.writerows(rows)


def plot_gradients(rows: list[dict], path, title: str = "") -> None:
    """Loss, global gradient norm (before/after clipping) and per-layer norms against the step, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.5))
    axes[0].plot(steps, [r["loss"] for r in rows])
    axes[0].set_title("training loss")
    axes[1].semilogy(steps, [max(r["global_norm"], 1e-12) for r in rows], label="before clipping")
    axes[1].semilogy(steps, [max(r["clipped_norm"], 1e-12) for r in rows], "--", label="after clipping")
    axes[1].set_title("global gradient norm")
    axes[1].legend()
    for key in [k for k in rows[0] if k.startswith("norm/")] if rows else []:
        axes[2].semilogy(steps, [max(r.get(key, 0.0), 1e-12) for r in rows], label=key[5:])
    axes[2].set_title("gradient norm per layer")
    axes[2].legend(fontsize=7)
    for ax in axes:
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
