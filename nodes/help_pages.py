"""The pack's HTTP routes: the nodes' help pages (``web/docs``) and the graph rules the panel reads.

``GET /seed_number/graph_rules`` tells the browser panel which node classes are samplers
(``core.prompt_details.SAMPLER_CLASSES``, the set Seed Details walks back to), so the panel and the
Python side agree from one definition.

The frontend's node help fetches ``/extensions/<pack folder>/docs/<node id>.md``. Our node ids hold
a ``|`` (``SeedSource|SeedNumber``), a character Windows cannot put in a file name, so the pages are
stored as ``web/docs/SeedSource.md`` and this route answers for the ``|`` names. Routes a pack adds
are matched before ComfyUI's static ``/extensions`` folders.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .core.paths import help_page_file
from .core.prompt_details import SAMPLER_CLASSES
from .prompt_hook import running_server

logger = logging.getLogger("seed_number")

PACK_ROOT = Path(__file__).parents[1]
"""The pack folder as ComfyUI loaded it (not resolved: its name is the one in the frontend's URLs)."""
DOCS = PACK_ROOT / "web" / "docs"
GRAPH_RULES_PATH = "/seed_number/graph_rules"


def graph_rules() -> dict[str, list[str]]:
    """What ``GET /seed_number/graph_rules`` answers (static: computed once per request, no I/O)."""
    return {"sampler_classes": sorted(SAMPLER_CLASSES)}


_registered = False


def register(node_ids: list[str]) -> bool:
    """Add the route once; False when there is no running PromptServer (tests, scripts)."""
    global _registered
    if _registered:
        return True
    instance = running_server()
    if instance is None:
        return False
    from aiohttp import web  # ComfyUI's own web server library

    ids = tuple(node_ids)

    @instance.routes.get(f"/extensions/{PACK_ROOT.name}/docs/{{name}}")
    async def help_page(request: web.Request) -> web.StreamResponse:
        name = help_page_file(request.match_info["name"], ids)
        path = DOCS / name if name else None
        if path is None or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Content-Type": "text/markdown; charset=utf-8"})

    @instance.routes.get(GRAPH_RULES_PATH)
    async def rules(request: web.Request) -> web.StreamResponse:
        return web.json_response(graph_rules())

    _registered = True
    return True
