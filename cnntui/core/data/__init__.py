"""Data sources: one ``--data SOURCE`` for every command.

``load_data(source, ...)`` returns a :class:`DataBundle` of batched ``tf.data`` pipelines
plus everything the run directory records about preprocessing and classes.
"""

from cnntui.core.data.bundle import DataBundle, load_data, resolve_source

__all__ = ["DataBundle", "load_data", "resolve_source"]
