"""The real workbench in a pseudo-terminal that answers like a sixel terminal (device
attributes with 4, 10 x 20 pixel cells): ``cnntui`` picks sixel before Textual starts, and
the Predict screen writes the file's sixel at the picture's place. Slow: a real process
that loads TensorFlow and predicts with a real checkpoint."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

import pytest
from PIL import Image

from cnntui.core.images import Preprocessing
from tests.explain_factory import SIZE, quadrant_images, quadrant_models
from tests.run_factory import write_run

F6, ENTER, CTRL_Q = "\x1b[17~", "\r", "\x11"
SIXEL = re.compile(r'\x1b\[(\d+);(\d+)H\x1bP[0-9;]*q"1;1;(\d+);(\d+)')


class Terminal:
    """A 100 x 32 pty (1000 x 640 pixels) answering the sixel query, recording the output."""

    def __init__(self, argv: list[str]):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 32, 100, 1000, 640))
        env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.output = ""
        self.answers = {"\x1b[c": "\x1b[?62;4;22c"}

    def read_until(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found := re.search(pattern, self.output):
                return found
            if select.select([self.master], [], [], 0.1)[0]:
                try:
                    self.output += os.read(self.master, 65536).decode(errors="replace")
                except OSError:
                    break
                for query in [q for q in self.answers if q in self.output]:
                    os.write(self.master, self.answers.pop(query).encode())
        raise AssertionError(f"no {pattern!r} in the output after {timeout:.0f}s")

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> int:
        """The exit code once the app has quit (killed after 30 s, never left running)."""
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            os.close(self.master)


@pytest.mark.slow
def test_workbench_in_a_sixel_terminal_draws_the_prediction_as_sixels(tmp_path_factory, tmp_path):
    models = quadrant_models(tmp_path_factory.getbasetemp())
    write_run(models["softmax"], ["plain", "bright"], pre=Preprocessing(image_size=(SIZE, SIZE)))
    x, _, _ = quadrant_images(1, seed=3, positive=True)
    Image.fromarray(x[0, ..., 0]).save(tmp_path / "one.png")
    term = Terminal([sys.executable, "-m", "cnntui", "--graphics", "auto"])
    try:
        term.read_until("F6 Predict", 60)
        term.send(F6)
        term.read_until("Ctrl\\+O browses|Enter predicts", 30)
        term.send(f"{tmp_path / 'one.png'}{ENTER}")
        row, column, width, height = map(int, term.read_until(SIXEL.pattern, 180).groups())
        assert (width, height) == (200, 200)  # 32 pixels at 20 x 10 cells of 10 x 20 pixels
        assert column > 36 and row > 3  # in the detail pane, right of the 36-column file list
        assert "one.png" in term.output
    finally:
        term.send(CTRL_Q)
        code = term.close()
    assert code == 0
