"""cnntui: a terminal workbench for CNN image classifiers built with Keras 3."""

import os as _os

from cnntui import quiet_tf as _quiet_tf

# Quiet TensorFlow's start-up chatter and pin Keras to TensorFlow, before anything imports
# them. Users can still override both from their environment (CNNTUI_TF_VERBOSE=1).
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
_quiet_tf.install()

__version__ = "0.1.0"
