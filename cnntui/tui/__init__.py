"""The Textual workbench: ``cnntui`` with no command opens it."""
