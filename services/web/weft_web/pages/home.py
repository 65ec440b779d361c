"""`/`: a signed-in person's home (their communities, what is next); a welcome page otherwise."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web.deps import Api, Viewer
from weft_web.rendering import render

router = APIRouter()


@router.get("/", name="home")
async def home(request: Request, viewer: Viewer, api: Api) -> Response:
    if viewer is None:
        return render(request, "pages/welcome.html", {"section": "home"})
    me = await api.get("/v1/me")
    return render(request, "pages/home.html", {"section": "home", "me": me})
