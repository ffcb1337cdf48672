"""The lecture-7 lab: its tasks, its verdict rules, its command, and a toy-size run on the fixture."""

import copy
import json

import numpy as np
import pytest

from sentiment.lab import judge
from sentiment.lab.claims import above, stats
from sentiment.lab.tasks import SentenceBank, adding_problem, long_range


def _bank():
    polar = {part: ([np.array([11, 12, 13]), np.array([14])], [np.array([21, 22]), np.array([23, 24, 25, 26])])
             for part in ("train", "validation")}
    return SentenceBank(None, np.zeros((30, 2), "float32"), polar, np.array([5]), {})


def test_the_sentence_ends_exactly_distance_tokens_before_the_read_out():
    ids, labels = long_range(_bank(), 7, 40, seed=0, sentence_length=6)
    assert ids.shape == (40, 13) and set(np.unique(labels)) == {0.0, 1.0}
    assert np.all(ids[:, -7:] == 5)  # the filler, every row
    for row, label in zip(ids, labels):
        sentence = row[:-7][row[:-7] > 0]
        assert len(sentence) and np.all((sentence >= 20) == bool(label))  # the label is the sentence's
        assert np.all(row[: 6 - len(sentence)] == 0)  # padding first, masked by the models
    ids, labels = long_range(_bank(), 7, 10, seed=0, sentence_length=6, where="end")
    assert np.all(ids[:, -1] != 5) and np.all(ids[:, -13:-6][ids[:, -13:-6] > 0] == 5)
    for row, label in zip(ids, labels):  # the sentence, with its label, is last
        sentence = row[-6:][(row[-6:] > 0) & (row[-6:] != 5)]
        assert len(sentence) and np.all((sentence >= 20) == bool(label))


def test_the_adding_problem_sums_the_two_marked_values():
    inputs, targets = adding_problem(20, 50, seed=3)
    assert inputs.shape == (50, 20, 2) and np.all(inputs[:, :, 1].sum(axis=1) == 2)
    assert np.all(inputs[:, :10, 1].sum(axis=1) == 1)  # one marker in the first half
    np.testing.assert_allclose(targets, (inputs[:, :, 0] * inputs[:, :, 1]).sum(axis=1), rtol=1e-6)
    assert np.var(targets) == pytest.approx(1 / 6, abs=0.07)


def test_a_difference_counts_only_beyond_the_spread():
    assert above([0.9, 0.91, 0.92], [0.5, 0.52, 0.51])
    assert not above([0.9, 0.6, 0.75], [0.7, 0.72, 0.71])  # higher mean, but within the spread
    assert np.isnan(stats([0.5, float("nan")])["mean"])


def _textbook():
    """Synthetic lab figures, a textbook outcome in every experiment."""
    seeds = lambda mean: [mean - 0.01, mean, mean + 0.01]  # noqa: E731
    acc = {"rnn": [0.95, 0.52, 0.50], "rnn (glorot W_hh)": [0.9, 0.5, 0.5], "lstm": [0.99, 0.98, 0.6], "gru": [0.99, 0.99, 0.7]}
    clip_run = lambda nan, loss, mse: {"nan_steps": nan, "max_loss": loss, "initial_loss": 1.2, "val_mse": mse,  # noqa: E731
                                       "clipped_fraction": 0.5}
    depth_run = lambda a: {"val_accuracy": a, "bottom_init": 0.1, "bottom_trained": 0.1}  # noqa: E731
    return {
        "config": {"probe_distance": 100, "units": 32, "explode_radius": 1.5, "explode_learning_rate": 0.05,
                   "explode_length": 50, "direction_distance": 100},
        "vanishing": {"accuracy": {arm: {str(d): {"seeds": seeds(a)} for d, a in zip((3, 10, 30), values)}
                                   for arm, values in acc.items()},
                      "gradients": {"rnn orthogonal": {"seeds": [1e-9, 2e-9, 3e-9]}}},
        "radius": {f"{act} {r}": {"activation": act, "radius": r, "seeds": [v, v * 1.1, v * 0.9]}
                   for act in ("linear", "tanh") for r, v in ((0.5, 1e-30), (1.0, 0.5), (1.5, 1e17))},
        "clipping": {"no clipping": {"seeds": [clip_run(3, float("nan"), float("nan"))] * 3},
                     **{m: {"seeds": [clip_run(0, 1.3, 0.2)] * 3} for m in ("clipnorm", "global_clipnorm", "clipvalue")}},
        "speed": {"arms": {"lstm": {"seconds_per_step": [0.012, 0.013, 0.012], "parameters": 20000, "seeds": seeds(0.97)},
                           "gru": {"seconds_per_step": [0.010, 0.010, 0.011], "parameters": 15000, "seeds": seeds(0.97)},
                           "gru 37 units": {"seconds_per_step": [0.012] * 3, "parameters": 20100, "seeds": seeds(0.97)}}},
        "direction": {f"{b} {w}": {"where": w, "bidirectional": b, "seeds": seeds(a)}
                      for (w, b), a in {("start", False): 0.6, ("start", True): 0.95, ("end", False): 0.95, ("end", True): 0.95}.items()},
        "depth": {f"{n} {c}": {"layers": n, "connection": c, "seeds": [depth_run(a)] * 3}
                  for n, c, a in ((1, "none", 0.95), (8, "none", 0.6), (8, "residual", 0.93), (8, "dense", 0.9), (8, "highway", 0.92))},
    }


def test_the_rules_confirm_a_textbook_outcome():
    claims = judge(_textbook())
    assert [c["verdict"] for c in claims] == ["confirmed"] * 6, claims


def test_the_rules_refute_and_stay_unclear_where_they_should():
    results = _textbook()
    for arm in ("lstm", "gru"):  # the gated cells fail as the plain RNN does
        results["vanishing"]["accuracy"][arm] = copy.deepcopy(results["vanishing"]["accuracy"]["rnn"])
    results["clipping"]["no clipping"]["seeds"] = results["clipping"]["clipnorm"]["seeds"]  # nothing explodes
    results["depth"]["8 none"] = results["depth"]["1 none"] | {"layers": 8}  # no degradation to recover from
    verdicts = [c["verdict"] for c in judge(results)]
    assert (verdicts[0], verdicts[2], verdicts[5]) == ("refuted", "refuted", "refuted")

    noisy = _textbook()  # a bidirectional gain inside the seeds' spread is not evidence
    noisy["direction"]["True start"]["seeds"] = [0.5, 0.95, 0.6]
    assert judge(noisy)[4]["verdict"] != "confirmed"


def test_a_missing_or_nan_figure_is_unclear_never_a_crash():
    results = _textbook()
    del results["depth"]["1 none"]
    results["speed"]["arms"]["gru"]["seeds"] = [float("nan")] * 3
    claims = judge(results)
    assert claims[5]["verdict"] == "unclear" and "not judged" in claims[5]["figures"]
    assert claims[3]["verdict"] == "unclear"


@pytest.mark.parametrize("flags, message", [(["--seeds", "1"], "at least 2"), (["--radii", "0.5,0.9"], "above 1"),
                                            (["--depths", "2,4"], "include 1"), (["--distances", "3,x"], "comma-separated"),
                                            (["--depth-cell", "foo"], "one of lstm, gru, rnn"),
                                            (["--speed-steps", "0"], "--speed-steps must be at least 1"),
                                            (["--depth-epochs", "0"], "--depth-epochs must be at least 1"),
                                            (["--adding-lengths", "1,20"], "at least 2"),
                                            (["--clip", "0"], "--clip must be positive"),
                                            (["--model", "no/such/model"], "is not a model folder")])
def test_bad_lab_options_are_clear_errors(flags, message, capsys):
    from training import experiments

    with pytest.raises(SystemExit):
        experiments.main(["lecture7", "--data", "x", *flags])
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_the_quick_lab_runs_on_the_fixture_and_judges_every_claim(tmp_path):
    from conftest import FIXTURE
    from training import experiments

    assert experiments.main(["lecture7", "--quick", "--data", str(FIXTURE), "--out", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    results = json.loads((tmp_path / "results.json").read_text())
    assert len(results["claims"]) == 6
    for claim in results["claims"]:
        assert claim["verdict"] in ("confirmed", "refuted", "unclear") and claim["figures"] in report
        assert "not judged" not in claim["figures"], claim  # every experiment produced its figures
    for image in ("vanishing.png", "adding.png", "radius.png", "clipping.png", "direction.png", "depth.png"):
        assert (tmp_path / image).stat().st_size > 1000 and f"({image})" in report
    assert all(len(arm["seeds"]) == 2 for arm in results["direction"].values())
    assert {v["connection"] for v in results["depth"].values()} == {"none", "residual", "dense", "highway"}
    (tmp_path / "report.md").unlink()  # judged and written again from results.json alone
    assert experiments.main(["lecture7", "--report-only", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "report.md").read_text() == report
