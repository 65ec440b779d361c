"""`/docs` works without a network: the page and everything it loads come from the same server."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.gateway.servers import start_gateway
from weft_cli.testing import ServiceProcess


class _AssetLinks(HTMLParser):
    """Every URL a page makes the browser load: scripts, stylesheets, icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attribute = {"script": "src", "img": "src", "link": "href"}.get(tag)
        url = dict(attrs).get(attribute) if attribute else None
        if url:
            self.urls.append(url)


async def assert_docs_served_offline(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "cdn." not in page.text and "https://" not in page.text, page.text
    parser = _AssetLinks()
    parser.feed(page.text)
    kinds = {urlsplit(url).path.rsplit(".", 1)[-1] for url in parser.urls}
    assert {"js", "css"} <= kinds, parser.urls
    base = str(client.base_url)
    for url in parser.urls:
        absolute = urljoin(base + "/docs", url)
        assert urlsplit(absolute).netloc == urlsplit(base).netloc, f"{url} is on another host"
        asset = await client.get(absolute)
        assert asset.status_code == 200, url
        assert asset.content, url
    # The page's script is Swagger UI itself, and it reads the document this server serves.
    assert "openapi.json" in page.text


async def test_the_gateway_docs_load_nothing_from_elsewhere() -> None:
    async with start_gateway() as gateway:
        await assert_docs_served_offline(gateway)
        script = await gateway.get("/docs/assets/swagger-ui-bundle.js")
        assert "javascript" in script.headers["content-type"]
        assert "SwaggerUIBundle" in script.text
        # ReDoc has no packaged copy: no blank page left behind.
        assert (await gateway.get("/redoc")).status_code == 404


@pytest.mark.parametrize("service", ["membership", "events", "gateway"])
async def test_every_service_docs_load_nothing_from_elsewhere(
    service: str, membership_service: ServiceProcess, events_service: ServiceProcess, gateway_service: ServiceProcess
) -> None:
    process = {"membership": membership_service, "events": events_service, "gateway": gateway_service}[service]
    async with httpx.AsyncClient(base_url=process.url, timeout=15) as client:
        await assert_docs_served_offline(client)
