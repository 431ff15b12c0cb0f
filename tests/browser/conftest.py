"""Browser tier: Playwright's Chromium driving the real ComfyUI frontend of the test server.

``comfy_server`` (``tests/conftest.py``) runs ComfyUI with ``--multi-user``; a fresh user is
created once per session through the API and signed in by localStorage before each page loads, so
the user-selection screen never shows. The first-run template browser is turned off through that
user's settings. Each test gets its own browser context (own client id, own localStorage).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.browser.comfy_page import CHROMIUM_ARGS, READY, VIEWPORT, ComfyPage
from tests.browser.panel_helpers import PANEL_HANDLE_OPT_IN
from tests.environment import CHROMIUM
from tools.comfy_server import ComfyServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

# benchmarks/bench_panel.py still imports these from here (tests take them from comfy_page and
# tests.environment); the re-export can go once it imports them from there.
__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "READY", "VIEWPORT"]

USER_SETTINGS = {
    "Comfy.TutorialCompleted": True,  # else the "Get Started with a Template" dialog covers the canvas
}

# Records what the canvas draws that starts with "used: ", to check the node really shows the seed.
CANVAS_TEXT_PROBE = """
(() => {
  window.__seedNumberDrawn = new Set();
  const original = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
    if (typeof text === "string" && text.startsWith("used: ")) window.__seedNumberDrawn.add(text);
    return original.call(this, text, ...rest);
  };
})();
"""


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra)")
    with sync_api.sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    assert CHROMIUM is not None  # the tier is skipped otherwise (tests/conftest.py)
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def comfy_user(comfy_server: ComfyServer) -> dict[str, str]:
    """A new ComfyUI user on the multi-user test server, its first-run dialogs turned off."""
    username = f"browser-{uuid.uuid4().hex[:8]}"
    status, user_id = comfy_server.request("POST", "/users", {"username": username})
    assert status == 200 and isinstance(user_id, str) and user_id, f"POST /users answered {status} {user_id!r}"
    status, _ = comfy_server.request("POST", "/settings", USER_SETTINGS, headers={"comfy-user": user_id})
    assert status == 200, f"POST /settings answered {status}"
    return {"id": user_id, "name": username}


@pytest.fixture
def comfy_page(
    browser: Browser, comfy_server: ComfyServer, comfy_user: dict[str, str], request: pytest.FixtureRequest
) -> Iterator[ComfyPage]:
    """A fresh, signed-in, fully loaded ComfyUI tab (with the panel's debugging handle, unless the test
    is marked ``no_panel_handle``)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=comfy_server.url)
    context.add_init_script(
        f"localStorage.setItem('Comfy.userId', {json.dumps(comfy_user['id'])});"
        f"localStorage.setItem('Comfy.userName', {json.dumps(comfy_user['name'])});"
    )
    context.add_init_script(CANVAS_TEXT_PROBE)
    if request.node.get_closest_marker("no_panel_handle") is None:
        context.add_init_script(PANEL_HANDLE_OPT_IN)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield ComfyPage(page, comfy_server).goto()
    finally:
        context.close()
