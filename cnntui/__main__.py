"""``python -m cnntui`` runs the CLI."""

from cnntui.cli.main import main

main()
