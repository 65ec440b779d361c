"""The resources service's HTTP API: thin routes, one module per resource."""

from fastapi import APIRouter

ROUTERS: list[APIRouter] = []
