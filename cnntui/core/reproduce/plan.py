"""Which data each tutorial entry is reproduced on, and on whose terms.

``--data`` values: ``SOURCE`` (every entry), or ``ENTRY=SOURCE`` where ``ENTRY`` is a name
or an fnmatch pattern (``catsdogs-*=~/catsdogs``), repeatable; the last match wins.
Without one, an entry trains on its article's own dataset (``Reported.data``) when that
is at hand (a Keras dataset already downloaded), and is otherwise listed as not run,
with the command that runs it.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from cnntui.core.data.keras_datasets import MANUAL_FILES, keras_datasets_dir
from cnntui.core.data.sources import SAMPLE_NAME
from cnntui.core.errors import ConfigError
from cnntui.core.registry import ModelEntry

SAMPLE_LABEL = "sample: bundled digits, not the article's data"


@dataclass
class Plan:
    """How one entry is reproduced: its source, or why it is not run and how to run it."""

    entry: ModelEntry
    source: str | None
    label: str
    article_data: bool  # the article's own dataset (or a folder the user named for it)
    not_run: str = ""  # "needs …" when there is no data to run on
    command: str = ""

    @property
    def validate_on(self) -> str:
        """``test`` where the article validated on the test set and the source has one."""
        r = self.entry.reported
        return "test" if r.split == "test" and self.source not in (None, SAMPLE_NAME) else "split"


def parse_data(values: list[str] | None) -> tuple[str | None, list[tuple[str, str]]]:
    """``(SOURCE for every entry or None, [(ENTRY pattern, SOURCE), …])``.

    Raises :class:`ConfigError` for an empty side of ``ENTRY=SOURCE`` or two sources for
    every entry.
    """
    default: str | None = None
    mapping: list[tuple[str, str]] = []
    for value in values or []:
        left, sep, right = value.partition("=")
        if sep and not Path(value).expanduser().exists():
            if not left.strip() or not right.strip():
                raise ConfigError(f"--data must be SOURCE or ENTRY=SOURCE; got {value!r}")
            mapping.append((left.strip(), right.strip()))
        elif default is not None:
            raise ConfigError(
                f"--data: two sources for every entry ({default!r}, {value!r}); "
                "name the entry for one of them: --data ENTRY=SOURCE"
            )
        else:
            default = value
    return default, mapping


def check_mapping(mapping: list[tuple[str, str]], names: list[str]) -> None:
    """Refuse an ``ENTRY=`` pattern that matches none of the selected entries."""
    for pattern, _ in mapping:
        if not any(fnmatch.fnmatch(n, pattern) for n in names):
            raise ConfigError(
                f"--data {pattern}=…: no selected tutorial entry matches {pattern!r}; "
                f"selected: {', '.join(names)}"
            )


def keras_dataset_at_hand(name: str) -> bool:
    """Whether Keras's download of dataset ``name`` is already on this machine."""
    where = keras_datasets_dir()
    for _, dest in MANUAL_FILES.get(name, []):
        extracted = dest.removesuffix("-target_archive")
        if (where / dest).exists() or (where / extracted).exists():
            return True
    return False


def plan_entry(entry: ModelEntry, default: str | None, mapping: list[tuple[str, str]]) -> Plan:
    """The :class:`Plan` of ``entry`` for the ``--data`` values parsed by :func:`parse_data`."""
    r = entry.reported
    named = [src for pattern, src in mapping if fnmatch.fnmatch(entry.name, pattern)]
    source = named[-1] if named else default
    if source is not None:
        if source == SAMPLE_NAME:
            return Plan(entry, source, SAMPLE_LABEL, article_data=False)
        own = source == r.data or (not r.data and bool(named))
        label = source if own else f"{source} (not the article's {r.dataset or 'data'})"
        return Plan(entry, source, label, article_data=own)
    if r.data and keras_dataset_at_hand(r.data):
        return Plan(entry, r.data, r.data, article_data=True)
    needs = r.needs or (
        f"the {r.data} dataset (Keras downloads it; not here yet)" if r.data else ""
    )
    target = r.data or "DIR"
    return Plan(
        entry,
        None,
        f"not run: needs {needs or 'data'}",
        article_data=False,
        not_run=f"needs {needs or 'data'}",
        command=f"cnntui reproduce {entry.name} --data {entry.name}={target}",
    )
