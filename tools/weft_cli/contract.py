"""`weft contract`: check the running suite against its own OpenAPI document.

Starts NATS, a database from the ladder, every service and the gateway on free
ports in a temporary folder; seeds communities, a member, a join request, an
invitation, a link, events and a calendar feed so that path ids exist (they
can't be guessed); then runs schemathesis through the gateway with a dev token,
a fixed seed and a bound on examples per operation. Exits non-zero on any
server error, undocumented status code or content type, or a response that
does not match its schema.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from weft_cli import ladder
from weft_cli.natsserver import start_nats
from weft_cli.procs import LineSink
from weft_cli.services import BACKENDS, gateway_backend_env
from weft_cli.testing import ServiceLauncher
from weft_shared.auth.tokens import issue_dev_token
from weft_shared.settings import PlatformSettings

# The checks the contract holds the API to; each failure of one fails the run.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
# The run is bounded by examples; this only stops a hung run.
RUN_TIMEOUT_SECONDS = 900
OWNER = "contract-owner"
MEMBER = "contract-member"


def say(message: str) -> None:
    print(f"weft contract | {message}", flush=True)


@dataclass(frozen=True)
class Seeds:
    """The ids schemathesis uses for path parameters, all owned by `OWNER`'s communities."""

    community_id: str  # open, public; OWNER owns it, MEMBER is a member
    approval_community_id: str  # join by approval; MEMBER's request waits in it
    archivable_community_id: str  # the target of POST …/archive, so the others stay writable
    member_id: str
    request_id: str
    invitation_token: str
    link_id: str
    event_id: str
    cancellable_event_id: str
    feed_token: str


def seed(client: httpx.Client, owner: dict[str, str], member: dict[str, str]) -> Seeds:
    def ok(response: httpx.Response) -> Any:
        if response.status_code >= 300:
            raise RuntimeError(f"seeding: {response.request.method} {response.request.url.path} → "
                               f"{response.status_code} {response.text}")  # fmt: skip
        return response.json() if response.content else None

    def community(name: str, **fields: Any) -> str:
        body = {"name": name, "purpose": f"{name}: a community for the contract run", **fields}
        created: str = ok(client.post("/v1/communities", json=body, headers=owner))["id"]
        return created

    def event(community_id: str, title: str) -> str:
        body = {
            "title": title,
            "format": "hybrid",
            "timezone": "Europe/London",
            "starts_at": "2030-01-12T18:00:00Z",
            "ends_at": "2030-01-12T19:30:00Z",
            "venue": "Room 4",
            "joining_link": "https://meet.example.org/contract",
            "capacity": {"in_person": 10, "online": 50},
        }
        created: str = ok(client.post(f"/v1/communities/{community_id}/events", json=body, headers=owner))["id"]
        return created

    main = community("Contract Open")
    approval = community("Contract Approval", join_policy="approval")
    archivable = community("Contract Archivable")
    # The run's principal is the only owner of these communities, so every DELETE /v1/me the
    # run sends is refused (409) and never erases it: make sure before the run relies on it.
    kept = client.delete("/v1/me", headers=owner)
    if kept.status_code != 409:
        raise RuntimeError(f"seeding: DELETE /v1/me as the run's principal → {kept.status_code}, expected 409")
    ok(client.post(f"/v1/communities/{main}/members", json={}, headers=member))
    ok(client.post(f"/v1/communities/{approval}/members", json={}, headers=member))
    requests = ok(client.get(f"/v1/communities/{approval}/requests", headers=owner))["items"]
    invitation = ok(client.post(f"/v1/communities/{main}/invitations", json={"user_id": "invitee"}, headers=owner))
    link = ok(client.post(f"/v1/communities/{main}/links", json={"to_community_id": approval}, headers=owner))
    event_id = event(main, "Contract huddle")
    cancellable = event(main, "Contract huddle to cancel")
    feed_url: str = ok(client.post("/v1/me/calendar-feed", headers=owner))["url"]
    return Seeds(
        community_id=main,
        approval_community_id=approval,
        archivable_community_id=archivable,
        member_id=MEMBER,
        request_id=requests[0]["request_id"],
        invitation_token=invitation["token"],
        link_id=link["id"],
        event_id=event_id,
        cancellable_event_id=cancellable,
        feed_token=feed_url.rsplit("/", 1)[1].removesuffix(".ics"),
    )


def schemathesis_config(seeds: Seeds, token: str) -> str:
    """schemathesis.toml: the bearer token, and fixed values for every path parameter."""

    def table(values: dict[str, str]) -> str:
        return "{ " + ", ".join(f'"path.{k}" = {json.dumps(v)}' for k, v in values.items()) + " }"

    defaults = {
        "community_id": seeds.community_id,
        "user_id": seeds.member_id,
        "event_id": seeds.event_id,
        "link_id": seeds.link_id,
        "request_id": seeds.request_id,
        "token": seeds.invitation_token,
    }
    overrides = [
        ("^/v1/communities/\\{community_id\\}/requests", {"community_id": seeds.approval_community_id}),
        # A link is accepted by the community it was proposed to.
        (
            "^/v1/communities/\\{community_id\\}/links/\\{link_id\\}/accept$",
            {"community_id": seeds.approval_community_id},
        ),
        ("^/v1/communities/\\{community_id\\}/archive$", {"community_id": seeds.archivable_community_id}),
        ("^/v1/events/\\{event_id\\}/cancel$", {"event_id": seeds.cancellable_event_id}),
        ("^/v1/calendar/", {"token": seeds.feed_token}),
    ]
    lines = [
        "[auth.openapi.bearer]",
        f"bearer = {json.dumps(token)}",
        "",
        "[parameters]",
        *(f'"path.{k}" = {json.dumps(v)}' for k, v in defaults.items()),
    ]
    for regex, values in overrides:
        lines += ["", "[[operations]]", f"include-path-regex = {json.dumps(regex)}", f"parameters = {table(values)}"]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def running_suite(work: Path, *, log_dir: Path) -> Iterator[str]:
    """NATS, a database, the backends and the gateway; yields the gateway's URL."""
    log_dir.mkdir(parents=True, exist_ok=True)

    def to_file(name: str) -> LineSink:
        handle = (log_dir / f"{name}.log").open("a", buffering=1, encoding="utf-8")

        def write(line: str) -> None:
            handle.write(line + "\n")

        return write

    with contextlib.ExitStack() as stack:
        nats = start_nats(work / "nats", on_line=to_file("nats"))
        stack.callback(nats.stop)
        say(f"nats-server at {nats.url}")
        rung = ladder.choose_rung()
        say(f"database: {ladder.describe_choice(rung)}")
        database = ladder.provide_database(work / "db", rung=rung, log=say, on_line=to_file("database"))
        stack.callback(database.stop)
        env = {"WEFT_ENV": "dev", "WEFT_NATS_URL": nats.url, "MONGODB_URL": database.url, "WEFT_LOG_JSON": "false"}
        launcher = ServiceLauncher(env, on_line_for=to_file)
        stack.callback(launcher.stop_all)
        ports = {name: launcher.start(name).port for name in BACKENDS}
        gateway = launcher.start(
            "gateway",
            {
                **gateway_backend_env(ports),
                # The run sends thousands of requests as one principal; the limiter is not under test.
                "WEFT_GATEWAY_RATE_LIMIT_PER_MINUTE": "1000000",
                "WEFT_GATEWAY_RATE_LIMIT_BURST": "100000",
            },
        )
        say("services: " + ", ".join(f"{s.name} {s.url}" for s in launcher.started))
        yield gateway.url


def run_schemathesis(
    gateway: str, config: Path, *, seed: int, max_examples: int, workers: int, report: Path, checks: list[str]
) -> tuple[int, dict[str, Any]]:
    command = [
        str(Path(sys.executable).parent / "st"),
        "--config-file",
        str(config),
        "run",
        f"{gateway}/openapi.json",
        "--checks",
        ",".join(checks),
        "--phases",
        "examples,coverage,fuzzing",
        # A server-sent events stream never ends, so no case of it could finish; its 401s,
        # 422s and frames are tested in tests/notifications/test_stream.py.
        "--exclude-path",
        "/v1/me/stream",
        "--seed",
        str(seed),
        "--max-examples",
        str(max_examples),
        "--workers",
        str(workers),
        "--no-color",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
    ]
    say("running: " + " ".join(command[1:]))
    env = {**os.environ, "SCHEMATHESIS_TELEMETRY": "false"}
    # In the work folder: schemathesis keeps a cache folder where it runs.
    run = subprocess.run(command, env=env, cwd=config.parent, timeout=RUN_TIMEOUT_SECONDS, check=False)  # noqa: S603
    code = run.returncode
    return code, summarise(report)


def summarise(report: Path) -> dict[str, Any]:
    """Operations and cases tested, and failed checks by name, from schemathesis' ndjson events."""
    operations: set[str] = set()
    cases = 0
    failed: dict[str, int] = {}
    if report.is_file():
        for line in report.read_text().splitlines():
            recorder = (json.loads(line).get("ScenarioFinished") or {}).get("recorder") or {}
            if not recorder.get("cases"):
                continue
            operations.add(recorder["label"])
            cases += len(recorder["cases"])
            for checks in (recorder.get("checks") or {}).values():
                for check in checks:
                    if check.get("status", "").lower() == "failure":
                        failed[check["name"]] = failed.get(check["name"], 0) + 1
    return {"operations": len(operations), "cases": cases, "failed": failed}


def run_contract(
    *, seed_value: int, max_examples: int, workers: int, keep: Path | None, extra_checks: list[str]
) -> int:
    work = keep or Path(tempfile.mkdtemp(prefix="weft-contract-"))
    work.mkdir(parents=True, exist_ok=True)
    say(f"working folder (logs, report): {work}")
    dev = PlatformSettings(env="dev")

    def bearer(user_id: str) -> dict[str, str]:
        token = issue_dev_token(dev, user_id, email=f"{user_id}@example.org", name=user_id, ttl_seconds=3600)
        return {"Authorization": f"Bearer {token}"}

    try:
        with running_suite(work, log_dir=work / "logs") as gateway, httpx.Client(base_url=gateway) as client:
            owner = bearer(OWNER)
            seeds = seed(client, owner, bearer(MEMBER))
            say(f"seeded: {seeds}")
            config = work / "schemathesis.toml"
            config.write_text(schemathesis_config(seeds, owner["Authorization"].removeprefix("Bearer ")))
            code, figures = run_schemathesis(
                gateway,
                config,
                seed=seed_value,
                max_examples=max_examples,
                workers=workers,
                report=work / "report.ndjson",
                checks=[*CHECKS, *extra_checks],
            )
    except (ladder.DatabaseUnavailable, RuntimeError, TimeoutError, subprocess.TimeoutExpired) as exc:
        say(f"FAILED before the checks finished: {exc}")
        return 1
    verdict = "passed" if code == 0 else f"FAILED (schemathesis exit {code})"
    failed = ", ".join(f"{name} {count}" for name, count in sorted(figures["failed"].items())) or "none"
    say(
        f"{verdict}: {figures['operations']} operations, {figures['cases']} cases tested; failed checks: {failed}"
        f" (seed {seed_value}, at most {max_examples} examples per operation); logs in {work / 'logs'}"
    )
    return 0 if code == 0 else 1
