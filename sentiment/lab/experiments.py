"""The lab's experiments: each lecture claim tested where it applies, every arm over several seeds.

``run_lecture7(data, out)`` builds the tasks (:mod:`.tasks`), runs the seven experiments (one
function each: :func:`vanishing`, :func:`adding`, :func:`radius`, :func:`clipping`, :func:`speed`,
:func:`direction`, :func:`depth`), writes ``results.json`` and then the report (:mod:`.report`).
Each arm's figures are kept per seed (``{"seeds": [...]}``), so the verdicts can count the spread.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import keras
import numpy as np

from ..gradients import GradientMonitor, layer_gradient_norms, set_recurrent_spectral_radius, time_step_gradient_norms
from ..model import build_model
from ..model_folder import write_atomically
from .claims import FAMILY
from .tasks import SentenceBank, adding_problem, long_range, sentence_bank


@dataclass(frozen=True)
class LabConfig:
    model: str = "saved_models/default"  # whose vocabulary, frozen word vectors and sentence labels the tasks use
    reviews: int = 4000  # IMDB training reviews the sentences come from
    confidence: float = 0.9  # a polar sentence: the model's probability on its review's side is at least this
    max_words: int = 20
    filler_words: int = 1  # how many neutral words the filler draws from (1: one word repeated)
    train_examples: int = 2000
    validation_examples: int = 500
    units: int = 32
    epochs: int = 6  # at most; a run stops once its validation accuracy reaches `solved`
    solved: float = 0.98
    batch_size: int = 64
    learning_rate: float = 3e-3
    seeds: int = 3
    distances: tuple = (3, 10, 30, 100)  # filler tokens between the sentence and the read-out
    probe_distance: int = 100  # the gradient-against-distance probe (experiments 1 and 2)
    probe_examples: int = 32
    adding_lengths: tuple = (20, 50, 100)
    adding_epochs: int = 6
    adding_learning_rate: float = 1e-2
    radii: tuple = (0.5, 0.9, 1.0, 1.1, 1.5)
    explode_radius: float = 1.5  # W_hh's spectral radius in the exploding experiment
    explode_learning_rate: float = 0.1  # plain SGD: no step-size normalization that would hide an exploding gradient
    explode_length: int = 50  # adding-problem sequences of the exploding experiment
    explode_epochs: int = 3
    clip: float = 1.0  # clipnorm and global_clipnorm threshold
    clip_value: float = 0.1
    task_distance: int = 30  # the distance of the speed experiment's accuracy runs
    direction_distance: int = 100  # beyond what a forward GRU carries reliably (experiment 1)
    depths: tuple = (1, 2, 4, 8)
    depth_cell: str = "rnn"
    depth_distance: int = 3
    depth_epochs: int = 3
    speed_rounds: int = 5
    speed_steps: int = 10
    seed: int = 1337


QUICK = dict(reviews=100000, confidence=0.5, max_words=80, train_examples=64, validation_examples=32, units=4,
             epochs=1, seeds=2, distances=(2, 6), probe_distance=6, probe_examples=4, adding_lengths=(6, 12),
             adding_epochs=1, radii=(0.5, 1.5), explode_length=12, explode_epochs=1, task_distance=4,
             direction_distance=4, depths=(1, 2), depth_distance=2, depth_epochs=1, speed_rounds=2, speed_steps=2)
"""``--quick``: every experiment at toy size (minutes; what CI runs on the fixture)."""


def quick(config: LabConfig | None = None) -> LabConfig:
    return replace(config or LabConfig(), **QUICK)


def run_lecture7(data: str, out: str | Path, config: LabConfig | None = None, log=print) -> dict:
    """Run every experiment and write ``results.json``, ``report.md`` and the plots into ``out``."""
    from .report import write_report

    config = config or LabConfig()
    out = Path(out)
    (out / "raw").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    bank = sentence_bank(data, config.model, reviews=config.reviews, confidence=config.confidence,
                         max_words=config.max_words, seed=config.seed, filler_words=config.filler_words, log=log)
    results: dict = {"config": asdict(config), "sizes": bank.sizes, "data": str(data)}
    for experiment in (vanishing, adding, radius, clipping, speed, direction, depth):
        began = time.perf_counter()
        results[experiment.__name__] = experiment(bank, config, out / "raw", log)
        log(f"{experiment.__name__}: {time.perf_counter() - began:.0f} s")
    results["minutes"] = (time.perf_counter() - started) / 60
    write_atomically(out / "results.json", json.dumps(results, indent=1, default=float) + "\n")  # before judging
    write_report(out, results)
    log(f"lab done in {results['minutes']:.1f} min: {out / 'report.md'}")
    return results


# --- building and fitting ------------------------------------------------------------------------

def sentence_model(bank: SentenceBank, config: LabConfig, seed: int, *, initializer: str = "orthogonal",
                   **architecture) -> keras.Model:
    """A recurrent classifier on the bank's frozen word vectors, last-state read-out unless told otherwise."""
    keras.utils.set_random_seed(seed)
    architecture = {"cell": "gru", "bidirectional": False, "pooling": "last", **architecture}
    model = build_model(len(bank.embeddings), embedding_dim=bank.embeddings.shape[1], dropout=0.0,
                        units=architecture.pop("units", config.units), **architecture)
    embedding = model.get_layer("embedding")
    embedding.set_weights([bank.embeddings])
    embedding.trainable = False
    if initializer != "orthogonal":  # Keras' default for recurrent kernels
        for layer in model.layers:
            cell = getattr(getattr(layer, "forward_layer", layer), "cell", None)
            if cell is not None:
                kernel = cell.recurrent_kernel
                kernel.assign(keras.initializers.get(initializer)(kernel.shape))
    return model


class _StopWhenSolved(keras.callbacks.Callback):
    def __init__(self, monitor: str, threshold: float):
        super().__init__()
        self.monitor, self.threshold = monitor, threshold

    def on_epoch_end(self, epoch, logs=None):
        if (logs or {}).get(self.monitor, -np.inf) >= self.threshold:
            self.model.stop_training = True


def fit_classifier(model, train, validation, config: LabConfig, *, epochs: int | None = None) -> dict:
    """Fit with binary cross-entropy; the run's figures (best validation accuracy, epochs, losses)."""
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(*train, validation_data=validation, epochs=config.epochs if epochs is None else epochs,
                        batch_size=config.batch_size, callbacks=[_StopWhenSolved("val_accuracy", config.solved)],
                        verbose=0)
    accuracy = [float(v) for v in history.history.get("val_accuracy", [])]
    return {"val_accuracy": max(accuracy, default=float("nan")), "epochs": len(accuracy),
            "loss": [float(v) for v in history.history["loss"]]}


def _task(bank, config, distance, seed, **kwargs):
    train = long_range(bank, distance, config.train_examples, seed, **kwargs)
    validation = long_range(bank, distance, config.validation_examples, seed + 1, part="validation", **kwargs)
    return train, validation


def _seeds(config: LabConfig):
    return [config.seed + 100 * s for s in range(config.seeds)]


def ratio_profile(model, probe) -> list[float]:
    """``||dL/dx_t||`` against the distance ``d`` from the last token (index ``d``), relative to ``d = 0``."""
    norms = time_step_gradient_norms(model, *probe)[::-1]
    return [float(v) for v in norms / norms[0]] if norms[0] > 0 else [float("nan")] * len(norms)


# --- the experiments -----------------------------------------------------------------------------

VANISHING_ARMS = {"rnn": {"cell": "rnn"}, "rnn (glorot W_hh)": {"cell": "rnn", "initializer": "glorot_uniform"},
                  "lstm": {"cell": "lstm"}, "gru": {"cell": "gru"}}


def vanishing(bank, config, raw, log) -> dict:
    """1. Accuracy against distance and the gradient against distance, RNN / LSTM / GRU, two initializers."""
    probe = long_range(bank, config.probe_distance, config.probe_examples, config.seed + 7, part="validation")
    gradients = {}
    for cell in ("rnn", "lstm", "gru"):
        for initializer in ("orthogonal", "glorot_uniform"):
            profiles = [ratio_profile(sentence_model(bank, config, seed, cell=cell, initializer=initializer), probe)
                        for seed in _seeds(config)]
            gradients[f"{cell} {initializer}"] = {"seeds": [p[config.probe_distance] for p in profiles],
                                                  "profile": np.mean(profiles, axis=0).tolist()}
    accuracy = {}
    for name, arm in VANISHING_ARMS.items():
        accuracy[name] = {}
        for distance in config.distances:
            runs = [fit_classifier(sentence_model(bank, config, seed, **arm), *_task(bank, config, distance, seed), config)
                    for seed in _seeds(config)]
            accuracy[name][str(distance)] = {"seeds": [r["val_accuracy"] for r in runs], "epochs": [r["epochs"] for r in runs]}
            log(f"vanishing: {name} at distance {distance}: {_fmt(accuracy[name][str(distance)]['seeds'])}")
    return {"accuracy": accuracy, "gradients": gradients}


def adding(bank, config, raw, log) -> dict:
    """1b. The adding problem: validation MSE against sequence length (predicting the mean scores 1/6)."""
    layers = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}
    results = {}
    for cell, layer in layers.items():
        results[cell] = {}
        for length in config.adding_lengths:
            mse = []
            for seed in _seeds(config):
                keras.utils.set_random_seed(seed)
                model = keras.Sequential([keras.Input((length, 2)), layer(config.units), keras.layers.Dense(1)])
                model.compile(optimizer=keras.optimizers.Adam(config.adding_learning_rate), loss="mse")
                history = model.fit(*adding_problem(length, config.train_examples, seed), batch_size=32, verbose=0,
                                    validation_data=adding_problem(length, config.validation_examples, seed + 1),
                                    epochs=config.adding_epochs)
                mse.append(float(min(history.history["val_loss"])))
            results[cell][str(length)] = {"seeds": mse}
            log(f"adding: {cell} length {length}: MSE {_fmt(mse, 4)}")
    return results


def radius(bank, config, raw, log) -> dict:
    """2. The plain RNN's W_hh rescaled to a spectral radius: the gradient ratio over the probe distance."""
    probe = long_range(bank, config.probe_distance, config.probe_examples, config.seed + 7, part="validation")
    results = {}
    for activation in ("tanh", "linear"):
        for r in config.radii:
            ratios = []
            for seed in _seeds(config):
                model = sentence_model(bank, config, seed, cell="rnn")
                if activation == "linear":
                    model.get_layer("rnn_1").cell.activation = keras.activations.linear
                set_recurrent_spectral_radius(model, "rnn_1", r)
                ratios.append(ratio_profile(model, probe)[config.probe_distance])
            results[f"{activation} {r:g}"] = {"activation": activation, "radius": r, "seeds": ratios}
            log(f"radius: {activation} {r:g}: ratio {_fmt(ratios, 2, 'e')}")
    return results


def clipping(bank, config, raw, log) -> dict:
    """3. The adding problem, plain SGD on a plain RNN whose W_hh starts at radius > 1: no clipping vs Keras' three modes."""
    modes = {"no clipping": {}, "clipnorm": {"clipnorm": config.clip}, "global_clipnorm": {"global_clipnorm": config.clip},
             "clipvalue": {"clipvalue": config.clip_value}}
    length = config.explode_length
    results = {}
    for mode, clip in modes.items():
        runs = []
        for seed in _seeds(config):
            keras.utils.set_random_seed(seed)
            model = keras.Sequential([keras.Input((length, 2)), keras.layers.SimpleRNN(config.units, name="rnn_1"),
                                      keras.layers.Dense(1)])
            set_recurrent_spectral_radius(model, "rnn_1", config.explode_radius)
            train = adding_problem(length, config.train_examples, seed)
            validation = adding_problem(length, config.validation_examples, seed + 1)
            initial = float(np.mean((model(train[0][:256])[:, 0] - train[1][:256]) ** 2))
            model.compile(optimizer=keras.optimizers.SGD(config.explode_learning_rate, **clip), loss="mse")
            monitor = GradientMonitor(raw / f"clipping-{mode.replace(' ', '-')}-{seed}.csv", every=1)
            history = model.fit(*train, validation_data=validation, epochs=config.explode_epochs, batch_size=32,
                                callbacks=[monitor], verbose=0)
            losses = [r["loss"] for r in monitor.rows]
            runs.append({"val_mse": float(history.history["val_loss"][-1]), "initial_loss": initial, "step_loss": losses,
                         "nan_steps": int(sum(r["nan"] for r in monitor.rows)),
                         "max_loss": float(np.nanmax(losses)) if losses else float("nan"),
                         "max_norm": float(max((r["global_norm"] for r in monitor.rows if np.isfinite(r["global_norm"])), default=np.nan)),
                         "clipped_fraction": monitor.rows[-1]["clipped_fraction"] if monitor.rows else 0.0})
        results[mode] = {"seeds": runs}
        log(f"clipping: {mode}: NaN steps {[r['nan_steps'] for r in runs]}, val MSE {_fmt([r['val_mse'] for r in runs], 4, 'g')}")
    return results


def _matched_gru_units(input_dim: int, lstm_units: int) -> int:
    """GRU units whose parameter count is closest to an LSTM of ``lstm_units`` on ``input_dim`` inputs."""
    def params(layer):
        layer.build((None, None, input_dim))
        return layer.count_params()

    target = params(keras.layers.LSTM(lstm_units))
    return min(range(1, 3 * lstm_units), key=lambda u: abs(params(keras.layers.GRU(u)) - target))


def speed(bank, config, raw, log) -> dict:
    """4. LSTM vs GRU: seconds per training step at equal units and equal parameters, interleaved; accuracy by seed."""
    matched = _matched_gru_units(bank.embeddings.shape[1], config.units)
    arms = {"lstm": {"cell": "lstm"}, "gru": {"cell": "gru"}, f"gru {matched} units": {"cell": "gru", "units": matched}}
    train, _ = _task(bank, config, config.task_distance, config.seed)
    batch = (train[0][: config.batch_size], train[1][: config.batch_size])
    models = {}
    for name, arm in arms.items():
        models[name] = sentence_model(bank, config, config.seed, **arm)
        models[name].compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="binary_crossentropy")
        models[name].train_on_batch(*batch)  # build the step function outside the timing
    seconds = {name: [] for name in arms}
    for _ in range(config.speed_rounds):  # round-robin: each round times every arm under the same machine load
        for name, model in models.items():
            began = time.perf_counter()
            for _ in range(config.speed_steps):
                model.train_on_batch(*batch)
            seconds[name].append((time.perf_counter() - began) / config.speed_steps)
    results = {"matched_units": matched, "sequence_length": int(batch[0].shape[1]), "arms": {}}
    for name, arm in arms.items():
        runs = [fit_classifier(sentence_model(bank, config, seed, **arm), *_task(bank, config, config.task_distance, seed), config)
                for seed in _seeds(config)]
        results["arms"][name] = {"seconds_per_step": seconds[name], "parameters": int(models[name].count_params() - bank.embeddings.size),
                                 "seeds": [r["val_accuracy"] for r in runs]}
        log(f"speed: {name}: {np.median(seconds[name]) * 1000:.1f} ms/step, val {_fmt(results['arms'][name]['seeds'])}")
    return results


def direction(bank, config, raw, log) -> dict:
    """5. Uni- vs bidirectional GRU, the sentence at the start (far from the read-out) or at the end."""
    distance = config.direction_distance
    results = {}
    for where in ("start", "end"):
        for bidirectional in (False, True):
            name = f"{'bidirectional' if bidirectional else 'unidirectional'}, sentence at the {where}"
            runs, family = [], []
            for seed in _seeds(config):
                model = sentence_model(bank, config, seed, bidirectional=bidirectional)
                runs.append(fit_classifier(model, *_task(bank, config, distance, seed, where=where), config))
                if where == "end":  # a sentence classifier: the family sentences, left-padded like its inputs
                    ids = bank.vectorizer(np.asarray(FAMILY)).numpy()
                    family.append(model.predict(_left_pad(ids), verbose=0)[:, 0].tolist())
            results[name] = {"where": where, "bidirectional": bidirectional, "seeds": [r["val_accuracy"] for r in runs],
                             "family": family}
            log(f"direction: {name}: val {_fmt(results[name]['seeds'])}")
    return results


def _left_pad(ids: np.ndarray) -> np.ndarray:
    out = np.zeros_like(ids)
    for i, row in enumerate(ids):
        tokens = row[row > 0]
        out[i, out.shape[1] - len(tokens):] = tokens
    return out


def depth(bank, config, raw, log) -> dict:
    """6. 1-8 stacked layers, no / residual / dense / highway connections: accuracy and bottom-layer gradient."""
    cell, bottom = config.depth_cell, f"{config.depth_cell}_1"
    probe = long_range(bank, config.depth_distance, config.probe_examples, config.seed + 7, part="validation")
    results = {}
    for connection in ("none", "residual", "dense", "highway"):
        for layers in config.depths:
            if layers == 1 and connection != "none":
                continue  # one layer has nothing to connect
            runs = []
            for seed in _seeds(config):
                model = sentence_model(bank, config, seed, cell=cell, num_layers=layers, connection=connection)
                init = layer_gradient_norms(model, *probe)[bottom]
                run = fit_classifier(model, *_task(bank, config, config.depth_distance, seed), config, epochs=config.depth_epochs)
                runs.append({"val_accuracy": run["val_accuracy"], "bottom_init": init,
                             "bottom_trained": layer_gradient_norms(model, *probe)[bottom]})
            results[f"{layers} {connection}"] = {"layers": layers, "connection": connection, "seeds": runs}
            log(f"depth: {layers} layers, {connection}: val {_fmt([r['val_accuracy'] for r in runs])}, "
                f"bottom gradient {_fmt([r['bottom_init'] for r in runs], 2, 'e')}")
    return results


def _fmt(values, digits: int = 3, kind: str = "f") -> str:
    return "[" + ", ".join(f"{v:.{digits}{kind}}" for v in values) + "]"
