"""`/me/data`: a copy of everything Weft holds about me (the API's export), and erasing my account.

The export is asynchronous: asking starts it, the page lists what was asked and when it is
ready (the person is also told by a notification), and the archive is streamed through from
the API. Erasure asks for a confirmation first; once the API has accepted it, every session
of the person here ends too, so their name leaves this app's database.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person, Web
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.file_transfer import relay_download
from weft_web.pages.notification_links import readable_time
from weft_web.rendering import render
from weft_web.security import set_browser_id
from weft_web.sessions import new_session_id

router = APIRouter()


@router.get("/me/data", name="my_data")
async def my_data(request: Request, person: Person, api: Api) -> Response:
    exports = (await api.get("/v1/me/export"))["items"]
    for export in exports:
        export["requested"] = readable_time(export.get("requested_at"))
        export["expires"] = readable_time(export.get("expires_at"))
    pending = any(export["status"] == "pending" for export in exports)
    return render(request, "pages/my_data.html", {"section": "me", "exports": exports, "pending": pending})


@router.post("/me/data/export", name="my_data_export")
async def ask_for_export(request: Request, person: Person, api: Api) -> Response:
    await api.post("/v1/me/export")
    return flash.redirect(
        request,
        "/me/data",
        _("We are gathering your data from every part of Weft. You will get a notification when it is ready."),
    )


@router.get("/me/data/exports/{export_id}/archive", name="my_data_archive")
async def download_archive(request: Request, export_id: str, person: Person, api: Api) -> Response:
    return await relay_download(request, api, f"/v1/me/export/{export_id}/archive")


@router.get("/me/delete", name="delete_account")
async def delete_account_page(request: Request, person: Person) -> Response:
    return _delete_page(request)


@router.post("/me/delete", name="delete_account_confirm")
async def delete_account(request: Request, web: Web, person: Person, api: Api) -> Response:
    form = await request.form()
    if form.get("confirm") != "yes":
        return _delete_page(request, {"confirm": _("Tick the box to say you understand what is erased.")})
    try:
        await api.delete("/v1/me")
    except ApiError as error:
        if error.status != 409:
            raise
        # The only owner of a community: the API names them; they hand over first.
        return _delete_page(request, {"confirm": error.detail}, status_code=409)
    await web.sessions.end_all_of(person.sub)
    set_browser_id(request, new_session_id())
    return flash.redirect(
        request, "/", _("Your account is erased. What you wrote in communities stays, without your name."), level="info"
    )


def _delete_page(request: Request, errors: dict[str, str] | None = None, *, status_code: int = 200) -> Response:
    return render(
        request,
        "pages/delete_account.html",
        {"section": "me", "errors": errors or {}},
        status_code=422 if errors and status_code == 200 else status_code,
    )
