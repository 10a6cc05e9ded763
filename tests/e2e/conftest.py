"""End-to-end: the real ComfyUI server on loopback, driven in Debian's Chromium by Playwright.

Skipped, with the reason, where ComfyUI, Chromium or the Playwright package is missing
(``bash tests/e2e/run.sh`` installs the last two and runs this suite)."""

from __future__ import annotations

import os
import shutil

import pytest

from ..conftest import comfyui_path, comfyui_skip_reason  # noqa: TID252
from ..server.live_server import seeded_server  # noqa: TID252

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _skip_reason() -> str | None:
    reason = comfyui_skip_reason()
    if reason:
        return reason
    if CHROMIUM is None:
        return "no Chromium: apt-get install chromium (or run bash tests/e2e/run.sh)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: pip install playwright (or run bash tests/e2e/run.sh)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _skip_reason()
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory):
    yield from seeded_server(comfyui_path(), tmp_path_factory.mktemp("comfy-e2e"))


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def close_dialogs(p) -> None:
    dialogs = p.get_by_role("dialog")
    for _ in range(3):
        if not dialogs.count() or not dialogs.first.is_visible():
            return
        p.keyboard.press("Escape")
        p.wait_for_timeout(300)
    dialogs.first.wait_for(state="hidden", timeout=10_000)


@pytest.fixture
def page(browser, ui_server):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda err: errors.append(f"{err}\n{err.stack}"))
    p.goto(ui_server.url, wait_until="domcontentloaded")
    p.wait_for_function("() => window.app && window.app.graph && window.app.canvas && "
                        "window.LiteGraph && LiteGraph.registered_node_types['AutoguidanceGuider']", timeout=120_000)
    # The first visit to a fresh server opens the Templates browser: close whatever dialog is up.
    p.wait_for_timeout(1500)
    close_dialogs(p)
    # Errors thrown by our extension (the front end's own start-up noise is not ours to judge).
    p.errors = errors
    p.our_errors = lambda: [e for e in errors if "comfyui-autoguidance" in e or "schedule_" in e]
    yield p
    context.close()
