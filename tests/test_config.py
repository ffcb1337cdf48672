import json

import pytest

from sentiment.config import Config, ModelConfig, TrainConfig


def test_round_trips_through_json(tmp_path):
    config = Config().replace(cell="lstm", num_layers=3, connection="highway", global_clipnorm=1.0, epochs=7)
    path = tmp_path / "config.json"
    path.write_text(config.to_json())
    assert Config.from_json(path) == config
    assert json.loads(path.read_text())["model"]["num_layers"] == 3


def test_overrides_are_coerced_from_strings():
    config = Config().replace(units="32", bidirectional="false", learning_rate="0.01", max_train_samples="100")
    assert (config.model.units, config.model.bidirectional, config.train.learning_rate) == (32, False, 0.01)
    assert config.train.max_train_samples == 100


@pytest.mark.parametrize("bad", [{"model": {"unitz": 3}}, {"modle": {}}, {"train": {"epochs": "many"}}])
def test_unknown_or_bad_keys_are_rejected(bad):
    with pytest.raises(ValueError, match="unknown|not a valid"):
        Config.from_dict(bad)


def test_two_clipping_modes_is_a_clear_error():
    with pytest.raises(ValueError, match="at most one of clipnorm, global_clipnorm, clipvalue"):
        TrainConfig(clipnorm=1.0, clipvalue=0.5)
    assert TrainConfig(global_clipnorm=1.0).clipping() == {"global_clipnorm": 1.0} and TrainConfig().clipping() == {}


@pytest.mark.parametrize("field, value", [("cell", "transformer"), ("pooling", "attention"), ("dropout", 1.5), ("num_layers", 0)])
def test_invalid_values_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        ModelConfig(**{field: value})


def test_shipped_recipe_file_is_valid():
    from conftest import ROOT

    config = Config.from_json(ROOT / "training" / "configs" / "default.json")
    assert config.model.bidirectional


def test_the_model_section_is_architecture_only():
    model_keys = {f.name for f in __import__("dataclasses").fields(ModelConfig)}
    assert not model_keys & {"optimizer", "learning_rate", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue"}


OLD_LAYOUT = {  # a config.json as the project wrote it before the optimizer moved to the train section
    "data": {"max_length": 800, "max_tokens": 20000, "seed": 1337, "validation_fraction": 0.1},
    "model": {"bidirectional": True, "cell": "gru", "clipnorm": None, "clipvalue": None, "dropout": 0.4,
              "embedding_dim": 128, "embedding_dropout": 0.3, "ensemble": "", "global_clipnorm": 1.0,
              "learning_rate": 0.0015, "merge_mode": "concat", "num_layers": 1, "optimizer": "lazy_adam",
              "pooling": "max_mean", "recurrent_dropout": 0.0, "residual": False, "units": 128, "weight_decay": 0.0},
    "train": {"batch_size": 64, "batching": "bucket", "epochs": 4, "lr_schedule": "constant", "student_init": "fresh",
              "teacher": "rnn+nbsvm", "teacher_units": 0, "word_vectors": "word2vec"},
}


def test_an_old_config_file_migrates_to_the_new_layout(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(OLD_LAYOUT))
    config = Config.from_json(path)
    assert (config.train.optimizer, config.train.learning_rate, config.train.clipping()) == \
        ("lazy_adam", 0.0015, {"global_clipnorm": 1.0})
    assert (config.model.units, config.train.teacher, config.train.epochs) == (128, "rnn+nbsvm", 4)
    assert Config.from_dict(json.loads(config.to_json())) == config  # and round-trips in the new layout
    assert "learning_rate" not in json.loads(config.to_json())["model"]


@pytest.mark.parametrize("section, key, value", [("model", "ensemble", "lstm,gru"), ("train", "lr_schedule", "cosine"),
                                                 ("train", "student_init", "teacher"), ("train", "teacher", "lstm+gru+nbsvm")])
def test_a_config_that_switches_on_a_retired_mode_is_a_clear_error(section, key, value):
    raw = json.loads(json.dumps(OLD_LAYOUT))
    raw[section][key] = value
    with pytest.raises(ValueError, match=f"{key}=.*retired"):
        Config.from_dict(raw)


@pytest.mark.parametrize("name", ["default", "fast", "tuned-imdb"])
def test_shipped_model_configs_are_in_the_new_layout_and_load(name):
    from conftest import ROOT

    raw = json.loads((ROOT / "saved_models" / name / "config.json").read_text())
    config = Config.from_dict(raw)
    assert json.loads(config.to_json()) == raw  # migrated on disk: nothing left for the loader to move


@pytest.mark.parametrize("residual, connection", [(True, "residual"), (False, "none")])
def test_an_old_residual_switch_becomes_a_connection(residual, connection):
    raw = json.loads(json.dumps(OLD_LAYOUT))
    raw["model"]["residual"] = residual
    config = Config.from_dict(raw)
    assert config.model.connection == connection and "residual" not in json.loads(config.to_json())["model"]


def test_a_residual_switch_next_to_a_connection():
    raw = json.loads(json.dumps(OLD_LAYOUT))
    raw["model"]["connection"] = "dense"
    assert Config.from_dict(raw).model.connection == "dense"  # residual=false says nothing against it
    raw["model"]["residual"] = True
    with pytest.raises(ValueError, match="residual=true and connection='dense' disagree"):
        Config.from_dict(raw)


def test_a_training_key_set_differently_in_both_sections_is_a_clear_error():
    raw = json.loads(json.dumps(OLD_LAYOUT))
    raw["train"]["learning_rate"] = 0.01
    with pytest.raises(ValueError, match="learning_rate is set in both"):
        Config.from_dict(raw)
