"""Image folders in either tutorial layout, found by their sub-folder names.

- split layout: ``DIR/train/<class>/…`` plus optional ``DIR/val|validation/<class>/…`` and
  ``DIR/test/<class>/…``;
- class layout: ``DIR/<class>/…``, split later by a validation fraction and a seed.

Every regular, non-hidden file under a class folder (at any depth) is a candidate: the
check pass decides whether it is a usable image, so nothing is dropped silently.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cnntui.core.data.errors import DataError

SPLIT_NAMES = {
    "train": "train",
    "training": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "test": "test",
    "testing": "test",
}
JUNK_FILES = {"thumbs.db", "desktop.ini", "icon\r"}
LAYOUT_HINT = "expected DIR/<class>/image.jpg or DIR/train/<class>/image.jpg (+ DIR/val/<class>/)"


@dataclass
class FolderScan:
    """Candidate files of a folder source: ``files[split]`` is a list of (path, class index)."""

    root: Path
    layout: str  # "split" or "classes"
    class_names: list[str]
    files: dict[str, list[tuple[str, int]]]
    split_dirs: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def class_counts(self, split: str) -> dict[str, int]:
        counts = dict.fromkeys(self.class_names, 0)
        for _, label in self.files.get(split, []):
            counts[self.class_names[label]] += 1
        return counts


def _subdirs(path: Path) -> list[Path]:
    return sorted(
        (p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )


def _visible_files(path: Path) -> list[Path]:
    return [
        p
        for p in path.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.name.lower() not in JUNK_FILES
    ]


def _class_files(class_dir: Path) -> list[str]:
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(class_dir, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or name.lower() in JUNK_FILES:
                continue
            found.append(os.path.join(dirpath, name))
    return found


def _classes_in(split_dir: Path, label: str) -> list[Path]:
    classes = _subdirs(split_dir)
    if not classes:
        loose = _visible_files(split_dir)
        what = f"{len(loose)} loose files but no" if loose else "no"
        raise DataError(f"{split_dir} ({label}) has {what} class folders; {LAYOUT_HINT}")
    return classes


def _top_folders(root: Path) -> list[Path]:
    """``root``'s visible sub-folders; raise for a missing, non-folder or empty ``root``."""
    if not root.exists():
        raise DataError(f"data folder not found: {root}")
    if not root.is_dir():
        raise DataError(f"{root} is not a folder; {LAYOUT_HINT}")
    top = _subdirs(root)
    if top:
        return top
    loose = _visible_files(root)
    if loose:
        raise DataError(
            f"{root} has {len(loose)} files but no class folders; put the images in one "
            f"sub-folder per class ({LAYOUT_HINT})"
        )
    raise DataError(f"data folder is empty: {root}; {LAYOUT_HINT}")


def _check_same_classes(root: Path, split: str, names: list[str], dirs: list[Path]) -> None:
    theirs = [p.name for p in dirs]
    if set(theirs) == set(names):
        return
    missing = sorted(set(names) - set(theirs))
    extra = sorted(set(theirs) - set(names))
    parts = [f"{split} lacks {', '.join(missing)}"] if missing else []
    parts += [f"{split} has extra {', '.join(extra)}"] if extra else []
    raise DataError(
        f"class folders differ between train and {split} in {root}: "
        f"{'; '.join(parts)}. Every split needs the same class folders"
    )


def _split_layout(
    root: Path, top: list[Path], warnings: list[str]
) -> tuple[str, dict[str, Path], dict[str, list[Path]]]:
    """``(layout, split folders, class folders per split)``: ``split`` when ``root`` has a
    ``train/`` folder (and maybe ``val/``, ``test/``), else ``classes``."""
    splits = {SPLIT_NAMES[p.name.lower()]: p for p in top if p.name.lower() in SPLIT_NAMES}
    if "train" not in splits:
        return "classes", {"train": root}, {"train": top}
    others = [p.name for p in top if p.name.lower() not in SPLIT_NAMES]
    if others:
        warnings.append(f"ignored folders next to train/: {', '.join(others)}")
    class_dirs = {s: _classes_in(d, s) for s, d in splits.items()}
    names = [p.name for p in class_dirs["train"]]
    for split, dirs in class_dirs.items():
        if split != "train":
            _check_same_classes(root, split, names, dirs)
    return "split", splits, class_dirs


def scan_folder(root: str | Path) -> FolderScan:
    """Find the layout, classes and candidate files of ``root``; raise :class:`DataError`
    for a missing or empty folder, a single class, or classes differing between splits."""
    root = Path(root).expanduser()
    warnings: list[str] = []
    layout, splits, class_dirs = _split_layout(root, _top_folders(root), warnings)
    names = [p.name for p in class_dirs["train"]]
    where = splits["train"]
    if len(names) < 2:
        raise DataError(
            f"only one class folder ({names[0]!r}) in {where}: a classifier needs at least two "
            f"classes, one sub-folder each"
        )
    index = {n: i for i, n in enumerate(names)}
    files: dict[str, list[tuple[str, int]]] = {}
    for split, dirs in class_dirs.items():
        files[split] = [(f, index[d.name]) for d in dirs for f in _class_files(d)]
    if not files["train"]:
        raise DataError(f"no files in the class folders of {where} ({len(names)} classes)")
    scan = FolderScan(
        root=root,
        layout=layout,
        class_names=names,
        files=files,
        split_dirs={s: str(p) for s, p in splits.items()},
        warnings=warnings,
    )
    for split in files:
        empty = [c for c, n in scan.class_counts(split).items() if n == 0]
        if empty:
            warnings.append(f"{split}: empty class folders: {', '.join(empty)}")
    return scan
