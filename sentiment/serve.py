"""A REST server that speaks TensorFlow Serving's API, so its clients work unchanged.

    python -m sentiment.serve --model saved_models/default --name sentiment --port 8501
    curl -s localhost:8501/v1/models/sentiment:predict -d '{"instances": ["the movie was terribly exciting"]}'

Routes: ``GET /v1/models/{name}`` (status), ``GET /v1/models/{name}/metadata`` (signature),
``POST /v1/models/{name}:predict`` (``{"instances": [...]}`` -> ``{"predictions": [[p], ...]}``,
or ``{"inputs": [...]}`` -> ``{"outputs": [[p], ...]}``), ``GET /healthz``, and OpenAPI docs
at ``/docs``. Errors are ``{"error": "..."}`` as TensorFlow Serving gives them.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import weakref
from typing import Any

from fastapi import Request  # at module level: FastAPI resolves the route's annotations here

DEFAULT_MAX_BODY_BYTES = 1_000_000
DEFAULT_MAX_INSTANCES = 256
VERSION = "1"


_TEXTS = {"type": "array", "minItems": 1, "items": {"anyOf": [
    {"type": "string"},
    {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"], "additionalProperties": False},
    {"type": "object", "properties": {"b64": {"type": "string"}}, "required": ["b64"], "additionalProperties": False},
]}}
PREDICT_SCHEMA = {
    "type": "object",
    "description": "Exactly one of instances (row format) or inputs (columnar format).",
    "properties": {"instances": _TEXTS, "inputs": _TEXTS, "signature_name": {"type": "string"}},
    "example": {"instances": ["the movie was terribly exciting"]},
}


class RequestError(ValueError):
    """A client error: the status code and the message for ``{"error": ...}``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class BodyLimit:
    """ASGI middleware: refuse a body over ``max_bytes`` with 413 before reading it whole.

    A ``Content-Length`` over the limit is refused at once; a chunked body is counted as it
    arrives and refused as soon as it passes the limit.
    """

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and not length.isdigit():
            return await _send_error(send, 400, "malformed Content-Length header")
        if length is not None and int(length) > self.max_bytes:
            return await _send_error(send, 413, f"request body of {int(length)} bytes is over the limit of {self.max_bytes} bytes")
        if length is not None:
            return await self.app(scope, receive, send)
        # A body without Content-Length (chunked): read it up to the limit, then replay it.
        chunks, seen, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.max_bytes:
                return await _send_error(send, 413, f"request body is over the limit of {self.max_bytes} bytes")
            more = message.get("more_body", False)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


async def _send_error(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def parse_predict_request(payload: Any, max_instances: int) -> tuple[list[str], str]:
    """Texts and the response key (``predictions`` for ``instances``, ``outputs`` for ``inputs``).

    Accepts TensorFlow Serving's row format (``instances``: strings, ``{"text": ...}`` objects
    or ``{"b64": ...}``) and columnar format (``inputs``: a list, or ``{"text": [...]}``).
    """
    if not isinstance(payload, dict):
        raise RequestError(400, "request body must be a JSON object with \"instances\" or \"inputs\"")
    keys = [k for k in ("instances", "inputs") if k in payload]
    if len(keys) != 1:
        raise RequestError(400, "request must have exactly one of \"instances\" (row format) or \"inputs\" (columnar format)"
                           + ("; it has both" if len(keys) == 2 else ""))
    key = keys[0]
    values = payload[key]
    if key == "inputs" and isinstance(values, dict):
        if set(values) != {"text"}:
            raise RequestError(400, f"\"inputs\" names {sorted(values)}; this model has one input, \"text\"")
        values = values["text"]
    if isinstance(values, (str, dict)) and key == "inputs":
        values = [values]
    if not isinstance(values, list):
        raise RequestError(400, f"\"{key}\" must be a list of strings, got {type(values).__name__}")
    if not values:
        raise RequestError(400, f"\"{key}\" is empty: send at least one text")
    if len(values) > max_instances:
        raise RequestError(413, f"{len(values)} texts in one request is over the limit of {max_instances}; split the batch")
    return [_text(value, index, key) for index, value in enumerate(values)], ("predictions" if key == "instances" else "outputs")


def _text(value: Any, index: int, key: str) -> str:
    if isinstance(value, dict) and set(value) == {"text"}:
        value = value["text"]
    if isinstance(value, dict) and set(value) == {"b64"} and isinstance(value["b64"], str):
        try:
            return base64.b64decode(value["b64"], validate=True).decode("utf-8", errors="replace")
        except ValueError:
            raise RequestError(400, f"{key}[{index}]: \"b64\" is not valid base64") from None
    if not isinstance(value, str):
        raise RequestError(400, f"{key}[{index}] is {type(value).__name__}; expected a string (or {{\"text\": string}})")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise RequestError(400, f"{key}[{index}] is not valid Unicode (a lone surrogate escape)") from None
    return value


class Batcher:
    """Hands model calls to the classifier's own thread, merging requests that arrive while it is busy.

    Concurrent requests become one batch (up to ``max_batch`` texts), which is both safe (one
    model call at a time, on one thread) and faster than a lock. A batch makes one thread hop:
    the event loop awaits :meth:`Classifier.submit <sentiment.classifier.Classifier.submit>`.
    """

    def __init__(self, classifier, max_batch: int = DEFAULT_MAX_INSTANCES):
        self.classifier = classifier
        self.max_batch = max_batch
        self._queues: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # one queue and worker per event loop

    async def predict(self, texts: list[str]) -> list[float]:
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:  # first call on this event loop: start its worker
            queue = self._queues[loop] = asyncio.Queue()
            loop.create_task(self._work(queue))
        future = loop.create_future()
        await queue.put((texts, future))
        return await future

    async def _work(self, queue: asyncio.Queue) -> None:
        while True:
            jobs = [await queue.get()]
            size = len(jobs[0][0])
            while not queue.empty() and size + len(queue._queue[0][0]) <= self.max_batch:
                jobs.append(queue.get_nowait())
                size += len(jobs[-1][0])
            texts = [t for job_texts, _ in jobs for t in job_texts]
            try:
                scores = (await asyncio.wrap_future(self.classifier.submit(texts))).tolist()
            except Exception as err:  # never leave a request waiting
                for _, future in jobs:
                    if not future.done():
                        future.set_exception(err)
                continue
            start = 0
            for job_texts, future in jobs:
                if not future.done():
                    future.set_result(scores[start : start + len(job_texts)])
                start += len(job_texts)


def create_app(classifier, name: str = "sentiment", max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               max_instances: int = DEFAULT_MAX_INSTANCES):
    """The ASGI app serving one loaded :class:`~sentiment.classifier.Classifier` under ``name``."""
    from fastapi import FastAPI

    app = FastAPI(
        title="sentiment", version=VERSION,
        description="IMDB sentiment classifier behind TensorFlow Serving's REST API. "
                    "A batch of strings in, the probability that each is positive out.",
    )
    batcher = Batcher(classifier, max_batch=max_instances)
    signature = signature_metadata(classifier)

    _add_error_handlers(app)

    def check(model_name: str, version: str | None = None) -> None:
        _check_servable(name, model_name, version)

    # Every route is async: they run on the event loop, never queued behind model calls.
    @app.get("/healthz", summary="Liveness and readiness")
    async def healthz():
        # compiling: input shapes still being compiled by XLA (served as a plain graph meanwhile)
        # compiled: whether calls go through XLA (false once a compilation failed: all run as a graph)
        return {"status": "ok", "models": [name], "compiled": classifier.compiled, "compiling": classifier.compiling}

    status_body = {"model_version_status": [{"version": VERSION, "state": "AVAILABLE",
                                             "status": {"error_code": "OK", "error_message": ""}}]}
    metadata_body = {"model_spec": {"name": name, "signature_name": "", "version": VERSION},
                     "metadata": {"signature_def": {"signature_def": {"serving_default": signature}}}}

    def get_route(suffix: str, body: dict, summary: str) -> None:
        """``GET /v1/models/{name}SUFFIX`` and its ``/versions/{version}`` twin, both answering ``body``."""
        @app.get(f"/v1/models/{{model_name}}{suffix}", summary=summary)
        async def latest(model_name: str):
            check(model_name)
            return body

        @app.get(f"/v1/models/{{model_name}}/versions/{{version}}{suffix}", summary=f"{summary}, one version")
        async def versioned(model_name: str, version: str):
            check(model_name, version)
            return body

    get_route("", status_body, "Model status (TensorFlow Serving format)")
    get_route("/metadata", metadata_body, "Signature: a batch of strings in, probabilities out")

    async def run_predict(request: Request):
        texts, key = await _read_predict_request(request, max_instances)
        scores = await batcher.predict(texts)
        return {key: [[float(s)] for s in scores]}

    body = {"requestBody": {"required": True, "content": {"application/json": {"schema": PREDICT_SCHEMA}}}}

    @app.post("/v1/models/{model_name}:predict", summary="Classify texts (TensorFlow Serving predict API)", openapi_extra=body)
    async def predict(model_name: str, request: Request):
        check(model_name)
        return await run_predict(request)

    @app.post("/v1/models/{model_name}/versions/{version}:predict", summary="Classify texts with one version", openapi_extra=body)
    async def predict_version(model_name: str, version: str, request: Request):
        check(model_name, version)
        return await run_predict(request)

    return BodyLimit(app, max_body_bytes)


def _add_error_handlers(app) -> None:
    """Every error as ``{"error": "..."}`` with its status, as TensorFlow Serving answers."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    @app.exception_handler(RequestError)
    async def _request_error(request, exc: RequestError):
        return error(exc.status, str(exc))

    @app.exception_handler(HTTPException)
    async def _http_error(request, exc: HTTPException):
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request, exc):
        return error(400, "malformed request: " + "; ".join(str(e.get("msg")) for e in exc.errors())[:500])


def _check_servable(name: str, model_name: str, version: str | None = None) -> None:
    """404 in TensorFlow Serving's words unless the URL names this server's model (and version)."""
    if model_name != name:
        raise RequestError(404, f"Servable not found for request: Latest({model_name}); this server has \"{name}\"")
    if version is not None and version != VERSION:
        raise RequestError(404, f"Servable not found for request: Specific({model_name}, {version}); "
                                f"this server has version {VERSION}")


async def _read_predict_request(request, max_instances: int) -> tuple[list[str], str]:
    """The texts of a predict request and its response key (see :func:`parse_predict_request`)."""
    # Read the body whatever its content type: TensorFlow Serving does, and `curl -d` sends a form type.
    raw = await request.body()
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError) as err:  # JSONDecodeError, bad UTF-8, absurd nesting
        raise RequestError(400, f"malformed JSON: {str(err)[:200]}") from None
    if isinstance(payload, dict) and payload.get("signature_name", "serving_default") not in ("serving_default", ""):
        raise RequestError(400, f"signature_name {payload['signature_name']!r} not found; this model has \"serving_default\"")
    return parse_predict_request(payload, max_instances)


def signature_metadata(classifier) -> dict:
    """The ``serving_default`` signature in TensorFlow Serving's metadata format, read off the model."""
    def tensor(spec_name, dtype, shape):
        return {"dtype": dtype, "name": spec_name, "tensor_shape": {
            "dim": [{"size": str(-1 if d is None else d), "name": ""} for d in shape], "unknown_rank": False}}

    (model_input,) = classifier.model.inputs
    (model_output,) = classifier.model.outputs
    return {
        "inputs": {"text": tensor("serving_default_text:0", "DT_STRING", tuple(model_input.shape))},
        "outputs": {"output_0": tensor("StatefulPartitionedCall:0", "DT_FLOAT", tuple(model_output.shape))},
        "method_name": "tensorflow/serving/predict",
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sentiment.serve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="saved_models/default", help="model folder (default: saved_models/default)")
    parser.add_argument("--name", default="sentiment", help="model name in the URLs (default: sentiment)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8501, help="port (default: 8501, TensorFlow Serving's REST port)")
    parser.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES, help="largest request body (default: 1 MB)")
    parser.add_argument("--max-instances", type=int, default=DEFAULT_MAX_INSTANCES, help="most texts per request (default: 256)")
    args = parser.parse_args(argv)
    if args.max_body_bytes < 1 or args.max_instances < 1:
        parser.error("--max-body-bytes and --max-instances must be >= 1")

    import uvicorn

    from .model_folder import ModelLoadError, load_classifier

    try:
        classifier = load_classifier(args.model, compiled=True)  # XLA, shape by shape, in the background
    except ModelLoadError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    classifier.predict(["warm-up"])  # trace the model before the first request
    app = create_app(classifier, args.name, args.max_body_bytes, args.max_instances)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    finally:
        classifier.close()  # stop without waiting for compilations nobody will use
    return 0


if __name__ == "__main__":
    sys.exit(main())
