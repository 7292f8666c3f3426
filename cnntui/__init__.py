"""cnntui: a terminal workbench for CNN image classifiers built with Keras 3."""

import os as _os

from cnntui import quiet_tf as _quiet_tf
from cnntui.core import backend as _backend

# Quiet TensorFlow's start-up chatter and pin the Keras backend (TensorFlow where installed,
# see cnntui.core.backend), before anything imports them. Users can still override both from
# their environment (KERAS_BACKEND=jax, CNNTUI_TF_VERBOSE=1) or with `cnntui --backend`.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_backend.init_env()
_quiet_tf.install()

__version__ = "0.1.0"
