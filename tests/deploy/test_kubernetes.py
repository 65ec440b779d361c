"""deploy/k8s: the base and both overlays render, pass the Kubernetes schemas, and say what the issue asks.

Rendered with `kubectl kustomize`, or the kustomize binary `tools/ensure-kustomize` builds (a `.ci/run`
step); validated offline with kubernetes-validate (its bundled schemas, strict: unknown fields fail).
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import pytest
import yaml
from pydantic_settings import BaseSettings
from pymongo.uri_parser import parse_uri

from tests.conftest import StartService
from tests.support.waiting import eventually
from weft_cli.ladder import cache_dir
from weft_cli.services import SERVICES
from weft_cli.testing import ServiceProcess
from weft_events.settings import EventsSettings
from weft_gateway.settings import GatewaySettings
from weft_membership.settings import MembershipSettings
from weft_notifications.settings import DEV_UNSUBSCRIBE_KEY, NotificationsSettings
from weft_resources.settings import ResourcesSettings
from weft_shared.settings import DEV_SEALING_KEY, PlatformSettings
from weft_web.settings import DEV_SECRET_KEY, WebSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
TARGETS = {"base": K8S / "base", "dev": K8S / "overlays" / "dev", "production": K8S / "overlays" / "production"}
# A version kubernetes-validate carries and clusters still run (its schemas go back to 1.25).
KUBERNETES_VERSION = "1.32.0"
SECRET_NAME = "weft-secrets"
SETTINGS: dict[str, type[BaseSettings]] = {
    "membership": MembershipSettings,
    "events": EventsSettings,
    "notifications": NotificationsSettings,
    "resources": ResourcesSettings,
    "gateway": GatewaySettings,
    "web": WebSettings,
}
BUNDLED = {"nats", "mongo"}

Doc = dict[str, Any]


def _renderer() -> list[str] | None:
    """The command that renders a kustomization, as tools/ensure-kustomize finds or builds it."""
    kubectl = shutil.which("kubectl")
    if kubectl:
        return [kubectl, "kustomize"]
    built = sorted(cache_dir().glob("kustomize-v*/kustomize"))
    return [str(built[-1]), "build"] if built else None


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Doc]]:
    command = _renderer()
    if command is None:
        message = "no kustomize renderer: install kubectl, or run tools/ensure-kustomize (builds kustomize with Go)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; .ci/run's kustomize step should have done it")
        pytest.skip(message)
    # The three renders run side by side (kubectl takes a second or so to start).
    running = {
        name: subprocess.Popen([*command, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, path in TARGETS.items()
    }
    out: dict[str, list[Doc]] = {}
    for name, process in running.items():
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, f"{' '.join(command)} {TARGETS[name]} failed:\n{stderr}"
        out[name] = [doc for doc in yaml.safe_load_all(stdout) if doc]
    return out


def _find(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def _of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def _container(deployment: Doc) -> Doc:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, deployment["metadata"]["name"]
    return dict(containers[0])


def _documented_secret_keys() -> dict[str, bool]:
    """The key table of deploy/k8s/README.md: key -> required."""
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \| [^|]+ \| (yes|no) \|", (K8S / "README.md").read_text(), re.MULTILINE)
    assert rows, "deploy/k8s/README.md lists no weft-secrets keys"
    return {key: required == "yes" for key, required in rows}


def _secret_refs(docs: list[Doc]) -> Iterator[tuple[str, Doc]]:
    for workload in docs:
        pod = workload.get("spec", {}).get("template", {}).get("spec")
        if not pod:
            continue
        for container in pod["containers"] + pod.get("initContainers", []):
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    yield workload["metadata"]["name"], {"env": entry["name"], **ref}
            for source in container.get("envFrom", []):
                assert "secretRef" not in source, f"{workload['metadata']['name']}: name each secret key instead"


# -- the schemas ------------------------------------------------------------------------


def test_every_rendered_document_passes_the_kubernetes_schemas(rendered: dict[str, list[Doc]]) -> None:
    failures: list[str] = []
    counts: dict[str, int] = {}
    for target, docs in rendered.items():
        counts[target] = len(docs)
        for doc in docs:
            try:
                kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:
                failures.append(f"{target} {doc['kind']}/{doc['metadata']['name']}: {exc.message} at {exc.path}")
    summary = ", ".join(f"{target} {n} documents" for target, n in counts.items())
    print(
        f"\nkubernetes-validate (Kubernetes {KUBERNETES_VERSION}, strict): {summary}; "
        f"{sum(counts.values()) - len(failures)} passed, {len(failures)} failed"
    )
    assert not failures, "\n".join(failures)


# -- every process ----------------------------------------------------------------------


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("service", list(SETTINGS))
def test_every_process_has_a_hardened_deployment(rendered: dict[str, list[Doc]], target: str, service: str) -> None:
    docs = rendered[target]
    name = f"weft-{service}"
    deployment = _find(docs, "Deployment", name)
    pod = deployment["spec"]["template"]["spec"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    container = _container(deployment)
    assert container["args"] == [service]
    port = SERVICES[service].default_port
    assert container["ports"] == [{"containerPort": port, "name": "http"}]

    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}

    resources = container["resources"]
    assert {"cpu", "memory"} <= resources["requests"].keys()
    assert {"cpu", "memory"} <= resources["limits"].keys()

    security = container["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == pod["securityContext"]["runAsUser"] == 10001  # deploy/docker/Dockerfile
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    tmp = next(m for m in container["volumeMounts"] if m["mountPath"] == "/tmp")
    assert "emptyDir" in next(v for v in pod["volumes"] if v["name"] == tmp["name"])

    # Endpoints drop during the preStop sleep; SIGTERM comes after it, within the grace period.
    sleep = container["lifecycle"]["preStop"]["exec"]["command"]
    assert sleep[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] > int(sleep[1]) + 10
    assert pod["enableServiceLinks"] is False  # else WEFT_<SERVICE>_PORT=tcp://... lands in the env

    service_doc = _find(docs, "Service", name)
    assert service_doc["spec"]["selector"].items() <= labels.items()
    assert service_doc["spec"]["ports"] == [{"name": "http", "port": port, "targetPort": "http"}]
    pdb = _find(docs, "PodDisruptionBudget", name)
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    hpa = _find(docs, "HorizontalPodAutoscaler", name)
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}


def test_the_gateway_and_the_web_app_find_their_upstreams_by_service(rendered: dict[str, list[Doc]]) -> None:
    for target, docs in rendered.items():
        config = _find(docs, "ConfigMap", "weft-config")["data"]
        for service in ("membership", "events", "notifications", "resources"):
            assert (
                config[f"WEFT_GATEWAY_{service.upper()}_URL"]
                == f"http://weft-{service}:{SERVICES[service].default_port}"
            )
        assert config["WEFT_WEB_GATEWAY_URL"] == f"http://weft-gateway:{SERVICES['gateway'].default_port}", target
        for service in SETTINGS:
            assert config[SERVICES[service].host_env] == "0.0.0.0", f"{target}: {service} would listen on 127.0.0.1"


def _known_settings() -> set[str]:
    """Every environment variable a Weft settings class reads."""
    names = {"MONGODB_URL"}
    for cls in [PlatformSettings, *SETTINGS.values()]:
        prefix = str(cls.model_config.get("env_prefix", ""))
        for field, info in cls.model_fields.items():
            if field != "platform":
                names.add(f"{prefix}{field}".upper())
            choices = getattr(info.validation_alias, "choices", [])
            names.update(str(choice) for choice in choices)
    return names


def test_every_configured_name_is_a_setting_and_none_is_empty(rendered: dict[str, list[Doc]]) -> None:
    known = _known_settings()
    for target, docs in rendered.items():
        config = _find(docs, "ConfigMap", "weft-config")["data"]
        assert not set(config) - known, f"{target}: not a Weft setting: {sorted(set(config) - known)}"
        assert all(value.strip() for value in config.values()), f"{target}: an empty value is a value, not unset"


def _operator_secret() -> dict[str, str]:
    """What an operator puts in weft-secrets following deploy/k8s/README.md: the required keys."""
    return {key: secrets.token_hex(32) for key, required in _documented_secret_keys().items() if required}


def _process_env(docs: list[Doc], service: str, secret: Mapping[str, str]) -> dict[str, str]:
    """The environment the Deployment gives the container: envFrom first, env over it."""
    container = _container(_find(docs, "Deployment", f"weft-{service}"))
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(_find(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
    for entry in container.get("env", []):
        ref = entry.get("valueFrom", {}).get("secretKeyRef")
        if ref is None:
            env[entry["name"]] = entry["value"]
        elif ref["key"] in secret:
            env[entry["name"]] = secret[ref["key"]]
        else:
            assert ref.get("optional"), f"{service}: required key {ref['key']} missing; the pod would not start"
    return env


@pytest.mark.parametrize("target", ["dev", "production"])
def test_every_process_accepts_the_rendered_configuration(
    rendered: dict[str, list[Doc]], target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each settings class loads from what the overlay gives its pod (so the process starts)."""
    docs = rendered[target]
    if target == "dev":
        data = _find(docs, "Secret", SECRET_NAME)["data"]
        secret = {key: base64.b64decode(value).decode() for key, value in data.items()}
    else:
        secret = _operator_secret()
    for service, cls in SETTINGS.items():
        for name in list(os.environ):
            if name.startswith("WEFT_") or name == "MONGODB_URL":
                monkeypatch.delenv(name)
        for name, value in _process_env(docs, service, secret).items():
            monkeypatch.setenv(name, value)
        settings = cls()
        assert settings.platform.env == ("dev" if target == "dev" else "production")  # type: ignore[attr-defined]


# -- secrets --------------------------------------------------------------------------------


def test_secrets_are_referenced_by_documented_key_and_committed_only_for_dev(rendered: dict[str, list[Doc]]) -> None:
    documented = _documented_secret_keys()
    for target, docs in rendered.items():
        refs = list(_secret_refs(docs))
        assert refs, target
        for workload, ref in refs:
            assert ref["name"] == SECRET_NAME, f"{target} {workload}: {ref}"
            assert ref["key"] in documented, f"{target} {workload}: {ref['key']} is not in deploy/k8s/README.md"
            assert ref.get("optional", False) is not documented[ref["key"]], f"{target} {workload}: {ref}"
        assert {ref["key"] for _, ref in refs} == set(documented), f"{target}: the README lists a key nobody reads"
        objects = _of_kind(docs, "Secret")
        if target == "dev":
            assert [s["metadata"]["name"] for s in objects] == [SECRET_NAME]
        else:
            assert not objects, f"{target} commits a Secret"


def test_the_dev_secret_holds_only_the_public_dev_keys(rendered: dict[str, list[Doc]]) -> None:
    """Each of them is refused unless WEFT_ENV=dev, so the dev overlay's secret cannot leak into production."""
    secret = _find(rendered["dev"], "Secret", SECRET_NAME)
    assert secret["metadata"]["labels"]["weft.example.org/dev-only"] == "true"
    values = {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}
    assert values == {
        "WEFT_MESSAGE_SEALING_KEY": DEV_SEALING_KEY,
        "WEFT_NOTIFICATIONS_UNSUBSCRIBE_KEY": DEV_UNSUBSCRIBE_KEY,
        "WEFT_WEB_SECRET_KEY": DEV_SECRET_KEY,
    }
    assert _find(rendered["dev"], "ConfigMap", "weft-config")["data"]["WEFT_ENV"] == "dev"


# -- the overlays ---------------------------------------------------------------------------


def _bundled(docs: list[Doc]) -> set[str]:
    return {d["metadata"]["name"] for d in docs if d["metadata"]["name"] in BUNDLED}


def test_production_runs_two_or_more_of_everything_against_external_nats_and_mongodb(
    rendered: dict[str, list[Doc]],
) -> None:
    docs = rendered["production"]
    assert not _bundled(docs) and not _of_kind(docs, "StatefulSet") and not _of_kind(docs, "Job")
    deployments = _of_kind(docs, "Deployment")
    assert len(deployments) == len(SETTINGS)
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        assert deployment["spec"]["replicas"] >= 2, name
        assert _find(docs, "HorizontalPodAutoscaler", name)["spec"]["minReplicas"] >= 2
        assert _find(docs, "PodDisruptionBudget", name)["spec"] == {
            "minAvailable": 1,
            "selector": deployment["spec"]["selector"],
        }
        image = _container(deployment)["image"]
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        assert (tag and tag != "latest") or "@sha256:" in image, f"{name}: image {image} is not pinned"
    config = _find(docs, "ConfigMap", "weft-config")["data"]
    mongodb = parse_uri(config["MONGODB_URL"])  # as PyMongo reads it
    hosts = {host for host, _ in mongodb["nodelist"]}
    assert len(hosts) >= 3 and not hosts & BUNDLED, config["MONGODB_URL"]
    assert mongodb["options"]["replicaSet"] and mongodb["options"]["tls"] is True
    nats_servers = PlatformSettings(env="dev", nats_url=config["WEFT_NATS_URL"]).nats_servers
    assert len(nats_servers) == 3, nats_servers  # every node, so a restart finds one that is up
    assert all(url.split("//", 1)[1].split(":")[0] not in BUNDLED for url in nats_servers)
    assert config["WEFT_STREAM_REPLICAS"] == "3"


def test_dev_bundles_a_single_nats_with_jetstream_and_a_self_initialising_mongodb(
    rendered: dict[str, list[Doc]],
) -> None:
    docs = rendered["dev"]
    for deployment in _of_kind(docs, "Deployment"):
        assert deployment["spec"]["replicas"] == 1, deployment["metadata"]["name"]
    nats = _find(docs, "StatefulSet", "nats")
    assert nats["spec"]["replicas"] == 1
    assert "--jetstream" in _container(nats)["args"]
    assert _container(nats)["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    assert [claim["metadata"]["name"] for claim in nats["spec"]["volumeClaimTemplates"]] == ["data"]
    mongo = _find(docs, "StatefulSet", "mongo")
    assert _container(mongo)["args"][:2] == ["--replSet", "rs0"]
    assert mongo["spec"]["volumeClaimTemplates"]
    init = _container(_find(docs, "Job", "mongo-init-replica-set"))
    script = "\n".join(init["args"])
    assert 'rs.initiate({ _id: "rs0", members: [{ _id: 0, host: "mongo-0.mongo:27017" }] })' in script
    config = _find(docs, "ConfigMap", "weft-config")["data"]
    mongodb = parse_uri(config["MONGODB_URL"])
    assert mongodb["nodelist"] == [("mongo-0.mongo", 27017)]  # the member the Job names in the replica set
    assert mongodb["options"]["replicaSet"] == "rs0"
    assert config["WEFT_NATS_URL"] == "nats://nats:4222"
    assert _find(docs, "Service", "mongo")["spec"]["clusterIP"] == "None"


# -- the network policies ----------------------------------------------------------------


def _selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", expression  # the only operator these policies use
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def _port_matches(rule: Doc, port_name: str) -> bool:
    return "ports" not in rule or any(p.get("port") == port_name for p in rule["ports"])


def _peer_matches(rule: Doc, key: str, peer: Mapping[str, str] | None) -> bool:
    """`peer` is a pod's labels in the namespace, or None for a client outside the cluster."""
    if key not in rule:
        return True
    return peer is not None and any("podSelector" in p and _selects(p["podSelector"], peer) for p in rule[key])


def _allowed(docs: list[Doc], kind: str, pod: Mapping[str, str], peer: Mapping[str, str] | None, port: str) -> bool:
    """NetworkPolicy semantics for one direction: isolated once any policy selects the pod; then any rule allows."""
    field, key = ("ingress", "from") if kind == "Ingress" else ("egress", "to")
    policies = [
        p
        for p in _of_kind(docs, "NetworkPolicy")
        if kind in p["spec"]["policyTypes"] and _selects(p["spec"]["podSelector"], pod)
    ]
    if not policies:
        return True
    return any(
        _port_matches(rule, port) and _peer_matches(rule, key, peer)
        for policy in policies
        for rule in policy["spec"].get(field, [])
    )


def _pod_labels(docs: list[Doc], name: str) -> dict[str, str]:
    workload = next(d for d in docs if d["metadata"]["name"] == name and d["kind"] in ("Deployment", "StatefulSet"))
    return dict(workload["spec"]["template"]["metadata"]["labels"])


@pytest.mark.parametrize("target", list(TARGETS))
def test_network_policies_let_in_only_what_the_design_says(rendered: dict[str, list[Doc]], target: str) -> None:
    docs = rendered[target]
    pods = {service: _pod_labels(docs, f"weft-{service}") for service in SETTINGS}
    outsider = {"app.kubernetes.io/name": "something-else"}
    backends = ["membership", "events", "notifications", "resources"]
    for edge in ("gateway", "web"):
        assert _allowed(docs, "Ingress", pods[edge], None, "http"), f"{edge} refuses outside traffic"
    for backend in backends:
        assert _allowed(docs, "Ingress", pods[backend], pods["gateway"], "http")
        assert _allowed(docs, "Egress", pods["gateway"], pods[backend], "http")
        for stranger in (None, outsider, pods["web"], pods["membership" if backend != "membership" else "events"]):
            assert not _allowed(docs, "Ingress", pods[backend], stranger, "http"), f"{backend} lets in {stranger}"
        assert not _allowed(docs, "Egress", pods["web"], pods[backend], "http"), f"web reaches {backend} directly"
    assert _allowed(docs, "Egress", pods["web"], pods["gateway"], "http")
    # Ports any process may reach (NATS, MongoDB, DNS, HTTPS), and SMTP from notifications only.
    for service in SETTINGS:
        assert all(_allowed_port(docs, pods[service], port) for port in (4222, 27017, 53, 443)), service
        assert _allowed_port(docs, pods[service], 587) is (service == "notifications"), service
    if target == "dev":
        for bundled in ("nats", "mongo"):
            assert _allowed(docs, "Ingress", _pod_labels(docs, bundled), pods["events"], "client")
            assert not _allowed(docs, "Ingress", _pod_labels(docs, bundled), None, "client")


def _allowed_port(docs: list[Doc], pod: Mapping[str, str], port: int) -> bool:
    """Egress to any address outside the namespace on a numbered port."""
    policies = [
        p
        for p in _of_kind(docs, "NetworkPolicy")
        if "Egress" in p["spec"]["policyTypes"] and _selects(p["spec"]["podSelector"], pod)
    ]
    return not policies or any(
        "to" not in rule and any(p.get("port") == port for p in rule.get("ports", []))
        for policy in policies
        for rule in policy["spec"].get("egress", [])
    )


# -- the probes answer on the real processes -------------------------------------------------


@pytest.fixture(scope="module")
def running(
    start_session_service: StartService,
    membership_service: ServiceProcess,
    events_service: ServiceProcess,
    notifications_service: ServiceProcess,
    resources_service: ServiceProcess,
    gateway_service: ServiceProcess,
) -> dict[str, ServiceProcess]:
    """The session's processes, and a web app in front of its gateway."""
    web = start_session_service("web", env={"WEFT_WEB_GATEWAY_URL": gateway_service.url})
    return {
        "membership": membership_service,
        "events": events_service,
        "notifications": notifications_service,
        "resources": resources_service,
        "gateway": gateway_service,
        "web": web,
    }


async def test_every_probe_path_answers_on_the_running_process(
    rendered: dict[str, list[Doc]], running: dict[str, ServiceProcess]
) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        for service, process in running.items():
            container = _container(_find(rendered["base"], "Deployment", f"weft-{service}"))
            for probe in ("startupProbe", "livenessProbe"):
                path = container[probe]["httpGet"]["path"]
                response = await http.get(f"{process.url}{path}")
                assert response.status_code == 200, f"{service} {probe} {path}: {response.status_code}"
            ready = container["readinessProbe"]["httpGet"]["path"]

            async def is_ready(url: str = f"{process.url}{ready}") -> bool:
                response = await http.get(url)
                return response.status_code == 200 and response.json()["status"] == "ready"

            # Readiness follows the process's dependencies, so it may trail /healthz by a moment.
            await eventually(is_ready, what=f"{service} {ready} to answer 200 ready")
