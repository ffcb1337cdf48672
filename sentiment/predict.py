"""Classify texts with a saved model; one JSON object per line.

    python -m sentiment.predict --model saved_models/default "the movie was terribly exciting"
    printf 'great film\\nawful film\\n' | python -m sentiment.predict --model saved_models/default
"""

from __future__ import annotations

import argparse
import sys


def main(argv=None, stdin=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sentiment.predict", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="saved_models/default", help="model folder (default: saved_models/default)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="texts per model call, sorted by length (default: calls planned by length)")
    parser.add_argument("texts", nargs="*", help="texts to classify; without any, one text per line is read from stdin")
    args = parser.parse_args(argv)
    if args.batch_size is not None and args.batch_size < 1:
        parser.error(f"--batch-size must be >= 1, got {args.batch_size}")

    from sentiment.files import split_lines

    texts = args.texts
    if not texts:
        stream = stdin if stdin is not None else sys.stdin.buffer
        raw = stream.read()
        if isinstance(raw, bytes):
            # Undecodable bytes become U+FFFD rather than a crash; the text is still classified.
            raw = raw.decode("utf-8", errors="replace")
        texts = [line for line in split_lines(raw) if line.strip()]
        if not texts:
            parser.error("no text given: pass texts as arguments or one per line on stdin")

    from sentiment.cli import print_json
    from sentiment.model_folder import ModelLoadError, load_classifier

    try:
        classifier = load_classifier(args.model)
    except ModelLoadError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for row in classifier.classify(texts, batch_size=args.batch_size):
        print_json(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
