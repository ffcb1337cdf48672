"""The TensorFlow-Serving-compatible REST server: answers, errors and limits."""

import base64
import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from fastapi.testclient import TestClient

from conftest import ROOT, free_port, wait_healthy
from sentiment.model_folder import load_classifier
from sentiment.serve import create_app

TEXTS = ["wonderful superb film", "awful dull waste"]


@pytest.fixture(scope="module")
def classifier(trained_model):
    return load_classifier(trained_model)


@pytest.fixture(scope="module")
def client(classifier):
    return TestClient(create_app(classifier, "sentiment", max_body_bytes=10_000, max_instances=4))


def test_status_and_metadata(client, classifier, tmp_path):
    status = client.get("/v1/models/sentiment").json()
    assert status["model_version_status"][0]["state"] == "AVAILABLE"
    assert client.get("/v1/models/sentiment/versions/1").json() == status
    assert client.get("/v1/models/sentiment/versions/2").status_code == 404
    signature = client.get("/v1/models/sentiment/metadata").json()["metadata"]["signature_def"]["signature_def"]["serving_default"]
    # The metadata describes the same signature as the SavedModel that TensorFlow Serving would load.
    import tensorflow as tf

    classifier.model.export(str(tmp_path / "export"), format="tf_saved_model", verbose=False)
    exported = tf.saved_model.load(str(tmp_path / "export")).signatures["serving_default"]
    (name, spec), = exported.structured_input_signature[1].items()
    (out_name, out_spec), = exported.structured_outputs.items()
    assert list(signature["inputs"]) == [name] and signature["inputs"][name]["dtype"] == "DT_STRING"
    assert [int(d["size"]) for d in signature["inputs"][name]["tensor_shape"]["dim"]] == [-1 if d is None else d for d in spec.shape.as_list()]
    assert list(signature["outputs"]) == [out_name]
    assert [int(d["size"]) for d in signature["outputs"][out_name]["tensor_shape"]["dim"]] == [-1 if d is None else d for d in out_spec.shape.as_list()]
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and isinstance(health["compiling"], int) and health["compiling"] >= 0
    assert isinstance(health["compiled"], bool)
    assert client.get("/openapi.json").status_code == 200


def test_row_and_columnar_formats_match_the_model(client, classifier):
    expected = classifier.predict(TEXTS)
    rows = client.post("/v1/models/sentiment:predict", json={"instances": TEXTS}).json()["predictions"]
    columns = client.post("/v1/models/sentiment:predict", json={"inputs": TEXTS}).json()["outputs"]
    named = client.post("/v1/models/sentiment:predict", json={"inputs": {"text": TEXTS}}).json()["outputs"]
    versioned = client.post("/v1/models/sentiment/versions/1:predict", json={"instances": TEXTS}).json()["predictions"]
    objects = client.post("/v1/models/sentiment:predict", json={"instances": [{"text": t} for t in TEXTS]}).json()["predictions"]
    b64 = client.post("/v1/models/sentiment:predict",
                      json={"instances": [{"b64": base64.b64encode(t.encode()).decode()} for t in TEXTS]}).json()["predictions"]
    for answer in (rows, columns, named, objects, b64, versioned):
        assert [round(a[0], 5) for a in answer] == [round(float(e), 5) for e in expected]


@pytest.mark.parametrize("body, status, message", [
    (b"{not json", 400, "JSON"),
    (b'{"instances": "text"}', 400, "must be a list"),
    (b'{"instances": [1, 2]}', 400, "instances[0] is int"),
    (b'{"instances": ["a"], "inputs": ["a"]}', 400, "exactly one"),
    (b'{"signature_name": "serving_default"}', 400, "exactly one"),
    (b'{"signature_name": "other", "instances": ["a"]}', 400, "signature_name 'other' not found"),
    (b'{"instances": ["\\ud800"]}', 400, "not valid Unicode"),
    (b"[" * 100_000 + b"]" * 100_000, 413, "over the limit"),
    (b"[" * 4000 + b"]" * 4000, 400, "malformed JSON"),
    (b'{"instances": []}', 400, "empty"),
    (b'[1]', 400, "JSON object"),
    (b'{"instances": ["a", "b", "c", "d", "e"]}', 413, "over the limit of 4"),
    (json.dumps({"instances": ["x" * 20_000]}).encode(), 413, "over the limit of 10000 bytes"),
])
def test_errors_look_like_tensorflow_serving(client, body, status, message):
    response = client.post("/v1/models/sentiment:predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert message in response.json()["error"]


def test_unknown_model_is_404(client):
    for response in (client.get("/v1/models/other"), client.post("/v1/models/other:predict", json={"instances": ["a"]})):
        assert response.status_code == 404 and "other" in response.json()["error"]


def test_chunked_body_over_the_limit_is_refused(client):
    def chunks():
        for _ in range(100):
            yield b" " * 1000

    response = client.post("/v1/models/sentiment:predict", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_text_longer_than_the_model_is_not_an_error(client, classifier):
    long = "wonderful " * 500  # 500 tokens, over the tiny model's 40
    response = client.post("/v1/models/sentiment:predict", json={"instances": [long]})
    assert response.status_code == 200
    assert response.json()["predictions"][0][0] == pytest.approx(float(classifier.predict([long])[0]), abs=1e-5)


def test_real_server_answers_over_http(trained_model):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "sentiment.serve", "--model", str(trained_model), "--port", str(port)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", server)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/models/sentiment:predict",
                                         data=json.dumps({"instances": TEXTS}).encode())
        predictions = json.load(urllib.request.urlopen(request, timeout=120))["predictions"]  # generous: a busy 2-core machine is slow, not wrong
        assert predictions[0][0] > predictions[1][0]
        bad = urllib.request.Request(f"http://127.0.0.1:{port}/v1/models/sentiment:predict", data=b"{oops")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(bad, timeout=120)
        assert err.value.code == 400 and "error" in json.load(err.value)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_concurrent_requests_become_one_batch_with_one_hop_to_the_classifier_thread():
    import asyncio
    from concurrent.futures import Future

    import numpy as np

    from sentiment.serve import Batcher

    class Recorder:  # stands in for a Classifier: each batch is one submit() call
        def __init__(self):
            self.calls = []

        def submit(self, texts):
            self.calls.append(list(texts))
            done = Future()
            if "boom" in texts:
                done.set_exception(RuntimeError("model failed"))
            else:
                done.set_result(np.asarray([len(t) for t in texts], dtype=float))
            return done

    recorder = Recorder()
    batcher = Batcher(recorder, max_batch=4)

    async def requests(*batches):
        return await asyncio.gather(*(batcher.predict(b) for b in batches), return_exceptions=True)

    answers = asyncio.run(requests(["a"], ["bb", "ccc"], ["dddd"], ["eeeee"]))
    assert answers == [[1.0], [2.0, 3.0], [4.0], [5.0]]
    assert recorder.calls == [["a", "bb", "ccc", "dddd"], ["eeeee"]]  # merged up to max_batch, in order
    assert not hasattr(batcher, "executor")  # no thread pool of its own: the classifier's thread is the only hop
    failed = asyncio.run(requests(["x"], ["boom"]))
    assert all(isinstance(a, RuntimeError) for a in failed)  # every request of a failed batch gets the error
