"""The lecture's claims and the rules that judge them, written before the runs and counting the spread.

``judge(results)`` marks each claim confirmed, refuted or unclear. Every arm was run over several
seeds; a difference counts only when it is larger than the spread: "A above B" means
``mean(A) - sd(A) > mean(B) + sd(B)`` (:func:`above`), with ``sd`` the seeds' sample standard
deviation. A figure that was not measured (a missing experiment, a NaN) gives "unclear", never a
crash or a confident verdict. Each ``_judge_*`` rule has the claim as its docstring.
"""

from __future__ import annotations

import numpy as np

FAMILY = [
    "the movie was terribly exciting", "the movie was terribly boring",
    "the plot was awfully good", "the plot was awfully bad",
    "an incredibly moving film", "an incredibly dull film",
    "the acting was pretty good", "the acting was pretty bad",
]
"""Intensifier sentences (the lecture's "terribly exciting" and its kin): shown for the direction models, not judged."""

HOLDS, CHANCE = 0.75, 0.6
"""Accuracy a long-range arm must keep (mean - sd) to "hold", and below which (mean + sd) it is "at chance"."""


def stats(values) -> dict:
    """Mean, sample standard deviation, min and max over seeds (NaN when nothing was measured)."""
    v = np.asarray([x for x in values], dtype=float)
    if not len(v) or not np.all(np.isfinite(v)):
        return {"mean": float("nan"), "sd": float("nan"), "min": float("nan"), "max": float("nan"), "n": len(v)}
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
            "min": float(v.min()), "max": float(v.max()), "n": len(v)}


def above(a, b, margin: float = 0.0) -> bool:
    """``a`` beats ``b`` by more than the spread: ``mean(a) - sd(a) > mean(b) + sd(b) + margin``."""
    a, b = stats(a), stats(b)
    return a["mean"] - a["sd"] > b["mean"] + b["sd"] + margin


def show(values, digits: int = 3, kind: str = "f") -> str:
    """``mean ± sd`` of the seeds, e.g. ``0.912 ± 0.004``."""
    s = stats(values)
    return f"{s['mean']:.{digits}{kind}} ± {s['sd']:.{digits if kind == 'f' else 1}{kind}}"


def judge(results: dict) -> list[dict]:
    """Each lecture claim with its verdict, the figures that decided it and the rule used."""
    claims = []
    for judge_one in (_judge_vanishing, _judge_radius, _judge_clipping, _judge_speed, _judge_direction, _judge_depth):
        try:
            claims.append(judge_one(results))
        except (KeyError, ValueError, TypeError, ZeroDivisionError, IndexError) as err:  # a figure not measured
            claims.append(_claim(judge_one.__doc__, "unclear", f"not judged: {type(err).__name__} {err}",
                                 "needs the figures of its experiment"))
    return claims


def _claim(text: str, verdict: str, figures: str, rule: str) -> dict:
    return {"claim": text, "verdict": verdict, "figures": figures, "rule": rule}


def _finite(*groups) -> None:
    for values in groups:
        if not np.isfinite(stats(values)["mean"]):
            raise ValueError("a figure is missing or NaN")


def _judge_vanishing(results):
    """A plain RNN cannot learn from evidence far from its read-out (its gradient vanishes); LSTM and GRU gates can."""
    accuracy = results["vanishing"]["accuracy"]
    distances = sorted(accuracy["rnn"], key=int)
    for arm in ("rnn", "lstm", "gru"):
        _finite(*(accuracy[arm][d]["seeds"] for d in distances))

    def at(arm, d):
        return stats(accuracy[arm][d]["seeds"])

    split = [d for d in distances if at("rnn", d)["mean"] + at("rnn", d)["sd"] < CHANCE and
             max(at(g, d)["mean"] - at(g, d)["sd"] for g in ("lstm", "gru")) > HOLDS]
    rnn_never_worse = all(at("rnn", d)["mean"] + 0.02 >= max(at("lstm", d)["mean"], at("gru", d)["mean"]) for d in distances)
    g = results["vanishing"]["gradients"]
    probe = results["config"]["probe_distance"]
    figures = "; ".join(f"distance {d}: " + ", ".join(f"{arm} {show(accuracy[arm][d]['seeds'])}" for arm in accuracy)
                        for d in distances)
    figures += (f"; gradient at distance {probe} relative to distance 0, at initialization: " +
                ", ".join(f"{arm} {show(g[arm]['seeds'], 1, 'e')}" for arm in g))
    return _claim(
        _judge_vanishing.__doc__,
        "confirmed" if split else ("refuted" if rnn_never_worse else "unclear"),
        figures + (f"; the RNN is at chance and a gated cell holds at distance {', '.join(split)}" if split else ""),
        f"confirmed if at some distance the RNN is at chance (mean + sd < {CHANCE}) while LSTM or GRU holds "
        f"(mean - sd > {HOLDS}); refuted if the RNN is within 2 points of the best gated cell at every distance")


def _judge_radius(results):
    """A plain RNN's gradient vanishes when the largest eigenvalue of W_hh is below 1 and explodes above 1."""
    sweep = results["radius"]
    rows = {a: sorted((r for r in sweep.values() if r["activation"] == a), key=lambda r: r["radius"]) for a in ("linear", "tanh")}
    for r in rows["linear"]:
        _finite(r["seeds"])
    below = [r for r in rows["linear"] if r["radius"] < 1]
    beyond = [r for r in rows["linear"] if r["radius"] > 1]
    if not below or not beyond:
        raise ValueError("the sweep needs a radius below 1 and one above 1")
    means = [np.log10(max(stats(r["seeds"])["mean"], 1e-300)) for r in rows["linear"]]
    grows = all(b >= a - 1e-6 for a, b in zip(means, means[1:]))
    vanishes = all(max(r["seeds"]) < 1e-2 for r in below)
    explodes = all(min(r["seeds"]) > 1e2 for r in beyond)
    probe = results["config"]["probe_distance"]
    return _claim(
        _judge_radius.__doc__,
        "confirmed" if grows and vanishes and explodes else ("refuted" if not grows or not vanishes else "unclear"),
        f"gradient ratio over {probe} steps at initialization (mean ± sd over seeds), by spectral radius: linear RNN " +
        ", ".join(f"{r['radius']:g}: {show(r['seeds'], 1, 'e')}" for r in rows["linear"]) +
        "; tanh RNN " + ", ".join(f"{r['radius']:g}: {show(r['seeds'], 1, 'e')}" for r in rows["tanh"]),
        "judged on the linear RNN (where the lecture's product of Jacobians is exactly W_hh^d): confirmed if the "
        "ratio grows with the radius, every seed is < 1e-2 below 1 and > 1e2 above 1; refuted if it does not grow or "
        "does not vanish below 1; the tanh RNN is shown beside it (its saturation bounds the growth)")


def diverged(run) -> bool:
    """A clipping-experiment run diverged: a NaN step, or a loss above 10x its initial loss."""
    return run["nan_steps"] > 0 or not np.isfinite(run["max_loss"]) or run["max_loss"] > 10 * run["initial_loss"]


def _judge_clipping(results):
    """Gradient clipping fixes exploding gradients."""
    modes = results["clipping"]
    plain = modes["no clipping"]["seeds"]
    clipped = {m: v["seeds"] for m, v in modes.items() if m != "no clipping"}
    if not plain or not clipped:
        raise ValueError("needs the unclipped and the clipped runs")
    initial = stats([r["initial_loss"] for r in plain])["mean"]
    fixes = [m for m, runs in clipped.items() if not any(map(diverged, runs)) and
             stats([r["val_mse"] for r in runs])["mean"] + stats([r["val_mse"] for r in runs])["sd"] < initial]
    figures = "; ".join(f"{m}: diverged {sum(map(diverged, v['seeds']))}/{len(v['seeds'])} seeds, NaN steps "
                        f"{[r['nan_steps'] for r in v['seeds']]}, validation MSE {show([r['val_mse'] for r in v['seeds']], 3, 'g')}, "
                        f"clipped {show([r['clipped_fraction'] for r in v['seeds']], 2)} of steps" for m, v in modes.items())
    c = results["config"]
    return _claim(
        _judge_clipping.__doc__,
        "confirmed" if all(map(diverged, plain)) and fixes else
        ("refuted" if not any(map(diverged, plain)) or all(any(map(diverged, r)) for r in clipped.values()) else "unclear"),
        f"adding problem of length {c['explode_length']}, plain RNN, W_hh radius {c['explode_radius']}, SGD at "
        f"{c['explode_learning_rate']}, initial MSE {initial:.3g}: " + figures +
        (f"; kept finite, below the initial MSE, by {', '.join(fixes)}" if fixes else "") + f" (predicting the mean scores {1 / 6:.3f})",
        "a run diverges if it has a NaN step or its loss exceeds 10x its initial loss; confirmed if every unclipped "
        "seed diverges and, for some clipping mode, no seed diverges and the validation MSE (mean + sd) ends below "
        "the initial MSE; refuted if no unclipped seed diverges or every clipping mode diverges too")


def _judge_speed(results):
    """GRU is faster than LSTM and about as good."""
    arms = results["speed"]["arms"]
    lstm, gru = arms["lstm"], arms["gru"]
    matched = next(v for k, v in arms.items() if k.startswith("gru ") and k.endswith("units"))
    _finite(lstm["seeds"], gru["seeds"], lstm["seconds_per_step"], gru["seconds_per_step"])
    ratios = np.asarray(lstm["seconds_per_step"]) / np.asarray(gru["seconds_per_step"])
    ratio = float(np.median(ratios))
    gap = abs(stats(lstm["seeds"])["mean"] - stats(gru["seeds"])["mean"])
    as_good = gap <= max(0.01, stats(lstm["seeds"])["sd"] + stats(gru["seeds"])["sd"])
    matched_ratio = float(np.median(np.asarray(lstm["seconds_per_step"]) / np.asarray(matched["seconds_per_step"])))
    return _claim(
        _judge_speed.__doc__,
        "confirmed" if ratio > 1.05 and min(ratios) > 1.0 and as_good else
        ("refuted" if ratio < 0.95 or not as_good and gap > 0.02 else "unclear"),
        f"LSTM/GRU seconds per training step at {results['config']['units']} units: median {ratio:.2f}x over "
        f"{len(ratios)} interleaved rounds (min {min(ratios):.2f}x, max {max(ratios):.2f}x); at equal parameters "
        f"({lstm['parameters']:,} LSTM, {matched['parameters']:,} GRU): {matched_ratio:.2f}x; validation LSTM "
        f"{show(lstm['seeds'])}, GRU {show(gru['seeds'])}, equal-parameter GRU {show(matched['seeds'])}",
        "confirmed if the GRU's step is > 5% faster (median of the rounds, and faster in every round) and the "
        "accuracy gap is within 1 point or the seeds' spread; refuted if it is > 5% slower, or > 2 points worse "
        "beyond the spread")


def _judge_direction(results):
    """Bidirectional layers help when the context that decides lies on the right of what a forward pass reads last."""
    arms = {(v["where"], v["bidirectional"]): v["seeds"] for v in results["direction"].values()}
    for values in arms.values():
        _finite(values)
    start = above(arms[("start", True)], arms[("start", False)], 0.02)
    end_same = not above(arms[("end", True)], arms[("end", False)], 0.02)
    return _claim(
        _judge_direction.__doc__,
        "confirmed" if start else ("refuted" if stats(arms[("start", True)])["mean"] <= stats(arms[("start", False)])["mean"] else "unclear"),
        f"distance {results['config']['direction_distance']}, validation: sentence at the start: unidirectional "
        f"{show(arms[('start', False)])}, bidirectional {show(arms[('start', True)])}; sentence at the end: "
        f"unidirectional {show(arms[('end', False)])}, bidirectional {show(arms[('end', True)])}"
        + ("" if end_same else " (bidirectional also better with the sentence at the end)"),
        "confirmed if, with the sentence at the start, bidirectional beats unidirectional by more than the spread + 2 "
        "points; refuted if its mean is not higher; the sentence-at-the-end arms show where the claim stops holding")


def _judge_depth(results):
    """Deep stacks (8 layers) degrade without skip connections and recover with them (residual, dense or highway)."""
    rows = results["depth"]
    acc = {k: [r["val_accuracy"] for r in v["seeds"]] for k, v in rows.items()}
    deepest = max(v["layers"] for v in rows.values())
    plain, shallow = acc[f"{deepest} none"], acc["1 none"]
    _finite(plain, shallow)
    degrades = above(shallow, plain, 0.02)
    recover = [c for c in ("residual", "dense", "highway") if f"{deepest} {c}" in acc and above(acc[f"{deepest} {c}"], plain)]
    bottom = {k: show([r["bottom_init"] for r in v["seeds"]], 1, "e") for k, v in rows.items() if v["layers"] == deepest}
    return _claim(
        _judge_depth.__doc__,
        "confirmed" if degrades and recover else ("refuted" if stats(plain)["mean"] >= stats(shallow)["mean"] - 0.01 else "unclear"),
        "validation " + ", ".join(f"{k} {show(v)}" for k, v in acc.items()) +
        f"; bottom-layer gradient norm at initialization, {deepest} layers: " + ", ".join(f"{k} {v}" for k, v in bottom.items()) +
        f" (1 layer: {show([r['bottom_init'] for r in rows['1 none']['seeds']], 1, 'e')})",
        f"confirmed if 1 layer beats {deepest} plain layers by more than the spread + 2 points and some connection "
        f"beats the {deepest} plain layers by more than the spread; refuted if {deepest} plain layers are within 1 point "
        "of 1 layer (no degradation to recover from)")
