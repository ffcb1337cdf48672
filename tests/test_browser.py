"""End to end in a real browser: `streamlit run app.py`, Debian's Chromium driven by Playwright."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SHIPPED_MODEL, free_port, wait_healthy

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SEED = "the movie was terribly exciting"


def test_browser_is_there_when_required():
    """CI sets REQUIRE_BROWSER=1, so a missing browser fails instead of skipping the end-to-end test."""
    if os.environ.get("REQUIRE_BROWSER") and not Path(CHROMIUM).exists():
        pytest.fail(f"REQUIRE_BROWSER is set but there is no browser at {CHROMIUM}: apt-get install chromium")


@pytest.fixture(scope="module")
def app_url():
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SENTIMENT_MODELS_DIR", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", server)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=30)


def _chromium(playwright):
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync"],
    )


needs_browser = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                   reason=f"no browser at {CHROMIUM}: apt-get install chromium (make test does)")


@needs_browser
@pytest.mark.skipif(not (SHIPPED_MODEL / "model.keras").exists(), reason="no shipped model in saved_models/default")
def test_seed_sentence_in_a_real_browser(app_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = _chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1300})
        page.goto(app_url)
        box = page.get_by_label("Review", exact=True)
        box.wait_for(timeout=120_000)
        box.fill(SEED)
        page.get_by_role("button", name="Classify").click()
        metric = page.get_by_test_id("stMetricValue")
        expect(metric).to_have_text("positive", timeout=120_000)  # issue 5: the shipped model says positive
        expect(page.get_by_text("Word by word")).to_be_visible()
        expect(page.locator("span[title]").filter(has_text="terribly")).to_be_visible()
        expect(page.get_by_text("pushes towards positive")).to_be_visible()
        shot = tmp_path / "app.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        if os.environ.get("SCREENSHOT_TO"):
            shutil.copy(shot, os.environ["SCREENSHOT_TO"])
        browser.close()


@needs_browser
@pytest.mark.skipif(not (ROOT / "reports" / "lecture7" / "report.md").exists(), reason="no lab report committed")
def test_the_lab_tab_shows_the_committed_report_with_its_plots(app_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = _chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1300})
        page.goto(app_url)
        page.get_by_role("tab", name="Lab").click(timeout=120_000)
        expect(page.get_by_role("heading", name="Lecture 7 lab")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Every figure is mean ± sd over the seeds")).to_be_visible()
        plots = page.get_by_role("tabpanel").locator("img")  # the open tab's images (hidden tabs are left out)
        expect(plots.nth(5)).to_be_visible(timeout=60_000)  # one plot per claim (the adding problem has its own)
        expect(plots).to_have_count(6)
        if os.environ.get("SCREENSHOT_TO"):
            page.screenshot(path=str(Path(os.environ["SCREENSHOT_TO"]).with_name("lab.png")), full_page=True)
        browser.close()
