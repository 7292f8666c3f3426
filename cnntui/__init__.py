"""cnntui: a terminal workbench for CNN image classifiers built with Keras 3."""

import os as _os

# Quiet TensorFlow's C++ start-up chatter and pin Keras to TensorFlow, before anything
# imports them. Users can still override both from their environment.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
