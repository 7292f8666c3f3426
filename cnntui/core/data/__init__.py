"""Data sources: one ``--data SOURCE`` for every command.

``load_data(source, ...)`` returns a :class:`DataBundle` of batched ``tf.data`` pipelines
plus everything the run directory records about preprocessing and classes;
``inspect_source(source)`` returns the inspection report behind ``cnntui data inspect``.
"""

from cnntui.core.data.bundle import DataBundle, DataOptions, load_data, resolve_source
from cnntui.core.data.errors import DataError
from cnntui.core.data.inspect import inspect_source

__all__ = [
    "DataBundle",
    "DataError",
    "DataOptions",
    "inspect_source",
    "load_data",
    "resolve_source",
]
