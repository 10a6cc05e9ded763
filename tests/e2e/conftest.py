"""End-to-end: the real ComfyUI server on loopback, driven in Debian's Chromium by Playwright.

Each test runs against every front end it is marked for (``front_ends``): the one the ComfyUI
under test bundles, and the current one (comfyui-frontend-package, ``FRONTEND_VERSION``,
default 1.58.1) put first on the server's Python path. One server per front end serves all
its tests. Tests taking ``mode`` run in the classic canvas and in Nodes 2.0 (Vue) mode
(setting ``Comfy.VueNodes.Enabled``). Skipped, with the reason, where ComfyUI, Chromium,
Playwright or the current front end is missing (``bash tests/e2e/install.sh`` installs them).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..conftest import comfyui_path, comfyui_skip_reason
from ..server.live_server import seeded_server

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CURRENT_VERSION = os.environ.get("FRONTEND_VERSION", "1.58.1")
CACHE = Path(
    os.environ.get("AUTOGUIDANCE_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "comfyui-autoguidance"
)
CURRENT_ROOT = CACHE / f"frontend-{CURRENT_VERSION}"  # holds comfyui_frontend_package/ from the wheel
OUR_SCRIPTS = "/extensions/comfyui-autoguidance/"
APP_READY = "() => window.app?.graph && app.canvas && LiteGraph.registered_node_types['AutoguidanceGuider']"
# Records every litegraph deprecation warning with the stack that raised it (repeats included).
DEPRECATION_HOOK = """() => {
    window.__agDeprecations = [];
    LiteGraph.alwaysRepeatWarnings = true;
    const record = (msg) => window.__agDeprecations.push(`${msg}\\n${new Error().stack}`);
    LiteGraph.onDeprecationWarning.push(record);
}"""


def _skip_reason() -> str | None:
    reason = comfyui_skip_reason()
    if reason:
        return reason
    if CHROMIUM is None:
        return "no Chromium: apt-get install chromium (or run bash tests/e2e/install.sh)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: pip install playwright (or run bash tests/e2e/install.sh)"
    return None


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "front_ends(*names): front ends a browser test runs on (bundled, current)"
    )
    config.addinivalue_line(
        "markers", "modes(*names): node rendering modes a browser test runs in (classic, vue)"
    )


FRONT_END_NAMES = ("bundled", "current")


def _is_e2e(item) -> bool:
    return "tests/e2e/" in str(item.fspath).replace(os.sep, "/")


def _front_end_rank(item) -> int:
    callspec = getattr(item, "callspec", None)
    name = callspec.params.get("front_end") if callspec else None
    return FRONT_END_NAMES.index(name) if name in FRONT_END_NAMES else -1


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark the browser tests (before ``-m`` selects), skip them with the reason where something is
    missing, and keep each front end's tests together after any shuffling plugin ran, so that its
    one server starts once."""
    reason = _skip_reason()
    for item in items:
        if _is_e2e(item):
            item.add_marker(pytest.mark.comfyui)
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))
    result = yield
    slots = [i for i, item in enumerate(items) if _is_e2e(item)]
    ordered = sorted((items[i] for i in slots), key=_front_end_rank)  # stable: a shuffle within stays
    for i, item in zip(slots, ordered, strict=True):
        items[i] = item
    return result


def pytest_generate_tests(metafunc):
    for name, default in (("front_end", FRONT_END_NAMES), ("mode", ("classic", "vue"))):
        if name in metafunc.fixturenames:
            marker = metafunc.definition.get_closest_marker(f"{name}s")
            scope = "session" if name == "front_end" else "function"
            metafunc.parametrize(name, marker.args if marker else default, indirect=True, scope=scope)


@dataclass(frozen=True)
class FrontEnd:
    name: str
    version: tuple[int, ...]
    package_root: Path | None  # put first on the server's PYTHONPATH; None: the installed package

    @property
    def label(self) -> str:
        return f"{self.name} {'.'.join(map(str, self.version))}"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".")[:3])


@pytest.fixture(scope="session")
def front_end(request) -> FrontEnd:
    if request.param == "bundled":
        return FrontEnd("bundled", _version(importlib.metadata.version("comfyui_frontend_package")), None)
    if not (CURRENT_ROOT / "comfyui_frontend_package" / "static" / "index.html").is_file():
        pytest.skip(f"front end {CURRENT_VERSION} is not at {CURRENT_ROOT}: run bash tests/e2e/install.sh")
    return FrontEnd("current", _version(CURRENT_VERSION), CURRENT_ROOT)


@pytest.fixture
def mode(request) -> str:
    return request.param


@contextlib.contextmanager
def _python_path_first(path: Path | None):
    """The server started inside imports the front-end package from ``path`` (as if installed)."""
    old = os.environ.get("PYTHONPATH")
    if path is not None:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(path), *([old] if old else [])])
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


@pytest.fixture(scope="session")
def ui_server(front_end, tmp_path_factory):
    servers = seeded_server(comfyui_path(), tmp_path_factory.mktemp(f"comfy-e2e-{front_end.name}"))
    with _python_path_first(front_end.package_root):
        server = next(servers)
    try:
        yield server
    finally:
        servers.close()


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
def page(browser, ui_server, front_end, request):
    vue = "mode" in request.fixturenames and request.getfixturevalue("mode") == "vue"
    settings = (
        ("Comfy.VueNodes.Enabled", vue),
        ("Comfy.TutorialCompleted", True),
        ("Comfy.Minimap.Visible", False),
    )
    for setting, value in settings:
        status, _ = ui_server.post(f"/settings/{setting}", value)
        assert status == 200, (setting, status)
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda err: errors.append(f"{err}\n{err.stack}"))
    p.goto(ui_server.url, wait_until="domcontentloaded")
    p.wait_for_function(APP_READY, timeout=120_000)
    served = p.evaluate("() => window.__COMFYUI_FRONTEND_VERSION__")
    assert served == ".".join(map(str, front_end.version)), f"{front_end.label} expected, {served} served"
    p.wait_for_timeout(1500)
    close_dialogs(p)  # a first visit may open the Templates browser or release notes
    p.evaluate(DEPRECATION_HOOK)
    # Errors and deprecation warnings raised by our extension (the front end's own are not ours to judge).
    p.errors = errors
    p.our_errors = lambda: [e for e in errors if "comfyui-autoguidance" in e or "schedule_" in e]
    p.our_deprecations = lambda: [d for d in p.evaluate("() => window.__agDeprecations") if OUR_SCRIPTS in d]
    yield p
    context.close()
