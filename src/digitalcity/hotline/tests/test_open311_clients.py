"""Existing Open311 client libraries from PyPI, used unchanged against a live server.

* `civicbot` (civicbot.open311.Open311Client, 2026): lists services, reads a definition,
  validates and POSTs a request against the live definition, reads it back, lists
  requests with the pagination extension, looks up a token — JSON.
* `georeport` (georeport.GeoReport, 2025): a read-only client (it does not create
  requests), used here in its XML mode: services, a definition, the request list and
  one request.

Both are dev dependencies (pyproject `dev` extra). The older `open311` (2011) and
`three` (2013) packages are Python 2 only and cannot be imported on Python 3.
"""

from __future__ import annotations

import pytest

from digitalcity.hotline.models import WorkOrder
from digitalcity.hotline.open311.services import issue_client

civicbot_open311 = pytest.importorskip("civicbot.open311")
civicbot_http = pytest.importorskip("civicbot.http")
civicbot_registry = pytest.importorskip("civicbot.registry")
georeport = pytest.importorskip("georeport")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _categories(transactional_db):
    # A transactional test starts from the flushed database, without the category tree
    # that migration 0002 seeds: seed it again (idempotent).
    from digitalcity.hotline.categories import seed_categories

    seed_categories()


@pytest.fixture
def endpoint_url(live_server):
    return f"{live_server.url}/open311/v2"


@pytest.fixture
def civic(endpoint_url):
    endpoint = civicbot_registry.Endpoint(
        id="demo-city", name="示范市 12345", base_url=endpoint_url, write=True
    )
    # The library's politeness delay (0.5 s per host) is a constructor argument.
    transport = civicbot_http.HttpTransport(
        rate_limiter=civicbot_http.RateLimiter(min_interval=0.0)
    )
    return civicbot_open311.Open311Client(endpoint, transport=transport)


def test_civicbot_lists_services_creates_and_reads_a_request(hw, civic):
    _client, key = issue_client(name="civicbot")

    services = civic.list_services()
    assert "010101" in {s["service_code"] for s in services}
    definition = civic.get_service_definition("010101")
    assert {a["code"] for a in definition["attributes"]} >= {"request_type", "urgency"}

    prepared = civic.create_request(
        "010101",
        dry_run=False,
        confirm="SEND",
        api_key=key,
        validate_remote=True,  # checks the payload against our live service definition
        lat=35.49,
        lng=112.85,
        description="人民公园东门垃圾桶满溢，无人清运",
        first_name="三",
        last_name="张",
        phone="13912345678",
        attributes={"urgency": "urgent", "request_type": "complaint"},
    )
    (created,) = prepared.response
    number = created["service_request_id"]
    order = WorkOrder.objects.get(case__number=number)
    assert order.urgency == "urgent"
    assert order.request_type == "complaint"
    assert order.caller_phone == "13912345678"

    request = civic.get_request(number)
    assert request["service_request_id"] == number
    assert request["status"] == "open"
    assert request["expected_datetime"]
    listed = civic.list_requests(service_code="010101", page_size=10)
    assert [r["service_request_id"] for r in listed] == [number]
    token = civic.get_token(created["token"])
    assert token[0]["service_request_id"] == number


def test_civicbot_surfaces_our_400_for_bad_input(hw, civic):
    _client, key = issue_client(name="civicbot")
    with pytest.raises(civicbot_http.HttpError) as refused:
        civic.create_request(
            "010101",
            dry_run=False,
            confirm="SEND",
            api_key=key,
            lat=39.9,  # Beijing: outside the city
            lng=116.4,
            description="坐标在城外",
            phone="13912345678",
        )
    assert refused.value.status == 400
    assert "不在本市范围内" in refused.value.body
    assert WorkOrder.objects.count() == 0


def test_georeport_reads_services_and_requests_in_xml(hw, civic, endpoint_url):
    _client, key = issue_client(name="civicbot")
    numbers = []
    for phone in ("13900000001", "13900000002"):
        prepared = civic.create_request(
            "020101",
            dry_run=False,
            confirm="SEND",
            api_key=key,
            address_string="城区泽州路 100 号",
            description="整栋楼停水一天了",
            phone=phone,
        )
        numbers.append(prepared.response[0]["service_request_id"])

    reader = georeport.GeoReport(endpoint_url, output_format="xml")
    services = reader.get_service_list()
    assert "020101" in {s["service_code"] for s in services}
    definition = reader.get_service_definition("020101")
    assert definition["service_code"] == "020101"
    assert definition["attributes"]["attribute"][0]["code"] == "request_type"
    requests = reader.get_service_requests(service_code="020101")
    assert {r["service_request_id"] for r in requests} == set(numbers)
    one = reader.get_service_request(numbers[0])
    assert one["service_request_id"] == numbers[0]
    assert one["status"] == "open"

    json_reader = georeport.GeoReport(endpoint_url)
    assert json_reader.get_service_request(numbers[1])["address"] == "城区泽州路 100 号"
