"""The resources service's HTTP API: thin routes, one module per resource."""

from fastapi import APIRouter

from weft_resources.api import resources, sharing, versions

ROUTERS: list[APIRouter] = [
    resources.router,
    versions.router,
    sharing.router,
]
