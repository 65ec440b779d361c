"""Page routers, one module per area. Add a module's router here (add-only list)."""

from weft_web.pages.discussions.routes import router as discussions_router
from weft_web.pages.home import router as home_router
from weft_web.pages.live import router as live_router

ROUTERS = [
    home_router,
    live_router,
    discussions_router,
]
