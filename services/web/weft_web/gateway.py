"""The one way pages reach Weft: the gateway's public API, with the signed-in person's token.

Pages see answers as JSON and failures as `ApiError`, which keeps the API's problem+json
(status, detail, and the refused fields) so a form can show each message beside its field.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx

from weft_shared.observability import request_id_var


@dataclass
class ApiError(Exception):
    status: int
    detail: str
    # field name -> message, from the problem's `errors` (e.g. {"name": "String should have ..."}).
    fields: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status}: {self.detail}"

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        detail = response.reason_phrase or "error"
        fields: dict[str, str] = {}
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            detail = str(body.get("detail") or body.get("title") or detail)
            for entry in body.get("errors") or []:
                if isinstance(entry, dict) and isinstance(entry.get("field"), str):
                    fields.setdefault(entry["field"], str(entry.get("message", "invalid")))
        return cls(response.status_code, detail, fields)


class Gateway:
    """A pooled HTTP client towards the gateway, shared by every request of the process."""

    def __init__(self, base_url: str, *, timeout_seconds: float) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout_seconds,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            follow_redirects=False,
        )

    async def close(self) -> None:
        await self._http.aclose()

    def as_person(self, token: str | None) -> Api:
        return Api(self._http, token)

    async def healthy(self) -> None:
        response = await self._http.get("/healthz")
        response.raise_for_status()


class Api:
    """Calls made on behalf of one person (or anonymously when `token` is None)."""

    def __init__(self, http: httpx.AsyncClient, token: str | None) -> None:
        self._http = http
        self.token = token

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request_id = request_id_var.get()
        if request_id:
            headers["X-Request-Id"] = request_id
        if extra:
            headers.update(extra)
        return headers

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        clean = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        _refuse_dot_segments(path)
        try:
            response = await self._http.request(
                method, path, params=clean, json=json, content=content, headers=self._headers(headers)
            )
        except httpx.InvalidURL as exc:
            raise not_a_path() from exc
        if response.status_code >= 400:
            raise ApiError.from_response(response)
        return response

    async def get(self, path: str, **params: Any) -> Any:
        return _body(await self.request("GET", path, params=params))

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return _body(await self.request("POST", path, json=json, **kwargs))

    async def put(self, path: str, json: Any = None) -> Any:
        return _body(await self.request("PUT", path, json=json))

    async def patch(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return _body(await self.request("PATCH", path, json=json, **kwargs))

    async def delete(self, path: str) -> Any:
        return _body(await self.request("DELETE", path))

    @asynccontextmanager
    async def stream(self, method: str, path: str, **kwargs: Any) -> AsyncIterator[httpx.Response]:
        """A streamed answer (file downloads, the live notification stream); errors still raise."""
        _refuse_dot_segments(path)
        try:
            request = self._http.build_request(
                method, path, headers=self._headers(kwargs.pop("headers", None)), **kwargs
            )
        except httpx.InvalidURL as exc:
            raise not_a_path() from exc
        response = await self._http.send(request, stream=True)
        try:
            if response.status_code >= 400:
                await response.aread()
                raise ApiError.from_response(response)
            yield response
        finally:
            await response.aclose()


def _refuse_dot_segments(path: str) -> None:
    """Ids come from the address bar: `..` in one (even percent-encoded) would be another path,
    which the gateway refuses with a 400 in its own words. For a person it is a page that is not there."""
    for segment in path.split("?", 1)[0].split("/"):
        if unquote(unquote(segment)).strip() in (".", "..") or "/" in unquote(segment):
            raise not_a_path()


def not_a_path() -> ApiError:
    """An id from the address bar that makes no URL (`..`, a control character): nothing is there."""
    return ApiError(404, "not found")


def _body(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    return response.json()
