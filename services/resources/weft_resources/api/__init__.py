"""The resources service's HTTP API: thin routes, one module per resource."""

from fastapi import APIRouter

from weft_resources.api import moderation

ROUTERS: list[APIRouter] = [
    moderation.router,
]
