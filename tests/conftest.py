"""Session harness: one real nats-server and one real database per test run,
plus `weft <service>` processes started on demand.

Fixtures:
  nats_server            NatsHandle (JetStream, own store dir, free port)
  database               DatabaseHandle from the ladder (MONGODB_URL > Docker > secantusd-rs > secantusd-py)
  platform_env           env vars for service processes (unique database names per session)
  start_service          factory: start_service(name, env=None, port=None) -> ServiceProcess,
                         stopped at the end of the test
  start_session_service  the same, stopped at the end of the session
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Callable, Iterator

import pytest

from tests.support.smtp import SmtpServer, smtp_server
from weft_cli import ladder
from weft_cli.natsserver import (
    NatsHandle,
    locate_nats_server,
    nats_server_version,
    start_nats,
)
from weft_cli.procs import LineSink, ProcessDied
from weft_cli.services import SERVICES
from weft_cli.testing import ServiceLauncher, ServiceProcess

StartService = Callable[..., ServiceProcess]


@functools.cache
def _ladder_choice() -> ladder.Rung | ladder.DatabaseUnavailable:
    """Chosen once per run: the Docker check may take seconds."""
    try:
        return ladder.choose_rung()
    except ladder.DatabaseUnavailable as exc:
        return exc


def pytest_report_header(config: pytest.Config) -> list[str]:
    choice = _ladder_choice()
    if isinstance(choice, ladder.DatabaseUnavailable):
        database = f"UNAVAILABLE - {choice}"
    else:
        database = ladder.describe_choice(choice)
    try:
        nats = f"nats-server {nats_server_version()} ({locate_nats_server()})"
    except (OSError, RuntimeError) as exc:
        nats = f"UNAVAILABLE - {exc}"
    return [f"weft database ladder: {database}", f"weft nats: {nats}"]


def _echo_to_stderr(name: str) -> LineSink:
    """Child output to fd 2, which pytest captures per test and shows for failures."""
    prefix = f"[{name}] ".encode()

    def write(line: str) -> None:
        os.write(2, prefix + line.encode("utf-8", errors="replace") + b"\n")

    return write


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsHandle]:
    handle = start_nats(tmp_path_factory.mktemp("nats"))
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture(scope="session")
def database(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ladder.DatabaseHandle]:
    choice = _ladder_choice()
    if isinstance(choice, ladder.DatabaseUnavailable):
        pytest.fail(str(choice), pytrace=False)
    handle = ladder.provide_database(
        tmp_path_factory.mktemp("database"),
        rung=choice,
        log=print,
        on_line=_echo_to_stderr("database"),
    )
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture(scope="session")
def platform_env(nats_server: NatsHandle, database: ladder.DatabaseHandle) -> dict[str, str]:
    """Env for service processes; each service gets its own database, unique to this run."""
    run_id = secrets.token_hex(4)
    env = {
        "WEFT_ENV": "dev",
        "WEFT_NATS_URL": nats_server.url,
        "MONGODB_URL": database.url,
        "WEFT_LOG_JSON": "true",
    }
    # Webhook tests run their receivers on 127.0.0.1, retry 100 times faster, poll often.
    env["WEFT_NOTIFICATIONS_WEBHOOK_ALLOWED_NETWORKS"] = '["127.0.0.1/32"]'
    env["WEFT_NOTIFICATIONS_WEBHOOK_RETRY_TIME_SCALE"] = "0.01"
    env["WEFT_NOTIFICATIONS_WEBHOOK_POLL_INTERVAL_SECONDS"] = "0.2"
    # The resources review-due job polls often, so a date that has come is flagged within a second.
    env["WEFT_RESOURCES_REVIEW_POLL_SECONDS"] = "0.5"
    for name, spec in SERVICES.items():
        if name != "gateway":
            env[f"{spec.env_prefix}DATABASE"] = f"weft_{name}_{run_id}"
    return env


def _launch(launcher: ServiceLauncher) -> StartService:
    def start(name: str, env: dict[str, str] | None = None, port: int | None = None) -> ServiceProcess:
        try:
            return launcher.start(name, env, port)
        except (ProcessDied, TimeoutError) as exc:
            pytest.fail(f"service {name!r} did not become healthy: {exc}", pytrace=False)

    return start


@pytest.fixture
def start_service(platform_env: dict[str, str]) -> Iterator[StartService]:
    launcher = ServiceLauncher(platform_env, on_line_for=_echo_to_stderr)
    try:
        yield _launch(launcher)
    finally:
        launcher.stop_all()


@pytest.fixture(scope="session")
def start_session_service(platform_env: dict[str, str]) -> Iterator[StartService]:
    launcher = ServiceLauncher(platform_env, on_line_for=_echo_to_stderr)
    try:
        yield _launch(launcher)
    finally:
        launcher.stop_all()


# One process per service for the whole run, shared by every test that needs it.


@pytest.fixture(scope="session")
def membership_service(start_session_service: StartService) -> ServiceProcess:
    return start_session_service("membership")


@pytest.fixture(scope="session")
def events_service(start_session_service: StartService) -> ServiceProcess:
    return start_session_service("events")


@pytest.fixture(scope="session")
def session_smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) that the session's notifications service mails to."""
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="session")
def notifications_service(start_session_service: StartService, session_smtp: SmtpServer) -> ServiceProcess:
    return start_session_service(
        "notifications",
        env={
            "WEFT_NOTIFICATIONS_SMTP_HOST": session_smtp.host,
            "WEFT_NOTIFICATIONS_SMTP_PORT": str(session_smtp.port),
            "WEFT_NOTIFICATIONS_EMAIL_POLL_SECONDS": "0.2",
        },
    )


@pytest.fixture(scope="session")
def resources_service(start_session_service: StartService) -> ServiceProcess:
    return start_session_service("resources")


@pytest.fixture(scope="session")
def gateway_service(
    start_session_service: StartService,
    membership_service: ServiceProcess,
    events_service: ServiceProcess,
    notifications_service: ServiceProcess,
    resources_service: ServiceProcess,
) -> ServiceProcess:
    return start_session_service(
        "gateway",
        env={
            "WEFT_GATEWAY_MEMBERSHIP_URL": membership_service.url,
            "WEFT_GATEWAY_EVENTS_URL": events_service.url,
            "WEFT_GATEWAY_NOTIFICATIONS_URL": notifications_service.url,
            "WEFT_GATEWAY_RESOURCES_URL": resources_service.url,
        },
    )
