"""Model files that must be refused with a clear error, and without running anything they carry."""

import json
import shutil
import zipfile

import keras
import pytest

from sentiment.model_folder import ModelLoadError, load_classifier


def rewrite_config(src, dst, change):
    """Copy a .keras zip, passing its config.json through ``change``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "config.json":
                data = json.dumps(change(json.loads(data))).encode()
            zout.writestr(item, data)


@pytest.fixture
def model_copy(trained_model, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(trained_model, folder)
    return folder


def test_truncated_file(model_copy):
    data = (model_copy / "model.keras").read_bytes()
    (model_copy / "model.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match="model.keras.*(not a .keras file|could not be loaded)"):
        load_classifier(model_copy)


def test_missing_file(model_copy):
    (model_copy / "model.keras").unlink()
    with pytest.raises(ModelLoadError, match="model.keras is missing"):
        load_classifier(model_copy)


def test_config_naming_an_arbitrary_module_runs_nothing(model_copy, tmp_path):
    marker = tmp_path / "pwned"

    def evil(config):
        config["config"]["layers"][1]["module"] = "os"
        config["config"]["layers"][1]["class_name"] = "system"
        config["config"]["layers"][1]["config"] = f"touch {marker}"
        return config

    original = model_copy / "model.keras"
    rewrite_config(original, tmp_path / "evil.keras", evil)
    shutil.move(tmp_path / "evil.keras", original)
    with pytest.raises(ModelLoadError, match="model.keras could not be loaded"):
        load_classifier(model_copy)
    assert not marker.exists()


def test_lambda_layer_is_refused_by_safe_mode(tmp_path):
    inputs = keras.Input(shape=(), dtype="string")
    outputs = keras.layers.Lambda(lambda x: keras.ops.zeros((keras.ops.shape(x)[0], 1)))(inputs)
    folder = tmp_path / "lambda_model"
    folder.mkdir()
    keras.Model(inputs, outputs).save(folder / "model.keras")
    with pytest.raises(ModelLoadError, match="(?i)lambda|safe_mode"):
        load_classifier(folder)
