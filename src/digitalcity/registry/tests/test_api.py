"""REST endpoints: lookups, exists, search, as-of, masking and audited reveal, API push."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.test import Client

from digitalcity.core.models import AuditEntry

from ..models import ImportBatch, Person
from ..services import issue_push_token
from .factories import City, csv_bytes, person_id, police_row, uscc

Load = Callable[..., ImportBatch]
API = "/api/registry"


@pytest.fixture
def person(load: Load) -> Person:
    load(
        "police",
        csv_bytes([police_row(person_id(1), 姓名="欧阳娜娜")]),
        data_date=datetime.date(2025, 1, 1),
    )
    return Person.objects.get()


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_a_lookup_is_masked_by_default(person: Person, city: City) -> None:
    response = _client(city.data_officer).get(f"{API}/people/{person.id_number}")
    assert response.status_code == 200
    body = response.json()
    assert body["masked"] is True
    assert body["fields"]["id_number"] == person.id_number[:6] + "********" + person.id_number[-4:]
    assert body["fields"]["name"] == "欧阳**"
    assert body["fields"]["marital_status"] == "未婚"
    assert person.id_number not in response.content.decode()


def test_reveal_needs_the_right_and_a_reason_and_is_audited(person: Person, city: City) -> None:
    url = f"{API}/people/{person.id_number}?reveal=1"
    assert _client(city.data_officer).get(url + "&reason=核查").status_code == 403
    assert _client(city.revealer).get(url).status_code == 403
    response = _client(city.revealer).get(url + "&reason=户籍业务核查")
    assert response.status_code == 200
    assert response.json()["fields"]["name"] == "欧阳娜娜"
    entry = AuditEntry.objects.get(action="view_unmasked")
    assert (entry.actor, entry.reason) == (city.revealer, "id_number：户籍业务核查")


def test_exists_and_15_digit_lookup(person: Person, city: City) -> None:
    client = _client(city.police_clerk)
    assert client.get(f"{API}/people/exists", {"id_number": person.id_number}).json() == {
        "exists": True
    }
    assert client.get(f"{API}/people/exists", {"id_number": person_id(2)}).json() == {
        "exists": False
    }
    bad = client.get(f"{API}/people/exists", {"id_number": "123"})
    assert bad.status_code == 400
    assert "长度" in bad.json()["detail"]


def test_search_needs_a_birth_date_or_division(person: Person, city: City) -> None:
    client = _client(city.data_officer)
    assert client.get(f"{API}/people", {"name": "欧阳娜娜"}).status_code == 400
    found = client.get(f"{API}/people", {"name": "欧阳娜娜", "division": "1498"}).json()
    assert [r["fields"]["birth_date"] for r in found] == [str(person.birth_date)]
    by_pinyin = client.get(
        f"{API}/people", {"name": "ou yang na na", "birth_date": str(person.birth_date)}
    )
    assert len(by_pinyin.json()) == 1


def test_as_of_reads(person: Person, city: City, load: Load) -> None:
    load(
        "police",
        csv_bytes([police_row(person.id_number, 姓名="欧阳娜娜", 户籍地区划代码="149802")]),
        data_date=datetime.date(2026, 3, 1),
    )
    client = _client(city.data_officer)
    before = client.get(f"{API}/people/{person.id_number}", {"as_of": "2025-06-01"}).json()
    after = client.get(f"{API}/people/{person.id_number}", {"as_of": "2026-06-01"}).json()
    assert (before["fields"]["division"], after["fields"]["division"]) == ("149801", "149802")
    assert (
        client.get(f"{API}/people/{person.id_number}", {"as_of": "2020-01-01"}).status_code == 404
    )


@pytest.mark.parametrize("who", ["outsider", "citizen"])
def test_the_outsider_is_refused(person: Person, city: City, who: str) -> None:
    client = _client(getattr(city, who))
    assert client.get(f"{API}/people/{person.id_number}").status_code == 403
    assert client.get(f"{API}/people/exists", {"id_number": person.id_number}).status_code == 403
    assert client.get(f"{API}/organizations/exists", {"code": uscc(1)}).status_code == 403
    assert Client().get(f"{API}/people/{person.id_number}").status_code == 401


def _samr_row(n: int, **values: str) -> dict[str, str]:
    row = {
        "统一社会信用代码": uscc(n),
        "组织机构代码": "",
        "企业名称": f"示范市测试{n}有限公司",
        "法定代表人": "周晨光",
        "住所": "示范市中心区人民路1号",
        "登记机关区划": "149801",
        "登记状态": "存续",
        "成立日期": "2020年5月6日",
    }
    row.update(values)
    return row


def test_a_source_pushes_rows_with_its_token(city: City) -> None:
    token = issue_push_token(source=city.sources["samr"])
    client = Client()
    url = f"{API}/sources/samr/batches"
    response = client.post(
        url,
        {"rows": [_samr_row(1)]},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["rows_new"] == 1
    # The same push again changes nothing; an old organization code maps to the credit code.
    again = client.post(
        url,
        {"rows": [_samr_row(1)]},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert again.json()["id"] == response.json()["id"]
    org = city.sources["samr"].records.get().organization
    assert org is not None
    assert org.org_code == uscc(1)[8:17]
    tax = Client().get(f"{API}/organizations/{uscc(1)[8:16]}-{uscc(1)[16]}")
    assert tax.status_code == 401
    found = _client(city.data_officer).get(f"{API}/organizations/{uscc(1)[8:16]}-{uscc(1)[16]}")
    assert found.json()["key"] == uscc(1)
    assert found.json()["fields"]["established_on"] == "2020-05-06"
    # A token is for its own source only.
    other = client.post(
        f"{API}/sources/tax/batches",
        {"rows": []},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert other.status_code == 403
    assert (
        client.post(
            url,
            {"rows": []},
            content_type="application/json",
            headers={"Authorization": "Bearer nope"},
        ).status_code
        == 401
    )


def test_a_refused_push_answers_422_with_the_problems(city: City) -> None:
    client = _client(city.data_officer)
    response = client.post(
        f"{API}/sources/samr/batches",
        {"rows": [_samr_row(2), _samr_row(3, 成立日期="2020-13-01")]},
        content_type="application/json",
    )
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert problems == [
        {"row": 2, "field": "成立日期", "rule": "日期不存在：2020 年 13 月 1 日", "level": "error"}
    ]
    assert not city.sources["samr"].records.exists()


def test_staff_push_only_for_their_sources(city: City) -> None:
    response = _client(city.civil_clerk).post(
        f"{API}/sources/samr/batches", {"rows": [_samr_row(4)]}, content_type="application/json"
    )
    assert response.status_code == 403
