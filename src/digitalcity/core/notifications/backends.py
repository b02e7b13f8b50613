"""SMS backends: where a text message actually goes.

`settings.DC_SMS_BACKEND` names the class. Each backend's `send` either returns what
the gateway said or raises `SmsSendError`; retries are the caller's business
(`delivery.deliver`). Email goes through Django's mail API (`settings.EMAIL_BACKEND`).
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger("digitalcity.sms")


class SmsSendError(Exception):
    """The message did not reach the gateway, or the gateway refused it (retry may help)."""


@dataclass(frozen=True)
class SmsSendResult:
    message_id: str
    status: str


class SmsBackend(Protocol):
    def send(self, *, to: str, text: str, client_ref: str) -> SmsSendResult: ...


def get_sms_backend() -> SmsBackend:
    backend_class = import_string(settings.DC_SMS_BACKEND)
    backend: SmsBackend = backend_class()
    return backend


class ConsoleSmsBackend:
    """Development: the message goes to the log (and so to the console)."""

    def send(self, *, to: str, text: str, client_ref: str) -> SmsSendResult:
        message_id = f"console-{uuid.uuid4().hex}"
        logger.info("短信 → %s [%s]: %s", to, client_ref, text)
        return SmsSendResult(message_id=message_id, status="accepted")


class FileSmsBackend:
    """Development: one JSON line per message appended to `settings.DC_SMS_FILE`
    (default var/sms-outbox.jsonl), so a demo can show what would have been sent."""

    def send(self, *, to: str, text: str, client_ref: str) -> SmsSendResult:
        path = Path(settings.DC_SMS_FILE)
        message_id = f"file-{uuid.uuid4().hex}"
        line = json.dumps(
            {
                "message_id": message_id,
                "to": to,
                "text": text,
                "client_ref": client_ref,
                "at": timezone.now().isoformat(),
            },
            ensure_ascii=False,
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        # One write of one line in append mode: concurrent workers do not interleave lines.
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        return SmsSendResult(message_id=message_id, status="accepted")


class HttpSmsGatewayBackend:
    """The city's SMS gateway over HTTP, as documented in docs/api/sms-gateway.md:
    POST {to, text, client_ref} with a bearer token, answer {message_id, status}."""

    def __init__(self, url: str | None = None, token: str | None = None) -> None:
        self.url = url if url is not None else settings.DC_SMS_GATEWAY_URL
        self.token = token if token is not None else settings.DC_SMS_GATEWAY_TOKEN
        self.timeout = float(settings.DC_SMS_GATEWAY_TIMEOUT)
        if not self.url.startswith(("http://", "https://")):
            raise SmsSendError(f"DC_SMS_GATEWAY_URL 必须是 http(s) 地址，当前为 {self.url!r}")

    def send(self, *, to: str, text: str, client_ref: str) -> SmsSendResult:
        payload = json.dumps({"to": to, "text": text, "client_ref": client_ref}).encode()
        request = urllib.request.Request(  # noqa: S310  (scheme checked in __init__)
            self.url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "Authorization": f"Bearer {self.token}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:200].decode("utf-8", "replace")
            raise SmsSendError(f"短信网关返回 HTTP {exc.code}：{detail}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsSendError(f"无法连接短信网关：{exc}") from exc
        try:
            answer = json.loads(body)
            return SmsSendResult(message_id=str(answer["message_id"]), status=str(answer["status"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise SmsSendError(f"短信网关的应答无法解析：{body[:200]!r}") from exc
