"""Open311 GeoReport v2: services, definitions, POST/GET requests, tokens, both formats,
and bad input (400/403/404/429) with nothing lost and no duplicate orders."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import time_machine
from django.db import connection

from digitalcity.cases.choices import CaseChannel
from digitalcity.hotline.choices import OrderState
from digitalcity.hotline.models import Open311Submission, WorkOrder
from digitalcity.hotline.open311.services import issue_client, process_pending
from digitalcity.hotline.services import order_dispatch

from .conftest import at

BASE = "/open311/v2"


def parse_xml(content: bytes) -> Any:
    return ET.fromstring(content)  # noqa: S314 - our own response, not untrusted input


INSIDE = {"lat": "35.4900", "long": "112.8500"}


@pytest.fixture
def key(hw):
    _client, api_key = issue_client(name="城市随手拍 App")
    return api_key


def post(client, key, fmt="json", headers=None, **fields):
    data = {
        "api_key": key,
        "service_code": "010101",
        "description": "小区门口垃圾三天没人清运，气味很大",
        "first_name": "三",
        "last_name": "张",
        "phone": "13912345678",
        **INSIDE,
    }
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"{BASE}/requests.{fmt}", data, headers=headers or {})


def test_services_lists_the_leaf_categories_in_json_and_xml(client, hw):
    response = client.get(f"{BASE}/services.json")
    assert response.status_code == 200
    services = response.json()
    codes = {s["service_code"] for s in services}
    assert "010101" in codes
    assert all(len(code) == 6 for code in codes)
    rubbish = next(s for s in services if s["service_code"] == "010101")
    assert rubbish["metadata"] is True
    assert rubbish["type"] == "realtime"
    assert rubbish["service_name"]

    xml = client.get(f"{BASE}/services.xml")
    assert xml["Content-Type"].startswith("text/xml")
    root = parse_xml(xml.content)
    assert root.tag == "services"
    assert {s.findtext("service_code") for s in root.findall("service")} == codes


def test_a_service_definition_names_its_attributes_with_values(client, hw):
    data = client.get(f"{BASE}/services/010101.json").json()
    assert data["service_code"] == "010101"
    by_code = {a["code"]: a for a in data["attributes"]}
    assert {"request_type", "urgency", "confidential", "anonymous", "division"} <= set(by_code)
    assert {v["key"] for v in by_code["request_type"]["values"]} >= {"consult", "complaint"}
    assert by_code["urgency"]["datatype"] == "singlevaluelist"

    root = parse_xml(client.get(f"{BASE}/services/010101.xml").content)
    assert root.tag == "service_definition"
    attrs = root.find("attributes").findall("attribute")
    assert attrs[0].findtext("code") == "request_type"
    assert attrs[0].find("values").findall("value")[0].findtext("key") == "consult"


def test_an_unknown_service_code_is_a_404_in_the_open311_error_format(client, hw):
    response = client.get(f"{BASE}/services/999999.json")
    assert response.status_code == 404
    (error,) = response.json()
    assert error["code"] == 404
    assert "999999" in error["description"]
    xml = client.get(f"{BASE}/services/999999.xml")
    root = parse_xml(xml.content)
    assert root.tag == "errors"
    assert root.find("error").findtext("code") == "404"


def test_post_creates_an_order_through_intake_and_get_reads_it_back(client, hw, key):
    response = post(
        client, key, **{"attribute[urgency]": "urgent", "address_string": "城区新市街 8 号"}
    )
    assert response.status_code == 201, response.content
    (item,) = response.json()
    number = item["service_request_id"]
    order = WorkOrder.objects.get(case__number=number)
    assert order.channel == CaseChannel.OPEN311
    assert order.urgency == "urgent"
    assert order.request_type == "help"
    assert order.caller_name == "张三"
    assert order.lat == pytest.approx(35.49)
    assert Open311Submission.objects.get(intake_key=order.idempotency_key).token == item["token"]

    (detail,) = client.get(f"{BASE}/requests/{number}.json").json()
    assert detail["service_request_id"] == number
    assert detail["status"] == "open"
    assert detail["service_code"] == "010101"
    assert detail["status_notes"].startswith(str(OrderState.RECEIVED.label))
    # expected_datetime is the order clock's due moment: 24 natural hours when urgent.
    assert detail["expected_datetime"] is not None
    assert detail["agency_responsible"] == ""
    assert "13912345678" not in str(detail)
    assert "张三" not in str(detail)


def test_expected_datetime_and_agency_follow_the_order(client, hw, key):
    with time_machine.travel(at(2026, 11, 20, 16, 0), tick=False):
        number = post(client, key, **{"attribute[urgency]": "urgent"}).json()[0][
            "service_request_id"
        ]
        (detail,) = client.get(f"{BASE}/requests/{number}.json").json()
    assert detail["expected_datetime"] == "2026-11-21T16:00:00+08:00"
    assert detail["requested_datetime"] == "2026-11-20T16:00:00+08:00"

    order = WorkOrder.objects.get(case__number=number)
    order_dispatch(order=order, actor=hw.agent, lead=hw.p.department_a)
    (detail,) = client.get(f"{BASE}/requests/{number}.json").json()
    assert detail["agency_responsible"] == hw.p.department_a.name
    assert hw.p.department_a.name in detail["status_notes"]


def test_post_answers_in_xml_when_asked(client, hw, key):
    response = post(client, key, fmt="xml")
    assert response.status_code == 201
    root = parse_xml(response.content)
    assert root.tag == "service_requests"
    number = root.find("request").findtext("service_request_id")
    assert WorkOrder.objects.filter(case__number=number).exists()
    detail = parse_xml(client.get(f"{BASE}/requests/{number}.xml").content)
    assert detail.find("request").findtext("status") == "open"


def test_xml_carries_markup_and_control_characters_safely(client, hw, key):
    text = "井盖<缺失> & 有人\x07摔倒\x1b了"
    number = post(client, key, description=text).json()[0]["service_request_id"]
    root = parse_xml(client.get(f"{BASE}/requests/{number}.xml").content)
    assert root.find("request").findtext("description") == "井盖<缺失> & 有人摔倒了"


def test_get_requests_filters_and_pages(client, hw, key):
    numbers = [
        post(client, key, phone=f"1391234560{i}", service_code=code).json()[0]["service_request_id"]
        for i, code in enumerate(["010101", "010101", "020101", "010101"])
    ]
    all_rows = client.get(f"{BASE}/requests.json").json()
    assert [r["service_request_id"] for r in all_rows] == numbers[::-1]
    rubbish = client.get(f"{BASE}/requests.json", {"service_code": "010101"}).json()
    assert len(rubbish) == 3
    page1 = client.get(f"{BASE}/requests.json", {"page_size": 3, "page": 1}).json()
    page2 = client.get(f"{BASE}/requests.json", {"page_size": 3, "page": 2}).json()
    assert [r["service_request_id"] for r in page1 + page2] == numbers[::-1]
    assert len(page2) == 1
    picked = client.get(
        f"{BASE}/requests.json",
        {"service_request_id": f"{numbers[0]},{numbers[2]}", "service_code": "x"},
    ).json()
    assert {r["service_request_id"] for r in picked} == {numbers[0], numbers[2]}
    assert client.get(f"{BASE}/requests.json", {"status": "closed"}).json() == []
    assert len(client.get(f"{BASE}/requests.json", {"status": "open"}).json()) == 4


def test_get_requests_checks_dates_and_paging(client, hw, key):
    assert client.get(f"{BASE}/requests.json", {"page": "0"}).status_code == 400
    assert client.get(f"{BASE}/requests.json", {"status": "pending"}).status_code == 400
    too_long = {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}
    response = client.get(f"{BASE}/requests.json", too_long)
    assert response.status_code == 400
    assert "90" in response.json()[0]["description"]
    assert client.get(f"{BASE}/requests.json", {"start_date": "yesterday"}).status_code == 400


def test_the_list_query_count_does_not_grow_with_the_rows(
    client, hw, key, django_assert_max_num_queries
):
    for i in range(6):
        post(client, key, phone=f"1390000000{i}")
    with django_assert_max_num_queries(4):
        rows = client.get(f"{BASE}/requests.json").json()
    assert len(rows) == 6


def test_confidential_and_other_channel_orders_are_not_listed(client, hw, key):
    from .factories import make_order

    phone_order = make_order(hw)
    secret = post(client, key, **{"attribute[confidential]": "true"}).json()[0][
        "service_request_id"
    ]
    assert client.get(f"{BASE}/requests.json").json() == []
    assert client.get(f"{BASE}/requests/{secret}.json").status_code == 404
    assert client.get(f"{BASE}/requests/{phone_order.case.number}.json").status_code == 404


def test_post_needs_a_valid_api_key(client, hw, key):
    missing = post(client, None)
    assert missing.status_code == 403
    assert "api_key" in missing.json()[0]["description"]
    assert post(client, "o311_wrong").status_code == 403
    assert WorkOrder.objects.count() == 0


def test_a_deactivated_system_is_refused(client, hw):
    from django.core.cache import cache

    from digitalcity.hotline.models import Open311Client

    system, api_key = issue_client(name="停用系统")
    assert post(client, api_key).status_code == 201
    Open311Client.objects.filter(pk=system.pk).update(is_active=False)
    cache.clear()  # a process trusts a looked-up key for KEY_CACHE_SECONDS
    assert post(client, api_key, phone="13700000009").status_code == 403


def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(client, hw, key):
    cases: dict[str, dict[str, Any]] = {
        "empty description": {"description": "   "},
        "oversized description": {"description": "很" * 2001},
        "unknown service": {"service_code": "123456"},
        "outside the city": {"lat": "39.9", "long": "116.4"},
        "no location": {"lat": None, "long": None},
        "half a location": {"long": None},
        "unknown attribute": {"attribute[colour]": "red"},
        "bad type": {"attribute[request_type]": "gossip"},
        "bad flag": {"attribute[confidential]": "maybe"},
        "anonymous complaint": {
            "attribute[anonymous]": "true",
            "attribute[request_type]": "complaint",
        },
    }
    for name, fields in cases.items():
        response = post(client, key, **fields)
        assert response.status_code == 400, name
        (error,) = response.json()
        assert error["code"] == 400
        assert error["description"], name
    assert "description" in post(client, key, description="").json()[0]["description"]
    assert "不在本市范围内" in post(client, key, lat="39.9", long="116.4").json()[0]["description"]
    assert WorkOrder.objects.count() == 0
    assert Open311Submission.objects.count() == 0


def test_a_repeated_idempotency_key_returns_the_first_order(client, hw, key):
    first = post(client, key, headers={"Idempotency-Key": "app-42"})
    again = post(client, key, headers={"Idempotency-Key": "app-42"}, description="重复提交")
    assert first.status_code == 201
    assert again.status_code == 200
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    by_field = post(client, key, idempotency_key="app-42")
    assert by_field.json()[0]["service_request_id"] == first.json()[0]["service_request_id"]
    assert WorkOrder.objects.count() == 1


def test_two_systems_may_use_the_same_key_for_different_orders(client, hw, key):
    _other, other_key = issue_client(name="网格 App")
    a = post(client, key, headers={"Idempotency-Key": "1"})
    b = post(client, other_key, headers={"Idempotency-Key": "1"}, phone="13700000000")
    assert a.json()[0]["service_request_id"] != b.json()[0]["service_request_id"]


def test_flooding_from_one_number_is_a_429_and_the_earlier_orders_stay(client, hw, key, settings):
    settings.DC_HOTLINE_FLOOD_LIMIT = 3
    for _ in range(3):
        assert post(client, key).status_code == 201
    flooded = post(client, key)
    assert flooded.status_code == 429
    assert flooded["Retry-After"]
    assert flooded.json()[0]["code"] == 429
    assert WorkOrder.objects.count() == 3


def test_a_system_over_its_rate_is_a_429(client, hw):
    _system, api_key = issue_client(name="慢速系统", rate_per_minute=2)
    assert post(client, api_key, phone="13700000001").status_code == 201
    assert post(client, api_key, phone="13700000002").status_code == 201
    over = post(client, api_key, phone="13700000003")
    assert over.status_code == 429
    assert over["Retry-After"] == "60"
    assert WorkOrder.objects.count() == 2


def test_another_jurisdiction_is_a_404(client, hw, key, settings):
    settings.DC_OPEN311_JURISDICTION = "jincheng.gov.cn"
    assert client.get(f"{BASE}/services.json", {"jurisdiction_id": "other.gov"}).status_code == 404
    assert (
        client.get(f"{BASE}/services.json", {"jurisdiction_id": "jincheng.gov.cn"}).status_code
        == 200
    )
    assert post(client, key, jurisdiction_id="other.gov").status_code == 404


def test_deferred_systems_get_a_token_and_the_worker_makes_the_order(client, hw):
    _c, api_key = issue_client(name="批量系统", deferred=True)
    response = post(client, api_key)
    assert response.status_code == 201
    (item,) = response.json()
    assert "service_request_id" not in item
    token = item["token"]
    assert WorkOrder.objects.count() == 0
    (pending,) = client.get(f"{BASE}/tokens/{token}.json").json()
    assert pending == {"service_request_id": None, "token": token}

    assert process_pending() == 1
    assert process_pending() == 0  # claimed once
    (done,) = client.get(f"{BASE}/tokens/{token}.json").json()
    number = done["service_request_id"]
    assert WorkOrder.objects.get(case__number=number).channel == CaseChannel.OPEN311
    root = parse_xml(client.get(f"{BASE}/tokens/{token}.xml").content)
    assert root.find("request").findtext("service_request_id") == number


def test_a_deferred_submission_refused_later_says_why_on_its_token(client, hw):
    _c, api_key = issue_client(name="批量系统", deferred=True)
    token = post(client, api_key, lat="39.9", long="116.4").json()[0]["token"]
    process_pending()
    (item,) = client.get(f"{BASE}/tokens/{token}.json").json()
    assert item["service_request_id"] is None
    assert "不在本市范围内" in item["status_notes"]
    assert client.get(f"{BASE}/tokens/nope.json").status_code == 404


def test_an_unknown_request_is_a_404_and_a_wrong_format_is_not_routed(client, hw):
    assert client.get(f"{BASE}/requests/GD-2026-999999.json").status_code == 404
    assert client.get(f"{BASE}/requests.html").status_code == 404
    assert client.delete(f"{BASE}/requests.json").status_code == 405


def test_discovery_names_the_endpoint(client, hw):
    data = client.get(f"{BASE}/discovery.json").json()
    assert data["endpoints"][0]["url"].endswith("/open311/v2/")


@pytest.mark.django_db(transaction=True)
def test_concurrent_repeats_of_one_key_make_one_order(hw, key, live_server):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL's concurrency")
    from digitalcity.hotline.categories import seed_categories

    seed_categories()  # the flushed database of a transactional test has no tree
    import requests as http

    results: list[int] = []

    def send() -> None:
        response = http.post(
            f"{live_server.url}{BASE}/requests.json",
            data={
                "api_key": key,
                "service_code": "010101",
                "description": "并发重复提交",
                "phone": "13911112222",
                **INSIDE,
            },
            headers={"Idempotency-Key": "race-1"},
            timeout=30,
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(code in (200, 201) for code in results), results
    assert WorkOrder.objects.count() == 1


def test_the_admin_issues_a_key_once_and_lists_the_models(client, hw):
    from django.contrib.messages import get_messages

    from digitalcity.hotline.models import Open311Client

    client.force_login(hw.p.admin)
    response = client.post(
        "/admin/hotline/open311client/add/",
        {
            "name": "网格化系统",
            "jurisdiction_id": "",
            "contact": "",
            "rate_per_minute": 600,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    (message,) = [str(m) for m in get_messages(response.wsgi_request) if "密钥" in str(m)]
    key = message.rsplit("：", 1)[1]
    system = Open311Client.objects.get(name="网格化系统")
    assert system.key_hash != key  # only the hash is stored
    assert post(client, key).status_code == 201
    for model in (
        "open311client",
        "open311submission",
        "knowledgeentry",
        "knowledgeversion",
        "knowledgecategory",
        "dispatchmodel",
    ):
        assert client.get(f"/admin/hotline/{model}/").status_code == 200, model


def test_the_admin_is_refused_to_staff_without_admin_rights(client, hw):
    client.force_login(hw.p.clerk_a)
    response = client.get("/admin/hotline/open311client/")
    assert response.status_code == 302  # to the admin login
