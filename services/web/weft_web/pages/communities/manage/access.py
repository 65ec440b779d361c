"""Who may use the facilitator tools: owners and facilitators; anyone else gets the 404 page."""

from __future__ import annotations

from starlette.exceptions import HTTPException

from weft_web.gateway import Api
from weft_web.pages.community_frame import CommunityFrame, community_frame


async def staff_frame(api: Api, community_id: str) -> CommunityFrame:
    frame = await community_frame(api, community_id)
    if not frame.is_staff:
        raise HTTPException(404)  # the same page as a community that does not exist
    return frame


def manage_path(frame: CommunityFrame, tool: str = "") -> str:
    return f"/communities/{frame.id}/manage" + (f"/{tool}" if tool else "")


def manage_context(frame: CommunityFrame, tool: str) -> dict[str, object]:
    """The community frame on its Manage tab, with the tool that is current."""
    return {**frame.context("manage"), "tool": tool}
