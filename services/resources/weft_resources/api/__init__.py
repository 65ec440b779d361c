"""The resources service's HTTP API: thin routes, one module per resource."""

from fastapi import APIRouter

from weft_resources.api import (
    collections,
    curation,
    files,
    moderation,
    replies,
    resources,
    search,
    sharing,
    threads,
    versions,
)

ROUTERS: list[APIRouter] = [
    resources.router,
    versions.router,
    sharing.router,
    threads.router,
    replies.router,
    search.router,
    files.router,
    curation.router,
    collections.router,
    moderation.router,
]
