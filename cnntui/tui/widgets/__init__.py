"""Reusable widgets: live plots and terminal images."""
