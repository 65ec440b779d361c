"""Page routers, one module per area. Add a module's router here (add-only list)."""

from weft_web.pages.collections import router as collections_router
from weft_web.pages.communities import router as communities_router
from weft_web.pages.discussions.routes import router as discussions_router
from weft_web.pages.events import router as events_router
from weft_web.pages.home import router as home_router
from weft_web.pages.library import router as library_router
from weft_web.pages.live import router as live_router
from weft_web.pages.my_data import router as my_data_router
from weft_web.pages.notification_preferences import router as notification_preferences_router
from weft_web.pages.notifications import router as notifications_router
from weft_web.pages.people import router as people_router
from weft_web.pages.profile import router as profile_router
from weft_web.pages.resource import router as resource_router
from weft_web.pages.resource_edit import router as resource_edit_router
from weft_web.pages.search import router as search_router
from weft_web.pages.unsubscribe import router as unsubscribe_router

ROUTERS = [
    home_router,
    live_router,
    notification_preferences_router,
    notifications_router,
    people_router,
    profile_router,
    unsubscribe_router,
    events_router,
    communities_router,
    discussions_router,
    library_router,
    resource_router,
    resource_edit_router,
    collections_router,
    search_router,
    my_data_router,
]
