"""Widgets and Qt item models of the main window."""
