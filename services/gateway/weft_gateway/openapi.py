"""One OpenAPI document for the whole API, merged from each service's own.

Each service publishes `/openapi.json` for the paths it owns; the gateway fetches
them, keeps the paths its route table sends to that service, merges components
(renaming a same-named but different component per service), and caches the result
briefly. A service that doesn't answer is left out rather than failing the document.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

import aiohttp
import orjson

from weft_gateway.routes import RouteTable
from weft_gateway.upstreams import Upstreams
from weft_shared.errors import PROBLEM_SCHEMA, problem_response_doc

log = logging.getLogger("weft.gateway.openapi")

_PARAM = re.compile(r"\{[^}/]+\}")
_FETCH_TIMEOUT_SECONDS = 5.0
# While a service is missing from the document, ask again sooner than the normal TTL.
_INCOMPLETE_TTL_SECONDS = 5.0
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})

Document = dict[str, Any]

# What the gateway itself can answer on any operation it routes, before or instead of the service.
_GATEWAY_ERRORS: dict[int, str] = {
    400: "The path or the request framing is malformed ('.' segments, an invalid Content-Length)",
    429: "Rate limit exceeded; retry after the time in Retry-After",
    502: "The service could not be reached",
    503: "The service is not configured on this gateway",
    504: "The service did not answer in time",
}


def merge_documents(documents: list[tuple[str, Document]], routes: RouteTable, *, title: str, version: str) -> Document:
    """Merge (service, document) pairs, in order, into one OpenAPI 3.1 document."""
    paths: dict[str, Any] = {}
    # The gateway's own errors refer to this one; a service's different `Problem` gets renamed.
    components: dict[str, dict[str, Any]] = {"schemas": {"Problem": PROBLEM_SCHEMA}}
    tags: list[dict[str, Any]] = []
    tag_names: set[str] = set()
    operation_ids: set[str] = set()

    for service, doc in documents:
        own_components: dict[str, dict[str, Any]] = doc.get("components") or {}
        # A name another service already uses for something different gets this service's prefix.
        refs: dict[str, str] = {}
        for section, items in own_components.items():
            taken = components.get(section, {})
            for name, value in items.items():
                if name in taken and taken[name] != value:
                    refs[f"#/components/{section}/{name}"] = f"#/components/{section}/{service}_{name}"
        if refs:
            doc = _rewrite_refs(doc, refs)
            own_components = doc.get("components") or {}
        for section, items in own_components.items():
            target = components.setdefault(section, {})
            for name, value in items.items():
                renamed = refs.get(f"#/components/{section}/{name}")
                target[renamed.rsplit("/", 1)[1] if renamed else name] = value

        for template, item in (doc.get("paths") or {}).items():
            # Only what the gateway would actually route to this service is reachable through it.
            route = routes.match(_PARAM.sub("x", template))
            if route is None or route.service != service:
                log.info("leaving %s out of the merged OpenAPI: not routed to %s", template, service)
                continue
            if template in paths:
                log.warning("%s is described by two services; keeping the first", template)
                continue
            for method, operation in item.items():
                if method in _HTTP_METHODS and isinstance(operation, dict) and "operationId" in operation:
                    if operation["operationId"] in operation_ids:
                        operation["operationId"] = f"{service}_{operation['operationId']}"
                    operation_ids.add(operation["operationId"])
            paths[template] = item
            _declare_gateway_errors(item, authenticated=route.auth)

        for tag in doc.get("tags") or []:
            if isinstance(tag, dict) and tag.get("name") not in tag_names:
                tag_names.add(tag["name"])
                tags.append(tag)

    merged: Document = {"openapi": "3.1.0", "info": {"title": title, "version": version}, "paths": paths}
    if components:
        merged["components"] = components
    if tags:
        merged["tags"] = tags
    return merged


def _declare_gateway_errors(item: dict[str, Any], *, authenticated: bool) -> None:
    """Add the problem responses the gateway gives on its own to each operation of a path."""
    for method, operation in item.items():
        if method not in _HTTP_METHODS or not isinstance(operation, dict):
            continue
        responses = operation.setdefault("responses", {})
        own = dict(_GATEWAY_ERRORS)
        if authenticated:
            own[401] = "No valid bearer token"
        if "requestBody" in operation:
            own[413] = "The request body is larger than the gateway accepts"
        for status, description in own.items():
            responses.setdefault(str(status), problem_response_doc(status, description))
        responses["429"].setdefault("headers", {})["Retry-After"] = {
            "description": "Seconds to wait before retrying",
            "schema": {"type": "string"},
        }


def _rewrite_refs(node: Any, refs: dict[str, str]) -> Any:
    # Any string equal to a renamed ref: covers "$ref" and discriminator mappings alike.
    if isinstance(node, dict):
        return {key: _rewrite_refs(value, refs) for key, value in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(value, refs) for value in node]
    if isinstance(node, str):
        return refs.get(node, node)
    return node


class MergedOpenApi:
    def __init__(self, upstreams: Upstreams, routes: RouteTable, *, ttl_seconds: float, version: str) -> None:
        self._upstreams = upstreams
        self._routes = routes
        self._ttl = ttl_seconds
        self._version = version
        self._cached: bytes | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def document(self) -> bytes:
        """The merged document as JSON bytes, rebuilt at most once per TTL."""
        if self._cached is not None and time.monotonic() < self._expires_at:
            return self._cached
        async with self._lock:  # one refresh at a time; the others wait and reuse it
            if self._cached is not None and time.monotonic() < self._expires_at:
                return self._cached
            services = self._upstreams.configured()
            fetched = await asyncio.gather(*(self._fetch(name, url) for name, url in services.items()))
            documents = [(name, doc) for name, doc in zip(services, fetched, strict=True) if doc is not None]
            merged = merge_documents(documents, self._routes, title="Weft API", version=self._version)
            missing = sorted(set(services) - {name for name, _ in documents})
            if missing:
                merged["info"]["x-weft-unavailable-services"] = missing
            self._cached = orjson.dumps(merged)
            ttl = min(self._ttl, _INCOMPLETE_TTL_SECONDS) if missing else self._ttl
            self._expires_at = time.monotonic() + ttl
            return self._cached

    async def _fetch(self, service: str, base_url: str) -> Document | None:
        timeout = aiohttp.ClientTimeout(total=min(self._upstreams.timeout_seconds, _FETCH_TIMEOUT_SECONDS))
        try:
            async with self._upstreams.session.get(f"{base_url}/openapi.json", timeout=timeout) as response:
                if response.status != 200:
                    log.warning("%s /openapi.json answered %s; left out", service, response.status)
                    return None
                doc = orjson.loads(await response.read())
        except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError) as exc:
            log.warning("%s /openapi.json unavailable (%r); left out", service, exc)
            return None
        if not isinstance(doc, dict) or not isinstance(doc.get("paths", {}), dict):
            log.warning("%s /openapi.json is not an OpenAPI document; left out", service)
            return None
        return doc
