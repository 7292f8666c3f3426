"""A modal path picker: a directory tree; Enter picks a file, u picks the highlighted folder."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Footer, Label


class PathPicker(ModalScreen[str | None]):
    """Pick a folder (``u``) or, with ``files=True``, a file (Enter)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("u", "use_highlighted", "Use this"),
        Binding("backspace", "parent", "Up a folder"),
    ]

    def __init__(self, start: str | Path = ".", *, files: bool = False, title: str = "") -> None:
        super().__init__(classes="picker")
        start_path = Path(start).expanduser()
        if not start_path.is_dir():
            start_path = start_path.parent if start_path.parent.is_dir() else Path.cwd()
        self.start = start_path.resolve()
        self.files = files
        self.heading = title or (
            "Pick a file (Enter) or folder (u)"
            if files
            else "Pick a folder: u uses the highlighted one"
        )

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.heading)
            yield Label(str(self.start), id="picker-root")
            yield DirectoryTree(self.start, id="picker-tree")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(DirectoryTree).focus()

    @on(DirectoryTree.FileSelected)
    def _file(self, event: DirectoryTree.FileSelected) -> None:
        if self.files:
            self.dismiss(str(event.path))

    def action_use_highlighted(self) -> None:
        tree = self.query_one(DirectoryTree)
        node = tree.cursor_node
        if node is not None and node.data is not None:
            self.dismiss(str(node.data.path))

    def action_parent(self) -> None:
        tree = self.query_one(DirectoryTree)
        parent = Path(tree.path).resolve().parent
        tree.path = parent
        self.query_one("#picker-root", Label).update(str(parent))

    def action_cancel(self) -> None:
        self.dismiss(None)
