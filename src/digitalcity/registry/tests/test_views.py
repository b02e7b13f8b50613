"""Staff pages: search, record page with provenance and history, the conflict queue,
upload with progress and error report; the outsider is refused everywhere."""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from digitalcity.core.models import AuditEntry

from ..choices import BatchStatus, ConflictState
from ..models import Conflict, ImportBatch, Person
from .factories import City, csv_bytes, person_id, police_row

Load = Callable[..., ImportBatch]


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def person(load: Load) -> Person:
    load(
        "police",
        csv_bytes([police_row(person_id(1), 姓名="欧阳娜娜")]),
        data_date=datetime.date(2025, 1, 1),
    )
    moved = police_row(
        person_id(1), 姓名="欧阳娜娜", 户籍地址="示范市东城区东关路9号", 户籍地区划代码="149802"
    )
    load("police", csv_bytes([moved]), data_date=datetime.date(2026, 3, 1))
    return Person.objects.get()


@pytest.fixture
def conflict(load: Load, person: Person) -> Conflict:
    load(
        "civil-affairs",
        csv_bytes([{"身份证号": person.id_number, "姓名": "欧阳娜娜", "婚姻状况": "已婚"}]),
    )
    return Conflict.objects.get()


@pytest.fixture
def upload(settings: Any, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Post the upload form with tasks run at once (the on_commit fires in the test)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

    def post(client: Client, data: dict[str, Any]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("registry:batches"), data)

    return post


PAGES = [
    ("registry:workbench", False),
    ("registry:conflicts", False),
    ("registry:batches", False),
    ("registry:person", True),
]


@pytest.mark.parametrize("who", ["outsider", "citizen"])
def test_the_outsider_is_refused_on_every_page(person: Person, city: City, who: str) -> None:
    client = _client(getattr(city, who))
    for name, with_pk in PAGES:
        url = reverse(name, args=[person.pk] if with_pk else [])
        assert client.get(url).status_code == 403, name
    batch = ImportBatch.objects.first()
    assert batch is not None
    assert client.get(reverse("registry:batch", args=[batch.pk])).status_code == 403
    assert client.get(reverse("registry:batch_report", args=[batch.pk])).status_code == 403
    assert Client().get(reverse("registry:workbench")).status_code == 302


def test_search_by_id_number_opens_the_masked_record_page(person: Person, city: City) -> None:
    client = _client(city.police_clerk)
    response = client.get(reverse("registry:workbench"), {"q": person.id_number})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "欧阳**" in page
    assert person.id_number not in page
    assert "公安户籍人口" in page  # each field's source
    assert "由公民身份号码推算" in page  # the birth date no source gave
    assert "东城区（149802）" in page
    assert "示范市东城区****" in page
    assert "v2" in page
    assert "迁移" in page


def test_the_as_of_picker_shows_the_record_before_the_move(person: Person, city: City) -> None:
    url = reverse("registry:person", args=[person.pk])
    page = _client(city.data_officer).get(url, {"as_of": "2025-06-01"}).content.decode()
    assert "2025-06-01 时的标准记录" in page
    assert "示范市中心区****" in page
    assert "149801" in page


def test_the_reveal_form_shows_full_values_and_audits(person: Person, city: City) -> None:
    url = reverse("registry:person", args=[person.pk])
    assert "显示完整信息" not in _client(city.data_officer).get(url).content.decode()
    page = _client(city.revealer).post(url, {"reason": "户籍核查"}).content.decode()
    assert person.id_number in page
    assert "欧阳娜娜" in page
    assert AuditEntry.objects.filter(action="view_unmasked", actor=city.revealer).count() == 1


def test_the_responsible_department_resolves_its_conflict_on_the_page(
    conflict: Conflict, city: City
) -> None:
    police = _client(city.police_clerk)
    assert "已婚" not in police.get(reverse("registry:conflicts")).content.decode()
    resolve = reverse("registry:conflict_resolve", args=[conflict.pk])
    assert police.post(resolve, {"action": "confirm", "reason": "x"}).status_code == 404
    civil = _client(city.civil_clerk)
    page = civil.get(reverse("registry:conflicts")).content.decode()
    assert f"conflict-{conflict.pk}" in page
    assert "示范市民政局" in page
    civil.post(resolve, {"action": "confirm", "reason": ""})
    conflict.refresh_from_db()
    assert conflict.state == ConflictState.OPEN  # no reason, no decision
    civil.post(resolve, {"action": "confirm", "reason": "婚姻登记档案核实"})
    conflict.refresh_from_db()
    assert conflict.state == ConflictState.CONFIRMED


def test_the_queue_costs_the_same_queries_for_one_conflict_or_many(
    load: Load, conflict: Conflict, city: City, django_assert_max_num_queries: Any
) -> None:
    client = _client(city.civil_clerk)
    with django_assert_max_num_queries(20) as one:
        client.get(reverse("registry:conflicts"))
    rows = [police_row(person_id(n), 婚姻状况="未婚") for n in range(2, 8)]
    load("police", csv_bytes(rows))
    load(
        "civil-affairs",
        csv_bytes(
            [{"身份证号": person_id(n), "姓名": "张三", "婚姻状况": "已婚"} for n in range(2, 8)]
        ),
    )
    assert Conflict.objects.filter(state="open").count() == 7
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(reverse("registry:conflicts"))


def test_an_upload_is_imported_with_progress(city: City, upload: Callable[..., Any]) -> None:
    client = _client(city.police_clerk)
    content = csv_bytes([police_row(person_id(9))], encoding="gbk")
    form = {"source": city.sources["police"].pk, "data_date": "2026-01-05"}
    response = upload(client, {**form, "file": SimpleUploadedFile("公安.csv", content)})
    assert response.status_code == 302, response.content.decode()
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.encoding, batch.data_date) == (
        BatchStatus.LOADED,
        "GBK",
        datetime.date(2026, 1, 5),
    )
    assert Person.objects.filter(id_number=person_id(9)).exists()
    progress = client.get(reverse("registry:batch_progress", args=[batch.pk])).content.decode()
    assert "已入库" in progress
    assert "hx-get" not in progress
    # The same file again: nothing changes, the page says so.
    upload(client, {**form, "file": SimpleUploadedFile("公安.csv", content)})
    assert ImportBatch.objects.count() == 1


def test_a_refused_upload_offers_its_report(city: City, upload: Callable[..., Any]) -> None:
    client = _client(city.police_clerk)
    bad = csv_bytes([police_row(person_id(10), 出生日期="1990-02-30")])
    form = {"source": city.sources["police"].pk, "data_date": "2026-01-05"}
    upload(client, {**form, "file": SimpleUploadedFile("公安.csv", bad)})
    batch = ImportBatch.objects.get()
    assert batch.status == BatchStatus.REFUSED
    page = client.get(reverse("registry:batch", args=[batch.pk])).content.decode()
    assert "日期不存在" in page
    report = client.get(reverse("registry:batch_report", args=[batch.pk]))
    rows = list(load_workbook(io.BytesIO(report.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[1] == (2, "出生日期", "日期不存在：1990 年 2 月 30 日")


def test_staff_cannot_upload_for_another_departments_source(city: City) -> None:
    client = _client(city.civil_clerk)
    upload = SimpleUploadedFile("公安.csv", csv_bytes([police_row(person_id(11))]))
    response = client.post(
        reverse("registry:batches"), {"source": city.sources["police"].pk, "file": upload}
    )
    assert response.status_code == 200  # the form refuses the choice
    assert not ImportBatch.objects.exists()
