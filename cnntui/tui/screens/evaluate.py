"""placeholder"""

from textual.widgets import Footer, Header

from cnntui.tui.screens.base import WorkbenchScreen


class EvaluateScreen(WorkbenchScreen):
    def compose(self):
        yield Header()
        yield Footer(compact=True)
