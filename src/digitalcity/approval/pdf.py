"""The licence PDF: ReportLab with its built-in CID font STSong-Light (docs/decisions:
CJK text in PDFs). The text is real text (extractable, searchable); the QR code links to
the public verification page with the licence's token."""

from __future__ import annotations

import io

import segno
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from .choices import LicenceStatus
from .models import Licence

__all__ = ["FONT", "licence_pdf", "verify_url"]

FONT = "STSong-Light"
_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def verify_url(licence: Licence) -> str:
    path = reverse("approval:verify", args=[licence.number]) + f"?t={licence.verify_token}"
    return settings.SITE_URL.rstrip("/") + path


def _qr(pdf: canvas.Canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw the QR code as one vector path of dark modules (no image library needed)."""
    qr = segno.make(data, error="m")
    matrix = [list(row) for row in qr.matrix_iter(scale=1, border=2)]
    cell = size / len(matrix)
    path = pdf.beginPath()
    for row_index, row in enumerate(matrix):
        top = y + size - (row_index + 1) * cell
        col = 0
        while col < len(row):
            if row[col]:
                # One rectangle per run of dark modules in the row: fewer path operators.
                start = col
                while col < len(row) and row[col]:
                    col += 1
                path.rect(x + start * cell, top, (col - start) * cell, cell)
            else:
                col += 1
    pdf.setFillColorRGB(0, 0, 0)
    pdf.drawPath(path, stroke=0, fill=1)


def licence_pdf(licence: Licence) -> bytes:
    """The licence as a one-page A4 PDF."""
    font = _font()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"{licence.item.result_name} {licence.number}")
    pdf.setAuthor(licence.department.name)
    width, height = A4
    pdf.setLineWidth(2)
    pdf.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)
    pdf.setFont(font, 26)
    pdf.drawCentredString(width / 2, height - 45 * mm, licence.item.result_name)
    pdf.setFont(font, 12)
    pdf.drawCentredString(width / 2, height - 55 * mm, _("编号：%(n)s") % {"n": licence.number})
    # The holder's own document carries the full number; the public page masks it.
    holder_number = licence.holder_number
    rows = [
        (_("持证人"), licence.holder_name),
        (_("证件号码"), holder_number),
        (_("许可事项"), licence.item.name),
        (_("许可范围"), licence.scope),
        (_("发证机关"), licence.department.name),
        (_("发证日期"), licence.issued_on.isoformat()),
        (
            _("有效期至"),
            licence.valid_until.isoformat() if licence.valid_until else _("长期"),
        ),
        (_("设定依据"), licence.item.legal_basis),
    ]
    if licence.status == LicenceStatus.REVOKED:
        rows.append((_("状态"), _("已撤销")))
    y = height - 80 * mm
    pdf.setFont(font, 13)
    for label, value in rows:
        pdf.drawString(30 * mm, y, f"{label}：")
        # Long values wrap by width (Chinese has no spaces to break on).
        line, lines = "", []
        for char in str(value):
            if pdfmetrics.stringWidth(line + char, font, 13) > width - 90 * mm:
                lines.append(line)
                line = ""
            line += char
        lines.append(line)
        for text in lines:
            pdf.drawString(58 * mm, y, text)
            y -= 8 * mm
        y -= 3 * mm
    _qr(pdf, verify_url(licence), width - 70 * mm, 25 * mm, 40 * mm)
    pdf.setFont(font, 9)
    pdf.drawString(width - 72 * mm, 21 * mm, _("扫码核验证照真伪"))
    # The link in words too, for a reader without a camera (and for text extraction).
    pdf.setFont(font, 7)
    pdf.drawString(30 * mm, 19 * mm, _("核验地址：%(u)s") % {"u": verify_url(licence)})
    pdf.drawString(
        30 * mm,
        25 * mm,
        _("本证照由%(d)s依法核发，可在政务服务平台核验。") % {"d": licence.department.name},
    )
    pdf.showPage()
    pdf.save()
    return out.getvalue()
