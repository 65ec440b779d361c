"""Page routers, one module per area. Add a module's router here (add-only list)."""

from weft_web.pages.collections import router as collections_router
from weft_web.pages.home import router as home_router
from weft_web.pages.library import router as library_router
from weft_web.pages.live import router as live_router
from weft_web.pages.resource import router as resource_router
from weft_web.pages.resource_edit import router as resource_edit_router
from weft_web.pages.search import router as search_router

ROUTERS = [
    home_router,
    live_router,
    library_router,
    resource_router,
    resource_edit_router,
    collections_router,
    search_router,
]
