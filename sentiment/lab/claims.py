"""The lecture's claims and the rules that judge them from the lab's measured figures.

``judge(results)`` marks each claim confirmed, refuted or unclear; a figure that was not
measured (a missing experiment, a NaN) gives "unclear", never a crash or a confident verdict.
Each ``_judge_*`` rule has the claim as its docstring and the rule text beside its verdict.
"""

from __future__ import annotations

import numpy as np

SEED_SENTENCES = [
    "the movie was terribly exciting",
    "I expected to hate it, but it was wonderful",
    "not bad at all",
    "the acting was good but the plot was terrible",
]
"""Contrast sentences: word attributions of the uni- and bidirectional GRU are shown for each."""


def judge(results: dict) -> list[dict]:
    """Each lecture claim with its verdict, the figures that decided it and the rule used."""
    claims = []
    for judge_one in (_judge_cells, _judge_radius, _judge_clipping, _judge_speed, _judge_direction, _judge_depth):
        try:
            claims.append(judge_one(results))
        except (KeyError, ValueError, TypeError, ZeroDivisionError) as err:  # a figure that was not measured
            claims.append(_claim(judge_one.__doc__, "unclear", f"not judged: {type(err).__name__} {err}",
                                 "needs the figures above"))
    return claims


def _claim(text: str, verdict: str, figures: str, rule: str) -> dict:
    return {"claim": text, "verdict": verdict, "figures": figures, "rule": rule}


def decay(steps: list[float]) -> float:
    """Gradient norm at the first step relative to the last (distance max_length-1 vs 0)."""
    return float(steps[0] / steps[-1]) if steps and steps[-1] > 0 else float("nan")


def _nanmin(*values) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return min(finite) if len(finite) == len(values) else float("nan")


def _judge_cells(results):
    """A plain RNN's gradient from far-away steps vanishes; LSTM and GRU gates fix it."""
    cells = results["cells"]
    rnn, lstm, gru = cells["rnn"], cells["lstm"], cells["gru"]
    d_rnn, d_lstm, d_gru = (decay(c["trained_time_steps"]) for c in (rnn, lstm, gru))
    gated = _nanmin(d_lstm, d_gru)
    distance = results["sizes"]["probe_length"] - 1
    return _claim(
        _judge_cells.__doc__,
        "unclear" if not np.isfinite(gated * d_rnn) else
        "confirmed" if d_rnn * 10 < gated else ("refuted" if d_rnn >= gated else "unclear"),
        f"after training, gradient norm at distance {distance} relative to distance 0: RNN {d_rnn:.2e}, "
        f"LSTM {d_lstm:.2e}, GRU {d_gru:.2e} (at initialization: RNN {decay(rnn['init_time_steps']):.2e}, "
        f"LSTM {decay(lstm['init_time_steps']):.2e}, GRU {decay(gru['init_time_steps']):.2e}); "
        f"validation accuracy RNN {rnn['best_val_accuracy']:.3f}, LSTM {lstm['best_val_accuracy']:.3f}, "
        f"GRU {gru['best_val_accuracy']:.3f}",
        "confirmed if the RNN's ratio is at least 10x smaller than both gated cells'; refuted if it is not smaller")


def _judge_radius(results):
    """The plain RNN's gradient vanishes when the largest eigenvalue of W_hh is below 1 and explodes above 1."""
    rnn = results["cells"]["rnn"]
    d_rnn = decay(rnn["trained_time_steps"])
    distance = results["sizes"]["probe_length"] - 1
    radius_init, radius_trained = rnn["spectral_radius_init"], rnn["spectral_radius_trained"]
    sweep = sorted(results["radii"].values(), key=lambda r: r["radius"])
    decays = [(r["radius"], decay(r["init_time_steps"])) for r in sweep]
    below = [d for r, d in decays if r < 1]
    above = [d for r, d in decays if r > 1]
    at_one = next((d for r, d in decays if r == 1), float("nan"))
    monotonic = all(b[1] <= a[1] * 1.0001 for a, b in zip(decays[1:], decays[:-1]))
    if below and above and monotonic and max(below) < 1e-2 and (not np.isfinite(at_one) or min(above) > at_one):
        verdict = "confirmed" if min(above) > 1e2 else "unclear"
    elif below and max(below) >= 1:
        verdict = "refuted"
    else:
        verdict = "unclear"
    return _claim(
        _judge_radius.__doc__, verdict,
        "gradient ratio over " + str(distance) + " steps at initialization by spectral radius of W_hh: " +
        ", ".join(f"{r:g}: {d:.2e}" for r, d in decays) +
        f"; the default (orthogonal) RNN of experiment 1: radius {radius_init:.3f} at initialization, "
        f"{radius_trained:.3f} after training, ratio after training {d_rnn:.2e}",
        "confirmed when the ratio grows with the radius, is < 1e-2 below 1 and > 1e2 above 1; unclear when it "
        "vanishes below 1 but does not explode above (saturating tanh caps the growth); refuted when it does not "
        "shrink below 1")


def _judge_clipping(results):
    """Gradient clipping fixes exploding gradients."""
    explode = results["exploding"]
    plain, norm, glob = explode["no clipping"], explode["clipnorm"], explode["global_clipnorm"]
    worse = plain["nan_steps"] > 0 or plain["best_val_accuracy"] + 0.02 <= max(norm["best_val_accuracy"], glob["best_val_accuracy"])
    # Clipping "fixes" training only if a clipped run actually learns: within 5 points of the plain RNN of experiment 1.
    reference = results["cells"]["rnn"]["best_val_accuracy"]
    learns = max(norm["best_val_accuracy"], glob["best_val_accuracy"]) >= reference - 0.05
    c = results["config"]
    return _claim(
        _judge_clipping.__doc__,
        "confirmed" if worse and learns and norm["nan_steps"] == 0 and glob["nan_steps"] == 0 else
        ("refuted" if not worse and learns else "unclear"),
        f"plain RNN, W_hh radius {c['explode_radius']}, learning rate {c['explode_learning_rate']}: no clipping: NaN steps "
        f"{plain['nan_steps']}, max gradient norm {plain['max_global_norm']:.3g}, validation {plain['best_val_accuracy']:.3f}; "
        f"clipnorm {c['clip']}: NaN {norm['nan_steps']}, clipped {norm['clipped_fraction']:.0%} of steps, "
        f"validation {norm['best_val_accuracy']:.3f} (the plain RNN at the normal rate: {reference:.3f}); "
        f"global_clipnorm: NaN {glob['nan_steps']}, clipped "
        f"{glob['clipped_fraction']:.0%}, validation {glob['best_val_accuracy']:.3f}",
        "confirmed if the unclipped run has NaN steps or is at least 2 points worse, the clipped runs have none and "
        "one of them learns (within 5 points of the plain RNN at the normal learning rate); "
        "unclear when no clipped run learns; "
        "refuted if the unclipped run is not worse")


def _judge_speed(results):
    """GRU is faster than LSTM and about as good."""
    lstm, gru = results["cells"]["lstm"], results["cells"]["gru"]
    speed = lstm["seconds_per_epoch"] / gru["seconds_per_epoch"]
    gap = lstm["best_val_accuracy"] - gru["best_val_accuracy"]
    return _claim(
        _judge_speed.__doc__,
        "confirmed" if speed > 1.05 and gap <= 0.01 else ("refuted" if speed < 1.0 or gap > 0.02 else "unclear"),
        f"seconds per epoch LSTM {lstm['seconds_per_epoch']:.1f}, GRU {gru['seconds_per_epoch']:.1f} ({speed:.2f}x); "
        f"parameters LSTM {lstm['parameters']:,}, GRU {gru['parameters']:,}; validation LSTM "
        f"{lstm['best_val_accuracy']:.3f}, GRU {gru['best_val_accuracy']:.3f}",
        "confirmed if the GRU is >5% faster and within 1 point; refuted if slower or >2 points worse")


def _judge_direction(results):
    """Bidirectional layers let a word see its right context ('terribly' before 'exciting')."""
    direction = results["direction"]
    uni, bi = direction["unidirectional"], direction["bidirectional"]
    seed = SEED_SENTENCES[0]
    terribly = {k: next((r["attribution"] for r in v["attributions"][seed] if r["word"] == "terribly"), float("nan"))
                for k, v in direction.items()}
    return _claim(
        _judge_direction.__doc__,
        "confirmed" if bi["best_val_accuracy"] > uni["best_val_accuracy"] + 0.005 else
        ("refuted" if bi["best_val_accuracy"] + 0.005 < uni["best_val_accuracy"] else "unclear"),
        f"validation unidirectional {uni['best_val_accuracy']:.3f}, bidirectional {bi['best_val_accuracy']:.3f}; "
        f"'{seed}': P(positive) {uni['probabilities'][seed]:.3f} vs {bi['probabilities'][seed]:.3f}, "
        f"occlusion attribution of 'terribly' {terribly['unidirectional']:+.3f} vs {terribly['bidirectional']:+.3f}",
        "confirmed if bidirectional is > 0.5 point better on validation; refuted if > 0.5 point worse; "
        "the seed sentence is shown, not judged (one sentence is an anecdote)")


def _judge_depth(results):
    """2-4 stacked layers help; deeper stacks (8) need skip connections."""
    depth = results["depth"]
    acc = {k: v["best_val_accuracy"] for k, v in depth.items()}
    deepest = max(results["config"]["depths"])
    plain_deep, res_deep = acc[f"depth-{deepest}"], acc[f"depth-{deepest}-residual"]
    middle = [acc[f"depth-{d}"] for d in results["config"]["depths"] if 2 <= d <= 4 and f"depth-{d}" in acc]
    if not middle:
        raise ValueError("no stack of 2-4 layers was run")
    mid = max(middle)
    return _claim(
        _judge_depth.__doc__,
        "confirmed" if mid > acc["depth-1"] + 0.005 and res_deep > plain_deep + 0.005 else
        ("refuted" if mid + 0.005 < acc["depth-1"] and res_deep + 0.005 < plain_deep else "unclear"),
        "validation " + ", ".join(f"{k} {v:.3f}" for k, v in acc.items()) +
        f"; bottom-layer gradient norm at initialization depth {deepest}: plain "
        f"{depth[f'depth-{deepest}']['bottom_norm_init']:.3g}, residual {depth[f'depth-{deepest}-residual']['bottom_norm_init']:.3g} "
        f"(depth 1: {depth['depth-1']['bottom_norm_init']:.3g})",
        "confirmed if the best of 2 and 4 layers beats 1 layer by > 0.5 point and residual beats plain at the deepest "
        "by > 0.5 point; refuted if both go the other way; unclear otherwise")
