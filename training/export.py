"""Export a model folder as a TensorFlow SavedModel for TensorFlow Serving.

    python -m training.export --model saved_models/default --out export/sentiment/1

The SavedModel has a ``serving_default`` signature taking a ``[None]`` string tensor ``text``
and returning ``output_0``, the probability of ``pos`` (``[None, 1]``). Serve it with
TensorFlow Serving's image: see the README.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path


def export(model_dir: str | Path, out: str | Path) -> Path:
    """Write the SavedModel atomically (a temporary sibling folder, then a rename)."""
    from sentiment import model_folder

    classifier = model_folder.load_classifier(model_dir)

    def write(folder: Path) -> None:
        shutil.rmtree(folder)  # Keras' exporter wants to create the folder itself
        classifier.model.export(str(folder), format="tf_saved_model", verbose=False)

    return model_folder.save_folder(out, write)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="saved_models/default", help="model folder (default: saved_models/default)")
    parser.add_argument("--out", required=True, help="SavedModel folder, versioned for TensorFlow Serving: export/NAME/1")
    args = parser.parse_args(argv)
    from sentiment.model_folder import ModelLoadError

    try:
        path = export(args.model, args.out)
    except (ModelLoadError, OSError) as err:  # OSError: an unwritable --out, or one that is not a model folder
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {path} (signature serving_default: text [None] string -> output_0 [None, 1] float)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
