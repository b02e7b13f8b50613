"""Chinese full-text search (core.fulltext) on whichever database the run uses."""

from __future__ import annotations

import socket

import pytest
from django.db import connection, transaction

from digitalcity.core import fulltext

DOCS = {
    1: (
        "公积金提取办理指南",
        "职工购买自住住房、离休退休，可以申请提取住房公积金。需携带身份证和购房合同。",
    ),
    2: ("垃圾清运投诉处理", "小区生活垃圾清运不及时，由区城市管理局督促环卫单位在24小时内清运。"),
    3: ("噪音扰民怎么办", "夜间施工噪音扰民，可向生态环境局举报；社会生活噪音由公安派出所处理。"),
    4: (
        "新生儿医保参保",
        "新生儿出生后三个月内办理城乡居民医疗保险参保登记，待遇从出生之日起享受。",
    ),
}


@pytest.fixture
def indexed(db):
    for pk, (title, body) in DOCS.items():
        fulltext.index("knowledge", pk, title, body)
    fulltext.index("portal.page", 1, "住房公积金政策解读", "本市调整住房公积金缴存基数。")


def test_segment_cuts_chinese_into_words_and_drops_punctuation():
    words = fulltext.segment("小区垃圾清运不及时，噪音扰民！")
    assert "垃圾" in words
    assert "清运" in words
    assert "噪音" in words
    assert "扰民" in words
    assert "，" not in words
    assert "！" not in words


def test_query_terms_drop_stop_words_and_repeats():
    # Search mode: a long word and the shorter words inside it, each once.
    assert fulltext.query_terms("请问公积金怎么提取公积金") == ["公积", "积金", "公积金", "提取"]
    assert fulltext.query_terms("怎么办理？") == []


def test_it_finds_a_document_by_a_word_inside_its_chinese_text(indexed):
    hits = fulltext.search("清运", kinds=["knowledge"])
    assert [h.doc_id for h in hits] == [2]
    assert hits[0].kind == "knowledge"


def test_a_word_in_the_title_ranks_above_the_same_word_in_the_body(db):
    fulltext.index("knowledge", 10, "医保报销", "门诊费用按比例支付。其他情形见噪音条款。")
    fulltext.index("knowledge", 11, "噪音投诉", "夜间施工可投诉。")
    hits = fulltext.search("噪音", kinds=["knowledge"])
    assert [h.doc_id for h in hits] == [11, 10]
    assert hits[0].score > hits[1].score


def test_more_matching_words_rank_higher(indexed):
    hits = fulltext.search("住房公积金提取需要什么材料", kinds=["knowledge"])
    assert hits[0].doc_id == 1


def test_kinds_restrict_the_search(indexed):
    assert {h.kind for h in fulltext.search("公积金")} == {"knowledge", "portal.page"}
    assert [h.kind for h in fulltext.search("公积金", kinds=["portal.page"])] == ["portal.page"]
    assert [(h.kind, h.doc_id) for h in fulltext.search("公积金", kinds=["knowledge"])] == [
        ("knowledge", 1)
    ]


def test_limit_caps_the_results(indexed):
    assert len(fulltext.search("公积金 垃圾 噪音 医保", limit=2)) == 2
    assert fulltext.search("公积金", limit=0) == []


def test_an_empty_or_stop_word_query_finds_nothing(indexed):
    assert fulltext.search("") == []
    assert fulltext.search("   ") == []
    assert fulltext.search("怎么办理的") == []


def test_fts_syntax_in_the_query_is_taken_as_text(indexed):
    # Quotes, operators and column filters must not reach the engine as syntax.
    for query in [
        '"公积金',
        "title:公积金",
        "公积金 OR",
        "NEAR(公积金)",
        "公积金*",
        "公积金' OR 1=1 --",
    ]:
        hits = fulltext.search(query, kinds=["knowledge"])
        assert [h.doc_id for h in hits] == [1], query


def test_index_replaces_an_existing_document(indexed):
    fulltext.index("knowledge", 2, "道路积水", "暴雨后道路积水，由排水集团处理。")
    assert fulltext.search("清运", kinds=["knowledge"]) == []
    assert [h.doc_id for h in fulltext.search("积水", kinds=["knowledge"])] == [2]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {fulltext.TABLE} WHERE kind = %s AND doc_id = %s",  # noqa: S608
            ["knowledge", 2],
        )
        assert cursor.fetchone()[0] == 1


def test_remove_takes_a_document_out_and_ignores_unknown_ones(indexed):
    fulltext.remove("knowledge", 1)
    fulltext.remove("knowledge", 999)
    assert [h.kind for h in fulltext.search("公积金")] == ["portal.page"]


def test_remove_kind_empties_one_kind_only(indexed):
    fulltext.remove_kind("knowledge")
    assert fulltext.search("噪音") == []
    assert [h.kind for h in fulltext.search("公积金")] == ["portal.page"]


def test_a_rolled_back_index_leaves_nothing(db):
    def index_then_fail() -> None:
        with transaction.atomic():
            fulltext.index("knowledge", 20, "燃气泄漏", "燃气泄漏请立即拨打抢修电话。")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        index_then_fail()
    assert fulltext.search("燃气") == []


def test_highlights_mark_the_words_in_the_original_text_and_escape_html(db):
    fulltext.index("knowledge", 30, "<b>供暖</b>不热", "室温低于18度可以投诉供暖单位。")
    (hit,) = fulltext.search("供暖", kinds=["knowledge"])
    assert str(hit.title_html) == "&lt;b&gt;<mark>供暖</mark>&lt;/b&gt;不热"
    assert "<mark>供暖</mark>单位" in hit.snippet_html
    assert "18度" in hit.snippet_html  # the author's text, not the cut-up copy


def test_the_snippet_is_a_window_around_the_first_match(db):
    body = "无关内容。" * 60 + "停水通知由供水集团发布。" + "其他说明。" * 60
    fulltext.index("knowledge", 31, "通知", body)
    (hit,) = fulltext.search("停水", kinds=["knowledge"])
    text = str(hit.snippet_html)
    assert text.startswith("…")
    assert text.endswith("…")
    assert "<mark>停水</mark>通知" in text
    assert len(text) < 200


def test_keywords_are_searched_but_not_shown(db):
    fulltext.index("knowledge", 50, "供暖", "室温低于18度可投诉。", keywords="暖气 采暖费")
    (hit,) = fulltext.search("采暖费")
    assert hit.doc_id == 50
    assert "采暖费" not in hit.snippet_html
    assert hit.snippet_html.startswith("室温")


def test_latin_words_match_case_insensitively(db):
    fulltext.index("knowledge", 40, "ETC 办理", "高速 ETC 设备在银行网点办理。")
    assert [h.doc_id for h in fulltext.search("etc")] == [40]


def test_the_segmenter_needs_no_network(monkeypatch):
    # jieba's dictionary ships in the wheel: loading it must not open a socket.
    def refuse(*args, **kwargs):
        raise AssertionError("network access during segmentation")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert "医保" in fulltext.segment("新生儿医保参保登记")


def test_the_schema_matches_the_engine(db):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexname = %s",
                [fulltext.TABLE, f"{fulltext.TABLE}_tsv"],
            )
            (indexdef,) = cursor.fetchone()
            assert "gin" in indexdef.lower()
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [fulltext.TABLE])
            (sql,) = cursor.fetchone()
            assert "fts5" in sql.lower()
            assert "unicode61" in sql
