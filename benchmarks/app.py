"""Cold start and per-prediction latency of the Streamlit app, measured in a real browser.

    python -m benchmarks.app          # needs /usr/bin/chromium (apt-get install chromium)

Cold start: from launching `streamlit run app.py` (with the browser already open) to the first
classified result on the page: server start, page load, TensorFlow import, model load, first
prediction with its explanation. Per prediction: the time the page
reports for classify + explain of a 50-word review, and the same call in process (median of 20).
Writes benchmarks/results/app.md.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REVIEW_50 = ("I went in expecting very little from this film, but the story grabbed me from the first scene. "
             "The acting is strong, the music fits every moment, and the ending surprised me in the best way. "
             "A few scenes drag, yet it is the most enjoyable film of this year.")


LAST_WORDS = ("season", "decade", "summer", "winter", "autumn")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def main() -> int:
    from playwright.sync_api import expect, sync_playwright

    assert len(REVIEW_50.split()) == 50
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with sync_playwright() as playwright:
        # The browser is already open, as a user's would be: cold start is the app's, not Chromium's.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        page = browser.new_page()
        started = time.perf_counter()
        server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                                   "--server.port", str(port), "--server.address", "127.0.0.1",
                                   "--browser.gatherUsageStats", "false"],
                                  cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                        break
                except OSError:
                    if server.poll() is not None or time.perf_counter() - started > 120:
                        raise RuntimeError("streamlit did not start") from None
                    time.sleep(0.05)
            healthy = time.perf_counter() - started
            page.goto(f"http://127.0.0.1:{port}")
            page.get_by_role("button", name="the movie was terribly exciting").click()
            expect(page.get_by_text("Word by word")).to_be_visible(timeout=120_000)
            cold = time.perf_counter() - started
            reported = []
            for last_word in LAST_WORDS:  # a different last word each time, so we read this run's caption
                review = REVIEW_50.replace("year.", last_word + ".")
                page.get_by_label("Review", exact=True).fill(review)
                page.get_by_role("button", name="Classify").click()
                expect(page.locator("span[title]").filter(has_text=last_word + ".")).to_be_visible(timeout=60_000)
                caption = page.get_by_text(re.compile(r"Prediction and explanation took \d+ ms"))
                reported.append(int(re.search(r"took (\d+) ms", caption.inner_text()).group(1)))
        finally:
            server.terminate()
            server.wait(timeout=30)
            browser.close()

    from sentiment.model_folder import load_classifier
    from sentiment.explain import explain

    classifier = load_classifier(ROOT / "saved_models" / "default")
    explain(classifier, REVIEW_50)
    in_process = []
    for _ in range(20):
        t = time.perf_counter()
        explain(classifier, REVIEW_50)
        in_process.append((time.perf_counter() - t) * 1000)
    lines = [
        f"App benchmark, {datetime.date.today()}, {platform.machine()} with {os.cpu_count()} cores, model saved_models/default.",
        "",
        "| measurement | value |",
        "|---|---|",
        f"| `streamlit run` to healthy server | {healthy:.1f} s |",
        f"| cold start: launch to first result with explanation in the browser | {cold:.1f} s |",
        f"| classify + explain a 50-word review, as the page reports it (median of {len(reported)}) | {np.median(reported):.0f} ms |",
        f"| the same call in process (median of 20) | {np.median(in_process):.0f} ms |",
    ]
    table = "\n".join(lines)
    print(table)
    out = ROOT / "benchmarks" / "results" / "app.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
