"""`digitalcity hotline_simulate`: a local stand-in for the telephony system and the SMS
gateway, speaking the real webhook protocol (signed JSON over HTTP, docs/hotline.md).

    digitalcity hotline_simulate call --caller 13812345678 --agent agent
    digitalcity hotline_simulate sms --from 13812345678 --body "小区路灯不亮"
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from digitalcity.hotline.services.channels import sign_body


def post_signed(
    url: str, kind: str, payload: dict[str, Any], timeout: float = 10
) -> dict[str, Any]:
    """POST `payload` to `url` signed with the `kind` webhook secret; the JSON answer."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    timestamp, signature = sign_body(kind, body)
    request = urllib.request.Request(  # noqa: S310 - the operator gives an http(s) URL
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Hotline-Timestamp": timestamp,
            "X-Hotline-Signature": signature,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return dict(json.loads(response.read() or b"{}"))
    except urllib.error.HTTPError as error:
        raise CommandError(
            f"{url} 返回 {error.code}：{error.read().decode(errors='replace')}"
        ) from error
    except urllib.error.URLError as error:
        raise CommandError(f"无法连接 {url}：{error.reason}") from error


class Command(BaseCommand):
    help = "模拟话务系统来电事件或短信网关上行短信，按正式接口（签名 JSON）推送到平台"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["call", "sms"])
        parser.add_argument("--url", default=settings.SITE_URL, help="平台地址")
        parser.add_argument("--caller", default="13800000000", help="来电号码（call）")
        parser.add_argument("--agent", default="agent", help="接听坐席的登录名（call）")
        parser.add_argument("--event", default="ringing", choices=["ringing", "answered", "ended"])
        parser.add_argument("--call-id", default="", help="呼叫编号，缺省随机生成")
        parser.add_argument(
            "--from", dest="from_phone", default="13800000000", help="发送号码（sms）"
        )
        parser.add_argument("--body", default="", help="短信内容（sms）")
        parser.add_argument("--id", dest="message_id", default="", help="网关消息编号，缺省随机")

    def handle(self, *args: Any, **options: Any) -> None:
        base = options["url"].rstrip("/")
        if options["kind"] == "call":
            answer = post_signed(
                f"{base}/api/hotline/telephony/events",
                "telephony",
                {
                    "event": options["event"],
                    "call_id": options["call_id"] or f"SIM-{secrets.token_hex(6)}",
                    "caller": options["caller"],
                    "agent": options["agent"],
                },
            )
        else:
            if not options["body"]:
                raise CommandError("短信内容 --body 不能为空")
            answer = post_signed(
                f"{base}/api/hotline/sms/inbound",
                "sms",
                {
                    "id": options["message_id"] or f"SIM-{secrets.token_hex(6)}",
                    "from": options["from_phone"],
                    "body": options["body"],
                },
            )
        self.stdout.write(json.dumps(answer, ensure_ascii=False))
