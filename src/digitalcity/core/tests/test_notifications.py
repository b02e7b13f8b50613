"""Notifications: queued in the caller's transaction, sent after commit, retried, receipted."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from digitalcity.core.models import Notification, NotificationStatus
from digitalcity.core.notifications import delivery, services
from digitalcity.core.notifications.backends import HttpSmsGatewayBackend, SmsSendError
from digitalcity.core.notifications.testing_gateway import SmsGatewayStandIn
from digitalcity.identity.models import User

GATEWAY_TOKEN = "gateway-secret-for-tests"
RECEIPTS_URL = "/api/core/notifications/sms-receipts"


@pytest.fixture
def citizen(db):
    return User.objects.create_user(
        username="zhangsan", phone="13800138000", email="zhangsan@example.cn", real_name="张三"
    )


@pytest.fixture
def other_citizen(db):
    return User.objects.create_user(username="lisi", phone="13900139000", real_name="李四")


@pytest.fixture
def outbox(settings, tmp_path):
    """SMS go to a JSON-lines file; returns a function that reads what was sent."""
    settings.DC_SMS_BACKEND = "digitalcity.core.notifications.backends.FileSmsBackend"
    settings.DC_SMS_FILE = tmp_path / "sms.jsonl"

    def sent() -> list[dict]:
        if not settings.DC_SMS_FILE.exists():
            return []
        return [json.loads(line) for line in settings.DC_SMS_FILE.read_text().splitlines()]

    return sent


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def gateway(settings):
    with SmsGatewayStandIn(token=GATEWAY_TOKEN) as stand_in:
        settings.DC_SMS_BACKEND = "digitalcity.core.notifications.backends.HttpSmsGatewayBackend"
        settings.DC_SMS_GATEWAY_URL = stand_in.url
        settings.DC_SMS_GATEWAY_TOKEN = GATEWAY_TOKEN
        yield stand_in


# --- queued in the caller's transaction -------------------------------------------


@pytest.mark.usefixtures("immediate_tasks")
def test_it_sends_the_sms_only_after_the_transaction_commits(
    citizen, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notification = services.notify(channel="sms", recipient=citizen, body="您的申请已受理")
        assert outbox() == []  # not before the commit
    assert [(m["to"], m["text"]) for m in outbox()] == [("13800138000", "您的申请已受理")]
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert notification.attempts == 1
    assert notification.provider_message_id == outbox()[0]["message_id"]


@pytest.mark.usefixtures("immediate_tasks")
def test_it_sends_nothing_when_the_transaction_rolls_back(
    citizen, outbox, django_capture_on_commit_callbacks
):
    def accept_then_fail() -> None:
        with transaction.atomic():
            services.notify(channel="sms", recipient=citizen, body="您的申请已受理")
            raise RuntimeError("the business operation failed after notifying")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        accept_then_fail()
    assert callbacks == []
    assert outbox() == []
    assert not Notification.objects.exists()


@pytest.mark.usefixtures("immediate_tasks")
def test_it_sends_email_through_djangos_mail_api(
    citizen, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notify(
            channel="email", recipient=citizen, subject="受理通知", body="您的申请已受理"
        )
    assert [(m.to, m.subject) for m in mail.outbox] == [(["zhangsan@example.cn"], "受理通知")]
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert notification.provider_message_id == mail.outbox[0].extra_headers["Message-ID"]


def test_a_site_message_is_in_the_inbox_at_once_and_queues_nothing(
    citizen, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        message = services.notify(
            channel="site", recipient=citizen, subject="受理通知", body="已受理", link="/cases/1"
        )
    assert callbacks == []
    assert message.status == NotificationStatus.DELIVERED
    assert message.read_at is None
    assert message.next_attempt_at is None


def test_notify_user_skips_channels_the_user_cannot_be_reached_on(other_citizen):
    queued = services.notify_user(
        other_citizen, channels=("site", "sms", "email"), subject="通知", body="您有新消息"
    )
    assert sorted(n.channel for n in queued) == ["site", "sms"]


def test_it_keeps_a_link_to_the_related_object(citizen, other_citizen):
    notification = services.notify(
        channel="site", recipient=citizen, body="x", related=other_citizen
    )
    notification.refresh_from_db()
    assert notification.related == other_citizen


# --- input rules --------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["1380013800", "23800138000", "1380013800a", "+8613800138000"])
def test_it_refuses_a_phone_number_that_is_not_11_digits_starting_with_1(db, phone):
    with pytest.raises(ValidationError) as excinfo:
        services.notify(channel="sms", to=phone, body="x")
    assert "to" in excinfo.value.message_dict
    assert "11 位" in excinfo.value.message_dict["to"][0]
    assert not Notification.objects.exists()


def test_it_refuses_an_sms_longer_than_500_characters(citizen):
    services.notify(channel="sms", recipient=citizen, body="字" * 500)
    with pytest.raises(ValidationError) as excinfo:
        services.notify(channel="sms", recipient=citizen, body="字" * 501)
    assert "最多 500 个字符，当前 501 个" in excinfo.value.message_dict["body"][0]


def test_it_refuses_a_site_message_without_a_recipient(db):
    with pytest.raises(ValidationError) as excinfo:
        services.notify(channel="site", body="x")
    assert "recipient" in excinfo.value.message_dict


def test_it_refuses_a_bad_email_address(db):
    with pytest.raises(ValidationError) as excinfo:
        services.notify(channel="email", to="not-an-address", body="x")
    assert "to" in excinfo.value.message_dict


# --- retries --------------------------------------------------------------------------


class FlakyBackend:
    """An SMS provider outside the platform that fails while `failures` is positive."""

    failures = 0
    sent: list[str] = []

    def send(self, *, to: str, text: str, client_ref: str):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise SmsSendError("网关暂时不可用")
        FlakyBackend.sent.append(client_ref)
        from digitalcity.core.notifications.backends import SmsSendResult

        return SmsSendResult(message_id=f"flaky-{client_ref}", status="accepted")


@pytest.fixture
def flaky(settings):
    settings.DC_SMS_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.failures = 0
    FlakyBackend.sent = []
    return FlakyBackend


def test_it_retries_with_backoff_and_gives_up_after_the_maximum(citizen, flaky, settings):
    settings.DC_SMS_MAX_ATTEMPTS = 4
    flaky.failures = 10
    waits = []
    with time_machine.travel(timezone.now(), tick=False) as clock:
        notification = services.notify(channel="sms", recipient=citizen, body="x")
        for _ in range(4):
            assert delivery.sweep_due() == 0
            notification.refresh_from_db()
            assert notification.status == NotificationStatus.FAILED
            assert "网关暂时不可用" in notification.last_error
            if notification.next_attempt_at is None:
                break
            waits.append(notification.next_attempt_at - timezone.now())
            # Not due a moment before the wait is over.
            clock.shift(waits[-1] - timedelta(seconds=1))
            assert delivery.sweep_due() == 0
            notification.refresh_from_db()
            assert notification.attempts == len(waits)
            clock.shift(timedelta(seconds=1))
    assert waits == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30)]
    assert notification.attempts == 4
    assert notification.next_attempt_at is None  # given up
    assert flaky.sent == []


def test_a_failed_message_is_sent_by_a_later_sweep(citizen, flaky):
    flaky.failures = 1
    notification = services.notify(channel="sms", recipient=citizen, body="x")
    assert delivery.sweep_due() == 0
    assert delivery.sweep_due(now=timezone.now() + timedelta(minutes=1)) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (NotificationStatus.SENT, 2)
    assert notification.last_error == ""
    assert flaky.sent == [str(notification.pk)]


def test_a_row_left_sending_by_a_dead_worker_is_taken_again_after_its_lease(citizen, flaky):
    notification = services.notify(channel="sms", recipient=citizen, body="x")
    assert delivery.claim(notification)  # the worker then dies before sending
    assert delivery.sweep_due() == 0
    later = timezone.now() + delivery.SENDING_LEASE + timedelta(seconds=1)
    assert delivery.sweep_due(now=later) == 1
    assert flaky.sent == [str(notification.pk)]


def test_of_two_workers_that_read_the_same_row_only_one_claims_it(citizen, flaky):
    notification = services.notify(channel="sms", recipient=citizen, body="x")
    seen_by_a = Notification.objects.get(pk=notification.pk)
    seen_by_b = Notification.objects.get(pk=notification.pk)
    assert delivery.claim(seen_by_a) is True
    assert delivery.claim(seen_by_b) is False
    assert Notification.objects.get(pk=notification.pk).attempts == 1


def test_admin_retry_puts_a_given_up_message_back_in_the_queue(
    citizen, flaky, settings, django_capture_on_commit_callbacks
):
    settings.DC_SMS_MAX_ATTEMPTS = 1
    flaky.failures = 1
    notification = services.notify(channel="sms", recipient=citizen, body="x")
    delivery.sweep_due()
    notification.refresh_from_db()
    assert (notification.status, notification.next_attempt_at) == (NotificationStatus.FAILED, None)
    assert services.retry_now(notification_ids=[notification.pk]) == 1
    assert delivery.sweep_due() == 1
    assert flaky.sent == [str(notification.pk)]


def test_a_sensitive_body_is_blanked_once_sent(citizen, flaky):
    notification = services.notify(
        channel="sms", recipient=citizen, body="验证码 123456", sensitive=True
    )
    assert delivery.sweep_due() == 1
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert "123456" not in notification.body


def test_a_sensitive_body_is_kept_for_retries_and_blanked_when_given_up(citizen, flaky, settings):
    settings.DC_SMS_MAX_ATTEMPTS = 2
    flaky.failures = 2
    notification = services.notify(
        channel="sms", recipient=citizen, body="验证码 123456", sensitive=True
    )
    delivery.sweep_due()
    notification.refresh_from_db()
    assert notification.body == "验证码 123456"  # the retry still needs it
    delivery.sweep_due(now=notification.next_attempt_at)
    notification.refresh_from_db()
    assert (notification.status, notification.next_attempt_at) == (NotificationStatus.FAILED, None)
    assert "123456" not in notification.body
    assert services.retry_now(notification_ids=[notification.pk]) == 0


class SlowBackend:
    """A provider that takes a moment per message, so two sweeps overlap on the same rows."""

    sent: list[str] = []
    lock = threading.Lock()

    def send(self, *, to: str, text: str, client_ref: str):
        from digitalcity.core.notifications.backends import SmsSendResult

        time.sleep(0.01)
        with SlowBackend.lock:
            SlowBackend.sent.append(client_ref)
        return SmsSendResult(message_id=f"slow-{client_ref}", status="accepted")


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_never_send_a_message_twice(settings):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():  # type: ignore[attr-defined]
        # SQLite's shared-cache in-memory test database locks whole tables and ignores the
        # busy timeout, so threads fail with "table is locked" rather than wait as they do
        # on a real file. The race itself is covered on every engine by the stale-read
        # test above; this one runs on PostgreSQL (and on SQLite with a file test DB).
        pytest.skip("needs a database that concurrent connections can wait on")
    settings.DC_SMS_BACKEND = f"{__name__}.SlowBackend"
    SlowBackend.sent = []
    user = User.objects.create_user(username="wangwu", phone="13700137000")
    for i in range(20):
        services.notify(channel="sms", recipient=user, body=f"第 {i} 条")
    start = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            start.wait()
            results.append(delivery.sweep_due())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(SlowBackend.sent) == sorted(set(SlowBackend.sent))
    assert len(SlowBackend.sent) == 20
    assert sum(results) == 20
    assert Notification.objects.filter(status=NotificationStatus.SENT, attempts=1).count() == 20


# --- the HTTP gateway, against the stand-in over real HTTP ---------------------------


def test_it_sends_through_the_http_gateway_with_the_bearer_token(citizen, gateway):
    notification = services.notify(channel="sms", recipient=citizen, body="您的证照已办结")
    assert delivery.sweep_due() == 1
    [received] = gateway.messages
    assert (received.to, received.text, received.client_ref) == (
        "13800138000",
        "您的证照已办结",
        str(notification.pk),
    )
    notification.refresh_from_db()
    assert notification.provider_message_id == received.message_id


def test_a_gateway_failure_is_retried_and_then_sent(citizen, gateway):
    gateway.fail_next(1, status=503)
    notification = services.notify(channel="sms", recipient=citizen, body="x")
    assert delivery.sweep_due() == 0
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.FAILED
    assert "HTTP 503" in notification.last_error
    assert gateway.messages == []
    assert delivery.sweep_due(now=notification.next_attempt_at) == 1
    assert len(gateway.messages) == 1
    assert gateway.requests == 2


def test_the_gateway_refuses_a_wrong_token(gateway):
    backend = HttpSmsGatewayBackend(url=gateway.url, token="wrong")
    with pytest.raises(SmsSendError, match="HTTP 401"):
        backend.send(to="13800138000", text="x", client_ref="1")
    assert gateway.messages == []


def test_an_unreachable_gateway_is_a_send_error(gateway):
    url = gateway.url
    gateway.stop()
    with pytest.raises(SmsSendError, match="无法连接"):
        HttpSmsGatewayBackend(url=url, token=GATEWAY_TOKEN).send(
            to="13800138000", text="x", client_ref="1"
        )


# --- delivery receipts --------------------------------------------------------------


def post_receipt(client, token: str | None = GATEWAY_TOKEN, **payload):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post(RECEIPTS_URL, payload, content_type="application/json", headers=headers)


def _sent_through(gateway, citizen) -> Notification:
    notification = services.notify(channel="sms", recipient=citizen, body="x")
    delivery.sweep_due()
    notification.refresh_from_db()
    return notification


def test_a_delivery_receipt_marks_the_message_delivered(client, citizen, gateway):
    notification = _sent_through(gateway, citizen)
    response = post_receipt(
        client,
        message_id=notification.provider_message_id,
        status="delivered",
        delivered_at="2026-03-02T09:15:04+08:00",
    )
    assert response.status_code == 200, response.content
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.DELIVERED
    assert notification.delivered_at is not None
    assert notification.delivered_at.isoformat() == "2026-03-02T01:15:04+00:00"


def test_a_failed_receipt_marks_the_message_failed_without_resending(client, citizen, gateway):
    notification = _sent_through(gateway, citizen)
    response = post_receipt(client, message_id=notification.provider_message_id, status="failed")
    assert response.status_code == 200
    notification.refresh_from_db()
    assert (notification.status, notification.next_attempt_at) == (NotificationStatus.FAILED, None)
    assert delivery.sweep_due(now=timezone.now() + timedelta(days=1)) == 0


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_the_receipt_webhook_refuses_a_missing_or_wrong_token(client, citizen, gateway, token):
    notification = _sent_through(gateway, citizen)
    response = post_receipt(
        client, token, message_id=notification.provider_message_id, status="delivered"
    )
    assert response.status_code == 401
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT


def test_the_receipt_webhook_refuses_everyone_when_no_token_is_configured(client, settings, db):
    settings.DC_SMS_GATEWAY_TOKEN = ""
    response = post_receipt(client, "", message_id="x", status="delivered")
    assert response.status_code == 401


def test_a_receipt_for_an_unknown_message_or_status_is_refused(client, citizen, gateway):
    notification = _sent_through(gateway, citizen)
    unknown = post_receipt(client, message_id="no-such-id", status="delivered")
    assert unknown.status_code == 404
    bad_status = post_receipt(client, message_id=notification.provider_message_id, status="maybe")
    assert bad_status.status_code == 422
    assert "回执状态" in bad_status.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_the_stand_in_gateway_posts_a_receipt_over_http(live_server, settings):
    with SmsGatewayStandIn(token=GATEWAY_TOKEN) as stand_in:
        settings.DC_SMS_BACKEND = "digitalcity.core.notifications.backends.HttpSmsGatewayBackend"
        settings.DC_SMS_GATEWAY_URL = stand_in.url
        settings.DC_SMS_GATEWAY_TOKEN = GATEWAY_TOKEN
        user = User.objects.create_user(username="zhaoliu", phone="13600136000")
        notification = services.notify(channel="sms", recipient=user, body="x")
        assert delivery.sweep_due() == 1
        [received] = stand_in.messages
        status, answer = stand_in.post_receipt(
            live_server.url + RECEIPTS_URL, message_id=received.message_id, status="delivered"
        )
    assert (status, answer) == (200, {"message_id": received.message_id, "status": "delivered"})
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.DELIVERED


# --- the inbox --------------------------------------------------------------------


INBOX_URL = "/api/core/notifications/inbox"


def test_the_inbox_refuses_anonymous_users(client, citizen):
    services.notify(channel="site", recipient=citizen, body="x")
    assert client.get(INBOX_URL).status_code == 401
    assert (
        client.post(INBOX_URL + "/mark-read", {}, content_type="application/json").status_code
        == 401
    )


def test_the_inbox_shows_only_the_users_own_site_messages(client, citizen, other_citizen):
    services.notify(channel="site", recipient=citizen, subject="受理通知", body="已受理")
    services.notify(channel="site", recipient=other_citizen, subject="别人的", body="x")
    services.notify(channel="sms", recipient=citizen, body="短信不进收件箱")
    client.force_login(citizen)
    data = client.get(INBOX_URL).json()
    assert data["unread"] == 1
    assert [m["subject"] for m in data["messages"]] == ["受理通知"]


def test_mark_read_touches_only_the_users_own_messages(client, citizen, other_citizen):
    mine = services.notify(channel="site", recipient=citizen, body="x")
    theirs = services.notify(channel="site", recipient=other_citizen, body="y")
    client.force_login(citizen)
    response = client.post(
        INBOX_URL + "/mark-read", {"ids": [mine.pk, theirs.pk]}, content_type="application/json"
    )
    assert response.json() == {"marked": 1}
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None
    assert theirs.read_at is None
    assert client.get(INBOX_URL).json()["unread"] == 0


# --- admin --------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, db):
    admin = User.objects.create_superuser(username="admin", password="x", kind="admin")
    client.force_login(admin)
    return client


def test_the_admin_shows_a_notification_but_not_a_sensitive_body(admin_client, citizen):
    plain = services.notify(channel="sms", recipient=citizen, body="您的申请已受理")
    secret = services.notify(channel="sms", recipient=citizen, body="验证码 654321", sensitive=True)
    assert admin_client.get("/admin/core/notification/").status_code == 200
    assert "您的申请已受理" in admin_client.get(f"/admin/core/notification/{plain.pk}/change/").text
    page = admin_client.get(f"/admin/core/notification/{secret.pk}/change/")
    assert page.status_code == 200
    assert "654321" not in page.text


def test_the_admin_action_requeues_failed_notifications(admin_client, citizen, flaky, settings):
    settings.DC_SMS_MAX_ATTEMPTS = 1
    flaky.failures = 1
    notification = services.notify(channel="sms", recipient=citizen, body="x")
    delivery.sweep_due()
    response = admin_client.post(
        "/admin/core/notification/",
        {"action": "retry_selected", "_selected_action": [notification.pk]},
    )
    assert response.status_code == 302
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (NotificationStatus.QUEUED, 0)
