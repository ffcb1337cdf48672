"""Put the typo corrector (sentiment.spelling) in front of a trained model, without retraining it.

    python -m training.typos --model saved_models/default --data ../shared/data/aclImdb_v1.tar.gz --out /tmp/typo-default

The new folder has the same weights, a ``typo_corrector`` layer before the vectorizer, the config's
``data.typo_rarer_than`` set, and validation and test accuracy measured again (the model reads
text differently, so it is a new model, evaluated once). Training with ``typo_rarer_than`` in the
config builds the same layer (``python -m training.train``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path


def add_corrector(model_dir: str | Path, data: str, out: str | Path, rarer_than: int, log=print) -> dict:
    """Write ``out``: ``model_dir`` read through a typo corrector; return its new metrics."""
    from sentiment import model_folder
    from sentiment.config import Config
    from sentiment.data import load_split
    from sentiment.metrics import binary_metrics
    from sentiment.model import end_to_end
    from sentiment.spelling import corrector

    source = model_folder.load_classifier(model_dir)
    model, config = source.model, Config.from_dict(source.config)
    if "typo_corrector" in [layer.name for layer in model.layers]:
        raise ValueError(f"{model_dir} already reads text through a typo corrector")
    vectorizer, window = model.get_layer("vectorizer"), model.get_layer("token_window")
    inner = model.layers[-1]  # the token-ids classifier, the last layer of end_to_end's model
    load = dict(validation_fraction=config.data.validation_fraction, seed=config.data.seed)
    texts = load_split(data, "train", **load).texts + load_split(data, "unsupervised", **load).texts
    layer = corrector(vectorizer.get_vocabulary(), texts, rarer_than)
    log(f"{len(layer.known)} words outside the vocabulary seen at least {rarer_than} times are kept as they are")
    new = end_to_end(vectorizer, inner, window.max_length, layer)
    config = Config.from_dict({**config.to_dict(), "data": {**config.to_dict()["data"], "typo_rarer_than": rarer_than}})

    metrics = json.loads((Path(model_dir) / model_folder.METRICS_FILE).read_text())
    classifier = type(source)(new, config.to_dict())
    for split in ("validation", "test"):
        reviews = load_split(data, split, **load)
        metrics[split] = binary_metrics(reviews.labels, classifier.predict(reviews.texts))
        log(f"{split} accuracy {metrics[split]['accuracy']:.4f}")
    metrics["typo_corrector"] = {"rarer_than": rarer_than, "known_words": len(layer.known), "added_to": str(model_dir)}

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
            "\n".join(filter(None, [previous, "python -m training.typos " + " ".join(sys.argv[1:])])) + "\n")

    model_folder.save_folder(out, write)
    return metrics


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.typos", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a trained model folder")
    parser.add_argument("--data", required=True, help="'tfds', an aclImdb folder or aclImdb_v1.tar.gz (the model's data)")
    parser.add_argument("--out", required=True, help="the new model folder (may be --model itself)")
    parser.add_argument("--rarer-than", type=int, default=3,
                        help="correct words seen fewer than this many times in the training and unlabelled reviews (default: 3)")
    args = parser.parse_args(argv)
    if args.rarer_than < 1:
        parser.error(f"--rarer-than must be >= 1, got {args.rarer_than}")

    from sentiment.data import DataError
    from sentiment.model_folder import ModelLoadError

    try:
        add_corrector(args.model, args.data, args.out, args.rarer_than, log=lambda m: print(m, file=sys.stderr))
    except (ModelLoadError, DataError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
