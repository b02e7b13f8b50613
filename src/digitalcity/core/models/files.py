"""Uploaded files, stored through Django's storage API (never a path another process must see)."""

from __future__ import annotations

import posixpath
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["StoredFile"]


def stored_file_path(instance: StoredFile, filename: str) -> str:
    """`<purpose>/<yyyy>/<mm>/<uuid><ext>`: the user's file name never becomes a path."""
    ext = posixpath.splitext(filename)[1].lower()[:10]
    today = timezone.localdate()
    purpose = instance.purpose or "misc"
    return f"{purpose}/{today:%Y}/{today:%m}/{uuid.uuid4().hex}{ext}"


class StoredFile(models.Model):
    """An accepted upload. Written only by `digitalcity.core.files.store_upload`,
    which has already checked its size and its real type."""

    file = models.FileField(_("文件"), upload_to=stored_file_path, max_length=255)
    original_name = models.CharField(_("原文件名"), max_length=255)
    size = models.BigIntegerField(_("大小（字节）"))
    kind = models.CharField(_("类型"), max_length=10)
    content_type = models.CharField(_("MIME 类型"), max_length=100)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    purpose = models.CharField(_("用途"), max_length=50, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("上传文件")
        verbose_name_plural = _("上传文件")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return self.original_name
