"""CLI commands: `heartkeep study …` — run a research study on PostgreSQL (docs/studies.md).

A skin over `heartkeep.api_study`: each command reads the study's config (`--config`, else
`HEARTKEEP_STUDY_CONFIG`, else study.toml in heartkeep's config folder; `HEARTKEEP_STUDY_*`
variables override it), calls one function and renders what it returns.  Nothing of the study
loads until one of these commands runs, so personal commands start as fast as before.
"""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from heartkeep.cli import render, study_participants
from heartkeep.cli.grouphelp import HelpGroup
from heartkeep.cli.study_options import ConfigOption, JsonOption, when
from heartkeep.errors import Interrupted

study_app = typer.Typer(
    cls=HelpGroup,
    name="study",
    help="Run a research study: many participants on PostgreSQL, enrolled on the web, synced by "
    "workers (docs/studies.md).  Start with `heartkeep study init`.",
    no_args_is_help=True,
)


@study_app.command("init")
def init(
    database_url: Annotated[
        str,
        typer.Option(
            "--database-url",
            help="The study's PostgreSQL database (postgresql://…); its schema is created now.",
        ),
    ],
    name: Annotated[
        str, typer.Option("--name", help="The study's name, shown to participants.")
    ] = "Heart-rate study",
    public_url: Annotated[
        str,
        typer.Option(
            "--public-url", help="Where participants and Google reach `study serve` (HTTPS)."
        ),
    ] = "http://127.0.0.1:8080",
    sandbox_url: Annotated[
        str | None,
        typer.Option("--sandbox-url", help="Use the built-in sandbox there instead of Google."),
    ] = None,
    client_id: Annotated[
        str | None, typer.Option("--client-id", help="The Google OAuth web client's id.")
    ] = None,
    client_secret: Annotated[
        str | None,
        typer.Option("--client-secret", help="Its secret (or set it later in the file)."),
    ] = None,
    verified: Annotated[
        bool,
        typer.Option("--verified-app", help="Google has verified the OAuth app (no 100-user cap)."),
    ] = False,
    consent: Annotated[
        Path | None,
        typer.Option("--consent", help="The consent text participants accept (a file)."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Create a study: its database schema, then a commented config file (mode 0600) with fresh
    secrets, the key file that seals participants' tokens, and a consent placeholder.  Prints
    the coordinator's password once.  Never replaces an existing config."""
    from heartkeep import api_study

    created, settings = api_study.init_study(
        config,
        name=name,
        database_url=database_url,
        public_base_url=public_url,
        sandbox_url=sandbox_url,
        client_id=client_id,
        client_secret=client_secret,
        app_class="verified" if verified else "unverified",
        consent_file=consent,
    )
    render.line(f"Study {settings.name!r} created; schema ready in the database.")
    render.address(f"  config       {created.config_file}  (0600: holds secrets)")
    render.address(
        f"  token keys   {created.keys_file}  (0600: back it up apart from the database)"
    )
    render.address(
        f"  consent text {created.consent_file}"
        + ("  (a placeholder: put your approved text there)" if created.consent_created else "")
    )
    render.line(
        f"Coordinator login: {created.coordinator_user} / {created.coordinator_password}"
        "  (shown once; only its hash is kept)"
    )
    render.address(f"Register this redirect URI on the OAuth web client: {settings.redirect_uri}")
    render.line("Next: `heartkeep study doctor`, then `heartkeep study serve` and `study worker`.")


@study_app.command("status")
def status(
    config: ConfigOption = None,
    days: Annotated[
        int, typer.Option("--days", min=1, max=62, help="Days of completeness to show.")
    ] = 7,
    stopped_days: Annotated[
        float,
        typer.Option(
            "--stopped-days", min=0, help="Flag a participant whose newest sample is older."
        ),
    ] = 2.0,
    as_json: JsonOption = False,
) -> None:
    """Every participant: last sync, completeness per day (worn share of each local day),
    whose data stopped arriving and whose grant was revoked."""
    from heartkeep import api_study

    report = api_study.study_status(
        api_study.study_config(config), days=days, stopped_days=stopped_days
    )
    if as_json:
        render.print_json(report.as_json())
        return
    _completeness(report)


@study_app.command("export")
def export(
    destination: Annotated[Path, typer.Argument(help="A new folder for the dataset.")],
    config: ConfigOption = None,
    participant: Annotated[
        list[str] | None,
        typer.Option(
            "--participant",
            help="Only this participant, by study id or account key (repeatable); default all.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write the study's heart rate as Parquet partitioned by participant and month
    (participant=…/month=YYYY-MM/part-0.parquet), which DuckDB, pandas and Spark read as one
    dataset."""
    from heartkeep import api_study

    def progress(key: str, samples: int) -> None:
        if not as_json:
            render.info(f"{key}: {samples:,} samples")

    settings = api_study.study_config(config)
    try:
        result = api_study.export_study(
            settings, destination, participants=participant, progress=progress
        )
    except KeyboardInterrupt:
        raise Interrupted(
            f"export interrupted: nothing was written to {destination} (the partial dataset "
            "was removed)",
            hint="Run the command again to export.",
        ) from None
    summary = {
        "path": str(result.path),
        "participants": result.participants,
        "files": result.files,
        "samples": result.samples,
        "bytes": result.bytes,
    }
    if as_json:
        render.print_json(summary)
        return
    render.address(
        f"Exported {result.samples:,} samples of {result.participants} participants in "
        f"{result.files} files ({result.bytes / 1e6:.1f} MB) to {result.path}"
    )


@study_app.command("doctor")
def doctor(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Check the study's config, the OAuth app's class (an unverified app: 100 users at most,
    2.5 requests/s each), the database and the token keys; say what to do.

    Exit codes: 0 all well; 11 warnings only; 12 at least one problem."""
    from heartkeep import api_study
    from heartkeep.cli.doctor import show_report  # its module loads the personal settings

    show_report(api_study.study_doctor(api_study.study_config(config)), as_json=as_json)


study_participants.register(study_app)  # invite, withdraw: listed after doctor


@study_app.command("serve")
def serve(config: ConfigOption = None) -> None:
    """Serve the study site (invites, consent, Google sign-in, coordinator pages) and the
    webhook endpoint on the config's [web] listen_host:listen_port until Ctrl-C or SIGTERM.
    Put an HTTPS proxy in front for the public URL (docs/studies.md)."""
    from heartkeep import api_study

    settings = api_study.study_config(config)

    def started(url: str) -> None:
        render.address(f"study site serving on {url}  (Ctrl-C stops it)")
        render.address(f"  public URL      {settings.public_base_url}")
        render.address(f"  coordinator     {settings.public_base_url.rstrip('/')}/coordinator")
        render.address(
            f"  webhook         {settings.public_base_url.rstrip('/')}/webhooks/google-health"
        )

    previous = signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C
    try:
        api_study.serve_study(settings, on_started=started)
    except KeyboardInterrupt:
        render.line("study site stopped")
    finally:
        signal.signal(signal.SIGTERM, previous)


@study_app.command("worker")
def worker(
    config: ConfigOption = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            min=1,
            max=64,
            help="Sync jobs at once (default: [worker] concurrency; at most 64: start more "
            "workers for more).",
        ),
    ] = None,
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Stop once the queues are empty.")
    ] = False,
    quota_speedup: Annotated[
        float,
        typer.Option(
            "--quota-speedup",
            min=1.0,
            max=1000.0,
            hidden=True,
            help="Against the sandbox only: its quota clock runs this much faster.",
        ),
    ] = 1.0,
) -> None:
    """Run sync jobs from the study's task queue until Ctrl-C or SIGTERM (running jobs finish
    first).  Start as many as the study needs, on any hosts that reach the database."""
    from heartkeep import api_study

    api_study.run_study_worker(
        api_study.study_config(config),
        concurrency=concurrency,
        until_idle=until_idle,
        quota_speedup=quota_speedup,
    )


@study_app.command("demo")
def demo(
    participants: Annotated[
        int, typer.Option("--participants", min=1, max=100, help="Synthetic participants.")
    ] = 50,
    days: Annotated[
        int, typer.Option("--days", min=1, max=30, help="Days each has worn the watch.")
    ] = 7,
    workers: Annotated[int, typer.Option("--workers", min=1, max=8, help="Worker processes.")] = 2,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="An empty PostgreSQL database to use (default: a new one on the local "
            "server, or a throw-away server).",
        ),
    ] = None,
    keep: Annotated[
        bool,
        typer.Option("--keep", help="Keep the database and the config folder afterwards."),
    ] = False,
) -> None:
    """A whole study on this machine: PostgreSQL, the sandbox with synthetic participants, the
    study site, every participant enrolled over HTTP (invite, consent, OAuth), two workers,
    then the completeness table."""
    from heartkeep import api_study

    try:
        result = api_study.study_demo(
            participants=participants,
            days=days,
            workers=workers,
            database_url=database_url,
            keep=keep,
            say=render.info,
        )
    except KeyboardInterrupt:
        left = (
            "the database and the config folder stay (--keep), half made"
            if keep
            else "its workers were stopped, and the database and the files it made are gone"
            if not database_url
            else "its workers were stopped; the tables it made in --database-url stay"
        )
        raise Interrupted(
            f"study demo interrupted: {left}", hint="Run `heartkeep study demo` again."
        ) from None
    rate = result.samples / result.sync_s if result.sync_s else 0.0
    render.line(
        f"{result.participants} participants: enrolled in {result.enrol_s:.1f} s, "
        f"{result.samples:,} samples synced in {result.sync_s:.1f} s ({rate:,.0f}/s)"
    )
    _completeness(result.status)
    if result.kept:
        render.address(f"Kept: --config {result.folder / 'study.toml'}  ({result.database_url})")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _completeness(report: Any) -> None:
    """The completeness table of a `StudyStatus`, then who is revoked or stopped."""
    if not report.participants:
        render.line("Nobody is enrolled yet: send invites with `heartkeep study invite`.")
        return
    day_labels = [day[5:] for day, _ in report.participants[0].days]
    render.table(
        f"Completeness (worn share of each day), {len(report.participants)} participants",
        ["participant", "account", "last sync", *day_labels, "mean", "state"],
        [
            (
                p.label or "-",  # the study's own id: what a coordinator knows them by
                p.account_key,
                when(p.last_sync_s),
                *(f"{share:.0%}" for _, share in p.days),
                "-" if p.completeness is None else f"{p.completeness:.0%}",
                "; ".join(
                    filter(None, (p.grant_state or ("stopped" if p.stopped else ""), p.reconnect))
                ),
            )
            for p in report.participants
        ],
    )
    for p in report.revoked:
        who = p.account_key if p.label is None else f"{p.label} ({p.account_key})"
        if p.reconnect is not None:
            todo = f"{p.reconnect}, link until {when(p.reconnect_expires_s)} UTC"
        else:
            todo = (
                "send a reconnect link, which keeps their data: "
                f"`heartkeep study invite --reconnect {p.label or p.account_key}`"
            )
        render.warning(f"{who}: access {p.grant_state} ({p.last_error}); {todo}")
    for p in report.stopped:
        who = p.account_key if p.label is None else f"{p.label} ({p.account_key})"
        render.warning(f"{who}: no data since {when(p.newest_sample_s)} although syncs succeed")


def register(app: typer.Typer) -> None:
    """Attach the `study` group to the root app."""
    app.add_typer(study_app)
