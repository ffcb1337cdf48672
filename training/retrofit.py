"""Change how a trained model reads text (typo corrector, identity words) without retraining it.

    python -m training.retrofit --model saved_models/mine --data ../shared/data/aclImdb_v1.tar.gz \\
        --out saved_models/mine-read --typo-rarer-than 3 --identity-words true

The new folder has the same weights, the reading layers of its config in front of the vectorizer
(``data.typo_rarer_than``: the typo corrector of :mod:`sentiment.spelling`; ``data.identity_words``:
the identity words of :mod:`sentiment.identity_words`), the config with the given values, and
validation and test accuracy measured again (the model reads text differently, so it is a new
model, evaluated once). An option left out keeps the model's own layer; ``--typo-rarer-than 0`` and
``--identity-words false`` take one away. Training with the same config builds the same layers
(``python -m training.train``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path


def retrofit(model_dir: str | Path, data: str, out: str | Path, *, typo_rarer_than: int | None = None,
             identity_words: bool | None = None, log=print) -> dict:
    """Write ``out``: ``model_dir``'s weights reading text as the given data options say; return its metrics."""
    from sentiment import model_folder
    from sentiment.config import Config
    from sentiment.data import load_split
    from sentiment.metrics import binary_metrics
    from sentiment.model import end_to_end

    source = model_folder.load_classifier(model_dir)
    model, config = source.model, Config.from_dict(source.config)
    data_config = config.to_dict()["data"]
    changes = {key: value for key, value in (("typo_rarer_than", typo_rarer_than), ("identity_words", identity_words))
               if value is not None and value != data_config[key]}
    if not changes:
        raise ValueError(f"{model_dir} already reads text so (typo_rarer_than={data_config['typo_rarer_than']}, "
                         f"identity_words={data_config['identity_words']}): give a value that changes it")
    config = Config.from_dict({**config.to_dict(), "data": {**data_config, **changes}})
    names = [layer.name for layer in model.layers]
    vectorizer, window = model.get_layer("vectorizer"), model.get_layer("token_window")
    inner = model.layers[-1]  # the token-ids classifier, the last layer of end_to_end's model
    load = dict(validation_fraction=config.data.validation_fraction, seed=config.data.seed)
    corrector = model.get_layer("typo_corrector") if "typo_corrector" in names else None
    if "typo_rarer_than" in changes:
        corrector = _corrector(vectorizer, data, load, config.data.typo_rarer_than, log)
    identity = model.get_layer("identity_words") if "identity_words" in names else None
    if "identity_words" in changes:
        from sentiment.identity_words import identity_words as identity_layer

        identity = identity_layer(vectorizer.get_vocabulary()) if config.data.identity_words else None
    new = end_to_end(vectorizer, inner, window.max_length, corrector, identity)

    metrics = json.loads((Path(model_dir) / model_folder.METRICS_FILE).read_text())
    classifier = type(source)(new, config.to_dict())
    for split in ("validation", "test"):
        reviews = load_split(data, split, **load)
        metrics[split] = binary_metrics(reviews.labels, classifier.predict(reviews.texts))
        log(f"{split} accuracy {metrics[split]['accuracy']:.4f}")
    metrics.setdefault("retrofits", []).append({**changes, "added_to": str(model_dir)})

    def write(folder: Path) -> None:
        for file in Path(model_dir).iterdir():
            if file.is_file() and file.name != model_folder.MODEL_FILE:
                shutil.copy2(file, folder / file.name)
        new.save(folder / model_folder.MODEL_FILE)
        (folder / model_folder.CONFIG_FILE).write_text(config.to_json() + "\n")
        (folder / model_folder.METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n")
        command = (Path(model_dir) / model_folder.COMMAND_FILE)
        previous = command.read_text().strip() if command.is_file() else ""
        (folder / model_folder.COMMAND_FILE).write_text(
            "\n".join(filter(None, [previous, "python -m training.retrofit " + " ".join(sys.argv[1:])])) + "\n")

    model_folder.save_folder(out, write)
    return metrics


def _corrector(vectorizer, data: str, load: dict, rarer_than: int, log):
    if not rarer_than:
        return None
    from sentiment.data import load_split
    from sentiment.spelling import corrector

    texts = load_split(data, "train", **load).texts + load_split(data, "unsupervised", **load).texts
    layer = corrector(vectorizer.get_vocabulary(), texts, rarer_than)
    log(f"{len(layer.known)} words outside the vocabulary seen at least {rarer_than} times are kept as they are")
    return layer


def _boolean(value: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")
    return value.lower() == "true"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.retrofit", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a trained model folder")
    parser.add_argument("--data", required=True, help="'tfds', an aclImdb folder or aclImdb_v1.tar.gz (the model's data)")
    parser.add_argument("--out", required=True, help="the new model folder (may be --model itself)")
    parser.add_argument("--typo-rarer-than", type=int, default=None,
                        help="correct words seen fewer than this many times in the training and unlabelled reviews "
                             "(0: no corrector; default: as the model does)")
    parser.add_argument("--identity-words", type=_boolean, default=None,
                        help="true: read identity words as the unknown word; false: as themselves (default: as the model does)")
    args = parser.parse_args(argv)
    if args.typo_rarer_than is not None and args.typo_rarer_than < 0:
        parser.error(f"--typo-rarer-than must be >= 0, got {args.typo_rarer_than}")

    from sentiment.data import DataError
    from sentiment.model_folder import ModelLoadError

    try:
        retrofit(args.model, args.data, args.out, typo_rarer_than=args.typo_rarer_than,
                 identity_words=args.identity_words, log=lambda m: print(m, file=sys.stderr))
    except (ModelLoadError, DataError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
