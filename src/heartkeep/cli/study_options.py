"""What every `heartkeep study …` command module shares: the --config and --json options, and
how an instant is written (UTC, to the minute)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="The study's config file (default: $HEARTKEEP_STUDY_CONFIG, else study.toml in "
        "heartkeep's config folder).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document for scripts.")]


def when(instant_s: int | None) -> str:
    if instant_s is None:
        return "never"
    return dt.datetime.fromtimestamp(instant_s, dt.UTC).strftime("%Y-%m-%d %H:%M")
