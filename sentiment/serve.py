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
import base64
import json
import sys
import threading
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
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return await _send_error(send, 413, f"request body of {length.decode(errors='replace')} bytes is over the limit of {self.max_bytes} bytes")
        if length is not None:
            return await self.app(scope, receive, send)
        # A body without Content-Length (chunked): read it up to the limit, then replay it.
        chunks, seen, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, receive, send)
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
    return value


def create_app(classifier, name: str = "sentiment", max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               max_instances: int = DEFAULT_MAX_INSTANCES):
    """The ASGI app serving one loaded :class:`~sentiment.classifier.Classifier` under ``name``."""
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    app = FastAPI(
        title="sentiment", version=VERSION,
        description="IMDB sentiment classifier behind TensorFlow Serving's REST API. "
                    "A batch of strings in, the probability that each is positive out.",
    )
    lock = threading.Lock()  # one model call at a time; TF uses both cores within a call

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

    def check_name(model_name: str) -> None:
        if model_name != name:
            raise RequestError(404, f"Servable not found for request: Latest({model_name}); this server has \"{name}\"")

    @app.get("/healthz", summary="Liveness and readiness")
    def healthz():
        return {"status": "ok", "models": [name]}

    @app.get("/v1/models/{model_name}", summary="Model status (TensorFlow Serving format)")
    def status(model_name: str):
        check_name(model_name)
        return {"model_version_status": [{"version": VERSION, "state": "AVAILABLE",
                                          "status": {"error_code": "OK", "error_message": ""}}]}

    @app.get("/v1/models/{model_name}/metadata", summary="Signature: a batch of strings in, probabilities out")
    def metadata(model_name: str):
        check_name(model_name)
        signature = {
            "inputs": {"text": {"dtype": "DT_STRING", "tensor_shape": {"dim": [{"size": "-1", "name": ""}], "unknown_rank": False}, "name": "serving_default_text:0"}},
            "outputs": {"output_0": {"dtype": "DT_FLOAT", "tensor_shape": {"dim": [{"size": "-1", "name": ""}, {"size": "1", "name": ""}], "unknown_rank": False}, "name": "StatefulPartitionedCall:0"}},
            "method_name": "tensorflow/serving/predict",
        }
        return {"model_spec": {"name": name, "signature_name": "", "version": VERSION},
                "metadata": {"signature_def": {"signature_def": {"serving_default": signature}}}}

    @app.post("/v1/models/{model_name}:predict", summary="Classify texts (TensorFlow Serving predict API)",
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": PREDICT_SCHEMA}}}})
    async def predict(model_name: str, request: Request):
        check_name(model_name)
        # Read the body whatever its content type: TensorFlow Serving does, and `curl -d` sends a form type.
        raw = await request.body()
        try:
            payload = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise RequestError(400, f"malformed JSON: {err}") from None
        texts, key = parse_predict_request(payload, max_instances)
        from starlette.concurrency import run_in_threadpool

        def call():
            with lock:
                return classifier.predict(texts)

        scores = await run_in_threadpool(call)
        return {key: [[float(s)] for s in scores]}

    return BodyLimit(app, max_body_bytes)


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

    from .classifier import ModelLoadError, load_classifier

    try:
        classifier = load_classifier(args.model)
    except ModelLoadError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    classifier.predict(["warm-up"])  # trace the model before the first request
    app = create_app(classifier, args.name, args.max_body_bytes, args.max_instances)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
