"""The CLI exists, explains itself and maps errors to exit codes."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from heartkeep.cli import app


def test_help_lists_what_heartkeep_does() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "heart-rate" in result.output


def test_the_suite_never_reaches_the_real_home_folders(tmp_path: Path) -> None:
    """Without `home`, heartkeep's default folders are the run's throw-away XDG folders."""
    import os

    from heartkeep.config import default_dirs

    data_dir, config_dir = default_dirs({})
    real_home = Path.home()
    assert not data_dir.is_relative_to(real_home / ".local")
    assert not config_dir.is_relative_to(real_home / ".config")
    assert data_dir.is_relative_to(os.environ["XDG_DATA_HOME"])
