"""``python -m cnntui.core.train RUN_DIR``: train a prepared run, one line per epoch."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from cnntui.core.runs import Run
    from cnntui.core.train.lines import LineSink
    from cnntui.core.train.runner import execute

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m cnntui.core.train RUN_DIR", file=sys.stderr)
        return 2
    try:
        result = execute(Run(__import__("pathlib").Path(args[0])), sinks=[LineSink()])
    except Exception as exc:  # noqa: BLE001 - already recorded in the run; one line here
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 1 if result.status == "failed" else 0


if __name__ == "__main__":
    sys.exit(main())
