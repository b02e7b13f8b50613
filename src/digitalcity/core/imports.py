"""Shared shape of whole-or-nothing imports: per-row errors and the refusal that lists them.

Every import of a staff list (departments, the holiday notice, later the registries'
batches) validates the whole file first and writes nothing if any row is wrong; the
refusal carries every problem with its row, column and rule, and can be downloaded as an
Excel report for the department that sent the file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class RowError:
    row: int  # the spreadsheet row number as Excel shows it (header is row 1; 0: the form)
    column: str  # the Chinese header, or the form field
    message: str

    def __str__(self) -> str:
        if self.row == 0:
            return _("「%(column)s」：%(message)s") % {
                "column": self.column,
                "message": self.message,
            }
        return _("第 %(row)d 行「%(column)s」：%(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


class ImportRefused(ValidationError):
    """The import was refused as a whole; ``row_errors`` lists every problem found."""

    default_code = "import_refused"

    def __init__(self, row_errors: list[RowError]) -> None:
        self.row_errors = row_errors
        super().__init__([str(e) for e in row_errors], code=self.default_code)


def error_report_xlsx(row_errors: list[RowError]) -> bytes:
    """The per-row error report as an .xlsx workbook (行号, 列, 问题)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.create_sheet(index=0)
    book.remove(book.worksheets[1])  # the default empty sheet
    sheet.title = _("错误报告")
    sheet.append([_("行号"), _("列"), _("问题")])
    for error in row_errors:
        sheet.append([error.row or "", error.column, error.message])
    sheet.column_dimensions["C"].width = 80
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
