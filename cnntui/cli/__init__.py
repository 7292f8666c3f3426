"""The Typer command-line face of cnntui: thin commands over ``cnntui.core``."""
