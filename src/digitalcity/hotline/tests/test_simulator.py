"""The telephony/SMS simulator against a live server: the real HTTP protocol end to end."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from digitalcity.hotline.models import Call, SmsMessage

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_simulator_rings_the_console_over_http(live_server, hw):
    out = io.StringIO()
    call_command(
        "hotline_simulate",
        "call",
        "--url",
        live_server.url,
        "--caller",
        "13812345678",
        "--call-id",
        "SIM-1",
        stdout=out,
    )
    answer = json.loads(out.getvalue())
    assert answer["state"] == "ringing"
    assert Call.objects.get(call_id="SIM-1").agent == hw.agent


def test_the_simulator_texts_the_gateway_webhook(live_server, hw):
    out = io.StringIO()
    call_command(
        "hotline_simulate",
        "sms",
        "--url",
        live_server.url,
        "--from",
        "13812345678",
        "--body",
        "路灯不亮",
        "--id",
        "SIM-SMS-1",
        stdout=out,
    )
    assert json.loads(out.getvalue())["order"].startswith("GD-")
    assert SmsMessage.objects.get(gateway_id="SIM-SMS-1").reply is not None


def test_a_wrong_secret_is_reported_as_a_403(live_server, hw, settings):
    settings.DC_HOTLINE_TELEPHONY_SECRET = "server-secret"
    from digitalcity.hotline.management.commands import hotline_simulate

    original = hotline_simulate.sign_body

    def bad_signature(kind: str, body: bytes, timestamp: int | None = None) -> tuple[str, str]:
        return ("0", "bad")

    hotline_simulate.sign_body = bad_signature
    try:
        with pytest.raises(CommandError, match="403"):
            call_command("hotline_simulate", "call", "--url", live_server.url)
    finally:
        hotline_simulate.sign_body = original
