"""Fast start: --help and zoo listing never import TensorFlow, Keras or Textual."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("tensorflow", "keras", "textual", "plotext", "textual_plotext")

PROBE = """
import json, sys
from typer.testing import CliRunner
from cnntui.cli.main import app
result = CliRunner().invoke(app, {args!r})
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})
cli = sorted(m for m in sys.modules if m.startswith("cnntui.cli."))
print(json.dumps({{"code": result.exit_code, "heavy": heavy, "cli": cli, "out": result.stdout}}))
"""


def _probe(args: list[str]) -> dict:
    code = PROBE.format(args=args, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_help_imports_no_heavy_module():
    result = _probe(["--help"])
    assert result["code"] == 0
    assert "zoo" in result["out"]
    assert result["heavy"] == []


def test_help_imports_no_command_module():
    from cnntui.cli.main import COMMANDS

    result = _probe(["--help"])
    assert result["code"] == 0
    modules = {f"cnntui.cli.{module}" for module, *_ in COMMANDS.values()}
    assert modules & set(result["cli"]) == set()
    assert all(name in result["out"] for name in COMMANDS)


def test_zoo_list_imports_only_its_own_command_module():
    from cnntui.cli.main import COMMANDS

    result = _probe(["zoo", "list"])
    assert result["code"] == 0
    modules = {f"cnntui.cli.{module}" for module, *_ in COMMANDS.values()}
    assert modules & set(result["cli"]) == {"cnntui.cli.zoo"}


def test_the_listing_help_is_each_command_s_own():
    from cnntui.cli.main import COMMANDS, load_command

    for name, (*_, listed) in COMMANDS.items():
        help_text = load_command(name).help or ""
        assert help_text.split("\n\n")[0].replace("\n", " ").strip() == listed, name


def test_zoo_list_imports_no_heavy_module():
    result = _probe(["zoo", "list", "--json"])
    assert result["code"] == 0
    assert "mnist-conv-pool" in result["out"]
    assert result["heavy"] == []


def test_console_script_help_runs():
    out = subprocess.run(
        [sys.executable, "-m", "cnntui", "--help"], capture_output=True, text=True, check=True
    )
    assert "Usage" in out.stdout


def test_no_command_without_a_terminal_prints_help_and_says_why():
    out = subprocess.run(
        [sys.executable, "-m", "cnntui"], capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    assert out.returncode == 2
    assert "Commands" in out.stdout
    assert "needs a terminal" in out.stderr
