"""Uploads: size and real-type checks, checksum, storage, and nothing left on refusal."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.db.models.signals import pre_save

from digitalcity.core.files import store_upload
from digitalcity.core.models import StoredFile
from digitalcity.identity.models import User

pytestmark = pytest.mark.django_db

DOCUMENTS = {"pdf", "jpg", "png", "xlsx", "docx", "csv"}

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200 + b"PE\x00\x00"
HTML = b"<!DOCTYPE html>\n<html><body><script>document.location='//evil'</script></body></html>"
GBK_CSV = "姓名,手机号码,住址\n张三,13800138000,示范市城关镇\n".encode("gbk")


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def xlsx_bytes() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(["姓名", "手机号码"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_bytes(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def citizen():
    return User.objects.create_user(username="zhangsan", real_name="张三")


def media_files(settings) -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def store(name: str, content: bytes, citizen, **kwargs) -> StoredFile:
    options = {"purpose": "materials", "allowed_kinds": DOCUMENTS, "actor": citizen, **kwargs}
    return store_upload(upload=upload(name, content), **options)


def refuse(**kwargs) -> str:
    with pytest.raises(ValidationError) as excinfo:
        store_upload(purpose="materials", allowed_kinds=DOCUMENTS, **kwargs)
    [field] = excinfo.value.message_dict
    return f"{field}: {excinfo.value.message_dict[field][0]}"


@pytest.mark.parametrize(
    ("name", "content", "kind", "content_type"),
    [
        ("营业执照.pdf", PDF, "pdf", "application/pdf"),
        ("照片.PNG", png_bytes(), "png", "image/png"),
        (
            "名单.xlsx",
            xlsx_bytes(),
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            "说明.docx",
            zip_bytes(["[Content_Types].xml", "word/document.xml"]),
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("名单.csv", GBK_CSV, "csv", "text/csv"),
        ("名单-utf8.csv", "姓名\n张三\n".encode("utf-8-sig"), "csv", "text/csv"),
    ],
)
def test_it_accepts_a_file_whose_content_matches_its_name(
    citizen, settings, name, content, kind, content_type
):
    stored = store_upload(
        upload=upload(name, content),
        purpose="materials",
        allowed_kinds=DOCUMENTS,
        actor=citizen,
    )
    stored.refresh_from_db()
    assert (stored.kind, stored.content_type) == (kind, content_type)
    assert stored.original_name == name
    assert stored.size == len(content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.uploaded_by == citizen
    path = stored.file.name
    assert path is not None
    with default_storage.open(path) as fh:
        assert fh.read() == content
    assert path.startswith("materials/")
    assert name not in path  # the user's name never becomes a path
    assert media_files(settings) == [Path(settings.MEDIA_ROOT) / path]


def test_it_refuses_an_executable_named_pdf_naming_field_declared_and_detected(citizen, settings):
    message = refuse(
        upload=upload("营业执照.pdf", EXE, "application/pdf"), actor=citizen, field="licence"
    )
    assert message.startswith("licence: licence：")
    assert "声明为 pdf" in message
    assert "实际内容为 exe" in message
    assert media_files(settings) == []
    assert not StoredFile.objects.exists()


def test_it_refuses_an_html_page_named_jpg(citizen, settings):
    message = refuse(upload=upload("photo.jpg", HTML, "image/jpeg"), actor=citizen)
    assert "声明为 jpg" in message
    assert "实际内容为 html" in message
    assert media_files(settings) == []


def test_it_refuses_a_real_type_that_disagrees_with_the_name(citizen):
    message = refuse(upload=upload("photo.jpg", png_bytes()), actor=citizen)
    assert "声明为 jpg" in message
    assert "实际内容为 png" in message


def test_it_refuses_a_kind_the_caller_does_not_allow(citizen):
    with pytest.raises(ValidationError, match="只接受 pdf"):
        store_upload(
            upload=upload("photo.png", png_bytes()),
            purpose="x",
            allowed_kinds={"pdf"},
            actor=citizen,
        )


def test_it_refuses_a_plain_zip_named_xlsx(citizen):
    message = refuse(upload=upload("名单.xlsx", zip_bytes(["a.txt"])), actor=citizen)
    assert "实际内容为 zip" in message


def test_it_refuses_a_csv_with_nul_bytes_or_undecodable_text(citizen):
    assert "实际内容为 binary" in refuse(upload=upload("a.csv", b"a,b\x00\n"), actor=citizen)
    assert "实际内容为 binary" in refuse(
        upload=upload("b.csv", b"\xff\xfe\xfa\x80" * 10), actor=citizen
    )


def test_it_refuses_a_file_over_the_size_limit(citizen, settings):
    settings.DC_UPLOAD_MAX_BYTES = len(PDF) - 1
    message = refuse(upload=upload("a.pdf", PDF), actor=citizen)
    assert "超过上限" in message
    assert media_files(settings) == []
    assert not StoredFile.objects.exists()


def test_max_bytes_can_lower_the_limit_but_not_raise_it(citizen, settings):
    settings.DC_UPLOAD_MAX_BYTES = len(PDF)
    assert "超过上限" in refuse(upload=upload("a.pdf", PDF), actor=citizen, max_bytes=10)
    assert "超过上限" in refuse(upload=upload("a.pdf", PDF + b" "), actor=citizen, max_bytes=10**9)


def test_it_refuses_an_empty_file(citizen):
    assert "空文件" in refuse(upload=upload("a.pdf", b""), actor=citizen)


def test_with_dedup_the_same_content_is_stored_once(citizen, settings):
    first = store("a.pdf", PDF, citizen, dedup=True)
    again = store("b.pdf", PDF, citizen, dedup=True)
    assert again.pk == first.pk
    assert len(media_files(settings)) == 1
    without = store("c.pdf", PDF, citizen)
    assert without.pk != first.pk
    assert len(media_files(settings)) == 2


def test_the_stored_file_is_removed_if_its_row_cannot_be_saved(citizen, settings):
    def database_down(**kwargs):
        raise DatabaseError("connection lost")

    pre_save.connect(database_down, sender=StoredFile, dispatch_uid="test-db-down")
    try:
        with pytest.raises(DatabaseError):
            store("a.pdf", PDF, citizen)
    finally:
        pre_save.disconnect(dispatch_uid="test-db-down", sender=StoredFile)
    assert media_files(settings) == []


@pytest.mark.parametrize("purpose", ["", "p" * 51, "../etc", "材料"])
def test_it_refuses_a_purpose_that_is_not_a_short_slug(citizen, purpose):
    with pytest.raises(ValidationError) as excinfo:
        store("a.pdf", PDF, citizen, purpose=purpose)
    assert "purpose" in excinfo.value.message_dict


def test_the_admin_lists_files_and_allows_no_edits(client, citizen):
    stored = store("营业执照.pdf", PDF, citizen)
    client.force_login(User.objects.create_superuser(username="admin", password="x"))
    assert "营业执照.pdf" in client.get("/admin/core/storedfile/").text
    page = client.get(f"/admin/core/storedfile/{stored.pk}/change/")
    assert page.status_code == 200
    assert stored.sha256 in page.text
    assert client.get("/admin/core/storedfile/add/").status_code == 403


def test_the_uploader_downloads_the_file_and_others_get_404(client, personas, monkeypatch):
    from django.urls import reverse

    from digitalcity.core import files

    stored = store("证明.png", png_bytes(), personas.citizen, purpose="dl-test")
    url = reverse("core:download_file", args=[stored.pk])

    assert client.get(url).status_code == 302  # anonymous: to the login page
    client.force_login(personas.clerk_a)
    assert client.get(url).status_code == 404
    client.force_login(personas.citizen)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()
    assert "attachment" in response["Content-Disposition"]
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"

    # The owning app may admit others for its purpose (e.g. the handling clerk).
    monkeypatch.setattr(files, "_access_rules", {})
    files.register_file_access("dl-test", lambda user, f: user.pk == personas.clerk_a.pk)
    client.force_login(personas.clerk_a)
    assert client.get(url).status_code == 200
    client.force_login(personas.clerk_b)
    assert client.get(url).status_code == 404
