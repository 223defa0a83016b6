"""The desk's screens and dialogs: one a module."""
