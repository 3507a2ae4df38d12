"""Local stand-ins for remote services, reached over real HTTP.

``FakeLLM`` is a small OpenAI-compatible server (``/v1/chat/completions``, ``/v1/files``,
``/v1/embeddings``) driven through the real ``openai`` SDK. Tests script its answers: slow, 429 with
Retry-After, 500, empty content, refusals, holding a request until released, or any raw
body (a gateway's HTML page, cut-off JSON) with any content type.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
from fpdf import FPDF

EMBEDDING_DIM = 256


@dataclass
class Reply:
    status: int = 200
    text: str | None = None  # None: a summary naming the paper's title
    delay: float = 0.0  # seconds the server takes (a slow provider, not test synchronisation)
    headers: dict[str, str] = field(default_factory=dict)
    finish_reason: str = "stop"
    hold: threading.Event | None = None  # answer only once this is set
    raw: bytes | None = None  # sent as is, with ``status`` and ``content_type``
    content_type: str = "application/json"


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: Any
    answered: bool = False  # an embeddings call answered with vectors


def title_of(body: Any) -> str:
    for message in body.get("messages", []):
        match = re.search(r"^Title: (.*)$", str(message.get("content", "")), re.M)
        if match:
            return match.group(1)
    return ""


def hashed_embedding(text: str, dim: int = EMBEDDING_DIM) -> list[float]:
    """A deterministic bag-of-words vector (each word hashed to a dimension), unit length:
    texts sharing words are close, as with a real model."""
    vector = np.zeros(dim)
    for word in re.findall(r"[a-z]{3,}", text.lower()):
        vector[int(hashlib.sha256(word.encode()).hexdigest()[:8], 16) % dim] += 1.0
    norm = float(np.linalg.norm(vector))
    return [float(x) for x in (vector / norm if norm else vector)]


class FakeLLM:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.script: deque[Reply] = deque()  # consumed first, in order
        self.reply_for: Callable[[Any], Reply] = lambda body: Reply()
        self.received = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def completions(self) -> list[Call]:
        return [c for c in self.calls if c.path.endswith("/chat/completions")]

    @property
    def embedding_calls(self) -> list[Call]:
        return [c for c in self.calls if c.path.endswith("/embeddings")]

    @property
    def embedded_texts(self) -> list[str]:
        """Every text sent to ``/v1/embeddings`` by answered (200) calls, in order."""
        return [t for c in self.embedding_calls if c.answered for t in c.body["input"]]

    def start(self) -> FakeLLM:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for_calls(self, count: int, timeout: float = 30) -> bool:
        with self.received:
            return self.received.wait_for(lambda: len(self.completions) >= count, timeout)

    def _next_reply(self, body: Any) -> Reply:
        return self.script.popleft() if self.script else self.reply_for(body)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(
                self, status: int, payload: Any, headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _send_raw(self, reply: Reply) -> None:
                assert reply.raw is not None
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.raw)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.raw)

            def _embeddings(self, body: Any, call: Call) -> None:
                texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                vectors = [hashed_embedding(t) for t in texts]
                if body.get("encoding_format") == "base64":
                    data: list[Any] = [
                        base64.b64encode(np.asarray(v, dtype="<f4").tobytes()).decode()
                        for v in vectors
                    ]
                else:
                    data = vectors
                with fake.received:
                    call.answered = True
                self._send(200, {
                    "object": "list", "model": body.get("model", ""),
                    "data": [
                        {"object": "embedding", "index": i, "embedding": e}
                        for i, e in enumerate(data)
                    ],
                    "usage": {"prompt_tokens": 10, "total_tokens": 10},
                })  # fmt: skip

            def do_DELETE(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                with fake.received:
                    fake.calls.append(Call(self.path, headers, None))
                file_id = self.path.rsplit("/", 1)[-1]
                self._send(200, {"id": file_id, "object": "file", "deleted": True})

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                if self.path.endswith("/files"):
                    with fake.received:
                        fake.calls.append(Call(self.path, headers, raw))
                        fake.received.notify_all()
                    self._send(200, {
                        "id": f"file-{len(fake.calls)}", "object": "file", "bytes": len(raw),
                        "created_at": 0, "filename": "paper.pdf", "purpose": "file-extract",
                        "status": "processed",
                    })  # fmt: skip
                    return
                body = json.loads(raw)
                call = Call(self.path, headers, body)
                with fake.received:
                    fake.calls.append(call)
                    reply = fake._next_reply(body)
                    fake.received.notify_all()
                if reply.hold is not None:
                    reply.hold.wait(120)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.raw is not None:
                    self._send_raw(reply)
                    return
                if reply.status != 200:
                    error = {"error": {"message": "scripted failure", "type": "server_error"}}
                    self._send(reply.status, error, reply.headers)
                    return
                if self.path.endswith("/embeddings"):
                    self._embeddings(body, call)
                    return
                text = (
                    reply.text
                    if reply.text is not None
                    else (f"## 1. Contributions\n\nA summary of *{title_of(body)}*.")
                )
                self._send(200, {
                    "id": "chatcmpl-1", "object": "chat.completion", "created": 0,
                    "model": body.get("model", ""),
                    "choices": [{
                        "index": 0, "finish_reason": reply.finish_reason,
                        "message": {"role": "assistant", "content": text},
                    }],
                    "usage": {
                        "prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200,
                    },
                }, reply.headers)  # fmt: skip

        return Handler


class TrickleServer:
    """A server that answers every GET or POST with a body sent one byte every 0.05 s.

    A slow or stuck upstream as seen through a proxy: each read gets a byte in time, so only
    a deadline on the whole request stops the client. ``requests`` counts the requests.
    With ``slow_headers`` the status line and headers trickle too, and the body is quick.
    """

    def __init__(self, size: int = 200, pause: float = 0.05, slow_headers: bool = False) -> None:
        self.size = size
        self.pause = pause  # the fake server being slow, not test synchronisation
        self.slow_headers = slow_headers
        self.requests = 0
        self.stopped = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def __enter__(self) -> TrickleServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _trickle(self, data: bytes) -> bool:
                """False once the server stops or the client hangs up."""
                try:
                    for byte in data:
                        if fake.stopped.wait(fake.pause):
                            return False
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                except OSError:  # the client gave up and closed the connection
                    return False
                return True

            def do_GET(self) -> None:
                fake.requests += 1
                if fake.slow_headers:
                    head = f"HTTP/1.1 200 OK\r\nContent-Length: {fake.size}\r\n\r\n"
                    if self._trickle(head.encode()):
                        self.wfile.write(b" " * fake.size)
                    self.close_connection = True
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(fake.size))
                self.end_headers()
                self._trickle(b" " * fake.size)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.do_GET()

        return Handler


def make_pdf(title: str, sections: list[tuple[str, str]]) -> bytes:
    """A PDF with known text: one page per section, headings on their own line."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
    for heading, text in sections:
        pdf.add_page()
        pdf.multi_cell(0, 6, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def paper_pdf(title: str) -> bytes:
    return make_pdf(
        title,
        [
            ("Abstract", "We study things. " * 20),
            ("1 Introduction", "The introduction explains the speculative decoding idea. " * 30),
            ("2 Method", "The method section is long. " * 60),
            ("3 Conclusion", "We conclude that it works well in the conclusion section. " * 10),
            ("References", "[1] A. Author. An unrelated reference title. 2020. " * 20),
        ],
    )
