"""The CLI exists, explains itself and maps errors to exit codes."""

from __future__ import annotations

from typer.testing import CliRunner

from heartkeep.cli import app


def test_help_lists_what_heartkeep_does() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "heart-rate" in result.output
