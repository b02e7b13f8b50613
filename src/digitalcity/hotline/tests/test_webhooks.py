"""The telephony and SMS webhooks: signatures, idempotency, the SMS acknowledgement."""

from __future__ import annotations

import json

import pytest

from digitalcity.cases.choices import CaseChannel
from digitalcity.core.models import Notification
from digitalcity.hotline.models import Call, SmsMessage, WorkOrder
from digitalcity.hotline.services.channels import sign_body


def _post(client, path, kind, payload, *, timestamp=None, signature=None):
    body = json.dumps(payload).encode()
    ts, sig = sign_body(kind, body, timestamp)
    return client.post(
        path,
        data=body,
        content_type="application/json",
        HTTP_X_HOTLINE_TIMESTAMP=ts,
        HTTP_X_HOTLINE_SIGNATURE=signature if signature is not None else sig,
    )


def test_a_signed_ringing_event_records_the_call(client, hw):
    response = _post(
        client,
        "/api/hotline/telephony/events",
        "telephony",
        {"event": "ringing", "call_id": "T-1", "caller": "13812345678", "agent": "agent"},
    )
    assert response.status_code == 200, response.content
    call = Call.objects.get(call_id="T-1")
    assert call.agent == hw.agent
    _post(
        client, "/api/hotline/telephony/events", "telephony", {"event": "ended", "call_id": "T-1"}
    )
    call.refresh_from_db()
    assert call.state == "ended"


def test_a_bad_or_stale_signature_is_refused(client, hw):
    payload = {"event": "ringing", "call_id": "T-2", "caller": "13812345678"}
    bad = _post(client, "/api/hotline/telephony/events", "telephony", payload, signature="00")
    assert bad.status_code == 403
    stale = _post(
        client, "/api/hotline/telephony/events", "telephony", payload, timestamp=1_000_000_000
    )
    assert stale.status_code == 403
    # A body signed with the SMS secret is not a telephony event.
    body = json.dumps(payload).encode()
    ts, sig = sign_body("sms", body)
    wrong = client.post(
        "/api/hotline/telephony/events",
        data=body,
        content_type="application/json",
        HTTP_X_HOTLINE_TIMESTAMP=ts,
        HTTP_X_HOTLINE_SIGNATURE=sig,
    )
    assert wrong.status_code == 403
    assert not Call.objects.exists()


def test_an_inbound_sms_becomes_an_order_acknowledged_at_once(client, hw):
    response = _post(
        client,
        "/api/hotline/sms/inbound",
        "sms",
        {"id": "G-1", "from": "13700001111", "body": "小区路灯坏了一个星期"},
    )
    assert response.status_code == 200, response.content
    number = response.json()["order"]
    order = WorkOrder.objects.get(case__number=number)
    assert order.channel == CaseChannel.SMS
    message = SmsMessage.objects.get(gateway_id="G-1")
    assert message.reply is not None
    assert number in message.reply.body
    assert message.reply.to == "13700001111"
    # The gateway redelivers: nothing new.
    again = _post(
        client,
        "/api/hotline/sms/inbound",
        "sms",
        {"id": "G-1", "from": "13700001111", "body": "小区路灯坏了一个星期"},
    )
    assert again.json()["order"] == number
    assert WorkOrder.objects.count() == 1
    assert Notification.objects.filter(to="13700001111").count() == 1


def test_an_empty_or_flooding_sms_is_recorded_without_an_order(client, hw, settings):
    settings.DC_HOTLINE_FLOOD_LIMIT = 2
    empty = _post(
        client, "/api/hotline/sms/inbound", "sms", {"id": "E", "from": "13700002222", "body": " "}
    )
    assert empty.json()["order"] is None
    assert "诉求内容不能为空" in empty.json()["error"]
    for i in range(3):
        last = _post(
            client,
            "/api/hotline/sms/inbound",
            "sms",
            {"id": f"F-{i}", "from": "13700003333", "body": f"第 {i} 条诉求"},
        )
    assert last.json()["order"] is None
    assert "请稍后再试" in last.json()["error"]
    assert WorkOrder.objects.filter(caller_phone="13700003333").count() == 2


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]"])
def test_a_body_that_is_not_a_json_object_is_a_400(client, hw, body):
    ts, sig = sign_body("sms", body)
    response = client.post(
        "/api/hotline/sms/inbound",
        data=body,
        content_type="application/json",
        HTTP_X_HOTLINE_TIMESTAMP=ts,
        HTTP_X_HOTLINE_SIGNATURE=sig,
    )
    assert response.status_code == 400
