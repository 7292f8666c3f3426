"""Headless core of cnntui: never imports Textual or Rich."""
