"""Docs are code: every command has help, and docs/cli.md is the current `--help` output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from heartkeep.cli import docgen

ROOT = Path(__file__).resolve().parents[1]


def test_every_command_has_help_text() -> None:
    for path in docgen.command_paths():
        text = docgen.help_text(path)
        assert "Usage:" in text, path
        body = text.split("Usage:", 1)[1]
        assert len(body.strip().splitlines()) > 2, f"{path} has no help text"


def test_cli_reference_is_current() -> None:
    # A fresh interpreter, as `make docs` runs it: in this process other tests have loaded
    # modules (error classes among them) that the generator must find on its own.
    rendered = subprocess.run(
        [sys.executable, "-m", "heartkeep.cli.docgen"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    current = (ROOT / "docs" / "cli.md").read_text()
    assert current.strip() == rendered.strip(), "run `make docs` to regenerate docs/cli.md"
    assert "`store_damaged`" in current  # error classes outside errors.py are listed too


def test_readme_quickstart_has_exactly_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = quickstart.split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in block.splitlines()[1:] if line.strip()]
    assert commands == ["make demo", "make test"]
