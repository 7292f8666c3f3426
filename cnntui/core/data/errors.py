"""The one exception data code raises for a user's mistake (a ``ValueError``: exit 2)."""

from __future__ import annotations

from cnntui.core.errors import CnntuiError


class DataError(CnntuiError, ValueError):
    """Data that cannot be used, with a message saying what, where and what to do."""
