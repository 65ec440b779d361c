"""The resources service's HTTP API: thin routes, one module per resource."""

from fastapi import APIRouter

from weft_resources.api import files, resources

ROUTERS: list[APIRouter] = [
    resources.router,
    files.router,
]
