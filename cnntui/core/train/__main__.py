"""``python -m cnntui.core.train RUN_DIR``: train a prepared run, one line per epoch."""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from cnntui.core.errors import CnntuiError
    from cnntui.core.runs import Run
    from cnntui.core.train.lines import LineSink
    from cnntui.core.train.runner import execute

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m cnntui.core.train RUN_DIR", file=sys.stderr)
        return 2
    try:
        result = execute(Run(Path(args[0])), sinks=[LineSink()])
    except CnntuiError as exc:  # already recorded in the run (traceback.txt); one line here
        print(f"error: {exc.describe()}", file=sys.stderr)
        return exc.exit_code
    return 1 if result.status == "failed" else 0


if __name__ == "__main__":
    sys.exit(main())
