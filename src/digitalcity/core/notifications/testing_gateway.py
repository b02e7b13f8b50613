"""A local stand-in for the city's SMS gateway, speaking docs/api/sms-gateway.md.

For tests and demos only: a threaded http.server on 127.0.0.1 that accepts
POST {to, text, client_ref} with the bearer token, answers {message_id, status},
records what it got, can be told to fail the next N requests, and can post delivery
receipts to the platform's webhook the way the real gateway does.

    with SmsGatewayStandIn(token="…") as gateway:
        settings.DC_SMS_GATEWAY_URL = gateway.url
        ...
        gateway.messages  # what was "sent"
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

SEND_PATH = "/sms/send"


@dataclass
class ReceivedMessage:
    to: str
    text: str
    client_ref: str
    message_id: str


@dataclass
class _State:
    token: str
    messages: list[ReceivedMessage] = field(default_factory=list)
    failures_left: int = 0
    failure_status: int = 503
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet in test output

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        state = self.server.state
        if self.path != SEND_PATH:
            self._answer(404, {"error": "not found"})
            return
        if self.headers.get("Authorization") != f"Bearer {state.token}":
            self._answer(401, {"error": "bad token"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            data = json.loads(self.rfile.read(length))
            to, text, client_ref = str(data["to"]), str(data["text"]), str(data["client_ref"])
        except (ValueError, KeyError, TypeError):
            self._answer(400, {"error": "body must be JSON {to, text, client_ref}"})
            return
        with state.lock:
            state.requests += 1
            if state.failures_left > 0:
                state.failures_left -= 1
                failing = True
            else:
                failing = False
                message = ReceivedMessage(to, text, client_ref, f"gw-{uuid.uuid4().hex}")
                state.messages.append(message)
        if failing:
            self._answer(state.failure_status, {"error": "temporarily unavailable"})
            return
        self._answer(200, {"message_id": message.message_id, "status": "accepted"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State


class SmsGatewayStandIn:
    """The stand-in gateway on a random free port of 127.0.0.1 (a context manager)."""

    def __init__(self, *, token: str) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = _State(token=token)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{SEND_PATH}"

    @property
    def token(self) -> str:
        return self._server.state.token

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._server.state.lock:
            return list(self._server.state.messages)

    @property
    def requests(self) -> int:
        return self._server.state.requests

    def fail_next(self, count: int, *, status: int = 503) -> None:
        """Answer the next `count` send requests with HTTP `status` and record nothing."""
        with self._server.state.lock:
            self._server.state.failures_left = count
            self._server.state.failure_status = status

    def post_receipt(
        self, webhook_url: str, *, message_id: str, status: str, delivered_at: str | None = None
    ) -> tuple[int, Any]:
        """POST a delivery receipt to the platform, as the real gateway does."""
        payload = {"message_id": message_id, "status": status, "delivered_at": delivered_at}
        request = urllib.request.Request(  # noqa: S310  (test helper; URL from the test)
            webhook_url,
            data=json.dumps(payload).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def start(self) -> SmsGatewayStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SmsGatewayStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
