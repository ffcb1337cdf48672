"""A bounded load test on loopback: 32 clients x 200 requests, good and bad mixed."""

import http.client
import json
import random
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import ROOT, free_port, wait_healthy
from sentiment.model_folder import load_classifier

CLIENTS, REQUESTS = 32, 200
GOOD = ["wonderful superb film", "awful dull waste", "the plot was moving", "boring", "great " * 50, "ça été génial 🎬"]
BAD = [
    (b"{not json", 400),
    (b'{"instances": []}', 400),
    (b'{"instances": [3]}', 400),
    (b'{"inputs": ["a"], "instances": ["a"]}', 400),
    (json.dumps({"instances": ["x"] * 300}).encode(), 413),
]


def _rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.fixture(scope="module")
def server(trained_model):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "sentiment.serve", "--model", str(trained_model), "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
    yield process, port
    process.terminate()
    process.wait(timeout=30)


def _client(port, seed, expected, failures, statuses):
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(REQUESTS):
        if rng.random() < 0.7:
            texts = rng.sample(GOOD, rng.randint(1, 3))
            body, want = json.dumps({"instances": texts}).encode(), 200
        else:
            (body, want), texts = rng.choice(BAD), None
        connection.request("POST", "/v1/models/sentiment:predict", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        payload = json.loads(response.read())
        statuses.append(response.status)
        if response.status != want:
            failures.append(f"status {response.status} != {want}: {payload}")
        elif texts is not None:
            got = [p[0] for p in payload["predictions"]]
            if any(abs(g - expected[t]) > 1e-5 for g, t in zip(got, texts)):
                failures.append(f"wrong probabilities for {texts}: {got}")
        if response.status >= 400:
            connection.close()  # the server may close after an error; start clean
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def _round(port, expected, seed):
    failures, statuses = [], []
    threads = [threading.Thread(target=_client, args=(port, seed + i, expected, failures, statuses)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "load test did not finish in time"
    return failures, statuses


def test_load_mixed_good_and_bad_requests(server, trained_model):
    process, port = server
    classifier = load_classifier(trained_model)
    expected = dict(zip(GOOD, classifier.predict(GOOD).tolist()))
    _round(port, expected, seed=1000)  # warm-up round: allocators and caches settle
    before = _rss_mb(process.pid)
    failures, statuses = _round(port, expected, seed=0)
    after = _rss_mb(process.pid)
    assert len(statuses) == CLIENTS * REQUESTS
    assert not [s for s in statuses if s >= 500]
    assert not failures, failures[:5]
    assert 400 in statuses and 413 in statuses and 200 in statuses
    assert after - before < 50, f"server memory grew from {before:.0f} MB to {after:.0f} MB"
    print(f"load test: {len(statuses)} requests, server RSS {before:.0f} -> {after:.0f} MB")
