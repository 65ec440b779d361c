"""The resources service's HTTP API: thin routes, one module per resource."""

from fastapi import APIRouter

from weft_resources.api import resources, search, sharing, versions

ROUTERS: list[APIRouter] = [
    resources.router,
    versions.router,
    sharing.router,
    search.router,
]
