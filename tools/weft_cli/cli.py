"""The `weft` command: serve a service, run the dev stack, back up and restore, mint dev tokens, tail the bus,
build the fast database."""

# No `from __future__ import annotations`: typer evaluates the annotations at runtime,
# and the per-service commands' help texts close over a loop variable.
import asyncio
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer

from weft_cli.services import SERVICES, ServiceSpec
from weft_shared.settings import PlatformSettings

app = typer.Typer(
    name="weft",
    help="Weft: run the services, the local dev stack, back up and restore, and small dev tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _add_serve_command(spec: ServiceSpec) -> None:
    def serve_command(
        host: Annotated[
            str | None,
            typer.Option(help=f"Bind address (env {spec.host_env}, default 127.0.0.1)."),
        ] = None,
        port: Annotated[
            int | None,
            typer.Option(help=f"HTTP port (env {spec.port_env}, default {spec.default_port})."),
        ] = None,
    ) -> None:
        from weft_cli.serve import serve

        serve(spec, host=host, port=port)

    app.command(
        spec.name,
        help=f"Serve the {spec.name} service (its HTTP API and its consumers).",
    )(serve_command)


for _spec in SERVICES.values():
    _add_serve_command(_spec)


@app.command()
def dev(
    fresh: Annotated[bool, typer.Option("--fresh", help="Wipe the data folder first.")] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Where NATS and the database keep data (default: .weft/ at the repo root)."),
    ] = None,
    services: Annotated[
        str,
        typer.Option(help="Comma-separated services to start, 'all', or 'none' (infrastructure only)."),
    ] = "all",
    random_ports: Annotated[
        bool,
        typer.Option(
            "--random-ports",
            help="Free ports for whatever the environment does not set (else 4222/8222/27017/1025/8001/8002/8080).",
        ),
    ] = False,
) -> None:
    """Run NATS, a database, every service and the gateway until Ctrl-C."""
    from weft_cli.devstack import default_data_dir, run_dev

    if services == "all":
        chosen = list(SERVICES)
    elif services == "none":
        chosen = []
    else:
        chosen = [name.strip() for name in services.split(",") if name.strip()]
        unknown = sorted(set(chosen) - set(SERVICES))
        if unknown:
            raise typer.BadParameter(
                f"unknown service(s) {unknown}; known: {sorted(SERVICES)}",
                param_hint="--services",
            )
    code = run_dev(
        data_dir=(data_dir or default_data_dir()).resolve(),
        fresh=fresh,
        services=chosen,
        random_ports=random_ports,
    )
    raise typer.Exit(code)


db_app = typer.Typer(
    name="db",
    help="The development database: the ladder's SecantusDB servers.",
    no_args_is_help=True,
)
app.add_typer(db_app)


@db_app.command("build-fast")
def db_build_fast() -> None:
    """Build SecantusDB's Rust server (secantusd-rs) once into the cache with cargo; then the ladder uses it."""
    from weft_cli import ladder

    try:
        binary = ladder.build_secantusd_rs(log=lambda line: typer.echo(f"weft db | {line}"))
    except ladder.BuildFailed as exc:
        typer.echo(f"weft db build-fast: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("weft db build-fast: interrupted; nothing was installed", err=True)
        raise typer.Exit(130) from None
    typer.echo(f"the database ladder now starts {binary} (unless MONGODB_URL is set or Docker answers)")


def _dev_settings() -> PlatformSettings:
    """Platform settings for dev tools: WEFT_ENV when set, otherwise dev."""
    return PlatformSettings() if os.environ.get("WEFT_ENV") else PlatformSettings(env="dev")


@app.command()
def asyncapi(
    write: Annotated[bool, typer.Option("--write", help="Rewrite the committed document.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 if the committed document is stale.")] = False,
) -> None:
    """Print (or --write / --check) the AsyncAPI 3 document generated from the code."""
    from weft_cli.asyncapi import main as asyncapi_main

    flags = [flag for flag, on in (("--write", write), ("--check", check)) if on]
    raise typer.Exit(asyncapi_main(flags))


@app.command()
def contract(
    seed: Annotated[int, typer.Option(help="Schemathesis' random seed: the same seed, the same cases.")] = 7,
    max_examples: Annotated[int, typer.Option(help="At most this many generated cases per operation.", min=1)] = 50,
    workers: Annotated[int, typer.Option(help="Concurrent schemathesis workers.", min=1)] = 2,
    keep: Annotated[
        Path | None, typer.Option(help="Keep logs, the config and the report in this folder (default: a temp one).")
    ] = None,
    also: Annotated[
        list[str] | None, typer.Option(help="Another schemathesis check to run too (e.g. positive_data_acceptance).")
    ] = None,
) -> None:
    """Start the suite on free ports, seed it, and run schemathesis through the gateway."""
    from weft_cli.contract import run_contract

    code = run_contract(seed_value=seed, max_examples=max_examples, workers=workers, keep=keep, extra_checks=also or [])
    raise typer.Exit(code)


@app.command()
def token(
    user_id: Annotated[str, typer.Argument(help="The token's subject (sub claim).")],
    email: Annotated[str | None, typer.Option(help="email claim.")] = None,
    name: Annotated[str | None, typer.Option(help="name claim.")] = None,
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds.", min=1)] = 12 * 3600,
    role: Annotated[
        list[str] | None,
        typer.Option(help="Put this in the token's `roles` claim (repeatable); `--role weft-admin`: a network admin."),
    ] = None,
) -> None:
    """Print a bearer token the dev gateway accepts."""
    from weft_shared.auth.tokens import issue_dev_token

    claims = {"roles": list(role)} if role else None
    typer.echo(issue_dev_token(_dev_settings(), user_id, email=email, name=name, ttl_seconds=ttl, claims=claims))


@app.command()
def tail(
    subject: Annotated[
        str | None,
        typer.Argument(help="NATS subject, wildcards allowed (default: <subject prefix>.>)."),
    ] = None,
    replay: Annotated[
        bool,
        typer.Option(
            "--replay",
            help="Start from the beginning of the JetStream stream, then follow.",
        ),
    ] = False,
    url: Annotated[
        str | None,
        typer.Option(
            help="NATS URL (default: WEFT_NATS_URL, else the running `make run`'s, else nats://127.0.0.1:4222)."
        ),
    ] = None,
) -> None:
    """Print messages from the bus, one line each: subject, then the JSON body."""
    from nats.errors import NoServersError

    from weft_cli.devstack import running_nats_url
    from weft_cli.tail import tail as run_tail

    # Tailing needs no auth settings, so dev defaults are fine even against production NATS.
    settings = PlatformSettings(env="dev")
    nats_url = url or os.environ.get("WEFT_NATS_URL") or running_nats_url() or settings.nats_url
    try:
        code = asyncio.run(
            run_tail(
                nats_url,
                subject or f"{settings.subject_prefix}.>",
                replay=replay,
                stream=settings.stream_name,
            )
        )
    except (NoServersError, OSError) as exc:
        typer.echo(f"weft tail: cannot reach NATS at {nats_url}: {exc or type(exc).__name__}", err=True)
        code = 1
    except KeyboardInterrupt:  # Ctrl-C while still connecting
        code = 130
    raise typer.Exit(code)


def _backup_services(service: list[str] | None) -> list[str]:
    from weft_cli.backup_targets import DATA_SERVICES

    chosen = list(service or [])
    unknown = sorted(set(chosen) - set(DATA_SERVICES))
    if unknown:
        raise typer.BadParameter(
            f"no database to back up for {unknown}; services with one: {sorted(DATA_SERVICES)}",
            param_hint="--service",
        )
    return chosen


def _run_backup_step(command: str, step: Callable[[], Coroutine[Any, Any, None]]) -> None:
    from weft_cli.backup import REFUSALS

    try:
        asyncio.run(step())
    except REFUSALS as exc:
        typer.echo(f"weft {command}: {exc}", err=True)
        raise typer.Exit(1) from None


BackupServices = Annotated[
    list[str] | None,
    typer.Option(
        "--service", help="A service's database (repeatable). Neither this nor --stream: every database and the stream."
    ),
]


NatsUrlOption = Annotated[
    str | None,
    typer.Option(
        "--nats-url",
        help="NATS URL (default: WEFT_NATS_URL, else the running `make run`'s, else nats://127.0.0.1:4222).",
    ),
]
MongoUrlOption = Annotated[
    str | None,
    typer.Option(
        "--mongodb-url", help="MongoDB URL (default: MONGODB_URL, else the running `make run`'s, else 127.0.0.1:27017)."
    ),
]


@app.command()
def backup(
    to: Annotated[Path, typer.Option("--to", help="The folder to write (one per night); parts never overwritten.")],
    service: BackupServices = None,
    stream: Annotated[bool, typer.Option("--stream", help="Every message of the stream.")] = False,
    nats_url: NatsUrlOption = None,
    mongodb_url: MongoUrlOption = None,
) -> None:
    """Back up services' databases (each with its consumer's position) and, with --stream, the stream."""
    from weft_cli.backup import run_backup
    from weft_cli.backup_targets import DATA_SERVICES

    # Neither option: everything (the nightly run); otherwise just what was asked for.
    chosen = _backup_services(service) or ([] if stream else list(DATA_SERVICES))
    stream = stream or not service
    settings = _operator_platform(nats_url, mongodb_url)

    def step() -> Coroutine[Any, Any, None]:
        return run_backup(chosen, stream=stream, to=to.resolve(), platform=settings, echo=typer.echo)

    _run_backup_step("backup", step)


@app.command()
def restore(
    source: Annotated[Path, typer.Option("--from", help="A folder `weft backup --to` wrote.")],
    service: Annotated[
        list[str] | None, typer.Option("--service", help="Restore this service's database and consumer (repeatable).")
    ] = None,
    stream: Annotated[
        bool, typer.Option("--stream", help="Publish the backup's messages into the empty stream.")
    ] = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite a service database that holds documents.")
    ] = False,
    nats_url: NatsUrlOption = None,
    mongodb_url: MongoUrlOption = None,
) -> None:
    """Restore one service (stopped) without the others: its database, then its consumer from the recorded position."""
    from weft_cli.backup import run_restore

    chosen = _backup_services(service)
    if not chosen and not stream:
        raise typer.BadParameter("say what to restore: --service S (repeatable) and/or --stream")
    settings = _operator_platform(nats_url, mongodb_url)

    def step() -> Coroutine[Any, Any, None]:
        return run_restore(
            chosen, stream=stream, source=source.resolve(), replace=replace, platform=settings, echo=typer.echo
        )

    _run_backup_step("restore", step)


def _operator_platform(nats_url: str | None, mongodb_url: str | None) -> PlatformSettings:
    """Connection settings only (no auth is needed): the options, else the environment, else the
    running `make run`, like the other operator commands."""
    from weft_cli import operator_targets

    return PlatformSettings(env="dev").model_copy(
        update={
            "nats_url": operator_targets.nats_url(nats_url),
            "mongodb_url": operator_targets.mongodb_url(mongodb_url),
        }
    )


mail_app = typer.Typer(
    name="mail",
    help="Mail that `weft dev`'s catcher kept: list it (newest first), show one, or follow new ones.",
    invoke_without_command=True,
)
app.add_typer(mail_app)
MailDataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="weft dev's data folder (default: .weft/ at the repo root); mail is in mail/."),
]


def _mail_folder(data_dir: Path | None) -> Path:
    from weft_cli.devstack import default_data_dir
    from weft_cli.mailcatcher import mail_folder

    return mail_folder((data_dir or default_data_dir()).resolve())


@mail_app.callback()
def mail(
    ctx: typer.Context,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Then wait for new mail, until Ctrl-C.")] = False,
    data_dir: MailDataDir = None,
) -> None:
    """List caught mails, newest first: number, time, to, subject."""
    ctx.obj = data_dir
    if ctx.invoked_subcommand is not None:
        return
    from weft_cli.mail import follow_mail, list_mail

    folder = _mail_folder(data_dir)
    raise typer.Exit(follow_mail(folder, typer.echo) if follow else list_mail(folder, typer.echo))


@mail_app.command("show")
def mail_show(
    ctx: typer.Context,
    number: Annotated[
        int | None, typer.Argument(help="The mail's number in `weft mail` (default: the newest).")
    ] = None,
    data_dir: MailDataDir = None,
) -> None:
    """Print one caught mail: its headers and its text part."""
    from weft_cli.mail import show_mail

    raise typer.Exit(show_mail(_mail_folder(data_dir or ctx.obj), number, typer.echo))


# Operator commands: the dead-letter stream, the outboxes, the state of a running stack.

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON instead of a table.")]
ServiceOption = Annotated[str | None, typer.Option("--service", help="Only this service's consumer (durable name).")]


def _operator_run(command: str, what: str, target: str, run: Any) -> int:
    """Run an operator coroutine; a server that does not answer is one clear line, not a traceback."""
    from nats.errors import NoServersError
    from nats.js.errors import NotFoundError
    from pymongo.errors import PyMongoError, ServerSelectionTimeoutError

    try:
        code: int = asyncio.run(run)
    except ServerSelectionTimeoutError:
        typer.echo(f"weft {command}: cannot reach {what} at {target}: no server answered", err=True)
        return 1
    except (NoServersError, OSError, TimeoutError, PyMongoError) as exc:
        typer.echo(f"weft {command}: cannot reach {what} at {target}: {exc or type(exc).__name__}", err=True)
        return 1
    except NotFoundError as exc:
        typer.echo(f"weft {command}: {what} at {target} has no such stream: {exc}", err=True)
        return 1
    return code


dlq_app = typer.Typer(name="dlq", help="The dead-letter stream: list, show and replay what consumers gave up on.")
app.add_typer(dlq_app)


@dlq_app.command("list")
def dlq_list(
    service: ServiceOption = None,
    limit: Annotated[int, typer.Option(help="Show the newest N entries.", min=1)] = 50,
    nats_url: NatsUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Dead letters: sequence, consumer, type, message id, deliveries, original subject, error."""
    from weft_cli import dlq, operator_targets

    url = operator_targets.nats_url(nats_url)
    stream = operator_targets.platform().stream_name
    run = dlq.list_dead_letters(url, stream, typer.echo, service=service, limit=limit, as_json=as_json)
    raise typer.Exit(_operator_run("dlq list", "NATS", url, run))


@dlq_app.command("show")
def dlq_show(
    seq: Annotated[int, typer.Argument(help="The entry's sequence in the dead-letter stream (from `weft dlq list`).")],
    nats_url: NatsUrlOption = None,
) -> None:
    """One dead letter: where it came from, the error, and the whole envelope."""
    from weft_cli import dlq, operator_targets

    url = operator_targets.nats_url(nats_url)
    run = dlq.show_dead_letter(url, operator_targets.platform().stream_name, seq, typer.echo)
    raise typer.Exit(_operator_run("dlq show", "NATS", url, run))


@dlq_app.command("replay")
def dlq_replay(
    seq: Annotated[int | None, typer.Argument(help="The entry to replay (or --all).")] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="Replay every entry (of --service, if given).")] = False,
    service: ServiceOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be replayed; change nothing.")] = False,
    nats_url: NatsUrlOption = None,
) -> None:
    """Publish dead letters again to their original subjects, then delete them from the dead-letter stream."""
    from weft_cli import dlq, operator_targets

    if (seq is None) == (not replay_all):
        typer.echo("weft dlq replay: give one sequence or --all", err=True)
        raise typer.Exit(2)
    url = operator_targets.nats_url(nats_url)
    stream = operator_targets.platform().stream_name
    run = dlq.replay_dead_letters(url, stream, typer.echo, seq=seq, service=service, dry_run=dry_run)
    raise typer.Exit(_operator_run("dlq replay", "NATS", url, run))


outbox_app = typer.Typer(name="outbox", help="The services' transactional outboxes.", no_args_is_help=True)
app.add_typer(outbox_app)


@outbox_app.command("status")
def outbox_status(mongodb_url: MongoUrlOption = None, as_json: JsonOption = False) -> None:
    """Per service database: records not yet published, the oldest one's age, counts per aggregate type."""
    from weft_cli import operator_targets
    from weft_cli.outbox_status import outbox_report, print_outbox_report

    url = operator_targets.mongodb_url(mongodb_url)
    databases = {name: operator_targets.database_name(name) for name in operator_targets.DATA_SERVICES}

    async def run() -> int:
        print_outbox_report(await outbox_report(url, databases), typer.echo, as_json=as_json)
        return 0

    raise typer.Exit(_operator_run("outbox status", "MongoDB", url, run()))


@app.command()
def status(
    nats_url: NatsUrlOption = None,
    as_json: JsonOption = False,
    service: Annotated[
        list[str] | None,
        typer.Option(
            "--service",
            help="NAME=URL: check these services only (repeatable; default: the running `make run`'s, else the ports).",
        ),
    ] = None,
) -> None:
    """A running stack: each service's /readyz; per consumer pending, ack pending, redelivered, lag; dead letters."""
    import json as json_module

    from weft_cli import operator_targets
    from weft_cli.status import print_status, stack_status

    url = operator_targets.nats_url(nats_url)
    chosen = operator_targets.service_urls()
    if service:
        pairs = [item.partition("=") for item in service]
        if any(not name or not target for name, _, target in pairs):
            typer.echo("weft status: --service takes NAME=URL, e.g. events=http://127.0.0.1:8002", err=True)
            raise typer.Exit(2)
        chosen = {name: target.rstrip("/") for name, _, target in pairs}

    async def run() -> int:
        found = await stack_status(url, operator_targets.platform().stream_name, chosen)
        if as_json:
            typer.echo(json_module.dumps(found, indent=2))
        else:
            print_status(found, typer.echo)
        return 0 if found["ok"] else 1

    raise typer.Exit(_operator_run("status", "NATS", url, run()))


def main() -> None:
    app()
