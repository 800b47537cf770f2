"""A small OpenAI-compatible HTTP server on 127.0.0.1 for the advisor tests (real SDK, real HTTP).

``StubLLM().behaviours`` is a list consumed one request at a time (the last one repeats):
- ``("ok", dict)``: a chat completion whose content is ``json.dumps(dict)``;
- ``("text", str)``: content verbatim (malformed JSON, code fences, huge payloads...);
- ``("status", code, body, headers)``: an HTTP error (401, 429 with Retry-After, 500...);
- ``("reject_schema",)``: 400 when the request asks for ``json_schema``, else like the next one;
- ``("hang", seconds)``: sleep before answering (the client's timeout fires first);
- ``("echo", dict)``: like ``("ok", dict)`` with the request's Authorization header as the
  ``rationale`` (an endpoint that echoes what it was sent).
Every request body is kept in ``requests``.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StubLLM:
    def __init__(self) -> None:
        self.behaviours: list[tuple] = [("ok", {})]
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def _send(self, code: int, body: str, headers: dict | None = None) -> None:
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_POST(self) -> None:  # noqa: N802
                n = int(self.headers.get("Content-Length", 0))
                req = json.loads(self.rfile.read(n) or b"{}")
                req["_auth"] = self.headers.get("Authorization", "")
                stub.requests.append(req)
                b = stub.behaviours.pop(0) if len(stub.behaviours) > 1 else stub.behaviours[0]
                if b[0] == "reject_schema":
                    if (req.get("response_format") or {}).get("type") == "json_schema":
                        return self._send(400, json.dumps({"error": {"message": "response_format json_schema "
                                                                                "is not supported"}}))
                    b = stub.behaviours.pop(0) if len(stub.behaviours) > 1 else stub.behaviours[0]
                if b[0] == "hang":
                    time.sleep(b[1])
                    b = ("ok", {})
                if b[0] == "status":
                    return self._send(b[1], b[2], b[3] if len(b) > 3 else None)
                if b[0] == "echo":
                    b = ("ok", {**b[1], "rationale": f"you sent: {req['_auth']}"})
                content = json.dumps(b[1]) if b[0] == "ok" else b[1]
                body = {"id": "stub", "object": "chat.completion", "created": 0, "model": req.get("model", "stub"),
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": content}}],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}
                self._send(200, json.dumps(body))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
