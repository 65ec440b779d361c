"""The resources service's HTTP API: thin routes, one module per resource."""

from fastapi import APIRouter

from weft_resources.api import collections, curation, resources

ROUTERS: list[APIRouter] = [
    resources.router,
    curation.router,
    collections.router,
]
