"""`/metrics` on every process of the session's suite (real NATS, real database), scraped
over HTTP and parsed with prometheus_client's own parser, after real requests, real
messages, a real webhook delivery and a real mail (aiosmtpd)."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import nats
import pytest
import yaml

from tests.conftest import StartService
from tests.support.api import create_community, join, new_person
from tests.support.promql import metric_names
from tests.support.scrape import Scrape, scrape
from tests.support.smtp import SmtpServer
from tests.support.waiting import eventually
from tests.support.webhook_receiver import WebhookReceiver
from weft_cli.natsserver import NatsHandle
from weft_cli.services import SERVICES
from weft_cli.testing import ServiceProcess

DATA_SERVICES = ("membership", "events", "notifications", "resources")
CONSUMERS = ("events", "notifications", "resources")  # membership consumes nothing


@pytest.fixture
def processes(
    gateway_service: ServiceProcess,
    membership_service: ServiceProcess,
    events_service: ServiceProcess,
    notifications_service: ServiceProcess,
    resources_service: ServiceProcess,
) -> dict[str, ServiceProcess]:
    return {
        "gateway": gateway_service,
        "membership": membership_service,
        "events": events_service,
        "notifications": notifications_service,
        "resources": resources_service,
    }


@pytest.fixture
async def api(gateway_service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=30) as http:
        yield http


async def test_every_service_process_answers_metrics_and_keeps_it_off_the_public_api(
    processes: dict[str, ServiceProcess], api: httpx.AsyncClient
) -> None:
    for name, process in processes.items():
        scraped = await scrape(process.url)
        assert scraped.families["weft_http_request_duration_seconds"] == "histogram", name
        [in_flight] = scraped.matching("weft_http_requests_in_flight", service=name)
        assert in_flight.value >= 1, (name, in_flight)  # this scrape itself is in flight
        assert scraped.matching("weft_metrics_refresh_failures_total", service=name) or name == "gateway"
    # Not part of the public API: not proxied, not in the merged OpenAPI document.
    proxied = await api.get("/v1/metrics")
    assert proxied.status_code == 404, proxied.text
    document = (await api.get("/openapi.json")).json()
    assert not [p for p in document["paths"] if p.endswith("/metrics")]


async def test_a_request_is_counted_under_its_route_template_and_status(
    processes: dict[str, ServiceProcess], api: httpx.AsyncClient
) -> None:
    ana = new_person("ana")
    community = await create_community(api, ana)
    route = "/v1/communities/{community_id}"
    key = {"method": "GET", "route": route, "status": "200"}
    before = {name: await scrape(processes[name].url) for name in ("gateway", "membership")}

    got = await api.get(f"/v1/communities/{community['id']}", headers=ana.headers)
    assert got.status_code == 200, got.text
    missing = await api.get(f"/v1/communities/{secrets.token_hex(12)}", headers=ana.headers)
    assert missing.status_code == 404, missing.text

    for name in ("gateway", "membership"):
        after = await scrape(processes[name].url)
        count = "weft_http_request_duration_seconds_count"
        assert after.value(count, service=name, **key) == before[name].value(count, service=name, **key) + 1, name
        missed = {**key, "status": "404"}
        assert after.value(count, service=name, **missed) == before[name].value(count, service=name, **missed) + 1
        # The histogram's +Inf bucket agrees with its count; no raw path is ever a label.
        assert after.value("weft_http_request_duration_seconds_bucket", service=name, le="+Inf", **key) == after.value(
            count, service=name, **key
        )
        routes = {s.labels.get("route", "") for s in after.samples}
        assert not [r for r in routes if community["id"] in r], routes

    gateway = await scrape(processes["gateway"].url)
    upstream = "weft_gateway_upstream_duration_seconds_count"
    assert gateway.value(upstream, upstream="membership", status="200") >= 1
    assert gateway.matching("weft_gateway_rate_limited_requests_total", key="sub")
    unknown = await api.get("/v1/nowhere")
    assert unknown.status_code == 404
    after_unknown = await scrape(processes["gateway"].url)
    assert after_unknown.value("weft_http_request_duration_seconds_count", route="(no route)", status="404") >= 1


async def test_a_consumed_message_moves_the_handled_counter_and_the_bus_gauges_are_read(
    processes: dict[str, ServiceProcess], api: httpx.AsyncClient, nats_server: NatsHandle
) -> None:
    handled = "weft_consumer_messages_handled_total"
    before = {name: await scrape(processes[name].url) for name in CONSUMERS}

    await create_community(api, new_person("ana"))  # community.created, and the owner's member.joined

    for name in CONSUMERS:

        async def moved(name: str = name) -> Scrape | None:
            now = await scrape(processes[name].url)
            return now if now.value(handled, durable=name) >= before[name].value(handled, durable=name) + 1 else None

        after = await eventually(moved, what=f"{name}'s consumer to count the message")
        assert after.value(handled, durable=name, outcome="ok") > 0, name
        for gauge in (
            "weft_consumer_pending_messages",
            "weft_consumer_ack_pending_messages",
            "weft_consumer_redelivered_messages",
        ):
            [sample] = after.matching(gauge, service=name, durable=name)
            assert sample.value >= 0, (name, gauge)
        assert after.matching("weft_consumer_redeliveries_total", durable=name)

    # The gauges read on scrape agree with JetStream itself (read just before each scrape; a
    # message still in flight from an earlier test may move both, so until they agree).
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        for name in DATA_SERVICES:

            async def agrees(name: str = name) -> Scrape | None:
                dlq = (await js.stream_info("WEFT_DLQ")).state.messages
                pending = (await js.consumer_info("WEFT", name)).num_pending if name in CONSUMERS else None
                now = await scrape(processes[name].url)
                if now.value("weft_dead_letter_messages", service=name, stream="WEFT_DLQ") != dlq:
                    return None
                if pending is not None and now.value("weft_consumer_pending_messages", durable=name) != pending:
                    return None
                return now

            now = await eventually(agrees, what=f"{name}'s gauges to agree with JetStream")
            [backlog] = now.matching("weft_outbox_pending_messages", service=name)
            [age] = now.matching("weft_outbox_oldest_age_seconds", service=name)
            assert backlog.value >= 0 and age.value >= 0, (name, backlog, age)
            assert (backlog.value == 0) == (age.value == 0), (name, backlog, age)
            assert now.value("weft_metrics_refresh_failures_total", service=name) == 0, name
    finally:
        await nc.close()


async def test_webhook_and_email_metrics_move_after_real_deliveries(
    processes: dict[str, ServiceProcess], api: httpx.AsyncClient, session_smtp: SmtpServer
) -> None:
    notifications = processes["notifications"].url
    before = await scrape(notifications)
    ana, ben = new_person("ana"), new_person("ben")
    async with httpx.AsyncClient(base_url=notifications, timeout=30) as direct:
        # Any call to the notifications API records the address on Ana's token.
        assert (await direct.get("/v1/me/notifications/unread-count", headers=ana.headers)).status_code == 200
    community = await create_community(api, ana, join_policy="approval")

    async def owner_known() -> bool:
        listed = await api.get(f"/v1/communities/{community['id']}/webhooks", headers=ana.headers)
        return listed.status_code == 200

    await eventually(owner_known, what="the owner known to notifications")
    receiver = WebhookReceiver()
    await receiver.start()
    try:
        for url in (receiver.url("/ok/metrics"), receiver.url("/status/410/metrics-gone")):
            created = await api.post(
                f"/v1/communities/{community['id']}/webhooks",
                json={"url": url, "types": ["org.weft.join.*"], "description": "metrics test"},
                headers=ana.headers,
            )
            assert created.status_code == 201, created.text
        assert (await join(api, community["id"], ben)).status_code == 202  # a join request: a mail to Ana
        await eventually(lambda: receiver.arrived("metrics"), what="the webhook delivery")
        await eventually(lambda: receiver.arrived("metrics-gone"), what="the delivery answered 410")
    finally:
        await receiver.stop()
    await eventually(lambda: asyncio.sleep(0, session_smtp.catcher.to(ana.email)), what="the owner's mail")

    deliveries = "weft_webhook_deliveries_total"

    async def counted() -> Scrape | None:
        now = await scrape(notifications)
        done = (
            now.value(deliveries, outcome="delivered") >= before.value(deliveries, outcome="delivered") + 1
            and now.value(deliveries, outcome="disabled") >= before.value(deliveries, outcome="disabled") + 1
            and now.value("weft_email_send_attempts_total", outcome="sent")
            >= before.value("weft_email_send_attempts_total", outcome="sent") + 1
        )
        return now if done else None

    after = await eventually(counted, what="the delivery and mail counters")
    for status in ("pending", "sending", "failed"):
        [queued] = after.matching("weft_email_queue_messages", service="notifications", status=status)
        assert queued.value >= 0, status
    assert after.matching(deliveries, outcome="retried") and after.matching(deliveries, outcome="failed")


DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "weft.json"


def test_the_promql_tokenizer_finds_metric_names_only() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (service, le) (rate(a_seconds_bucket{status=~"5..", route="x"}'
        "[$__rate_interval]))) / on (service) group_left max without (instance) (b_total offset 5m) > bool 0"
    )
    assert metric_names(expr) == {"a_seconds_bucket", "b_total"}
    assert metric_names("label_values(weft_up, service)") == {"weft_up", "service"}  # why templating is parsed apart


def _dashboard_queries() -> tuple[list[tuple[str, str]], list[str]]:
    """(panel title, expr) of every panel target, nested rows included; and the templating variables' metrics."""
    dashboard = json.loads(DASHBOARD.read_text())
    targets: list[tuple[str, str]] = []
    stack = list(dashboard["panels"])
    while stack:
        panel = stack.pop()
        stack.extend(panel.get("panels", []))
        if panel["type"] == "row":
            continue
        assert panel.get("targets"), f"panel {panel['title']!r} has no queries"
        targets.extend((panel["title"], t["expr"]) for t in panel["targets"])
    variables = []
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            [metric] = re.findall(r"label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)", query)
            variables.append(metric)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    return targets, variables


async def test_every_metric_the_dashboard_queries_exists_in_a_real_scrape(
    processes: dict[str, ServiceProcess], api: httpx.AsyncClient
) -> None:
    await create_community(api, new_person("ana"))  # a proxied request: the upstream histogram has samples
    exported: set[str] = set()
    services: set[str] = set()
    for process in processes.values():
        scraped = await scrape(process.url)
        exported |= scraped.names()
        services |= {s.labels["service"] for s in scraped.samples if "service" in s.labels}
    targets, variables = _dashboard_queries()
    assert len(targets) >= 15
    missing = {}
    for title, expr in targets:
        names = metric_names(expr)
        assert names, f"{title!r}: no metric in {expr!r}"
        if names - exported:
            missing[title] = sorted(names - exported)
    assert not missing, f"dashboard queries name metrics no process exports: {missing}"
    assert set(variables) <= exported, variables
    assert services >= set(processes), services  # the $service variable lists every process


def test_the_prometheus_config_scrapes_every_process_on_its_port() -> None:
    config = yaml.safe_load((DASHBOARD.parents[1] / "prometheus" / "prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    targets = {t for static in job["static_configs"] for t in static["targets"]}
    assert targets == {f"{name}:{spec.default_port}" for name, spec in SERVICES.items()}


async def test_with_a_metrics_token_a_scrape_must_present_it(
    start_service: StartService, membership_service: ServiceProcess
) -> None:
    """The gateway and the web app face the outside on their port: `WEFT_METRICS_TOKEN` closes
    `/metrics` to anyone without it (Prometheus sends it as a bearer token)."""
    token = secrets.token_urlsafe(24)
    gateway = start_service(
        "gateway", {"WEFT_GATEWAY_MEMBERSHIP_URL": membership_service.url, "WEFT_METRICS_TOKEN": token}
    )
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as client:
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        scraped = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert scraped.status_code == 200 and "weft_http_request_duration_seconds" in scraped.text
