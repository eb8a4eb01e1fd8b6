"""The command-line skin over `heartkeep.api`."""

from heartkeep.cli.app import app, main

__all__ = ["app", "main"]
