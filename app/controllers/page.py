"""The feed page (static/index.html) at ``/``."""

from __future__ import annotations

from litestar import Controller, get
from litestar.datastructures import CacheControlHeader
from litestar.response import File

from app.paths import STATIC_DIR


class PageController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", media_type="text/html", cache_control=CacheControlHeader(no_cache=True))
    async def index(self) -> File:
        return File(STATIC_DIR / "index.html", content_disposition_type="inline")
