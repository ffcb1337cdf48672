import json

import pytest

from sentiment.config import Config, ModelConfig


def test_round_trips_through_json(tmp_path):
    config = Config().replace(cell="lstm", num_layers=3, residual=True, global_clipnorm=1.0, epochs=7)
    path = tmp_path / "config.json"
    path.write_text(config.to_json())
    assert Config.from_json(path) == config
    assert json.loads(path.read_text())["model"]["num_layers"] == 3


def test_overrides_are_coerced_from_strings():
    config = Config().replace(units="32", bidirectional="false", learning_rate="0.01", max_train_samples="100")
    assert (config.model.units, config.model.bidirectional, config.model.learning_rate) == (32, False, 0.01)
    assert config.train.max_train_samples == 100


@pytest.mark.parametrize("bad", [{"model": {"unitz": 3}}, {"modle": {}}, {"train": {"epochs": "many"}}])
def test_unknown_or_bad_keys_are_rejected(bad):
    with pytest.raises(ValueError, match="unknown|not a valid"):
        Config.from_dict(bad)


def test_two_clipping_modes_is_a_clear_error():
    with pytest.raises(ValueError, match="at most one of clipnorm, global_clipnorm, clipvalue"):
        ModelConfig(clipnorm=1.0, clipvalue=0.5)


@pytest.mark.parametrize("field, value", [("cell", "transformer"), ("pooling", "attention"), ("dropout", 1.5), ("num_layers", 0)])
def test_invalid_values_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        ModelConfig(**{field: value})


def test_shipped_recipe_file_is_valid():
    from conftest import ROOT

    config = Config.from_json(ROOT / "training" / "configs" / "default.json")
    assert config.model.bidirectional
