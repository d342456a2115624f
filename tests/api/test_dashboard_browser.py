"""A real browser (Debian's headless Chromium) signs in, sees the heatmap, clicks a cell and
reads its evidence sentences.  Screenshots go to the test's temporary folder, or to
``$CASELENS_SCREENSHOT_DIR`` when set (the committed ``benchmarks/figures/*.png`` were
made that way), so a test run leaves the repository as it was."""
from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from aggregate_helpers import RISING, results, store_results

from api.app import create_app
from api.security import Role, create_key
from api.settings import ServiceSettings

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The real app under uvicorn on a free port, with the seed store and a QA lead's key."""
    app = create_app(ServiceSettings(database_url=f"sqlite:///{tmp_path / 'caselens.sqlite'}"))
    store_results(app.state.sessions, results())
    with app.state.sessions() as session:
        token = create_key(session, Role.qa_lead, "browser test").token
    port = free_port()
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                            log_level="warning"))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", token
    running.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()


def test_sign_in_see_heatmap_and_drill_down(server: tuple[str, str], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    url, token = server
    figures = Path(os.environ.get("CASELENS_SCREENSHOT_DIR") or tmp_path)
    figures.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url + "/")
            assert page.url.endswith("/login")
            page.fill("#api_key", token)
            page.click("form.login button[type=submit]")
            page.wait_for_selector("svg.heatmap")
            assert page.locator("svg.heatmap a.cell").count() == 3 * 10  # 3 concerns × 10 months
            assert page.locator("svg.lines polyline").count() >= 1
            assert page.locator("table.emerging tr.flagged").count() == 1
            page.screenshot(path=str(figures / "dashboard.png"), full_page=True)

            page.locator(f'a.cell[data-label="{RISING}"][data-period="2024-09"]').click()
            page.wait_for_selector("td.sentence")
            sentences = page.locator("td.sentence").all_inner_texts()
            assert sentences and all(s.startswith("Sentence about recording") for s in sentences)
            assert page.locator("h1").inner_text().endswith("2024-09")
            page.screenshot(path=str(figures / "dashboard_evidence.png"), full_page=True)
        finally:
            browser.close()
    assert all((figures / name).stat().st_size > 10_000
               for name in ("dashboard.png", "dashboard_evidence.png"))
