"""OpenAI-compatible chat endpoints on loopback, for tests that need a real HTTP judge.

:class:`Loopback` is the server; what it answers is a function of the request, so each test's
server is one small handler: :class:`OpenAIStub` (a verdict per prompt), the fault servers in
``fault_judge.py`` and the judging tests.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# (status, body, extra headers)
Reply = tuple[int, bytes, dict[str, str]]


def completion(top: dict[str, float]) -> dict:
    """A chat completion whose one generated token has these top alternatives."""
    entries = [{"token": t, "logprob": math.log(p)} for t, p in top.items()]
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": "x"},
                         "logprobs": {"content": [{"token": "x", "logprob": 0.0,
                                                   "top_logprobs": entries}]}}]}


def verdict(top: dict[str, float]) -> Reply:
    """A 200 reply carrying :func:`completion`."""
    return 200, json.dumps(completion(top)).encode(), {}


class Loopback:
    """``with Loopback(handle) as s:`` serves at ``s.url``; ``handle(prompt, headers)`` gives
    the reply to each chat request (the first message's content is the prompt)."""

    def __init__(self, handle: Callable[[str, Mapping[str, str]], Reply]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                code, body, headers = handle(req["messages"][0]["content"], self.headers)
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class OpenAIStub(Loopback):
    """A judge whose verdict is ``respond(prompt)`` (top logprobs); ``prompts`` lists requests."""

    def __init__(self, respond: Callable[[str], dict[str, float]]) -> None:
        self.prompts: list[str] = []

        def handle(prompt: str, headers: Mapping[str, str]) -> Reply:
            self.prompts.append(prompt)
            return verdict(respond(prompt))

        super().__init__(handle)
