"""Chinese full-text search on both databases (ADR 0014).

Chinese has no spaces between words, so neither database's own tokenizer finds the
words. Every text is first cut into words by jieba (its dictionary ships inside the
wheel; nothing is downloaded), joined with spaces, and handed to the database's
full-text engine, which then only has to split on spaces:

* **SQLite**: an FTS5 virtual table with the `unicode61` tokenizer, ranked by `bm25()`
  (title weighted 10 : 1 over the body).
* **PostgreSQL**: a table with a `tsvector` built with the `simple` configuration (no
  stemming, no stop words: the words are already cut), title weight A and body weight B,
  a GIN index, ranked by `ts_rank`.

The same table name `core_fulltext` serves both; `ensure_schema` (run by the core
migration) creates the one that fits the connection. Documents are identified by a kind
("knowledge", "portal.page", …) and an integer id; the caller keeps its index current by
calling `index` and `remove` inside its own transaction, so the index never shows a
document that was rolled back.

    index("knowledge", entry.pk, entry.title, entry.body)
    hits = search("公积金怎么提取", kinds=["knowledge"], limit=10)
    hits[0].doc_id, hits[0].title_html, hits[0].snippet_html

Highlights are computed here from the original text (not from the segmented copy the
engine holds), so they read as the author wrote them and look the same on both engines.
"""

# ruff: noqa: S608 - the SQL built here interpolates only the module's table name and
# placeholder lists; every value (text, ids, kinds, query words) is a bound parameter.

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

__all__ = [
    "Hit",
    "ensure_schema",
    "index",
    "query_terms",
    "remove",
    "remove_kind",
    "search",
    "segment",
]

TABLE = "core_fulltext"
# Longest title / body kept for highlighting; the index itself takes the whole text.
MAX_QUERY_TERMS = 16
SNIPPET_CHARS = 120

# Words too common to help a search; a query made only of them finds nothing.
_STOP_WORDS_TEXT = (
    "的 了 是 在 和 与 及 或 就 都 而 也 还 又 被 把 给 对 从 向 为 以 于 之 其 这 那 "
    "我 你 他 她 它 我们 你们 他们 请问 请 吗 呢 吧 啊 呀 么 怎么 怎样 如何 什么 哪些 "
    "哪里 多少 可以 能否 能 需要 要 有 没有 一个 一下 办理 问 咨询"
)
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
_WORD = re.compile(r"\w", re.UNICODE)

_jieba_lock = threading.Lock()
_jieba_ready = False


def _jieba():  # type: ignore[no-untyped-def]
    """jieba, with its dictionary loaded once per process (about a second, then cached)."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba_ready = True
    return jieba


def segment(text: str) -> list[str]:
    """The words of `text` for indexing: jieba's search mode (long words and their
    sub-words, so 垃圾清运 is found by 垃圾 too), lower-cased, punctuation dropped."""
    if not text:
        return []
    words = _jieba().lcut_for_search(text)
    return [w.lower() for w in (w.strip() for w in words) if w and _WORD.search(w)]


def query_terms(query: str) -> list[str]:
    """The distinct words of a search query, stop words removed, in order of appearance."""
    seen: dict[str, None] = {}
    for word in segment(query[:200]):
        if word not in STOP_WORDS:
            seen.setdefault(word, None)
    return list(seen)[:MAX_QUERY_TERMS]


def _joined(text: str) -> str:
    return " ".join(segment(text))


# ---------------------------------------------------------------------------- schema

_SQLITE_SCHEMA = [
    # kind/doc_id/raw text are stored but not indexed; title/body hold the cut words.
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
    "kind UNINDEXED, doc_id UNINDEXED, title_raw UNINDEXED, body_raw UNINDEXED, "
    "title, body, tokenize = 'unicode61 remove_diacritics 2')",
    # FTS5 has no index on its UNINDEXED columns: this map gives each (kind, doc_id) its
    # FTS rowid, so replacing or removing one document does not scan the whole index.
    f"CREATE TABLE IF NOT EXISTS {TABLE}_map (rowid INTEGER PRIMARY KEY, "
    "kind varchar(50) NOT NULL, doc_id bigint NOT NULL, UNIQUE (kind, doc_id))",
]
_PG_SCHEMA = [
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    "id bigserial PRIMARY KEY, kind varchar(50) NOT NULL, doc_id bigint NOT NULL, "
    "title_raw text NOT NULL, body_raw text NOT NULL, tsv tsvector NOT NULL, "
    "UNIQUE (kind, doc_id))",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_tsv ON {TABLE} USING gin (tsv)",
]


def ensure_schema(connection: BaseDatabaseWrapper | None = None) -> None:
    """Create the index table for this connection's engine if it is missing."""
    conn = connection or connections["default"]
    if conn.vendor not in ("postgresql", "sqlite"):
        raise ImproperlyConfigured(
            f"full-text search supports SQLite and PostgreSQL, not {conn.vendor}"
        )
    statements = _PG_SCHEMA if conn.vendor == "postgresql" else _SQLITE_SCHEMA
    with conn.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def drop_schema(connection: BaseDatabaseWrapper | None = None) -> None:
    conn = connection or connections["default"]
    with conn.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}_map")


# ---------------------------------------------------------------------------- writes


def index(
    doc_kind: str,
    doc_id: int,
    title: str,
    body: str,
    *,
    keywords: str = "",
    using: str = "default",
) -> None:
    """Add or replace one document. Call it inside the transaction that changes it.

    `keywords` are searched with the body but not shown in its snippet."""
    conn = connections[using]
    title_words, body_words = _joined(title), _joined(f"{body}\n{keywords}")
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {TABLE} (kind, doc_id, title_raw, body_raw, tsv) VALUES "
                "(%s, %s, %s, %s, setweight(to_tsvector('simple', %s), 'A') || "
                "setweight(to_tsvector('simple', %s), 'B')) "
                "ON CONFLICT (kind, doc_id) DO UPDATE SET title_raw = EXCLUDED.title_raw, "
                "body_raw = EXCLUDED.body_raw, tsv = EXCLUDED.tsv",
                [doc_kind, doc_id, title, body, title_words, body_words],
            )
        else:
            # FTS5 has no unique constraint: replace = delete + insert under the rowid the
            # map holds for this document, in the caller's transaction.
            cursor.execute(
                f"INSERT INTO {TABLE}_map (kind, doc_id) VALUES (%s, %s) "
                "ON CONFLICT (kind, doc_id) DO NOTHING",
                [doc_kind, doc_id],
            )
            cursor.execute(
                f"SELECT rowid FROM {TABLE}_map WHERE kind = %s AND doc_id = %s", [doc_kind, doc_id]
            )
            (rowid,) = cursor.fetchone()
            cursor.execute(f"DELETE FROM {TABLE} WHERE rowid = %s", [rowid])
            cursor.execute(
                f"INSERT INTO {TABLE} (rowid, kind, doc_id, title_raw, body_raw, title, body) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [rowid, doc_kind, doc_id, title, body, title_words, body_words],
            )


def remove(doc_kind: str, doc_id: int, *, using: str = "default") -> None:
    """Take one document out of the index (no error if it is not there)."""
    conn = connections[using]
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":
            cursor.execute(
                f"DELETE FROM {TABLE} WHERE rowid IN (SELECT rowid FROM {TABLE}_map "
                "WHERE kind = %s AND doc_id = %s)",
                [doc_kind, doc_id],
            )
            cursor.execute(
                f"DELETE FROM {TABLE}_map WHERE kind = %s AND doc_id = %s", [doc_kind, doc_id]
            )
        else:
            cursor.execute(
                f"DELETE FROM {TABLE} WHERE kind = %s AND doc_id = %s", [doc_kind, doc_id]
            )


def remove_kind(doc_kind: str, *, using: str = "default") -> None:
    """Take every document of one kind out (before a full re-index)."""
    conn = connections[using]
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":
            cursor.execute(
                f"DELETE FROM {TABLE} WHERE rowid IN "
                f"(SELECT rowid FROM {TABLE}_map WHERE kind = %s)",
                [doc_kind],
            )
            cursor.execute(f"DELETE FROM {TABLE}_map WHERE kind = %s", [doc_kind])
        else:
            cursor.execute(f"DELETE FROM {TABLE} WHERE kind = %s", [doc_kind])


# ---------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class Hit:
    kind: str
    doc_id: int
    score: float  # higher is better; comparable only within one search
    title_html: SafeString  # the title, escaped, query words in <mark>
    snippet_html: SafeString  # ~120 characters of the body around the first match


def search(
    query: str, kinds: Iterable[str] | None = None, limit: int = 20, *, using: str = "default"
) -> list[Hit]:
    """Documents matching any word of `query`, best first (more and rarer words in the
    title rank higher). An empty query, or one of stop words only, finds nothing."""
    terms = query_terms(query)
    if not terms or limit <= 0:
        return []
    kinds = list(kinds or [])
    conn = connections[using]
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            tsquery = " || ".join(["plainto_tsquery('simple', %s)"] * len(terms))
            where_kind = "AND kind = ANY(%s)" if kinds else ""
            cursor.execute(
                f"WITH q AS (SELECT {tsquery} AS q) "
                "SELECT kind, doc_id, title_raw, body_raw, ts_rank(tsv, q.q) AS score "
                f"FROM {TABLE}, q WHERE tsv @@ q.q {where_kind} "
                "ORDER BY score DESC, doc_id DESC LIMIT %s",
                [*terms, *([kinds] if kinds else []), limit],
            )
        else:
            # Each word quoted as an FTS5 string: the user's text is never FTS syntax.
            match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
            where_kind = f"AND kind IN ({', '.join(['%s'] * len(kinds))})" if kinds else ""
            cursor.execute(
                f"SELECT kind, doc_id, title_raw, body_raw, "
                f"-bm25({TABLE}, 0, 0, 0, 0, 10.0, 1.0) AS score "
                f"FROM {TABLE} WHERE {TABLE} MATCH %s {where_kind} "
                "ORDER BY score DESC, doc_id DESC LIMIT %s",
                [match, *kinds, limit],
            )
        rows = cursor.fetchall()
    return [
        Hit(
            kind=kind,
            doc_id=int(doc_id),
            score=float(score),
            title_html=highlight(title, terms),
            snippet_html=highlight(body, terms, width=SNIPPET_CHARS),
        )
        for kind, doc_id, title, body, score in rows
    ]


def highlight(text: str, terms: Sequence[str], *, width: int | None = None) -> SafeString:
    """`text` escaped with every occurrence of `terms` in <mark>; with `width`, only a
    window of about that many characters around the first occurrence, with ellipses."""
    if not text:
        return mark_safe("")
    pattern = _terms_pattern(terms)
    first = pattern.search(text) if pattern else None
    start, end = 0, len(text)
    if width is not None:
        centre = first.start() if first else 0
        start = max(0, centre - width // 3)
        end = min(len(text), start + width)
    window = text[start:end]
    out: list[str] = ["…" if start > 0 else ""]
    pos = 0
    if pattern:
        for m in pattern.finditer(window):
            out.append(escape(window[pos : m.start()]))
            out.append(f"<mark>{escape(m.group(0))}</mark>")
            pos = m.end()
    out.append(escape(window[pos:]))
    if end < len(text):
        out.append("…")
    return mark_safe("".join(out))  # every piece is escaped above


def _terms_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    words = sorted({t for t in terms if t}, key=len, reverse=True)
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
