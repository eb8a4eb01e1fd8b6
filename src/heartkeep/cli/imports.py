"""`heartkeep import list` and `heartkeep import undo`: the recorded imports, and taking one back.

Kept apart from `data.py` (which reads archives) because these only read and edit the record
each import leaves: its files by sha256, the zone it used, and what it did.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import typer

from heartkeep.cli import options, render

if TYPE_CHECKING:  # loaded by the commands that use it: `--help` and start-up stay light
    from heartkeep import api


def import_list(
    account: str | None = typer.Option(None, "--account", help="Only this account's imports."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the recorded imports, oldest first: id, when, account, kind, the time zone used,
    files (name and sha256) and what each did.  Importing the same files again replaces the
    import with the same files; `heartkeep import undo ID` takes one back out."""
    from heartkeep import api

    runs = api.import_runs(options.settings(), account=account)
    if as_json:
        render.print_json({"imports": [_as_json(run) for run in runs]})
        return
    if not runs:
        render.line("No imports recorded.")
        return
    for run in runs:
        # One block per import: a table would not fit file names and digests in 80 columns.
        write = run.samples
        render.line(
            f"import {run.import_id}  {_when(run.imported_s)}  {run.account_key}  "
            f"{run.kind}  zone {run.time_zone}"
        )
        render.line(
            f"  {run.samples_read:,} samples read, {write.inserted:,} new, {write.replaced:,} "
            f"replaced, {write.kept:,} kept, {write.merged:,} merged, {run.dailies} daily values"
        )
        for file in run.files:
            render.line(f"  {file.name}  sha256 {file.sha256}  {file.bytes:,} bytes")


def import_undo(
    import_id: int = typer.Argument(..., help="The import's id, from `heartkeep import list`."),
) -> None:
    """Take an import back out: its samples and daily values are removed, the archive values it
    had replaced come back (where no sync has filled their place since), and it leaves the
    list.  Synced data is never touched."""
    from heartkeep import api

    result = api.undo_import(options.settings(), import_id)
    render.info(
        f"Undid import {result.import_id}: removed {result.samples_removed:,} samples and "
        f"{result.dailies_removed} daily values; restored {result.samples_restored:,} samples "
        f"and {result.dailies_restored} daily values it had replaced."
    )


def _when(instant_s: int) -> str:
    return dt.datetime.fromtimestamp(instant_s, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _as_json(run: api.ImportRun) -> dict[str, object]:
    return {
        "id": run.import_id,
        "imported": dt.datetime.fromtimestamp(run.imported_s, dt.UTC).isoformat(),
        "account": run.account_key,
        "kind": run.kind,
        "time_zone": run.time_zone,
        "digest": run.digest,
        "files": [{"name": f.name, "sha256": f.sha256, "bytes": f.bytes} for f in run.files],
        "samples_read": run.samples_read,
        "inserted": run.samples.inserted,
        "replaced": run.samples.replaced,
        "kept": run.samples.kept,
        "merged": run.samples.merged,
        "conflicts": run.samples.conflicts,
        "dailies": run.dailies,
    }


def register(import_app: typer.Typer) -> None:
    """Attach `list` and `undo` to the `import` group."""
    import_app.command("list")(import_list)
    import_app.command("undo")(import_undo)
