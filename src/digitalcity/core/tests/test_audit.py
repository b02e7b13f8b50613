"""The audit log: change logging through signals, the hash chain, and its verification."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from contextlib import suppress
from io import StringIO
from pathlib import Path
from typing import TypeVar

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.utils import load_backend
from django.http import HttpRequest, HttpResponse
from django.urls import path

from digitalcity.core.audit import services
from digitalcity.core.audit.signals import REDACTED
from digitalcity.core.context import acting_as
from digitalcity.core.models import (
    AuditAction,
    AuditEntry,
    AuditLogImmutableError,
    Department,
    Division,
)

User = get_user_model()
T = TypeVar("T")


def _rename_department(request: HttpRequest, pk: int) -> HttpResponse:
    department = Department.objects.get(pk=pk)
    department.name = request.POST["name"]
    department.save()
    return HttpResponse("ok")


urlpatterns = [path("rename/<int:pk>/", _rename_department)]


@pytest.fixture
def division(db):
    return Division.objects.create(code="320100", name="南京市", level="city")


@pytest.fixture
def department(division):
    return Department.objects.create(
        name="市场监督管理局", code="scjg", kind="bureau", division=division
    )


@pytest.fixture
def clerk(db):
    return User.objects.create_user(username="zhangsan", real_name="张三", kind="staff")


def _entries(obj, pk=None):
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(pk or obj.pk)
    ).order_by("seq")


def _verify_output() -> tuple[bool, str]:
    """(passed, output) of `digitalcity audit verify`; a failure must exit with code 1."""
    out = StringIO()
    try:
        call_command("audit", "verify", stdout=out)
    except CommandError as exc:
        returncode, message = exc.returncode, str(exc)
    else:
        return True, out.getvalue()
    assert returncode == 1
    return False, out.getvalue() + message


def _tamper(sql: str, params: list | tuple = ()) -> None:
    """Change the log behind the platform's back, as someone with database access could."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _chain_of(n: int) -> list[AuditEntry]:
    return [services.record(action=AuditAction.CUSTOM, extra={"n": i}) for i in range(n)]


def test_editing_a_department_logs_changed_fields_with_the_actor(department, clerk):
    with acting_as(clerk, reason="机构改革更名"):
        department.name = "市场监管局"
        department.phone = "025-12345"
        department.save()

    entry = _entries(department).last()
    assert entry.action == AuditAction.UPDATE
    assert entry.before == {"name": "市场监督管理局", "phone": ""}
    assert entry.after == {"name": "市场监管局", "phone": "025-12345"}
    assert entry.actor == clerk
    assert entry.actor_pk == clerk.pk
    assert entry.actor_label == "张三 (zhangsan)"
    assert entry.reason == "机构改革更名"
    assert entry.request_id  # acting_as opens a request id when there is none


def test_creating_and_deleting_are_logged_with_all_values(division):
    department = Department.objects.create(
        name="民政局", code="mz", kind="bureau", division=division
    )
    pk = department.pk
    department.delete()

    created, deleted = _entries(department, pk)
    assert created.action == AuditAction.CREATE
    assert created.after["name"] == "民政局"
    assert created.after["division_id"] == division.pk
    assert created.before is None
    assert deleted.action == AuditAction.DELETE
    assert deleted.before["code"] == "mz"
    assert deleted.object_repr == "民政局"


def test_a_save_without_changes_writes_nothing(department):
    count = AuditEntry.objects.count()
    Department.objects.get(pk=department.pk).save()
    assert AuditEntry.objects.count() == count


def test_excluded_fields_are_logged_as_changed_without_their_value(clerk):
    clerk.set_password("Zhang-San-2026!")
    clerk.save()
    entry = _entries(clerk).last()
    assert entry.before["password"] == REDACTED
    assert entry.after["password"] == REDACTED
    assert "argon2" not in str(entry.after)


def test_many_to_many_changes_are_logged_on_the_declaring_side(clerk):
    from django.contrib.auth.models import Group

    group = Group.objects.create(name="窗口人员")
    clerk.groups.add(group)
    entry = _entries(clerk).last()
    assert entry.action == AuditAction.UPDATE
    assert entry.before == {"groups": []}
    assert entry.after == {"groups": [group.pk]}


def test_a_fixture_load_is_not_logged(division, tmp_path):
    fixture = tmp_path / "departments.json"
    fields = {
        "name": "民政局",
        "code": "mz",
        "kind": "bureau",
        "division": division.pk,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }
    fixture.write_text(json.dumps([{"model": "core.department", "pk": 90, "fields": fields}]))
    count = AuditEntry.objects.count()

    call_command("loaddata", str(fixture), verbosity=0)

    assert Department.objects.filter(pk=90).exists()
    assert AuditEntry.objects.count() == count


def test_deleting_the_acting_account_keeps_its_name_in_the_log(clerk):
    pk = clerk.pk
    with transaction.atomic(), acting_as(clerk):
        clerk.delete()
    entry = _entries(clerk, pk).get(action=AuditAction.DELETE)
    assert entry.actor_id is None
    assert entry.actor_pk == pk
    assert entry.actor_label == "张三 (zhangsan)"
    assert services.verify_chain().ok


def test_deleting_a_user_keeps_the_chain_valid(department, clerk):
    with acting_as(clerk):
        department.name = "市场监管局"
        department.save()
    clerk.delete()
    entry = _entries(department).last()
    assert entry.actor_id is None  # the link is gone ...
    assert entry.actor_label == "张三 (zhangsan)"  # ... the name is not
    assert services.verify_chain().ok


@pytest.mark.urls(__name__)
def test_a_request_logs_its_request_id_ip_and_user(client, department, clerk):
    client.force_login(clerk)
    response = client.post(
        f"/rename/{department.pk}/",
        {"name": "市场监管局"},
        headers={"X-Request-ID": "req-7f3a"},
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-7f3a"
    entry = _entries(department).last()
    assert entry.request_id == "req-7f3a"
    assert entry.ip == "10.1.2.3"
    assert entry.actor == clerk
    assert entry.after == {"name": "市场监管局"}


def test_entries_refuse_to_be_changed_or_deleted_through_the_orm(db):
    entry = services.record(action=AuditAction.EXPORT, extra={"rows": 10})
    entry.reason = "改写"
    with pytest.raises(AuditLogImmutableError):
        entry.save()
    with pytest.raises(AuditLogImmutableError):
        entry.delete()


def test_entries_link_into_one_chain(db):
    first, second, third = _chain_of(3)
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert first.prev_hash == services.GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash


def test_verify_passes_on_a_clean_chain(department, clerk):
    with acting_as(clerk, reason="核对"):
        department.name = "市场监管局"
        department.save()
        services.record(action=AuditAction.VIEW_UNMASKED, obj=clerk, extra={"field": "phone"})
    services.record(action=AuditAction.EXPORT, extra={"ratio": 1.0, "share": 0.25})

    report = services.verify_chain()
    assert report.ok
    assert report.checked == AuditEntry.objects.count()
    ok, output = _verify_output()
    assert ok
    assert f"共 {report.checked} 条记录" in output


def test_verify_catches_a_row_edited_with_raw_sql(db):
    entries = _chain_of(5)
    _tamper("UPDATE core_auditentry SET reason = %s WHERE seq = %s", ["掩盖", entries[2].seq])

    ok, output = _verify_output()
    assert not ok
    assert "第 3 条记录" in output
    assert "被修改" in output
    [problem] = services.verify_chain().problems
    assert problem.kind == services.ProblemKind.EDITED
    assert problem.entry_id == entries[2].pk


def test_verify_catches_an_edit_whose_hash_was_recomputed(db):
    entries = _chain_of(4)
    _tamper("UPDATE core_auditentry SET reason = %s WHERE seq = 2", ["掩盖"])
    forged = AuditEntry.objects.get(seq=2)
    _tamper("UPDATE core_auditentry SET hash = %s WHERE seq = 2", [services.entry_hash(forged)])

    [problem] = services.verify_chain().problems
    assert problem.kind == services.ProblemKind.BROKEN_LINK
    assert problem.seq == 3
    assert problem.entry_id == entries[2].pk


def test_verify_catches_a_deleted_row(db):
    _chain_of(5)
    _tamper("DELETE FROM core_auditentry WHERE seq IN (2, 3)")

    ok, output = _verify_output()
    assert not ok
    assert "第 2 至 3 条记录缺失" in output
    [problem] = services.verify_chain().problems
    assert problem.kind == services.ProblemKind.MISSING


def test_verify_catches_a_deleted_tail(db):
    _chain_of(3)
    _tamper("DELETE FROM core_auditentry WHERE seq = 3")

    ok, output = _verify_output()
    assert not ok
    assert "末尾第 3 至 3 条记录缺失" in output


def test_verify_catches_a_row_inserted_in_the_middle(db):
    entries = _chain_of(4)
    # To insert after row 2 the forger must renumber rows 3 and 4 (seq is unique) ...
    _tamper("UPDATE core_auditentry SET seq = seq + 100 WHERE seq > 2")
    _tamper("UPDATE core_auditentry SET seq = seq - 99 WHERE seq > 100")
    # ... and writes a row whose own hash is right, linked to row 2.
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                seq=3,
                occurred_at=entries[1].occurred_at,
                action=AuditAction.CUSTOM,
                reason="伪造",
                prev_hash=entries[1].hash,
                hash="",
            )
        ]
    )
    forged = AuditEntry.objects.get(seq=3)
    _tamper("UPDATE core_auditentry SET hash = %s WHERE seq = 3", [services.entry_hash(forged)])

    kinds = {(p.kind, p.seq) for p in services.verify_chain().problems}
    assert (services.ProblemKind.BROKEN_LINK, 4) in kinds  # old row 3 no longer follows
    assert (services.ProblemKind.EDITED, 4) in kinds  # renumbering changed hashed fields
    assert (services.ProblemKind.EDITED, 5) in kinds
    ok, _output = _verify_output()
    assert not ok


def test_verify_catches_a_well_forged_row_appended_at_the_end(db):
    entries = _chain_of(2)
    forged = AuditEntry(
        seq=3,
        occurred_at=entries[1].occurred_at,
        action=AuditAction.LOGIN,
        actor_label="李四 (lisi)",
        prev_hash=entries[1].hash,
    )
    forged.hash = services.entry_hash(forged)
    forged.save()

    [problem] = services.verify_chain().problems
    assert problem.kind == services.ProblemKind.HEAD_MISMATCH
    assert problem.entry_id == forged.pk


def test_verify_catches_an_actor_link_moved_to_another_account(department, clerk):
    other = User.objects.create_user(username="lisi", real_name="李四")
    with acting_as(clerk):
        department.name = "市场监管局"
        department.save()
    entry = _entries(department).last()
    _tamper("UPDATE core_auditentry SET actor_id = %s WHERE id = %s", [other.pk, entry.pk])

    [problem] = services.verify_chain().problems
    assert problem.kind == services.ProblemKind.ACTOR_CHANGED


def test_a_rolled_back_transaction_leaves_no_gap(db):
    services.record(action=AuditAction.CUSTOM)
    with suppress(RuntimeError), transaction.atomic():
        assert services.record(action=AuditAction.CUSTOM).seq == 2
        raise RuntimeError  # the operation fails after logging
    entry = services.record(action=AuditAction.CUSTOM)
    assert entry.seq == 2
    assert services.verify_chain().ok


def test_show_lists_an_objects_entries(department, clerk, capsys):
    with acting_as(clerk):
        department.name = "市场监管局"
        department.save()
    call_command("audit", "show", "--object", f"core.department:{department.pk}", "--last", "5")
    output = capsys.readouterr().out
    assert "新增" in output
    assert "修改 张三 (zhangsan)" in output
    assert "name: 市场监督管理局 → 市场监管局" in output


def test_show_rejects_a_malformed_object(db):
    with pytest.raises(CommandError, match=r"应用\.模型:主键"):
        call_command("audit", "show", "--object", "department-12")


def test_the_admin_lists_entries_but_allows_no_edits(admin_client, department):
    response = admin_client.get("/admin/core/auditentry/")
    assert response.status_code == 200
    assert "市场监督管理局" in response.content.decode()
    entry = _entries(department).last()
    assert admin_client.get("/admin/core/auditentry/add/").status_code == 403
    assert admin_client.post(f"/admin/core/auditentry/{entry.pk}/delete/").status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def _use_file_database(path: Path) -> None:
    """Point this thread's default connection at a SQLite file, with the project's OPTIONS."""
    config = copy.deepcopy(connections.settings[DEFAULT_DB_ALIAS])
    config["NAME"] = str(path)
    connections[DEFAULT_DB_ALIAS] = load_backend(config["ENGINE"]).DatabaseWrapper(
        config, DEFAULT_DB_ALIAS
    )


class ThreadedDatabase:
    """Runs code in threads, each on its own connection to one database.

    PostgreSQL: the test database. SQLite: a fresh file database with every table. The
    in-memory test database is shared-cache, where SQLite refuses a second writer
    ("database table is locked") instead of queueing it as a real file database does;
    the test's own connection stays on the in-memory one, so read results with `read`.
    """

    def __init__(self, tmp_path: Path) -> None:
        self.sqlite_file = tmp_path / "threads.sqlite3" if connection.vendor == "sqlite" else None
        if self.sqlite_file is not None:
            self.read(self._create_tables)

    def _create_tables(self) -> None:
        with connection.schema_editor() as editor:
            for model in apps.get_models():
                if model._meta.managed and not model._meta.proxy:
                    editor.create_model(model)

    def run(self, target: Callable[[int], None], *, threads: int) -> None:
        """Run target(0) … target(threads - 1) at once; re-raise the first thread's error."""
        errors: list[BaseException] = []
        start = threading.Barrier(threads)

        def run(worker: int) -> None:
            try:
                if self.sqlite_file is not None:
                    _use_file_database(self.sqlite_file)
                start.wait()
                target(worker)
            except BaseException as exc:  # handed to the test thread below
                errors.append(exc)
                start.abort()
            finally:
                connection.close()

        pool = [threading.Thread(target=run, args=(w,)) for w in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        if errors:
            raise errors[0]

    def read(self, fn: Callable[[], T]) -> T:
        """fn() run on the same database as the threads."""
        results: list[T] = []
        self.run(lambda _worker: results.append(fn()), threads=1)
        return results[0]


@pytest.fixture
def threads_database(transactional_db, tmp_path):
    return ThreadedDatabase(tmp_path)


def test_concurrent_appends_keep_one_chain(threads_database):
    threads_n, per_thread = 8, 25

    def append(worker: int) -> None:
        for i in range(per_thread):
            with transaction.atomic():
                services.record(action=AuditAction.CUSTOM, extra={"worker": worker, "i": i})

    threads_database.run(append, threads=threads_n)

    seqs = threads_database.read(
        lambda: list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    )
    assert seqs == list(range(1, threads_n * per_thread + 1))
    report = threads_database.read(services.verify_chain)
    assert report.ok, report.problems
    assert report.checked == threads_n * per_thread


def test_an_update_of_some_fields_logs_only_what_was_written(department):
    department.name = "市场监管局"
    department.phone = "025-12345"  # assigned but not saved
    department.save(update_fields=["name"])

    entry = _entries(department).last()
    assert entry.before == {"name": "市场监督管理局"}
    assert entry.after == {"name": "市场监管局"}


@pytest.mark.django_db
def test_a_login_stamp_alone_writes_no_update_row(personas):
    from django.utils import timezone

    from digitalcity.core.models import AuditEntry

    user = personas.citizen
    before = AuditEntry.objects.count()
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    assert AuditEntry.objects.count() == before
    user.real_name = "王五"
    user.last_login = timezone.now()
    user.save()
    entry = AuditEntry.objects.order_by("-seq")[0]
    assert entry.action == "update"
    assert entry.after == {"real_name": "王五"}


@pytest.mark.django_db
def test_audit_head_prints_the_newest_hash_for_the_backup_log(personas):
    from digitalcity.core.models import AuditChainHead

    out = StringIO()
    call_command("audit", "head", stdout=out)
    head = AuditChainHead.objects.get(pk=1)
    assert f"seq={head.last_seq} hash={head.last_hash}" in out.getvalue()
    assert len(head.last_hash) == 64
