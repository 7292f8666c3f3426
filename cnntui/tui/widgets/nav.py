"""The top line of every screen: the screens with their F-keys, the current one marked."""

from __future__ import annotations

from textual.widgets import Static

# (mode name, label): the order of F1…F6
SCREENS = (
    ("zoo", "Zoo"),
    ("data", "Data"),
    ("train", "Train"),
    ("runs", "Runs"),
    ("evaluate", "Evaluate"),
    ("predict", "Predict"),
)


def screen_bar_markup(current: str) -> str:
    """``cnntui  F1 Zoo  F2 Data …`` with the current screen highlighted and each one clickable."""
    parts = ["[b]cnntui[/b] "]
    for i, (name, label) in enumerate(SCREENS, 1):
        style = "reverse b" if name == current else "dim"
        parts.append(f"[@click=app.switch_mode('{name}')][{style}] F{i} {label} [/][/]")
    return "".join(parts)


class ScreenBar(Static):
    """One line: where you are and how to get to the other screens (F1–F6)."""

    DEFAULT_CSS = """
    ScreenBar {
        height: 1;
        background: $panel;
        padding: 0 1;
    }
    """

    def __init__(self, current: str) -> None:
        super().__init__(screen_bar_markup(current), id="screen-bar")
