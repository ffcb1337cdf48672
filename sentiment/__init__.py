"""Recurrent sentiment classifiers for IMDB with Keras: data, builder, training, prediction, serving.

Nothing heavy runs at import time; TensorFlow loads when a model is built or loaded.
"""

import os

from .labels import LABELS

# Keep TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) off users' terminals.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__all__ = ["LABELS", "build_model", "load_classifier", "Config"]


def __getattr__(name):
    if name == "build_model":
        from .model import build_model

        return build_model
    if name == "load_classifier":
        from .model_folder import load_classifier

        return load_classifier
    if name == "Config":
        from .config import Config

        return Config
    raise AttributeError(f"module 'sentiment' has no attribute {name!r}")
