"""The event pages: lists and the month, one event and its RSVP panel, host tools, the
viewer's attendance record and calendar feed."""

from fastapi import APIRouter

from weft_web.pages.events import door, event_page, listing, my_record

router = APIRouter()
for _area in (listing.router, event_page.router, door.router, my_record.router):
    router.include_router(_area)
