"""Serving latency and throughput of a model folder, in process and over HTTP on loopback.

    python -m benchmarks.serving --model saved_models/default --data ../shared/data/aclImdb_v1.tar.gz

Prints a Markdown table and writes it to benchmarks/results/serving.md. Figures: p50/p95/p99
latency of one-sentence requests (in process; HTTP at concurrency 1 and 16) and reviews per
second for 64-review batches of real test reviews: over HTTP from one client and from 4 concurrent
clients (the server merges concurrent requests into one prediction of up to 256 texts), and in
process side by side: the XLA-compiled path that the server uses
(``load_classifier(..., compiled=True)``, see :mod:`sentiment.compiled`), the whole
model as a graph in length-planned calls (:func:`sentiment.classifier.plan_batches`, the default
elsewhere), and graph calls of 32 texts.
Every figure is taken after a warm-up pass, once every shape seen is compiled.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
import time
from pathlib import Path

import numpy as np

SENTENCE = "the movie was terribly exciting"
ROOT = Path(__file__).resolve().parent.parent


def percentiles(samples_s):
    ms = np.asarray(samples_s) * 1000
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)), "p99": float(np.percentile(ms, 99))}


def start_server(model: str, port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "sentiment.serve", "--model", model, "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while time.time() < deadline and process.poll() is None:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.3)
    process.kill()
    raise RuntimeError("server did not start")


def http_latencies(port: int, body: bytes, count: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        connection.request("POST", "/v1/models/sentiment:predict", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        samples.append(time.perf_counter() - started)
        assert response.status == 200
    return samples


def http_batches(port: int, batches: list[list[str]]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for batch in batches:
        body = json.dumps({"instances": batch}).encode()
        connection.request("POST", "/v1/models/sentiment:predict", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        assert response.status == 200


def wait_compiled(port: int, timeout: float = 300) -> None:
    """Until the server's ``/healthz`` says that no input shape is still compiling."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/healthz")
        compiling = json.loads(connection.getresponse().read()).get("compiling", 0)
        connection.close()
        if compiling == 0:
            return
        time.sleep(0.5)
    raise RuntimeError(f"the server was still compiling after {timeout:.0f} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serving", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="saved_models/default")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "aclImdb_v1.tar.gz"),
                        help="IMDB source for the batched reviews (test split); default: ../shared/data archive")
    parser.add_argument("--requests", type=int, default=500, help="one-sentence requests per measurement")
    parser.add_argument("--batches", type=int, default=40, help="64-review batches for throughput")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "serving.md"))
    args = parser.parse_args(argv)

    from sentiment.data import load_split
    from sentiment.model_folder import load_classifier

    reviews = load_split(args.data, "test", max_samples=64 * args.batches).texts
    classifier = load_classifier(args.model, compiled=True)  # as the server loads it
    graph = load_classifier(args.model)
    batches = [reviews[i * 64 : (i + 1) * 64] for i in range(args.batches)]
    for batch in [[SENTENCE], *batches]:  # warm-up: every shape of the measurements, compiled
        classifier.predict(batch)
    classifier.wait_until_compiled()
    in_process = []
    for _ in range(args.requests):
        started = time.perf_counter()
        classifier.predict([SENTENCE])
        in_process.append(time.perf_counter() - started)
    batch_rates = {"compiled": [], "planned": [], "fixed 32": []}
    for _ in range(3):  # alternate the three, median of three passes each
        for name, model, size in (("compiled", classifier, None), ("planned", graph, None), ("fixed 32", graph, 32)):
            started = time.perf_counter()
            for batch in batches:
                model.predict(batch, batch_size=size)
            batch_rates[name].append(len(reviews) / (time.perf_counter() - started))
    compiled_rate, planned_rate, fixed_rate = (float(np.median(batch_rates[k])) for k in ("compiled", "planned", "fixed 32"))

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = start_server(args.model, port)
    try:
        one = json.dumps({"instances": [SENTENCE]}).encode()
        http_latencies(port, one, 20)  # warm-up, then wait for the server to compile what it saw
        http_batches(port, batches)
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda _: http_latencies(port, one, 10), range(16)))
        wait_compiled(port)
        c1 = http_latencies(port, one, args.requests)
        per_client = [args.requests // 16 + (i < args.requests % 16) for i in range(16)]
        started = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:  # .result() re-raises a failed client's error
            c16 = [s for f in [pool.submit(http_latencies, port, one, n) for n in per_client] for s in f.result()]
        c16_rate = len(c16) / (time.perf_counter() - started)
        wait_compiled(port)  # the merged one-sentence requests above made new shapes
        started = time.perf_counter()
        http_batches(port, batches)
        http_rate = len(reviews) / (time.perf_counter() - started)
        with ThreadPoolExecutor(4) as pool:  # warm-up: merged requests make calls of other shapes
            for future in [pool.submit(http_batches, port, batches[i::4]) for i in range(4)]:
                future.result()
        wait_compiled(port)
        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            for future in [pool.submit(http_batches, port, batches[i::4]) for i in range(4)]:
                future.result()
        http4_rate = len(reviews) / (time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(timeout=30)

    rows = [
        ("in process, `load_classifier(..., compiled=True).predict([sentence])`", percentiles(in_process), "-"),
        ("HTTP, concurrency 1, one sentence", percentiles(c1), f"{len(c1) / sum(c1):.0f} req/s"),
        ("HTTP, concurrency 16, one sentence", percentiles(c16), f"{c16_rate:.0f} req/s"),
    ]
    lines = [
        f"Serving benchmark, {datetime.date.today()}, {platform.machine()} with {os.cpu_count()} cores, model `{args.model}`.",
        "",
        "| measurement | p50 ms | p95 ms | p99 ms | throughput |",
        "|---|---|---|---|---|",
        *[f"| {name} | {p['p50']:.2f} | {p['p95']:.2f} | {p['p99']:.2f} | {rate} |" for name, p, rate in rows],
        f"| 64-review batches of test reviews, HTTP, 1 client | | | | {http_rate:.0f} reviews/s |",
        f"| 64-review batches of test reviews, HTTP, 4 concurrent clients | | | | {http4_rate:.0f} reviews/s |",
        f"| 64-review batches of test reviews, in process (XLA-compiled, as served) | | | | {compiled_rate:.0f} reviews/s |",
        f"| 64-review batches of test reviews, in process (graph, length-planned calls) | | | | {planned_rate:.0f} reviews/s |",
        f"| 64-review batches of test reviews, in process (graph, calls of 32) | | | | {fixed_rate:.0f} reviews/s |",
        "",
        f"{args.requests} one-sentence requests per latency row; {len(reviews)} real test reviews for the batch rows "
        f"(in process: median of 3 passes, the three alternating; compiled / planned = {compiled_rate / planned_rate:.2f}, "
        f"planned / fixed = {planned_rate / fixed_rate:.2f}).",
    ]
    table = "\n".join(lines)
    print(table)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
