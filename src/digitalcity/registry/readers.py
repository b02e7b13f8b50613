"""Reading a department's file: CSV (encoding detected), Excel, JSON; rows as header → text.

Each reader returns a `Table`: the headers, the detected encoding, an estimate of the
row count for the progress bar, and an iterator of `(row_no, values, problems)` where
`row_no` is the number the department sees (the spreadsheet row, header = row 1; the
object's position in a JSON list) and `problems` are structural faults of that row
(too few or too many cells, a numeric ID cell). Faults of the whole file (unknown
encoding, corrupt workbook, broken JSON, a file cut short) raise ImportRefused.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _

from digitalcity.core.imports import ImportRefused, RowError

__all__ = ["Row", "Table", "detect_encoding", "read_csv", "read_json", "read_rows", "read_xlsx"]

Row = tuple[int, dict[str, str], list[RowError]]
FILE = _("文件")  # the "column" of errors about the whole file


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[Row]
    encoding: str
    total: int


def _refuse(message: str, row: int = 0, column: str | None = None) -> ImportRefused:
    return ImportRefused([RowError(row=row, column=column or str(FILE), message=message)])


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------

_ENCODINGS = (("utf-8", "UTF-8"), ("gbk", "GBK"), ("gb18030", "GB18030"))


def detect_encoding(path: Path) -> tuple[str, str, int]:
    """(Python codec, label, line count) of a text file: UTF-8 (a BOM is dropped), else
    GBK, else GB18030 — the first that decodes every byte. Excel in a Chinese locale
    saves "CSV" in GBK/GB18030 and "CSV UTF-8" with a BOM."""
    decoders = {codec: codecs.getincrementaldecoder(codec)() for codec, _label in _ENCODINGS}
    failed_at: dict[str, int] = {}
    cut_short: set[str] = set()
    lines = 0
    offset = 0
    with path.open("rb") as handle:
        head = handle.read(3)
        bom = head == codecs.BOM_UTF8
        handle.seek(0)
        while True:
            chunk = handle.read(1 << 20)
            final = not chunk
            lines += chunk.count(b"\n")
            for codec in list(decoders):
                try:
                    decoders[codec].decode(chunk, final=final)
                except UnicodeDecodeError as exc:
                    failed_at[codec] = offset + exc.start
                    if final:
                        cut_short.add(codec)  # all bytes decoded but the last character
                    del decoders[codec]
            if final or not decoders:
                break
            offset += len(chunk)
    for codec, label in _ENCODINGS:
        if codec in decoders:
            if codec == "utf-8" and bom:
                return "utf-8-sig", _("UTF-8（带 BOM）"), lines
            return codec, label, lines
    if cut_short:
        raise _refuse(_("文件末尾不完整：最后一个字符只有一半，文件可能被截断或未传完"))
    position = min(failed_at.values(), default=0)
    raise _refuse(
        _(
            "文件编码无法识别：既不是 UTF-8，也不是 GBK 或 GB18030（第 %(byte)d 字节处无法解码）；"
            "请用 Excel「另存为 CSV」或「CSV UTF-8」重新导出"
        )
        % {"byte": position + 1}
    )


def read_csv(path: Path) -> Table:
    codec, label, lines = detect_encoding(path)
    handle = path.open(encoding=codec, newline="")
    # strict: an unterminated quote at the end is an error, not a silently merged row.
    reader = csv.reader(handle, strict=True)
    try:
        headers = [h.strip() for h in next(reader)]
    except StopIteration:
        handle.close()
        raise _refuse(_("文件是空的：没有表头行")) from None
    except csv.Error as exc:
        handle.close()
        raise _refuse(_("表头行无法解析：%(error)s") % {"error": exc}, row=1) from None
    return Table(headers, _csv_rows(handle, reader, headers), label, max(lines - 1, 0))


def _csv_rows(handle: IO[str], reader: Any, headers: list[str]) -> Iterator[Row]:
    width = len(headers)
    row_no = 1
    try:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise _refuse(
                    _("第 %(row)d 行无法解析（%(error)s）：文件可能被截断或引号未闭合")
                    % {"row": reader.line_num, "error": exc},
                    row=reader.line_num,
                ) from None
            row_no += 1
            if not any(c.strip() for c in cells):
                continue  # blank lines, e.g. the trailing ones spreadsheets leave
            yield row_no, *_cells_to_row(row_no, headers, width, cells)
    finally:
        handle.close()


def _cells_to_row(
    row_no: int, headers: list[str], width: int, cells: list[str]
) -> tuple[dict[str, str], list[RowError]]:
    problems: list[RowError] = []
    if len(cells) < width:
        problems.append(
            RowError(
                row=row_no,
                column=headers[len(cells)],
                message=_("列数不足：应为 %(want)d 列，实为 %(have)d 列（该行可能被截断）")
                % {"want": width, "have": len(cells)},
            )
        )
    elif len(cells) > width and any(c.strip() for c in cells[width:]):
        problems.append(
            RowError(
                row=row_no,
                column=str(FILE),
                message=_("列数过多：应为 %(want)d 列，实为 %(have)d 列")
                % {"want": width, "have": len(cells)},
            )
        )
    return dict(zip(headers, cells, strict=False)), problems


# ---------------------------------------------------------------------------
# Excel
# ---------------------------------------------------------------------------


def _cell_text(value: Any) -> tuple[str, bool]:
    """(text, lost_digits): lost_digits when a long number was stored as a number, whose
    last digits Excel has already rounded away (ID numbers must be text cells)."""
    if value is None:
        return "", False
    if isinstance(value, bool):
        return ("是" if value else "否"), False
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat(), False
        return value.isoformat(sep=" "), False
    if isinstance(value, datetime.date):
        return value.isoformat(), False
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value)), abs(value) >= 1e15
        return repr(value), False
    if isinstance(value, int):
        return str(value), abs(value) >= 10**15
    return str(value), False


def read_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise _refuse(
            _("Excel 文件损坏或不完整（%(error)s）：文件可能被截断，请重新导出") % {"error": exc}
        ) from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    try:
        header_cells = next(rows)
    except StopIteration:
        book.close()
        raise _refuse(_("工作表是空的：没有表头行")) from None
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError) as exc:
        book.close()
        raise _refuse(_("Excel 文件损坏或不完整（%(error)s）") % {"error": exc}) from None
    headers = [_cell_text(v)[0].strip() for v in header_cells]
    while headers and not headers[-1]:
        headers.pop()  # formatting on empty columns widens the sheet's range
    total = max((sheet.max_row or 1) - 1, 0)
    return Table(headers, _xlsx_rows(book, rows, headers), "", total)


def _xlsx_rows(book: Any, rows: Iterator[tuple[Any, ...]], headers: list[str]) -> Iterator[Row]:
    width = len(headers)
    row_no = 1
    try:
        for values in rows:
            row_no += 1
            converted = [_cell_text(v) for v in values]
            cells = [text for text, _lost in converted]
            while len(cells) > width and not cells[-1].strip():
                cells.pop()
            if not any(c.strip() for c in cells):
                continue
            row, problems = _cells_to_row(row_no, headers, width, cells)
            for index, (_text, lost) in enumerate(converted[:width]):
                if lost:
                    problems.append(
                        RowError(
                            row=row_no,
                            column=headers[index],
                            message=_(
                                "单元格是数值格式，超过 15 位的数字已被 Excel 舍入；"
                                "请把该列设为文本格式后重新导出"
                            ),
                        )
                    )
            yield row_no, row, problems
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError) as exc:
        raise _refuse(
            _("Excel 文件在第 %(row)d 行附近损坏（%(error)s）：文件可能被截断")
            % {"row": row_no, "error": exc},
            row=row_no,
        ) from None
    finally:
        book.close()


# ---------------------------------------------------------------------------
# JSON (files and API pushes)
# ---------------------------------------------------------------------------


def rows_from_objects(objects: Any, headers: list[str]) -> Table:
    """A list of JSON objects keyed by the source's headers (the API push body)."""
    if not isinstance(objects, list):
        raise _refuse(_("JSON 内容须为对象列表（[{…}, {…}]）"))
    return Table(headers, _object_rows(objects, headers), "UTF-8", len(objects))


def _object_rows(objects: list[Any], headers: list[str]) -> Iterator[Row]:
    known = set(headers)
    for index, obj in enumerate(objects, start=1):
        if not isinstance(obj, dict):
            yield (
                index,
                {},
                [RowError(index, str(FILE), _("第 %(n)d 项不是 JSON 对象") % {"n": index})],
            )
            continue
        problems = [
            RowError(index, str(key), _("多出字段：不在来源的字段映射中"))
            for key in obj
            if key not in known
        ]
        problems += [
            RowError(index, header, _("缺少字段：来源的字段映射要求此字段（可为空字符串）"))
            for header in headers
            if header not in obj
        ]
        row: dict[str, str] = {}
        for key, value in obj.items():
            if isinstance(value, (dict, list)):
                problems.append(RowError(index, str(key), _("值须为文本、数字或 null")))
                continue
            row[str(key)] = _cell_text(value)[0] if value is not None else ""
        yield index, row, problems


def read_json(path: Path, headers: list[str]) -> Table:
    try:
        with path.open(encoding="utf-8-sig") as handle:
            objects = json.load(handle)
    except UnicodeDecodeError:
        raise _refuse(_("JSON 文件须为 UTF-8 编码")) from None
    except json.JSONDecodeError as exc:
        raise _refuse(
            _("JSON 格式错误：第 %(line)d 行第 %(col)d 列（%(error)s）；文件可能被截断")
            % {"line": exc.lineno, "col": exc.colno, "error": exc.msg}
        ) from None
    return rows_from_objects(objects, headers)


def read_rows(path: Path, kind: str, headers: list[str]) -> Table:
    """The table of a file of `kind` (csv, xlsx, json); `headers` are the source's mapped
    columns (a JSON file carries its own keys per object)."""
    if kind == "csv":
        return read_csv(path)
    if kind == "xlsx":
        return read_xlsx(path)
    if kind == "json":
        return read_json(path, headers)
    raise _refuse(_("不支持的文件格式 %(kind)s：只接受 CSV、Excel（xlsx）和 JSON") % {"kind": kind})
