"""Exporting a trained run to SavedModel, TFLite (float, fp16, int8) and ONNX, with proof.

:mod:`formats` names the formats and converts; :mod:`runtimes` runs an exported file in its
own runtime; :mod:`parity` compares each against the Keras model; :mod:`sidecars` writes
``labels.txt``, ``preprocessing.json`` and ``MODEL.md``; :mod:`export` puts it together.
"""

from cnntui.core.errors import ExportError
from cnntui.core.export.formats import DEFAULT_FORMATS, FORMATS, parse_formats

__all__ = ["DEFAULT_FORMATS", "FORMATS", "ExportError", "parse_formats"]
