"""The discussion area's pages as one router (registered in `weft_web.pages`)."""

from __future__ import annotations

from fastapi import APIRouter

from weft_web.pages.discussions import authors, listing, moderation, post_edits, reports, thread_actions, thread_page

router = APIRouter()
for part in (listing, thread_page, thread_actions, post_edits, reports, authors, moderation):
    router.include_router(part.router)
