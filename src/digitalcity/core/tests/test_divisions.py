"""Administrative divisions: loading from the packages' data, queries, API, command, admin."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client

from digitalcity.core.divisions import (
    children_of,
    division_path,
    is_valid_division,
    level_of_code,
    load_divisions,
    search_divisions,
)
from digitalcity.core.models import Division, DivisionLevel, DivisionSource

pytestmark = pytest.mark.django_db

# Beijing (11) keeps each load small; the full country is exercised by the command test.
BEIJING = "11"


def _snapshot() -> list[tuple[object, ...]]:
    return list(
        Division.objects.order_by("code").values_list(
            "code",
            "name",
            "level",
            "parent_id",
            "source",
            "valid_from",
            "valid_until",
            "updated_at",
        )
    )


def test_loading_twice_changes_nothing() -> None:
    first = load_divisions(prefix=BEIJING, townships="110105", communities="110105001")
    assert first.total_created > 0
    before = _snapshot()
    second = load_divisions(prefix=BEIJING, townships="110105", communities="110105001")
    assert second.total_created == 0
    assert second.total_updated == 0
    assert sum(second.unchanged.values()) == len(before)
    assert _snapshot() == before


def test_reloading_restores_a_row_edited_away_from_the_package_data() -> None:
    load_divisions(prefix=BEIJING)
    Division.objects.filter(code="110105").update(name="改错的名字")
    result = load_divisions(prefix=BEIJING)
    assert result.updated == {"county": 1}
    assert Division.objects.get(code="110105").name == "朝阳区"


def test_abolished_chongwen_district_is_kept_with_its_last_year() -> None:
    load_divisions(prefix=BEIJING)
    chongwen = Division.objects.get(code="110103")
    assert chongwen.name == "崇文区"
    assert chongwen.valid_until == 2010
    assert chongwen.level == DivisionLevel.COUNTY
    assert chongwen.source == DivisionSource.GBT2260
    assert chongwen.parent is not None
    assert chongwen.parent.code == "110100"
    assert not chongwen.is_current
    assert is_valid_division("110103")
    assert is_valid_division("110103", year=2010)
    assert not is_valid_division("110103", year=2011)


def test_a_renamed_code_keeps_its_latest_name_and_checks_years_by_period() -> None:
    # 120110: [-1991]东郊区, [1992-]东丽区
    load_divisions(prefix="12")
    dongli = Division.objects.get(code="120110")
    assert dongli.name == "东丽区"
    assert (dongli.valid_from, dongli.valid_until) == (None, None)
    assert is_valid_division("120110", year=1985)


def test_levels_follow_the_code_shape_and_parents_are_linked() -> None:
    load_divisions(prefix="41")
    assert [d.code for d in division_path("410102")] == ["410000", "410100", "410102"]
    # A county directly under the province's 省直辖 group.
    assert [d.code for d in division_path("419001")] == ["410000", "419000", "419001"]
    assert level_of_code("410000") == DivisionLevel.PROVINCE
    assert level_of_code("410100") == DivisionLevel.CITY
    assert level_of_code("410102") == DivisionLevel.COUNTY
    assert level_of_code("410102001") == DivisionLevel.TOWNSHIP
    assert level_of_code("410102001001") == DivisionLevel.COMMUNITY
    # Every province is loaded even with a prefix, so local rows can hang below any.
    assert Division.objects.filter(level=DivisionLevel.PROVINCE).count() == 34


def test_a_township_of_a_loaded_county_hangs_below_it() -> None:
    load_divisions(prefix=BEIJING, townships="110105")
    township = Division.objects.get(code="110105001")
    assert township.level == DivisionLevel.TOWNSHIP
    assert township.source == DivisionSource.NBS
    assert [d.code for d in division_path("110105001")] == [
        "110000",
        "110100",
        "110105",
        "110105001",
    ]
    assert {d.code[:6] for d in children_of("110105")} == {"110105"}
    assert (
        children_of("110105").count()
        == Division.objects.filter(level=DivisionLevel.TOWNSHIP).count()
    )


def test_communities_bring_their_townships_along() -> None:
    load_divisions(prefix=BEIJING, communities="110105001")
    community = Division.objects.get(code="110105001024")
    assert community.level == DivisionLevel.COMMUNITY
    assert community.parent is not None
    assert community.parent.code == "110105001"
    assert not Division.objects.filter(code="110105002").exists()


def test_an_nbs_development_zone_fills_the_gap_in_gbt2260() -> None:
    load_divisions(prefix="13", townships="130171")
    zone = Division.objects.get(code="130171")
    assert zone.source == DivisionSource.NBS
    assert zone.name == "石家庄高新技术产业开发区"
    assert [d.code for d in division_path("130171")] == ["130000", "130100", "130171"]
    assert Division.objects.filter(parent=zone, level=DivisionLevel.TOWNSHIP).count() == 4
    # A gbt2260 county under the same prefix keeps its GB/T 2260 source.
    load_divisions(prefix="13", townships="130102")
    assert Division.objects.get(code="130102").source == DivisionSource.GBT2260


def test_local_rows_survive_reloads_even_on_a_colliding_code() -> None:
    load_divisions(prefix=BEIJING)
    beijing = Division.objects.get(code="110000")
    city = Division.objects.create(
        code="119900",
        name="示范市",
        level=DivisionLevel.CITY,
        parent=beijing,
        source=DivisionSource.LOCAL,
    )
    Division.objects.create(
        code="119901",
        name="示范区",
        level=DivisionLevel.COUNTY,
        parent=city,
        source=DivisionSource.LOCAL,
    )
    Division.objects.filter(code="110101").update(name="本地改名", source=DivisionSource.LOCAL)
    result = load_divisions(prefix=BEIJING)
    assert result.skipped == {"county": 1}
    assert Division.objects.get(code="110101").name == "本地改名"
    assert [d.name for d in division_path("119901")] == ["北京市", "示范市", "示范区"]


def test_progress_reports_every_row_of_each_stage() -> None:
    seen: dict[str, list[tuple[int, int]]] = {}
    load_divisions(
        prefix=BEIJING,
        townships="110105",
        progress=lambda stage, done, total: seen.setdefault(stage, []).append((done, total)),
    )
    for stage, calls in seen.items():
        assert sum(done for done, _total in calls) == calls[0][1], stage
    assert seen["province"] == [(34, 34)]
    assert seen["township"][0][1] == Division.objects.filter(level="township").count()


def test_a_bad_prefix_is_refused_in_chinese() -> None:
    with pytest.raises(ValidationError) as info:
        load_divisions(townships="11a")
    assert "区划代码前缀须为数字" in info.value.messages[0]
    assert not Division.objects.exists()


def test_queries_refuse_a_malformed_or_unknown_code_naming_the_rule() -> None:
    with pytest.raises(ValidationError) as info:
        division_path("1101")
    assert info.value.code == "division_format"
    assert "6 位" in info.value.messages[0]
    assert "9 位" in info.value.messages[0]
    assert "12 位" in info.value.messages[0]
    with pytest.raises(ValidationError) as info:
        children_of("999999")
    assert info.value.messages == ["行政区划代码 999999 不存在"]
    assert not is_valid_division("1101")
    assert not is_valid_division("999999")


def test_search_finds_by_name_or_code_prefix_and_filters() -> None:
    load_divisions(prefix=BEIJING, townships="110105")
    assert [d.code for d in search_divisions(q="崇文")] == ["110103"]
    assert [d.code for d in search_divisions(q="1101", level="county")][:3] == [
        "110101",
        "110102",
        "110103",
    ]
    current = search_divisions(q="1101", level="county", current_only=True)
    assert "110103" not in {d.code for d in current}
    assert all(d.parent_id for d in search_divisions(parent="110105"))
    with pytest.raises(ValidationError):
        search_divisions(level="planet")


# --- API ------------------------------------------------------------------------------


def test_the_api_returns_a_division_with_its_path_and_children(client: Client) -> None:
    load_divisions(prefix=BEIJING, townships="110105")
    response = client.get("/api/core/divisions/110105")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "朝阳区"
    assert body["level"] == "county"
    assert body["level_label"] == "县级"
    assert [p["code"] for p in body["path"]] == ["110000", "110100", "110105"]
    assert body["children"][0]["code"] == "110105001"
    assert all(c["level"] == "township" for c in body["children"])


def test_the_api_refuses_a_bad_code_naming_the_rule(client: Client) -> None:
    response = client.get("/api/core/divisions/1101")
    assert response.status_code == 400
    assert "须为 6 位（县级及以上）、9 位（乡级）或 12 位（村级）数字" in response.json()["detail"]
    response = client.get("/api/core/divisions/999999")
    assert response.status_code == 404
    assert response.json()["detail"] == "行政区划代码 999999 不存在"


def test_the_api_searches(client: Client) -> None:
    load_divisions(prefix=BEIJING, townships="110105")
    response = client.get("/api/core/divisions/", {"q": "崇文"})
    assert response.status_code == 200
    assert [d["code"] for d in response.json()] == ["110103"]
    response = client.get(
        "/api/core/divisions/", {"level": "township", "parent": "110105", "limit": "3"}
    )
    assert [d["code"] for d in response.json()] == ["110105001", "110105002", "110105003"]
    assert client.get("/api/core/divisions/", {"parent": "9999"}).status_code == 400
    assert client.get("/api/core/divisions/", {"level": "planet"}).status_code == 422


def test_the_api_is_documented_in_chinese(client: Client) -> None:
    schema = client.get("/api/openapi.json").json()
    operations = [
        op
        for path, item in schema["paths"].items()
        if path.startswith("/api/core/divisions/")
        for op in item.values()
    ]
    assert {op["summary"] for op in operations} == {"搜索行政区划", "查询行政区划"}
    detail = schema["components"]["schemas"]["DivisionDetailOut"]
    assert detail["properties"]["path"]["description"] == "从省级到本区划的完整路径（含本区划）"


# --- command --------------------------------------------------------------------------


def test_the_command_loads_and_shows() -> None:
    out = StringIO()
    call_command(
        "divisions",
        "load",
        "--prefix",
        BEIJING,
        "--with-townships",
        "110105",
        "--no-progress",
        stdout=out,
    )
    assert "县级（GB/T 2260）：新增" in out.getvalue()
    out = StringIO()
    call_command("divisions", "show", "110103", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "北京市（110000） → 市辖区（110100） → 崇文区（110103）"
    assert "有效：…–2010" in lines[1]


def test_the_command_refuses_a_bad_code() -> None:
    with pytest.raises(CommandError, match="须为 6 位"):
        call_command("divisions", "show", "1101")


# --- admin ----------------------------------------------------------------------------


def test_the_admin_keeps_package_rows_read_only_and_adds_local_rows(admin_client: Client) -> None:
    load_divisions(prefix=BEIJING)
    chongwen = Division.objects.get(code="110103")
    page = admin_client.get(f"/admin/core/division/{chongwen.pk}/change/")
    assert page.status_code == 200
    assert b'name="name"' not in page.content
    found = admin_client.get("/admin/core/division/", {"q": "1101", "current": "no"})
    assert b"110103" in found.content
    assert b"110105" not in found.content
    beijing = Division.objects.get(code="110000")
    response = admin_client.post(
        "/admin/core/division/add/",
        {"code": "119900", "name": "示范市", "level": "city", "parent": beijing.pk},
    )
    assert response.status_code == 302
    assert Division.objects.get(code="119900").source == DivisionSource.LOCAL
