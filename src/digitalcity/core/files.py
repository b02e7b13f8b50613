"""Accepting uploads: size, real type by content, checksum, storage (DESIGN.md core).

`store_upload` is the one way a file gets into the platform. The type is decided by
the bytes, never the name or the browser's Content-Type: a `.pdf` that is an
executable, or a `.jpg` that is an HTML page, is refused with a message naming the
field, the declared type and the detected one.
"""

from __future__ import annotations

import codecs
import hashlib
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterable
from typing import Any

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.http import FileResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from digitalcity.core.models import StoredFile

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "png": "image/png",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "ofd": "application/ofd",
    "zip": "application/zip",
    "csv": "text/csv",
    "txt": "text/plain",
}
# Kinds whose content cannot tell them apart: the declared extension picks one.
TEXT_KINDS = frozenset({"csv", "txt"})
# OOXML packages: the part that makes a zip a workbook or a document (ECMA-376 Part 2).
OOXML_MAIN_PARTS = {"xl/workbook.xml": "xlsx", "word/document.xml": "docx"}
EXTENSION_ALIASES = {"jpeg": "jpg", "jpe": "jpg"}
HEAD_BYTES = 8192
PURPOSE_RE = re.compile(r"[a-z0-9_-]{1,50}")
CHUNK_BYTES = 64 * 1024


def declared_kind(name: str) -> str:
    ext = posixpath.splitext(name.replace("\\", "/"))[1].lstrip(".").lower()
    return EXTENSION_ALIASES.get(ext, ext)


def _chunks(upload: File[Any]) -> Iterable[bytes]:
    upload.seek(0)
    yield from upload.chunks(CHUNK_BYTES)
    upload.seek(0)


def _zip_kind(upload: File[Any]) -> str:
    """xlsx / docx / ofd by the package's parts (names only: nothing is decompressed)."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return "corrupt-zip"
    finally:
        upload.seek(0)
    if "[Content_Types].xml" in names:
        for part, kind in OOXML_MAIN_PARTS.items():
            if part in names:
                return kind
    # GB/T 33190-2016: an OFD package has OFD.xml at its root.
    if "OFD.xml" in names:
        return "ofd"
    return "zip"


def _text_kind(upload: File[Any], declared: str) -> str:
    """A text file must decode wholly as UTF-8 or as GBK and hold no NUL byte.

    GB 18030 is decoded rather than GBK: it is GBK's superset and the mandatory national
    encoding, and Excel in a Chinese locale saves CSV in one of them.
    """
    decoders = {name: codecs.getincrementaldecoder(name)() for name in ("utf-8-sig", "gb18030")}
    head = b""
    for chunk in [*_chunks(upload), b""]:
        if b"\x00" in chunk:
            return "binary"
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
        for name, decoder in list(decoders.items()):
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError:
                del decoders[name]
        if not decoders:
            return "binary"
    start = head.lstrip()[:512].lower()
    if start.startswith((b"<!doctype html", b"<html", b"<?xml", b"<svg")) or b"<script" in start:
        # Markup served back from our domain could run script in a citizen's browser.
        return "html"
    return declared if declared in TEXT_KINDS else "txt"


def detect_kind(upload: File[Any], *, declared: str = "") -> str:
    """What the bytes are: a kind from CONTENT_TYPES, or what filetype saw (exe, gif, …),
    "html", "binary" or "corrupt-zip"."""
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(upload)
    guessed = filetype.guess(head)
    if guessed is not None:
        return EXTENSION_ALIASES.get(guessed.extension, guessed.extension)
    return _text_kind(upload, declared)


def _sha256(upload: File[Any]) -> str:
    digest = hashlib.sha256()
    for chunk in _chunks(upload):
        digest.update(chunk)
    return digest.hexdigest()


def store_upload(
    *,
    upload: File[Any],
    purpose: str,
    allowed_kinds: Iterable[str],
    actor: Any,
    max_bytes: int | None = None,
    field: str = "file",
    dedup: bool = False,
) -> StoredFile:
    """Check and store one upload; returns the StoredFile row.

    1. Size: not empty, not over `max_bytes` (which may only lower
       settings.DC_UPLOAD_MAX_BYTES).
    2. Type: detected from the content; it must be one of `allowed_kinds` and agree with
       the file name's extension (jpeg counts as jpg).
    3. Checksum: SHA-256 of the content. With `dedup`, an earlier file with the same
       checksum and purpose is returned instead of storing a copy.
    4. Store through the default storage and save the row in one transaction; if the row
       cannot be saved the stored file is deleted again.

    Raises ValidationError keyed by `field`; nothing is written when it does.
    """
    if not PURPOSE_RE.fullmatch(purpose):
        # The purpose is the first folder of the stored path, so it must be a safe slug.
        raise ValidationError(
            {
                "purpose": _("用途「%(purpose)s」无效：应为 1–50 位小写字母、数字、- 或 _")
                % {"purpose": purpose}
            }
        )
    allowed = {EXTENSION_ALIASES.get(k.lower(), k.lower()) for k in allowed_kinds}
    name = posixpath.basename((upload.name or "").replace("\\", "/")) or "upload"
    limit = settings.DC_UPLOAD_MAX_BYTES
    if max_bytes is not None:
        limit = min(limit, max_bytes)
    size = upload.size or 0
    if size == 0:
        raise ValidationError(
            {field: _("%(field)s：文件「%(name)s」是空文件") % {"field": field, "name": name}}
        )
    if size > limit:
        raise ValidationError(
            {
                field: _("%(field)s：文件「%(name)s」大小 %(size)s，超过上限 %(limit)s")
                % {
                    "field": field,
                    "name": name,
                    "size": filesizeformat(size),
                    "limit": filesizeformat(limit),
                }
            }
        )
    declared = declared_kind(name)
    detected = detect_kind(upload, declared=declared)
    if detected not in allowed or declared != detected:
        raise ValidationError(
            {
                field: _(
                    "%(field)s：文件「%(name)s」声明为 %(declared)s，实际内容为 %(detected)s；"
                    "只接受 %(allowed)s"
                )
                % {
                    "field": field,
                    "name": name,
                    "declared": declared or _("无扩展名"),
                    "detected": detected,
                    "allowed": "、".join(sorted(allowed)),
                }
            }
        )
    checksum = _sha256(upload)
    if dedup:
        existing = StoredFile.objects.filter(sha256=checksum, purpose=purpose).first()
        if existing is not None:
            return existing
    stored = StoredFile(
        original_name=name[:255],
        size=size,
        kind=detected,
        content_type=CONTENT_TYPES.get(detected, "application/octet-stream"),
        sha256=checksum,
        purpose=purpose,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )
    upload.seek(0)
    stored.file.save(name, upload, save=False)
    try:
        with transaction.atomic():
            stored.save()
    except BaseException:
        if stored.file.name:
            stored.file.storage.delete(stored.file.name)
        raise
    return stored


# Who may download a stored file depends on what it belongs to (a case's materials, a
# department's import), which only the owning app knows: apps register a rule per purpose.
FileAccessRule = Callable[[Any, StoredFile], bool]
_access_rules: dict[str, FileAccessRule] = {}


def register_file_access(purpose: str, rule: FileAccessRule) -> None:
    """Let the app that owns files of `purpose` decide who else may download them."""
    _access_rules[purpose] = rule


def can_download(user: Any, stored: StoredFile) -> bool:
    """The uploader, an administrator, or whoever the owning app's rule admits."""
    if user is None or not user.is_authenticated:
        return False
    if stored.uploaded_by_id == user.pk or getattr(user, "is_superuser", False):
        return True
    if getattr(user, "kind", "") == "admin":
        return True
    rule = _access_rules.get(stored.purpose)
    return bool(rule and rule(user, stored))


def file_response(stored: StoredFile) -> FileResponse:
    """The download of `stored` as an attachment under its original name and checked type
    (`nosniff`: the browser must not guess another). The caller has checked the right."""
    response = FileResponse(
        stored.file.open("rb"),
        as_attachment=True,
        filename=stored.original_name,
        content_type=stored.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
