"""The workbench's choice of drawing, made in a real pseudo-terminal before Textual starts:
textual-image asks the terminal there (nothing answers in a bare pty, which also reports
0 x 0 cells, the case that made textual-image 0.12.0 divide by zero)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from typer.testing import CliRunner

from cnntui.cli.main import app

PROBE = """
import sys
from cnntui.cli.graphics import prepare_workbench
mode = prepare_workbench(sys.argv[1])
cells = None
if mode != "blocks":
    from textual_image._terminal import get_cell_size
    cells = tuple(get_cell_size())
print("RESULT", mode, cells, "textual_image.widget" in sys.modules, "textual_image" in sys.modules)
"""


SIXEL_TERMINAL = {"\x1b[c": "\x1b[?62;4;22c"}  # device attributes: 4 is sixel (xterm -ti vt340)


def in_pty(requested: str, answers: dict[str, str] | None = None) -> str:
    """The probe's RESULT line, run with stdin, stdout and stderr on a fresh pty that
    writes ``answers[query]`` back when the probe sends ``query`` (a terminal's replies)."""
    answers = dict(answers or {})
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", PROBE, requested],
        stdin=slave, stdout=slave, stderr=slave, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    output = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the pty
            break
        if not chunk:
            break
        output += chunk
        for query in [q for q in answers if q.encode() in output]:
            os.write(master, answers.pop(query).encode())
    os.close(master)
    assert proc.wait(timeout=60) == 0, output.decode(errors="replace")
    text = output.decode(errors="replace")
    return text[text.index("RESULT") :].splitlines()[0]


def test_protocol_named_outright_on_a_silent_terminal():
    # the widget module is imported (the cell size cached) before any app starts
    assert in_pty("sixel") == "RESULT sixel (10, 20) True True"
    assert in_pty("kitty") == "RESULT kitty (10, 20) True True"


def test_auto_on_a_terminal_that_answers_nothing_and_blocks_asking_nothing():
    assert in_pty("auto") == "RESULT blocks None False True"  # asked, no answer: half blocks
    assert in_pty("blocks") == "RESULT blocks None False False"  # textual-image not imported


def test_auto_picks_sixel_when_the_terminal_says_it_has_it():
    assert in_pty("auto", SIXEL_TERMINAL) == "RESULT sixel (10, 20) True True"


def test_bad_workbench_graphics_exits_2_but_a_bad_variable_stops_no_command():
    runner = CliRunner()
    res = runner.invoke(app, ["--graphics", "iterm"])
    assert res.exit_code == 2
    assert "--graphics must be one of auto, kitty, sixel, blocks; got 'iterm'" in res.output
    res = runner.invoke(app, ["zoo", "list"], env={"CNNTUI_GRAPHICS": "iterm"})
    assert res.exit_code == 0 and "mnist-mlp" in res.stdout
